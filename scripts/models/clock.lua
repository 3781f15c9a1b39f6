-- scripts/models/clock.lua -- a client that ticks every 100 ms of simulated
-- time for 10 s. Time is in seconds here (1 unit = 1 s).
local des = require "des"

local function client(period, duration)
  local ticks = 0
  while des.now() + period <= duration do
    des.sleep(period)              -- suspend this task for `period` time units
    ticks = ticks + 1
    if ticks % 20 == 0 then
      print(string.format("t=%5.2f s  tick %d", des.now(), ticks))
    end
  end
  return ticks
end

local c = des.spawn{name = "client", client, 0.1, 10}   -- a named task
print(string.format("client ticked %d times, ending at t=%.2f s", c:join(), des.now()))
