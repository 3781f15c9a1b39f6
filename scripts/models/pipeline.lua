-- pipeline.lua -- a producer and two consumers joined by a bounded store:
-- the producer blocks when the buffer is full, consumers when it is empty.
-- Teaches des.store and its automatic level statistics.
local des = require "des"

local buffer = des.store(3)
local make, use = des.rng("make"), des.rng("use")
local consumed = { 0, 0 }

local producer = des.spawn{name = "producer", function()
  for item = 1, 40 do
    des.sleep(make:exponential(1))
    buffer:put(item)              -- waits while 3 items are waiting
  end
  for _ = 1, 2 do buffer:put(false) end -- one stop marker per consumer
end}

for c = 1, 2 do
  des.spawn{name = "consumer " .. c, function()
    while true do
      local item = buffer:get()   -- waits while the buffer is empty
      if not item then return end
      des.sleep(use:uniform(1, 3))
      consumed[c] = consumed[c] + 1
    end
  end}
end

producer:join()
local level, wait = buffer.stats.level:report(), buffer.stats.wait:report()
print(string.format("producer done at t=%.2f", des.now()))
print(string.format("buffer: mean %.3f items, max %d", level.mean, level.max))
print(string.format("consumers waited %.3f on average over %d gets", wait.mean, wait.count))
des.sleep(10)
print(string.format("consumed: %d and %d", consumed[1], consumed[2]))
