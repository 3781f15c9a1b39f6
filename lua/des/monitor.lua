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
-- Means, variances (Welford) and time integrals are exact in the sense of
-- DESIGN: the time-weighted mean integrates level * dt over simulated time.
-- Quantiles are streaming estimates (the P-square algorithm of Jain and
-- Chlamtac: five markers per quantile, O(1) memory), exact up to 5
-- observations; histograms count exactly.
local des = require "des"

local monitor = {}

local Tally = {}
Tally.__index = Tally

-- {{==================================================================
-- P-square: one streaming quantile estimator
-- ===================================================================

local PSquare = {}
PSquare.__index = PSquare

local function psquare(p)
  return setmetatable({ p = p, n = 0, q = {}, pos = { 1, 2, 3, 4, 5 },
                        want = { 1, 1 + 2 * p, 1 + 4 * p, 3 + 2 * p, 5 },
                        dwant = { 0, p / 2, p, (1 + p) / 2, 1 } }, PSquare)
end

function PSquare:add(x)
  local q, pos = self.q, self.pos
  self.n = self.n + 1
  if self.n <= 5 then
    q[self.n] = x
    if self.n == 5 then table.sort(q) end
    return
  end
  local k
  if x < q[1] then q[1], k = x, 1
  elseif x >= q[5] then q[5], k = x, 4
  else
    k = 1
    while x >= q[k + 1] do k = k + 1 end
  end
  for i = k + 1, 5 do pos[i] = pos[i] + 1 end
  local want, dwant = self.want, self.dwant
  for i = 1, 5 do want[i] = want[i] + dwant[i] end
  for i = 2, 4 do -- move the middle markers toward their wanted positions
    local d = want[i] - pos[i]
    if (d >= 1 and pos[i + 1] - pos[i] > 1) or (d <= -1 and pos[i - 1] - pos[i] < -1) then
      d = d >= 0 and 1 or -1
      local np, pp, ni = pos[i + 1], pos[i - 1], pos[i]
      local qp = q[i] + d / (np - pp) * ((ni - pp + d) * (q[i + 1] - q[i]) / (np - ni)
                                        + (np - ni - d) * (q[i] - q[i - 1]) / (ni - pp))
      if not (q[i - 1] < qp and qp < q[i + 1]) then -- parabolic went out: linear
        qp = q[i] + d * (q[i + d] - q[i]) / (pos[i + d] - ni)
      end
      q[i], pos[i] = qp, ni + d
    end
  end
end

-- The estimate: exact (by interpolation of the sorted values) while there
-- are 5 observations or fewer.
function PSquare:value()
  local n, q = self.n, self.q
  if n == 0 then return nil end
  if n <= 5 then
    local s = table.move(q, 1, n, 1, {})
    table.sort(s)
    local h = (n - 1) * self.p + 1
    local lo = math.floor(h)
    return s[lo] + (h - lo) * ((s[lo + 1] or s[lo]) - s[lo])
  end
  return q[3]
end

-- }}==================================================================

