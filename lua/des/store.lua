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
-- A waiter that leaves (cancelled, interrupted, timed out) is removed at
-- once, and an item handed to a getter that left goes back to the front,
-- so nothing is lost. Statistics: st.stats.level (time-weighted number of
-- items) and st.stats.wait (tally of getters' waiting times).
local des = require "des"
local monitor = require "des.monitor"
local waitlist = require "des.waitlist"

local Store = {}
Store.__index = Store

local TIMED_OUT = waitlist.TIMED_OUT
local remove, check_timeout = waitlist.remove, waitlist.check_timeout

local function new(capacity, opts)
  if capacity ~= nil and (math.type(capacity) ~= "integer" or capacity < 1) then
    error("store: capacity must be an integer >= 1 or nil (got " .. tostring(capacity) .. ")", 2)
  end
  opts = opts or {}
  return setmetatable({ capacity = capacity or math.huge, items = {},
                        getters = {}, putters = {}, priority = opts.priority or false,
                        stats = { level = monitor.level("items", 0, { time_at = true }),
                                  wait = monitor.tally("get waiting time") } }, Store)
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
-- nothing more can move.
function Store:settle()
  local moved = true
  while moved do
    moved = false
    for gi = 1, #self.getters do
      local g = self.getters[gi]
      local i = self:find(g.filter)
      if i then
        table.remove(self.getters, gi)
        g.item, g.served = table.remove(self.items, i), true
        self.stats.wait:observe(des.now() - g.time)
        g.event:succeed()
        moved = true
        break
      end
    end
    if #self.putters > 0 and #self.items < self.capacity then
      local p = table.remove(self.putters, 1)
      self.items[#self.items + 1] = p.item
      p.served = true
      p.event:succeed()
      moved = true
    end
  end
  self.stats.level:set(#self.items)
end

-- Wait on w.event (with an optional timeout); the guard undoes what the
-- waiter did not receive. Returns true when served.
local function wait_for(w, list, timeout, undo)
  local _guard <close> = setmetatable({}, { __close = function()
    if w.received then return end
    if w.served then undo() else remove(list, w) end
  end })
  if timeout then
    if des.any{ w.event, des.timeout(timeout) }:wait() ~= w.event then return false end
  else
    w.event:wait()
  end
  w.received = true
  return true
end

-- put(item [, timeout]) --> true, or nil, "timed out"
function Store:put(item, timeout)
  if item == nil then error("put: item must not be nil", 2) end
  if self.priority and (type(item) ~= "table" or item[1] == nil) then
    error("put: a priority store takes {key, value} items", 2)
  end
  check_timeout("put", timeout)
  if #self.items < self.capacity and #self.putters == 0 then
    self.items[#self.items + 1] = item
    self:settle()
    return true
  end
  local w = { item = item, event = des.event("put"), time = des.now() }
  self.putters[#self.putters + 1] = w
  local ok = wait_for(w, self.putters, timeout, function()
    -- the item went in but the task left: it stays in the store
  end)
  if not ok then return nil, TIMED_OUT end
  return true
end

-- get([filter [, timeout]]) --> item, or nil, "timed out"
function Store:get(filter, timeout)
  if filter ~= nil and type(filter) ~= "function" then
    error("get: filter must be a function (got " .. type(filter) .. ")", 2)
  end
  check_timeout("get", timeout)
  local i = #self.getters == 0 and self:find(filter)
  if i then
    local item = table.remove(self.items, i)
    self.stats.wait:observe(0)
    self:settle()
    return item
  end
  local w = { filter = filter, event = des.event("get"), time = des.now() }
  self.getters[#self.getters + 1] = w
  local ok = wait_for(w, self.getters, timeout, function()
    table.insert(self.items, 1, w.item) -- give it back, at the front
    self:settle()
  end)
  if not ok then return nil, TIMED_OUT end
  return w.item
end

function Store:__len()
  return #self.items
end

function Store:__tostring()
  return string.format("des.store: %d items, %d getters and %d putters waiting",
                       #self.items, #self.getters, #self.putters)
end

return setmetatable({ new = new, TIMED_OUT = TIMED_OUT },
                    { __call = function(_, ...) return new(...) end })
