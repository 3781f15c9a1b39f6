-- des.container -- a continuous level (fuel, water, money) between tasks.
--
--   local tank = des.container(100, 50)   -- capacity 100, level 50
--   tank:get(30)                          -- waits until 30 is there
--   tank:put(80)                          -- waits until 80 fits
--   local ok, err = tank:get(10, 5)       -- nil, "timed out" after 5
--   print(tank.level)
--
-- Gets and puts wait in two queues, each served in arrival order (a large
-- get blocks smaller gets behind it, as in SimPy), in the one C wait queue
-- (des._waitq, as resources do). A waiter that leaves is removed at once, a
-- timeout never outlives its wait, and an amount granted to a task that
-- left is given back. Statistics:
-- c.stats.level (time-weighted level).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Container = {}
Container.__index = Container

local TIMED_OUT = waitlist.TIMED_OUT

local function new(capacity, level)
  if type(capacity) ~= "number" or capacity ~= capacity or capacity <= 0 or
     capacity == math.huge then
    error("container: capacity must be a finite number > 0 (got " .. tostring(capacity) .. ")", 2)
  end
  level = level or 0
  if type(level) ~= "number" or level < 0 or level > capacity then
    error("container: initial level must be in [0, capacity] (got " .. tostring(level) .. ")", 2)
  end
  local c = setmetatable({ capacity = capacity, level = level,
                        getq = des._waitq("container get"), putq = des._waitq("container put"),
                        stats = { level = monitor.level("level", level) } }, Container)
  des._stats.register(c) -- its statistics in the simulation's report
  return c
end

local function check(self, fname, amount, timeout)
  if type(amount) ~= "number" or amount ~= amount or amount <= 0 or
     amount > self.capacity then
    error(string.format("%s: amount must be > 0 and <= capacity %g (got %s)", fname,
                        self.capacity, tostring(amount)), 3)
  end
  waitlist.check_timeout(fname, timeout)
end

-- Does request r fit now?
function Container:fits(r)
  if r.kind == "get" then return self.level >= r.amount end
  return self.level + r.amount <= self.capacity
end

-- Apply a request to the level.
function Container:apply(r, sign)
  self.level = self.level + sign * (r.kind == "get" and -r.amount or r.amount)
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
function Container:request(kind, amount, timeout)
  local queue = kind == "get" and self.getq or self.putq
  local r = { kind = kind, amount = amount, container = self }
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
  check(self, "put", amount, timeout)
  return self:request("put", amount, timeout)
end

-- get(amount [, timeout]) --> true, or nil, "timed out"
function Container:get(amount, timeout)
  check(self, "get", amount, timeout)
  return self:request("get", amount, timeout)
end

function Container:__tostring()
  return string.format("des.container: level %g of %g, %d gets and %d puts waiting",
                       self.level, self.capacity, #self.getq, #self.putq)
end

return setmetatable({ new = new, TIMED_OUT = TIMED_OUT },
                    { __call = function(_, ...) return new(...) end })