-- A new tally; `name` is for reports. opts.quantiles: probabilities in
-- (0, 1) to estimate; opts.histogram: increasing bin edges (observations
-- below the first or from the last edge on are counted apart).
function monitor.tally(name, opts)
  local t = setmetatable({ name = name, count = 0, mean = 0, m2 = 0,
                           min = math.huge, max = -math.huge }, Tally)
  if opts == nil then return t end
  if type(opts) ~= "table" then error("monitor: options must be a table", 2) end
  if opts.quantiles then
    t.estimators = {}
    for i, p in ipairs(opts.quantiles) do
      if type(p) ~= "number" or not (p > 0 and p < 1) then
        error(string.format("monitor: quantile %d must be a probability in (0, 1) (got %s)",
                           i, tostring(p)), 2)
      end
      t.estimators[i] = psquare(p)
    end
  end
  if opts.histogram then
    local edges = opts.histogram
    if type(edges) ~= "table" or #edges < 1 then
      error("monitor: histogram must be an array of bin edges", 2)
    end
    for i, e in ipairs(edges) do
      if type(e) ~= "number" or e ~= e or (i > 1 and e <= edges[i - 1]) then
        error(string.format("monitor: histogram edges must be increasing numbers (edge %d)", i), 2)
      end
    end
    t.edges, t.bins = table.move(edges, 1, #edges, 1, {}), {}
    for i = 0, #edges do t.bins[i] = 0 end
  end
  return t
end

-- Record one observation (Welford's update).
function Tally:observe(x)
  if type(x) ~= "number" or x ~= x then
    error(string.format("observe: monitor '%s' needs a number (got %s)",
                        tostring(self.name), tostring(x)), 2)
  end
  local n = self.count + 1
  local delta = x - self.mean
  self.count = n
  self.mean = self.mean + delta / n
  self.m2 = self.m2 + delta * (x - self.mean)
  if x < self.min then self.min = x end
  if x > self.max then self.max = x end
  local est = self.estimators
  if est then
    for i = 1, #est do est[i]:add(x) end
  end
  local edges = self.edges
  if edges then -- bin i holds [edges[i], edges[i+1]); 0 and #edges: the tails
    local lo, hi = 0, #edges
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if x >= edges[mid] then lo = mid else hi = mid - 1 end
    end
    self.bins[lo] = self.bins[lo] + 1
  end
end

-- The statistics as a table (nil fields when there is no observation).
-- Forget every observation so far (e.g. after a warm-up period).
function Tally:reset()
  self.count, self.mean, self.m2, self.min, self.max = 0, 0, 0, math.huge, -math.huge
  for i, e in ipairs(self.estimators or {}) do self.estimators[i] = psquare(e.p) end
  if self.bins then
    for i = 0, #self.edges do self.bins[i] = 0 end
  end
end

function Tally:report()
  local n = self.count
  local var = n > 1 and self.m2 / (n - 1) or nil
  local r = { name = self.name, kind = "tally", count = n,
              mean = n > 0 and self.mean or nil, variance = var,
              sd = var and math.sqrt(var) or nil,
              min = n > 0 and self.min or nil, max = n > 0 and self.max or nil }
  if self.estimators then
    r.quantiles = {}
    for _, e in ipairs(self.estimators) do r.quantiles[e.p] = e:value() end
  end
  if self.edges then -- {lo, hi, count} per bin, tails with -inf / inf
    local edges, h = self.edges, {}
    for i = 0, #edges do
      h[#h + 1] = { edges[i] or -math.huge, edges[i + 1] or math.huge, self.bins[i] }
    end
    r.histogram = h
  end
  return r
end

local Level = {}
Level.__index = Level

-- A new time-weighted level starting at `initial` (0) now, on the current
-- simulation (whose clock it reads even when reported from outside).
-- opts.time_at: keep the time spent at each value (for levels that take
-- few values, such as queue lengths).
function monitor.level(name, initial, opts)
  local sim = des.current()
  local now = sim:now()
  if initial ~= nil and (type(initial) ~= "number" or initial ~= initial) then
    error("monitor.level: initial value must be a number (got " .. tostring(initial) .. ")", 2)
  end
  return setmetatable({ name = name, sim = sim, sim_now = sim.now, value = initial or 0,
                        since = now, start = now, area = 0, max = initial or 0,
                        min = initial or 0,
                        time_at = opts and opts.time_at and {} or nil }, Level)
end

-- Integrate the current value up to now.
function Level:advance()
  local now = self.sim_now(self.sim)
  local dt = now - self.since
  self.area = self.area + self.value * dt
  local at = self.time_at
  if at and dt > 0 then at[self.value] = (at[self.value] or 0) + dt end
  self.since = now
end

-- Set the level to v from now on.
function Level:set(v)
  self:advance()
  self.value = v
  if v > self.max then self.max = v end
  if v < self.min then self.min = v end
end

-- Change the level by dv.
-- Start the statistics afresh from now, at the current value (e.g. after
-- a warm-up period).
function Level:reset()
  local now = self.sim_now(self.sim)
  self.since, self.start, self.area = now, now, 0
  self.max, self.min = self.value, self.value
  if self.time_at then self.time_at = {} end
end

function Level:add(dv)
  self:set(self.value + dv)
end

-- The time-weighted statistics up to now.
function Level:report()
  self:advance()
  local duration = self.since - self.start
  local r = { name = self.name, kind = "level", value = self.value,
              mean = duration > 0 and self.area / duration or self.value,
              max = self.max, min = self.min, duration = duration }
  if self.time_at then
    r.time_at = {}
    for v, t in pairs(self.time_at) do r.time_at[v] = t end
  end
  return r
end

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
    if t == "table" and type(m.report) == "function" then
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
  local f, err = io.open(path, "w")
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
return setmetatable(monitor, { __call = function(_, ...) return monitor.tally(...) end })
