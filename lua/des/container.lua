-- des.container -- a continuous level (fuel, water, money) between tasks.
--
--   local tank = des.container(100, 50)   -- capacity 100, level 50
--   local silo = des.container(math.huge) -- no limit (SimPy's default)
--   tank:get(30)                          -- waits until 30 is there
--   tank:put(80)                          -- waits until 80 fits
--   local ok, err = tank:get(10, 5)       -- nil, "timed out" after 5
--   print(tank.level)
--
-- Gets and puts wait in two queues, each served in arrival order (a large
-- get blocks smaller gets behind it, as in SimPy), in the one C wait queue
-- (des._waitq, as resources do). A waiter that leaves is removed at once, a
-- timeout never outlives its wait, and an amount granted to a task that
-- left is given back. Levels are exact (integer steps of 1/resolution of
-- a unit, see to_steps). Statistics: c.stats.level (time-weighted level).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Container = {}
Container.__index = Container

local TIMED_OUT = waitlist.TIMED_OUT
local MAXINT, floor, tointeger = math.maxinteger, math.floor, math.tointeger

-- Levels are exact: kept as an integer count of 1/resolution of a unit
-- (10^9 by default, as simulated time), so ten put(0.1) make exactly 1 and
-- a thousand fills do not drift. An amount x becomes whole(x) * R plus its
-- rounded fraction, and a positive amount is at least one step. Nil when
-- it is past the integer range (the container's capacity in steps).
local function to_steps(x, R)
  if x == math.huge then return MAXINT end
  local whole = floor(x)
  if whole > MAXINT // R then return nil end
  local steps = tointeger(whole) * R + floor((x - whole) * R + 0.5)
  if steps == 0 and x > 0 then steps = 1 end
  return steps
end

-- Steps back into units (the double nearest the exact level).
local function to_units(steps, R)
  return steps // R + (steps % R) / R
end

local function new(capacity, level, opts)
  if type(capacity) ~= "number" or capacity ~= capacity or capacity <= 0 then
    error("container: capacity must be a number > 0, math.huge for no limit (got "
          .. tostring(capacity) .. ")", 2)
  end
  level = level or 0
  if type(level) ~= "number" or level ~= level or level < 0 or level > capacity or
     level == math.huge then
    error("container: initial level must be in [0, capacity] and finite (got "
          .. tostring(level) .. ")", 2)
  end
  opts = opts or {}
  local R = opts.resolution or 1000000000
  if math.type(R) ~= "integer" or R < 1 then
    error("container: resolution must be an integer >= 1 (got " .. tostring(R) .. ")", 2)
  end
  local cap_steps, steps = to_steps(capacity, R), to_steps(level, R)
  if cap_steps == nil or steps == nil then
    error(string.format("container: capacity %g is past the range of resolution %d "
                        .. "(at most %g; use math.huge for no limit, or a coarser resolution)",
                        capacity, R, to_units(MAXINT, R)), 2)
  end
  local units = to_units(steps, R)
  local c = setmetatable({ capacity = capacity, resolution = R, steps = steps,
                           cap_steps = cap_steps, level = units,
                           stats = { level = monitor.level("level", units) } }, Container)
  c.getq, c.putq = des._waitq("container get", c), des._waitq("container put", c)
  des._stats.register(c) -- its statistics in the simulation's report
  return c
end

local function check(self, fname, amount, timeout)
  if type(amount) ~= "number" or amount ~= amount or amount <= 0 or
     amount > self.capacity or amount == math.huge then
    error(string.format("%s: amount must be > 0, finite and <= capacity %g (got %s)", fname,
                        self.capacity, tostring(amount)), 3)
  end
  waitlist.check_timeout(fname, timeout)
  local steps = to_steps(amount, self.resolution)
  if steps == nil or steps > self.cap_steps then
    error(string.format("%s: amount %g is past the container's range", fname, amount), 3)
  end
  return steps
end

-- Does request r fit now? (in steps: exact, and no overflow)
function Container:fits(r)
  if r.kind == "get" then return self.steps >= r.steps end
  return r.steps <= self.cap_steps - self.steps
end

-- Apply a request to the level.
function Container:apply(r, sign)
  self.steps = self.steps + sign * (r.kind == "get" and -r.steps or r.steps)
  self.level = to_units(self.steps, self.resolution)
  self.stats.level:set(self.level)
end

-- Serve the head of queue q while it fits; true if any moved.
local function serve_head(self, q)
  local moved = false
  local w, r = q:first()
  while w and self:fits(r) do
    q:serve(w)
    self:apply(r, 1)
    r.served = true
    moved = true
    w, r = q:first()
  end
  return moved
end

-- Serve the head of each queue while it fits, until nothing moves.
function Container:settle()
  local moved = true
  while moved do
    moved = serve_head(self, self.getq)
    moved = serve_head(self, self.putq) or moved
  end
end

-- A waiting request's record is its own <close> guard: an amount granted
-- to a task that left before it resumed is undone, and a request that left
-- the head of its queue may unblock the ones behind it.
local REQUEST = { __close = function(r)
  if r.received then return end
  if r.served then r.container:apply(r, -1) end
  r.container:settle()
end }

-- A put or get of amount, waiting in order (in the C wait queue).
function Container:request(kind, amount, steps, timeout)
  local queue = kind == "get" and self.getq or self.putq
  queue:enter() -- a pending interrupt is raised even if it fits now
  local r = { kind = kind, amount = amount, steps = steps, container = self }
  if #queue == 0 and self:fits(r) then
    self:apply(r, 1)
    self:settle()
    return true
  end
  local _guard <close> = setmetatable(r, REQUEST)
  if not queue:wait(r, timeout) then return nil, TIMED_OUT end
  r.received = true
  return true
end

-- put(amount [, timeout]) --> true, or nil, "timed out"
function Container:put(amount, timeout)
  return self:request("put", amount, check(self, "put", amount, timeout), timeout)
end

-- get(amount [, timeout]) --> true, or nil, "timed out"
function Container:get(amount, timeout)
  return self:request("get", amount, check(self, "get", amount, timeout), timeout)
end

function Container:__tostring()
  return string.format("des.container: level %g of %g, %d gets and %d puts waiting",
                       self.level, self.capacity, #self.getq, #self.putq)
end

return setmetatable({ new = new, TIMED_OUT = TIMED_OUT },
                    { __call = function(_, ...) return new(...) end })
