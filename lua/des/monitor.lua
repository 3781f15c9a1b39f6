-- des.monitor -- statistics collected as a model runs.
--
--   local m = des.monitor("waits")        -- a tally of observations
--   m:observe(x); m:report() --> {count=, mean=, variance=, sd=, min=, max=}
--   local q = des.monitor.level("queue")  -- a level integrated over time
--   q:set(n); q:report() --> {mean=, max=, min=, duration=, ...}
--
-- Means, variances (Welford) and time integrals are exact in the sense of
-- DESIGN: the time-weighted mean integrates level * dt over simulated time.
local des = require "des"

local monitor = {}

local Tally = {}
Tally.__index = Tally

-- A new tally; `name` is for reports.
function monitor.tally(name)
  return setmetatable({ name = name, count = 0, mean = 0, m2 = 0,
                        min = math.huge, max = -math.huge }, Tally)
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
end

-- The statistics as a table (nil fields when there is no observation).
function Tally:report()
  local n = self.count
  local var = n > 1 and self.m2 / (n - 1) or nil
  return { name = self.name, kind = "tally", count = n,
           mean = n > 0 and self.mean or nil, variance = var,
           sd = var and math.sqrt(var) or nil,
           min = n > 0 and self.min or nil, max = n > 0 and self.max or nil }
end

local Level = {}
Level.__index = Level

-- A new time-weighted level starting at `initial` (0) now, on the current
-- simulation (whose clock it reads even when reported from outside).
function monitor.level(name, initial)
  local sim = des.current()
  local now = sim:now()
  return setmetatable({ name = name, sim = sim, sim_now = sim.now, value = initial or 0,
                        since = now, start = now, area = 0, max = initial or 0,
                        min = initial or 0 }, Level)
end

-- Integrate the current value up to now.
function Level:advance()
  local now = self.sim_now(self.sim)
  self.area = self.area + self.value * (now - self.since)
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
function Level:add(dv)
  self:set(self.value + dv)
end

-- The time-weighted statistics up to now.
function Level:report()
  self:advance()
  local duration = self.since - self.start
  return { name = self.name, kind = "level", value = self.value,
           mean = duration > 0 and self.area / duration or self.value,
           max = self.max, min = self.min, duration = duration }
end

-- des.monitor(name) is a tally.
return setmetatable(monitor, { __call = function(_, name) return monitor.tally(name) end })
