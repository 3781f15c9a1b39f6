-- des.resource -- n identical servers that tasks acquire and release.
--
--   local clerks = des.resource(2)                      -- FIFO
--   local req <close> = clerks:acquire()               -- wait for a clerk
--   ...                                                 -- released at scope end
--   local req, err = clerks:acquire(nil, 5)            -- nil, "timed out" after 5
--   local pr = des.resource(1, {priority = true, preemptive = true})
--   local req <close> = pr:acquire(0)                  -- lower number first
--
-- A request abandoned while it waits (the task is cancelled or interrupted,
-- or its timeout fires) leaves the queue at once; a grant that reaches a
-- task which left is handed on. Preemption interrupts the holder with the
-- worst priority (the most recent among equals) with a cause
-- {kind="preempted", by=, usage_since=, resource=}; its request is released.
-- Statistics kept without model code: res.stats.queue and res.stats.busy
-- (time-weighted levels) and res.stats.wait (tally of waiting times).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Resource = {}
Resource.__index = Resource

local Request = {}
Request.__index = Request

local TIMED_OUT = waitlist.TIMED_OUT
local remove = waitlist.remove
local now, self_task, new_event = des.now, des.self, des.event
local TIME_AT = { time_at = true } -- queue and busy keep the time at each count

-- Does request a go before request b in the queue?
local function before(a, b)
  if a.priority ~= b.priority then return a.priority < b.priority end
  return a.seq < b.seq
end

-- A new resource with `capacity` servers.
local function new(capacity, opts)
  if math.type(capacity) ~= "integer" or capacity < 1 then
    error("resource: capacity must be an integer >= 1 (got " .. tostring(capacity) .. ")", 2)
  end
  opts = opts or {}
  if opts ~= nil and type(opts) ~= "table" then
    error("resource: options must be a table", 2)
  end
  return setmetatable({
    capacity = capacity, count = 0, users = {}, queue = {}, seq = 0,
    priority = opts.priority or opts.preemptive or false,
    preemptive = opts.preemptive or false,
    name = opts.name,
    stats = { queue = monitor.level("queue length", 0, TIME_AT),
              busy = monitor.level("in use", 0, TIME_AT),
              wait = monitor.tally("waiting time") },
  }, Resource)
end

-- Hand servers to waiting requests while there are free ones.
function Resource:grant_waiting()
  local q = self.queue
  while self.count < self.capacity and #q > 0 do
    local req = table.remove(q, 1)
    self.stats.queue:set(#q)
    self:grant(req)
  end
end

-- Give a server to req now.
function Resource:grant(req)
  req.granted, req.granted_at = true, now()
  self.count = self.count + 1
  self.users[#self.users + 1] = req
  self.stats.busy:set(self.count)
  self.stats.wait:observe(req.granted_at - req.time)
  if req.event then req.event:succeed(req) end
end

-- Preempt the worst holder if req is strictly more urgent; true if done.
function Resource:preempt_for(req)
  local worst
  for _, u in ipairs(self.users) do
    if not worst or u.priority > worst.priority or
       (u.priority == worst.priority and u.seq > worst.seq) then
      worst = u
    end
  end
  if not worst or worst.priority <= req.priority then return false end
  remove(self.users, worst)
  self.count = self.count - 1
  worst.released, worst.preempted = true, true
  self.stats.busy:set(self.count)
  if worst.task then
    worst.task:interrupt{ kind = "preempted", by = req.task,
                          usage_since = worst.granted_at, resource = self }
  end
  return true
end

-- The to-be-closed guard of a waiting acquire: however the wait ends, a
-- request that did not reach its task goes (one shared metatable, so the
-- wait allocates no closure).
local Guard = { __close = function(g)
  local req = g[1]
  if req.received then return end
  local res = req.resource
  if req.granted then
    req:release()
  elseif remove(res.queue, req) then
    req.released = true
    res.stats.queue:set(#res.queue)
  end
end }

-- acquire([priority [, timeout]]) --> request (with __close), or nil,
-- "timed out".
function Resource:acquire(priority, timeout)
  if getmetatable(self) ~= Resource then error("acquire: call it as res:acquire()", 2) end
  if priority ~= nil and type(priority) ~= "number" then
    error("acquire: priority must be a number (got " .. type(priority) .. ")", 2)
  end
  waitlist.check_timeout("acquire", timeout)
  self.seq = self.seq + 1
  local req = setmetatable({ resource = self, task = self_task(), priority = priority or 0,
                             seq = self.seq, time = now() }, Request)
  if self.count < self.capacity and #self.queue == 0 then
    self:grant(req)
    return req
  end
  if self.preemptive and self:preempt_for(req) then
    self:grant(req)
    return req
  end
  -- wait in the queue, in priority order (FIFO among equals)
  local q, i = self.queue, #self.queue + 1
  if self.priority then
    while i > 1 and before(req, q[i - 1]) do i = i - 1 end
  end
  table.insert(q, i, req)
  self.stats.queue:set(#q)
  req.event = new_event("acquire")
  local _guard <close> = setmetatable({ req }, Guard)
  if timeout then
    local first = des.any{ req.event, des.timeout(timeout) }:wait()
    if first ~= req.event then return nil, TIMED_OUT end
  else
    req.event:wait()
  end
  req.received = true
  return req
end

-- release(req): give the server back (a second release does nothing).
function Resource:release(req)
  if getmetatable(req) ~= Request or req.resource ~= self then
    error("release: not a request of this resource", 2)
  end
  req:release()
end

-- Release a request (also its __close).
function Request:release()
  if self.released then return end
  self.released = true
  local res = self.resource
  if self.granted then
    if remove(res.users, self) then
      res.count = res.count - 1
      res.stats.busy:set(res.count)
    end
    res:grant_waiting()
  elseif remove(res.queue, self) then
    res.stats.queue:set(#res.queue)
  end
end

Request.__close = Request.release

-- Change the number of servers: growing grants waiters at once; shrinking
-- never takes a server from its holder, it only stops new grants until the
-- count is below the new capacity.
function Resource:set_capacity(n)
  if math.type(n) ~= "integer" or n < 1 then
    error("set_capacity: capacity must be an integer >= 1 (got " .. tostring(n) .. ")", 2)
  end
  self.capacity = n
  self:grant_waiting()
end

-- The holders' and waiters' tasks, in order.
function Resource:holders()
  local t = {}
  for i, r in ipairs(self.users) do t[i] = r.task end
  return t
end

function Resource:waiters()
  local t = {}
  for i, r in ipairs(self.queue) do t[i] = r.task end
  return t
end

function Resource:__tostring()
  return string.format("des.resource%s: %d/%d in use, %d waiting",
                       self.name and (" '" .. self.name .. "'") or "",
                       self.count, self.capacity, #self.queue)
end

return setmetatable({ new = new, Resource = Resource, TIMED_OUT = TIMED_OUT },
                    { __call = function(_, ...) return new(...) end })
