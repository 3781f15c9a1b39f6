-- des.inbox -- a store fed from outside the simulation (real-time input).
--
--   local inbox = des.inbox("sensors")   -- the same store for the same name
--   local msg = inbox:get()              -- waits; msg = {kind=, data=, time=, seq=}
--   local msg, err = inbox:get(nil, 5)   -- nil, "timed out" after 5
--   inbox:post(kind, data)               -- the model (or a test) posts itself
--
-- An embedder posts with des_post(h, des_inbox(h, "sensors"), kind, data,
-- len) from any thread; the host hands each post to the simulation through
-- the scheduler, at an explicit time (the current time, or in a paced run
-- the simulated time matching its wall arrival), and the post's event puts
-- it here. A post may come before the model asks for its inbox: the inbox
-- is then created by the first post and keeps the items for the model.
-- An inbox is an unbounded des.store (get with filter and timeout, the
-- statistics) plus `name`, `received` and `post`.
local des = require "des"
local store = require "des.store"

local Inbox = {}
local boxes = {} -- name -> inbox (one per Lua state)

-- The inbox named name, created on first use.
local function inbox(name)
  if type(name) ~= "string" or name == "" then
    error("inbox: name must be a non-empty string (got " .. tostring(name) .. ")", 3)
  end
  local box = boxes[name]
  if box == nil then
    box = store.new()
    if Inbox.__index == nil then -- inherit the store's methods and metamethods
      for k, v in pairs(getmetatable(box)) do Inbox[k] = v end
      Inbox.__index = Inbox
      Inbox.__tostring = function(self)
        return string.format("des.inbox '%s': %d items, %d received, %d getters waiting",
                             self.name, #self.items, self.received, #self.getq)
      end
    end
    box.name, box.received = name, 0
    boxes[name] = setmetatable(box, Inbox)
  end
  return box
end

-- Put post number seq (kind, data) into the inbox, at the current time.
-- Never waits (the store is unbounded): a getter is woken through the
-- scheduler, never resumed here.
local function deliver(box, kind, data)
  box.received = box.received + 1
  box:put({ kind = kind, data = data, time = des.now(), seq = box.received })
end

-- inbox:post(kind [, data]): post from inside the simulation (a task, a test).
function Inbox:post(kind, data)
  if math.type(kind) ~= "integer" or kind < 0 then
    error("post: kind must be an integer >= 0 (got " .. tostring(kind) .. ")", 2)
  end
  if data ~= nil and type(data) ~= "string" then
    error("post: data must be a string or nil (got " .. type(data) .. ")", 2)
  end
  deliver(self, kind, data)
end

return setmetatable({
  new = function(name) return inbox(name) end,
  -- the host's entry (hpost.c): deliver(name, kind, data)
  deliver = function(name, kind, data) deliver(inbox(name), kind, data) end,
}, { __call = function(_, name) return inbox(name) end })
