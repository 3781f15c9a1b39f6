-- des.monitor -- statistics collected as a model runs.
--
--   local m = des.monitor("waits")        -- a tally of observations
--   m:observe(x); m:report() --> {count=, mean=, variance=, sd=, min=, max=}
--   local w = des.monitor("waits", { quantiles = {0.5, 0.95}, histogram = {0, 1, 5} })
--   w:report().quantiles[0.95]; w:report().histogram --> {{lo, hi, count}, ...}
--   local q = des.monitor.level("queue")  -- a level integrated over time
--   q:set(n); q:report() --> {mean=, max=, min=, duration=, time_at={[n]=t}}
--   des.monitor.csv{m, q, res}  /  des.monitor.json{m, q, res}  -- export
--   m:reset(); q:reset()                  -- forget a warm-up period
--
-- The statistics themselves are the C core's (host/src/core/stats.c, bound
-- by host/src/lua/lstats.c), shared with the statistics of resources,
-- stores and containers and with des.replicate: means and variances by
-- Welford's update, time integrals over integer ticks (exact for integer
-- levels), the time at each value counted in ticks. Quantiles (type 7) are
-- exact up to 4096 observations, then within 1% from a DDSketch
-- (docs/lua-api.md, "Quantiles"); histograms count exactly. Reports stay
-- readable after the simulation closed (frozen at the time it closed).
-- This file adds the export of reports.
local des = require "des"
local io_open = io and io.open -- nil in a sandbox: export to text only
local S = des._stats

local monitor = {}

-- A new tally; `name` is for reports. opts.quantiles: probabilities in
-- (0, 1) to report (any in [0, 1] by m:quantile(p)); opts.histogram:
-- increasing bin edges (observations below the first or from the last edge
-- on are counted apart).
monitor.tally = S.tally

-- A new time-weighted level starting at `initial` (0) now, on the current
-- simulation (whose clock it reads even when reported from outside).
-- opts.time_at: keep the time spent at each value.
monitor.level = S.level

-- {{==================================================================
-- Export: CSV and JSON
-- ===================================================================

-- The reports of a list of monitors, resources, stores and containers (a
-- resource contributes its stats, named "<its name>.<stat>").
local function reports(list, fname)
  if type(list) ~= "table" then error(fname .. ": expected a list of monitors", 3) end
  local out = {}
  for i, m in ipairs(list) do
    local t = type(m)
    if (t == "table" or t == "userdata") and type(m.report) == "function" then
      out[#out + 1] = m:report()
    elseif (t == "table" or t == "userdata") and type(m.stats) == "table" then
      local keys = {}
      for k in pairs(m.stats) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local r = m.stats[k]:report()
        r.name = (m.name or "resource" .. i) .. "." .. k
        out[#out + 1] = r
      end
    else
      error(string.format("%s: item %d is not a monitor, resource, store or container",
                          fname, i), 3)
    end
  end
  return out
end

-- Write text to a path, or return it when there is none.
local function emit(text, path, fname)
  if path == nil then return text end
  if io_open == nil then
    error(fname .. ": no file access in the sandbox (cannot write '" .. tostring(path) ..
          "'; call it without a path to get the text)", 3)
  end
  local f, err = io_open(path, "w")
  if not f then error(fname .. ": " .. err, 3) end
  f:write(text)
  f:close()
  return text
end

-- A number as the shortest text that reads back to the same double; nil
-- as the empty string.
local function num(x)
  if x == nil then return "" end
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x or x == math.huge or x == -math.huge then return tostring(x) end
  for digits = 15, 16 do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end

local CSV_FIELDS = { "name", "kind", "count", "mean", "sd", "variance", "min", "max",
                     "value", "duration" }

-- csv(list [, path]) --> text: one row per statistic, the columns of
-- CSV_FIELDS (empty where a kind has no such field).
function monitor.csv(list, path)
  local lines = { table.concat(CSV_FIELDS, ",") }
  for _, r in ipairs(reports(list, "csv")) do
    local row = {}
    for i, f in ipairs(CSV_FIELDS) do
      local v = r[f]
      if type(v) == "string" then
        row[i] = string.find(v, '[,"\n]') and ('"' .. string.gsub(v, '"', '""') .. '"') or v
      else
        row[i] = num(v)
      end
    end
    lines[#lines + 1] = table.concat(row, ",")
  end
  return emit(table.concat(lines, "\n") .. "\n", path, "csv")
end

-- JSON of a Lua value: objects with sorted keys (so the same statistics
-- give the same bytes), arrays for sequences, null for nil/NaN/inf.
local function json(v, out)
  local t = type(v)
  if t == "number" then
    out[#out + 1] = (v ~= v or v == math.huge or v == -math.huge) and "null" or num(v)
  elseif t == "string" then
    out[#out + 1] = '"' .. string.gsub(v, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
    end) .. '"'
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    local n, keys = #v, 0
    for _ in pairs(v) do keys = keys + 1 end
    if keys == n then -- a sequence (or empty): an array
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        json(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local ks = {}
      for k in pairs(v) do ks[#ks + 1] = k end
      table.sort(ks, function(a, b)
        if type(a) == type(b) then return a < b end
        return type(a) == "number"
      end)
      out[#out + 1] = "{"
      for i, k in ipairs(ks) do
        if i > 1 then out[#out + 1] = "," end
        json(type(k) == "string" and k or num(k), out)
        out[#out + 1] = ":"
        json(v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

-- json(list [, path]) --> text: an array of the reports.
function monitor.json(list, path)
  local out = {}
  json(reports(list, "json"), out)
  return emit(table.concat(out) .. "\n", path, "json")
end

-- }}==================================================================

-- des.monitor(name [, opts]) is a tally.
return setmetatable(monitor, { __call = S.tally_call })
