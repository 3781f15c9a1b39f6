-- des.container -- a continuous level (fuel, water, money) between tasks.
--
--   local tank = des.container(100, 50)   -- capacity 100, level 50
--   local silo = des.container(math.huge) -- no limit (SimPy's default)
--   tank:get(30)                          -- waits until 30 is there
--   tank:put(80)                          -- waits until 80 fits
--   local ok, err = tank:get(10, 5)       -- nil, "timed out" after 5
--   print(tank.level)
--   local r <close> = tank:get_request(30)  -- a request (an event): in
--   des.any{ r, des.timeout(5) }:wait()     -- des.any to renege; closing
--                                           -- withdraws it if still queued
--   local p <close> = tank:put_request(80)  -- the same for a put
--
-- Gets and puts wait in two queues, each served in arrival order (a large
-- get blocks smaller gets behind it, as in SimPy), in the one C wait queue
-- (des._waitq, as resources do). Every get and put is a request there;
-- get/put are the blocking shorthands (a request, then its wait). A
-- request released while queued is withdrawn (and may unblock the ones
-- behind it), a timeout never outlives its wait, and an amount granted to
-- a blocking get or put whose task left before it resumed is given back;
-- a granted request's amount is its owner's. Levels are exact (integer steps of 1/resolution of
-- a unit, see to_steps). Statistics: c.stats.level (time-weighted level).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Container = {}
Container.__index = Container

local TIMED_OUT = waitlist.TIMED_OUT
local settle
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
                           cap_steps = cap_steps, level = units, held_get = 0, held_put = 0,
                           stats = { level = monitor.level("level", units) } }, Container)
  c.getq = des._waitq("container get", c, Container.on_leave)
  c.putq = des._waitq("container put", c, Container.on_leave)
  des._stats.register(c) -- its statistics in the simulation's report
  return c
end

-- The wait queues' on_leave: a request released before its wait was over.
-- An amount granted to a blocking get or put whose task left is undone;
-- a request that left the head of its queue may unblock the ones behind.
function Container.on_leave(c, r, how)
  if how == "unclaimed" and r.giveback then
    c:apply(r, -1)
    c:unhold(r)
  end
  settle(c)
end

-- A blocking get or put granted but not yet claimed (its task has not
-- resumed) holds its amount apart: the space a get freed is not offered to
-- puts, nor a put's amount to gets, until the task claims it. So giving an
-- unclaimed grant back (the task left: an interrupt wins) always fits.
function Container:hold(r)
  if r.kind == "get" then self.held_get = self.held_get + r.steps
  else self.held_put = self.held_put + r.steps end
end

function Container:unhold(r)
  if r.kind == "get" then self.held_get = self.held_get - r.steps
  else self.held_put = self.held_put - r.steps end
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
  if r.kind == "get" then return self.steps - self.held_put >= r.steps end
  return r.steps <= self.cap_steps - self.steps - self.held_get
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
    if q:serve(w, true) then
      self:apply(r, 1)
      if r.giveback then self:hold(r) end
    end
    moved = true
    w, r = q:first()
  end
  return moved
end

-- Serve the head of each queue while it fits, until nothing moves.
function settle(self)
  local moved = true
  while moved do
    moved = serve_head(self, self.getq)
    moved = serve_head(self, self.putq) or moved
  end
end
Container.settle = settle

-- A put or get request of amount, queued in order (its wait returns true
-- once granted).
local function new_request(self, kind, amount, steps, giveback)
  local queue = kind == "get" and self.getq or self.putq
  local r = queue:request({ kind = kind, amount = amount, steps = steps, container = self,
                            giveback = giveback }, giveback)
  settle(self)
  return r
end

-- get_request(amount) / put_request(amount) --> request (an event)
function Container:get_request(amount)
  return new_request(self, "get", amount, check(self, "get_request", amount))
end

function Container:put_request(amount)
  return new_request(self, "put", amount, check(self, "put_request", amount))
end

-- The blocking shorthand: a request, then its wait (none when it fits now
-- and nobody is ahead).
function Container:request(kind, amount, steps, timeout)
  local queue = kind == "get" and self.getq or self.putq
  queue:enter() -- a pending interrupt is raised even if it fits now
  local r = { kind = kind, steps = steps }
  if #queue == 0 and self:fits(r) then
    self:apply(r, 1)
    settle(self)
    return true
  end
  if not des.self() then
    error("container " .. kind .. ": not inside a task (only a task can wait)", 3)
  end
  local req <close> = new_request(self, kind, amount, steps, true)
  local ok, err = req:wait(timeout)
  if ok then -- claimed: what it held apart is the level's now
    self:unhold(r)
    settle(self)
  end
  return ok, err
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
