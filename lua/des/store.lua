-- des.store -- a FIFO buffer of items between tasks.
--
--   local st = des.store(10)            -- capacity 10 (default: unbounded)
--   st:put(item)                        -- waits while full
--   local item = st:get()               -- waits while empty
--   local big = st:get(function(x) return x.size > 5 end)  -- first match
--   local item, err = st:get(nil, 3)    -- nil, "timed out" after 3
--   local pq = des.store(nil, { priority = true })  -- items {key, value}:
--                                       -- get hands out the smallest key
--   local g <close> = st:get_request([filter])  -- a request (an event):
--   des.any{ g, des.timeout(5) }:wait()          -- renege after 5;
--   if g.granted then use(g.item) end            -- closing withdraws it
--   local p <close> = st:put_request(item)       -- the same for a put
--
-- Getters and putters wait in the one C wait queue (des._waitq, as
-- resources do): every get and put is a request there, and get/put are
-- the blocking shorthands (a request, then its wait). A request released
-- while queued is withdrawn (a getter's wait is then a reneging); an item
-- handed to a blocking getter that left before it resumed goes back to
-- the front, so nothing is lost; a granted request's item is its owner's.
-- Statistics: st.stats.level (time-weighted number of items),
-- st.stats.wait (tally of the waiting times of gets served) and
-- st.stats.reneged (of gets withdrawn or timed out before an item came).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Store = {}
Store.__index = Store

local TIMED_OUT = waitlist.TIMED_OUT
local check_timeout = waitlist.check_timeout
local settle

-- The wait queues' on_leave: a request released before its wait was over.
-- A get withdrawn while queued reneged; an item served to a blocking get
-- whose task left before it resumed goes back to the front.
local function on_leave(st, r, how)
  if how == "withdrawn" then
    if r.kind == "get" then
      st.stats.reneged:observe(des.now() - r.time)
    end
  elseif r.kind == "get" and r.giveback then
    table.insert(st.items, 1, r.item)
    st.held = st.held - 1
  end
  settle(st)
end

local function new(capacity, opts)
  if capacity ~= nil and (math.type(capacity) ~= "integer" or capacity < 1) then
    error("store: capacity must be an integer >= 1 or nil (got " .. tostring(capacity) .. ")", 2)
  end
  opts = opts or {}
  local st = setmetatable({ capacity = capacity or math.huge, items = {}, name = opts.name,
                            held = 0,
                            priority = opts.priority or false,
                            stats = { level = monitor.level("items", 0, { time_at = true }),
                                      wait = monitor.tally("get waiting time"),
                                      reneged = monitor.tally("get waiting before reneging") } },
                         Store)
  st.getq = des._waitq("store get", st, on_leave)
  st.putq = des._waitq("store put", st, on_leave)
  des._stats.register(st) -- its statistics in the simulation's report
  return st
end

-- Index of the item a getter takes (nil if none fits).
function Store:find(filter)
  local items = self.items
  if self.priority then
    local best
    for i = 1, #items do
      if (not filter or filter(items[i])) and (not best or items[i][1] < items[best][1]) then
        best = i
      end
    end
    return best
  end
  for i = 1, #items do
    if not filter or filter(items[i]) then return i end
  end
  return nil
end

-- Match waiting getters with items and waiting putters with room, until
-- nothing more can move. The waiters queue in C (des._waitq): serving one
-- wakes what waits on it (tasks, des.any) and cancels a task's deadline.
-- An item is taken before its getter is served (serving allocates, and a
-- finalizer may change the store meanwhile); a getter that left in
-- between gives it back at once.
function settle(self)
  local getq, putq, items = self.getq, self.putq, self.items
  local moved = true
  while moved do
    moved = false
    local w, g = getq:first()
    while w do
      local i = self:find(g.filter)
      if i then
        local item = table.remove(items, i)
        g.item = item
        if getq:serve(w, item) then
          self.stats.wait:observe(des.now() - g.time)
          -- a blocking get's item counts as in the store until its task
          -- resumes: giving it back (the task left) then always fits
          if g.giveback then self.held = self.held + 1 end
        else
          g.item = nil
          table.insert(items, i, item)
        end
        moved = true
        break
      end
      w, g = getq:next(w)
    end
    if #putq > 0 and #items + self.held < self.capacity then
      local pw, p = putq:first()
      if putq:serve(pw, true) then items[#items + 1] = p.item end
      moved = true
    end
  end
  self.stats.level:set(#items)
end
Store.settle = settle

local function check_put(self, fname, item)
  if item == nil then error(fname .. ": item must not be nil", 3) end
  if self.priority and (type(item) ~= "table" or item[1] == nil) then
    error(fname .. ": a priority store takes {key, value} items", 3)
  end
end

local function check_filter(fname, filter)
  if filter ~= nil and type(filter) ~= "function" then
    error(fname .. ": filter must be a function (got " .. type(filter) .. ")", 3)
  end
end

local function check_task(fname)
  if not des.self() then
    error(fname .. ": not inside a task (only a task can wait)", 3)
  end
end

-- put_request(item) --> request: granted once the item is in the store
-- (its wait returns true); released while queued, it is withdrawn.
function Store:put_request(item)
  check_put(self, "put_request", item)
  local r = self.putq:request({ kind = "put", item = item, time = des.now() })
  settle(self)
  return r
end

-- get_request([filter]) --> request: granted with an item (r.item; its
-- wait returns the item); released while queued, it is withdrawn.
function Store:get_request(filter)
  check_filter("get_request", filter)
  local r = self.getq:request({ kind = "get", filter = filter, time = des.now() })
  settle(self)
  return r
end

-- put(item [, timeout]) --> true, or nil, "timed out"
function Store:put(item, timeout)
  check_put(self, "put", item)
  check_timeout("put", timeout)
  self.putq:enter() -- a pending interrupt is raised even if there is room
  if #self.items + self.held < self.capacity and #self.putq == 0 then
    self.items[#self.items + 1] = item
    settle(self)
    return true
  end
  check_task("store put")
  local p <close> = self.putq:request({ kind = "put", item = item, time = des.now() }, true)
  return p:wait(timeout)
end

-- get([filter [, timeout]]) --> item, or nil, "timed out"
function Store:get(filter, timeout)
  check_filter("get", filter)
  check_timeout("get", timeout)
  self.getq:enter() -- a pending interrupt is raised even if an item is there
  -- An item here that fits is taken even if other getters wait: their
  -- filters match none of the items (settle would have served them), so
  -- nobody is passed over (SimPy's FilterStore does the same).
  local i = self:find(filter)
  if i then
    local item = table.remove(self.items, i)
    self.stats.wait:observe(0)
    settle(self)
    return item
  end
  check_task("store get")
  local g <close> = self.getq:request({ kind = "get", filter = filter, time = des.now(),
                                         giveback = true }, true)
  local item, err = g:wait(timeout)
  if item ~= nil then -- claimed: its place is free now
    self.held = self.held - 1
    settle(self)
  end
  return item, err
end

function Store:__len()
  return #self.items
end

function Store:__tostring()
  return string.format("des.store: %d items, %d getters and %d putters waiting",
                       #self.items, #self.getq, #self.putq)
end

return setmetatable({ new = new, TIMED_OUT = TIMED_OUT },
                    { __call = function(_, ...) return new(...) end })
