-- des.store -- a FIFO buffer of items between tasks.
--
--   local st = des.store(10)            -- capacity 10 (default: unbounded)
--   st:put(item)                        -- waits while full
--   local item = st:get()               -- waits while empty
--   local big = st:get(function(x) return x.size > 5 end)  -- first match
--   local item, err = st:get(nil, 3)    -- nil, "timed out" after 3
--   local pq = des.store(nil, { priority = true })  -- items {key, value}:
--                                       -- get hands out the smallest key
--
-- Getters and putters wait in the one C wait queue (des._waitq, as
-- resources do): a waiter that leaves (cancelled, interrupted, timed out)
-- is removed at once, a timeout never outlives its wait, and an item
-- handed to a getter that left goes back to the front, so nothing is lost.
-- Statistics: st.stats.level (time-weighted number of items) and
-- st.stats.wait (tally of getters' waiting times).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Store = {}
Store.__index = Store

local TIMED_OUT = waitlist.TIMED_OUT
local check_timeout = waitlist.check_timeout

local function new(capacity, opts)
  if capacity ~= nil and (math.type(capacity) ~= "integer" or capacity < 1) then
    error("store: capacity must be an integer >= 1 or nil (got " .. tostring(capacity) .. ")", 2)
  end
  opts = opts or {}
  local st = setmetatable({ capacity = capacity or math.huge, items = {}, name = opts.name,
                            priority = opts.priority or false,
                            stats = { level = monitor.level("items", 0, { time_at = true }),
                                      wait = monitor.tally("get waiting time") } }, Store)
  st.getq, st.putq = des._waitq("store get", st), des._waitq("store put", st)
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
-- wakes its task and cancels its deadline.
function Store:settle()
  local getq, putq, items = self.getq, self.putq, self.items
  local moved = true
  while moved do
    moved = false
    local w, g = getq:first()
    while w do
      local i = self:find(g.filter)
      if i and getq:serve(w) then -- (false if the filter made it leave)
        g.item, g.served = table.remove(items, i), true
        self.stats.wait:observe(des.now() - g.time)
        moved = true
        break
      end
      w, g = getq:next(w)
    end
    if #putq > 0 and #items < self.capacity then
      local pw, p = putq:first()
      putq:serve(pw)
      items[#items + 1] = p.item
      p.served = true
      moved = true
    end
  end
  self.stats.level:set(#items)
end

-- A waiter's record is its own <close> guard: a getter served but gone
-- before it resumed (cancelled) gives its item back, at the front. A
-- putter's item, once in, stays.
local GETTER = { __close = function(g)
  if g.served and not g.received then
    table.insert(g.store.items, 1, g.item)
    g.store:settle()
  end
end }
local PUTTER = { __close = function() end }

-- put(item [, timeout]) --> true, or nil, "timed out"
function Store:put(item, timeout)
  if item == nil then error("put: item must not be nil", 2) end
  if self.priority and (type(item) ~= "table" or item[1] == nil) then
    error("put: a priority store takes {key, value} items", 2)
  end
  check_timeout("put", timeout)
  self.putq:enter() -- a pending interrupt is raised even if there is room
  if #self.items < self.capacity and #self.putq == 0 then
    self.items[#self.items + 1] = item
    self:settle()
    return true
  end
  local p <close> = setmetatable({ item = item }, PUTTER)
  if not self.putq:wait(p, timeout) then return nil, TIMED_OUT end
  p.received = true
  return true
end

-- get([filter [, timeout]]) --> item, or nil, "timed out"
function Store:get(filter, timeout)
  if filter ~= nil and type(filter) ~= "function" then
    error("get: filter must be a function (got " .. type(filter) .. ")", 2)
  end
  check_timeout("get", timeout)
  self.getq:enter() -- a pending interrupt is raised even if an item is there
  -- An item here that fits is taken even if other getters wait: their
  -- filters match none of the items (settle would have served them), so
  -- nobody is passed over (SimPy's FilterStore does the same).
  local i = self:find(filter)
  if i then
    local item = table.remove(self.items, i)
    self.stats.wait:observe(0)
    self:settle()
    return item
  end
  local g <close> = setmetatable({ filter = filter, time = des.now(), store = self }, GETTER)
  if not self.getq:wait(g, timeout) then return nil, TIMED_OUT end
  g.received = true
  return g.item
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
