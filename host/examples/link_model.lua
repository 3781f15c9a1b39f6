-- link_model.lua -- senders for the C link of link.c: each sends packets
-- of random sizes at random times and records how long each took to
-- arrive. The link itself is C: des.component "link".
local des = require "des"

local SEND = 1
local link = des.component "link"
-- luacheck: globals latency
latency = des.monitor "latency"   -- a global: the C program reads it

local function sender(id)
  local r = des.rng(id)
  while true do
    des.sleep(r:exponential(0.001))            -- 1 ms between packets, on average
    local size = r:integer(64, 1500)           -- bytes
    local ticks = link:call(SEND, size)        -- waits until it arrives
    latency:observe(ticks / 1e9)               -- in seconds
  end
end

for id = 1, 8 do
  des.spawn { name = "sender " .. id, sender, id }
end
