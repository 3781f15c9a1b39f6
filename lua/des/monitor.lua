-- des.monitor -- statistics collected as a model runs.
--
--   local m = des.monitor("waits")        -- a tally of observations
--   m:observe(x); m:report() --> {count=, mean=, variance=, sd=, min=, max=}
--   local w = des.monitor("waits", { quantiles = {0.5, 0.95}, histogram = {0, 1, 5} })
--   w:report().quantiles[0.95]; w:report().histogram --> {{lo, hi, count}, ...}
--   local q = des.monitor.level("queue")  -- a level integrated over time
--   q:set(n); q:report() --> {mean=, max=, min=, duration=, time_at={[n]=t}}
--   q:series() --> {{t=, t_end=, min=, max=, mean=, last=}, ...} -- its history
--   des.monitor.csv{m, q, res}  /  des.monitor.json{m, q, res}  -- export
--   des.monitor.gather([sim]) --> every report of a simulation, and how many dropped
--   m:reset(); q:reset()                  -- forget a warm-up period
--
-- The statistics themselves are the C core's (host/src/core/stats.c, bound
-- by host/src/lua/lstats.c), shared with the statistics of resources,
-- stores and containers and with des.replicate: means and variances by
-- Welford's update, time integrals over integer ticks (exact for integer
-- levels), the time at each value counted in ticks. Quantiles (type 7) are
-- exact up to 4096 observations, then within 1% from a DDSketch
-- (docs/lua-api.md, "Quantiles"); histograms count exactly. Reports stay
-- readable after the simulation closed (frozen at the time it closed). A
-- level keeps its history in bounded memory (at most 512 buckets of equal
-- width that merge pairwise as time grows, each with the exact min and max,
-- the time-weighted mean and the last value).
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

-- The report of one statistic, with its history when it keeps one.
local function report_of(m)
  local r = m:report()
  if type(m.series) == "function" then r.series = m:series() end
  return r
end

-- What an owner of statistics is, for its default name.
local function kind_of(m)
  if type(m) == "userdata" then return "resource" end
  return rawget(m, "items") ~= nil and "store" or "container"
end

-- The reports of a list of monitors, resources, stores and containers (a
-- resource contributes its stats, named "<its name>.<stat>", with `owner`
-- and `stat` set).
local function reports(list, fname, counts)
  if type(list) ~= "table" then error(fname .. ": expected a list of monitors", 3) end
  local out = {}
  counts = counts or {} -- per kind, for default names
  for i, m in ipairs(list) do
    local t = type(m)
    if (t == "table" or t == "userdata") and type(m.report) == "function" then
      local r = report_of(m)
      if r.name == nil then r.name = "monitor #" .. i end
      out[#out + 1] = r
    elseif (t == "table" or t == "userdata") and type(m.stats) == "table" then
      local kind = kind_of(m)
      counts[kind] = (counts[kind] or 0) + 1
      local owner = m.name ~= nil and tostring(m.name) or (kind .. " #" .. counts[kind])
      local keys = {}
      for k in pairs(m.stats) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local r = report_of(m.stats[k])
        r.name, r.owner, r.stat = owner .. "." .. k, owner, k
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

-- The summary fields of a report, in the order CSV gives them.
local CSV_FIELDS = { "count", "mean", "sd", "variance", "min", "max", "value", "duration" }

-- A CSV field: quoted when it holds a comma, quote or line break.
local function csv_field(v)
  if type(v) ~= "string" then return num(v) end
  return v:find('[,"\r\n]') and ('"' .. v:gsub('"', '""') .. '"') or v
end

-- The keys of t in increasing order.
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- The long rows {stat, at, to, value} of one report: its summary fields,
-- then quantiles (at = p), histogram bins (at = lo, to = hi), the time at
-- each value (at = value) and the series buckets (at = t, to = t_end; one
-- row per part: series_min, series_max, series_mean, series_last).
local function csv_rows(r, rows)
  for _, f in ipairs(CSV_FIELDS) do
    if r[f] ~= nil then rows[#rows + 1] = { f, nil, nil, r[f] } end
  end
  for _, p in ipairs(sorted_keys(r.quantiles or {})) do
    rows[#rows + 1] = { "quantile", p, nil, r.quantiles[p] }
  end
  for _, b in ipairs(r.histogram or {}) do
    rows[#rows + 1] = { "bin", b[1], b[2], b[3] }
  end
  for _, v in ipairs(sorted_keys(r.time_at or {})) do
    rows[#rows + 1] = { "time_at", v, nil, r.time_at[v] }
  end
  for _, part in ipairs { "min", "max", "mean", "last" } do
    for _, b in ipairs(r.series or {}) do
      rows[#rows + 1] = { "series_" .. part, b.t, b.t_end, b[part] }
    end
  end
end

-- csv(list [, path]) --> text in long format, the columns
-- name,kind,stat,at,to,value: one row per statistic and part (summary
-- fields, quantiles, histogram bins, time at each value, time series), so
-- a spreadsheet gets everything JSON has. Empty where a part has no such
-- column.
function monitor.csv(list, path)
  local lines = { "name,kind,stat,at,to,value" }
  for _, r in ipairs(reports(list, "csv")) do
    local rows, head = {}, csv_field(r.name) .. "," .. csv_field(r.kind) .. ","
    csv_rows(r, rows)
    for _, row in ipairs(rows) do
      lines[#lines + 1] = head .. row[1] .. "," .. csv_field(row[2]) .. "," ..
        csv_field(row[3]) .. "," .. csv_field(row[4])
    end
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

-- gather([sim]) --> {reports...}, dropped: the report of every
-- statistic of a simulation (default: the current one), as the HTML report
-- shows them: the monitors made on it and the statistics of its resources,
-- stores and containers (a store's own monitors once, under its name), in
-- creation order, with their series; dropped: how many statistics were
-- beyond the registry's bound (not shown).
function monitor.gather(sim)
  local list, dropped = S.registered(sim)
  local owned, out, counts = {}, {}, {}
  for _, m in ipairs(list) do
    local stats = type(m) == "table" and rawget(m, "stats")
    if type(stats) == "table" then
      for _, st in pairs(stats) do owned[st] = true end
    end
  end
  -- one object at a time: an object the model broke (des._stats.register
  -- is reachable) shows as an error row instead of losing the report
  for i, m in ipairs(list) do
    if not owned[m] then
      local before = {}
      for k, v in pairs(counts) do before[k] = v end
      local ok, rs = pcall(reports, { m }, "gather", counts)
      if not ok then
        counts = before -- a broken object takes no default name
        rs = { { name = "item #" .. i, kind = "error", error = tostring(rs) } }
      end
      for _, r in ipairs(rs) do out[#out + 1] = r end
    end
  end
  return out, dropped
end

-- report_json([sim]) --> the JSON text {"dropped": n, "statistics": [...]}
-- of gather(sim): what des_statistics (deshost.h) gives reports.
function monitor.report_json(sim)
  local list, dropped = monitor.gather(sim)
  local out = {}
  json({ dropped = dropped, statistics = list }, out)
  return table.concat(out)
end

-- }}==================================================================

-- des.monitor(name [, opts]) is a tally.
return setmetatable(monitor, { __call = S.tally_call })
