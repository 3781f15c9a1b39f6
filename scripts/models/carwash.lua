-- carwash.lua -- SimPy's car wash: a wash with 2 machines, cars arriving
-- every 5 minutes on average and each wash taking 4 to 6 minutes. Teaches
-- des.resource with `<close>`, random streams, and the statistics every
-- resource keeps by itself.
local des = require "des"

local machines = des.resource(2, { name = "wash" })
local arrivals, service = des.rng("arrivals"), des.rng("service")
local washed = 0

local function car(id)
  local _req <close> = machines:acquire()
  des.sleep(service:uniform(4, 6))
  washed = washed + 1
  if id <= 5 then print(string.format("t=%6.2f  car %d leaves", des.now(), id)) end
end

local gate = des.spawn{name = "arrivals", function()
  local id = 0
  while true do
    des.sleep(arrivals:exponential(5))
    id = id + 1
    des.spawn{name = "car " .. id, car, id}
  end
end}

des.sleep(8 * 60) -- one working day of 8 hours, in minutes: then close the gate
gate:cancel()
local busy, queue, wait = machines.stats.busy:report(), machines.stats.queue:report(),
                          machines.stats.wait:report()
print(string.format("after %d minutes: %d cars washed", des.now(), washed))
print(string.format("machines busy on average %.3f of 2, queue length %.3f (max %d)",
                    busy.mean, queue.mean, queue.max))
print(string.format("waiting time: %d cars, mean %.3f min, max %.3f min",
                    wait.count, wait.mean, wait.max))
