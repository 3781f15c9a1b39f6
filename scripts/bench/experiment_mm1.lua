-- scripts/bench/experiment_mm1.lua -- M/M/1 with `customers` customers
-- (arrival rate 0.9, service rate 1): the model of scripts/bench/experiment.
local des = require "des"
local customers = des.param("customers", 10000)
local arrivals, service = des.rng("arrivals"), des.rng("service")
local server = des.resource(1)
local waited, served = 0, 0
local done = des.event()

local function customer()
  local t0 = des.now()
  local req <close> = server:acquire() -- luacheck: no unused
  waited = waited + (des.now() - t0)
  des.sleep(service:exponential(1.0))
  served = served + 1
  if served == customers then done:succeed() end
end

for _ = 1, customers do
  des.sleep(arrivals:exponential(1 / 0.9))
  des.spawn(customer)
end
done:wait()
return { wait = waited / served, served = served }
