-- bank.lua -- a bank with two tellers and a coffee machine: customers come
-- in a Poisson stream that is busier around midday, queue for a teller
-- (des.resource), and some take a coffee from a machine that is refilled
-- when low (des.container). Teaches statistics a report can draw: a
-- resource's busy and queue levels, a waiting-time monitor with quantiles
-- and a histogram, and a level of our own.
--   deshost --report bank.html scripts/models/bank.lua
local des = require "des"

local DAY = 8 * 60 -- minutes the bank is open
local tellers = des.resource(2, { name = "tellers" })
local coffee = des.container(40, 40) -- cups in the machine
local waits = des.monitor("waiting time", { quantiles = { 0.5, 0.9, 0.99 },
                                            histogram = { 0, 5, 10, 20, 30, 45, 60, 90 } })
local inside = des.monitor.level("customers inside")
local arrivals, service, choice = des.rng("arrivals"), des.rng("service"), des.rng("choice")

local function customer()
  inside:add(1)
  local start = des.now()
  do
    local _req <close> = tellers:acquire()
    waits:observe(des.now() - start)
    des.sleep(service:exponential(4)) -- four minutes on average
  end
  if choice:bernoulli(0.3) and coffee.level >= 1 then
    coffee:get(1)
    des.sleep(2)
  end
  inside:add(-1)
end

-- The machine is refilled when it is low.
des.spawn(function()
  while des.now() < DAY do
    des.sleep(15)
    if coffee.level < 10 then coffee:put(40 - coffee.level) end
  end
end)

-- Arrivals: a customer every 2.6 minutes, every 1.7 around midday.
while des.now() < DAY do
  local busy = des.now() > 150 and des.now() < 300
  des.sleep(arrivals:exponential(busy and 1.7 or 2.6))
  des.spawn(customer)
end
des.sleep(60) -- let the last customers leave
local r = waits:report()
print(string.format("%d customers, mean wait %.2f min, 90%% waited under %.1f min",
                    r.count, r.mean, r.quantiles[0.9]))
print(string.format("tellers busy %.1f%% of the time, longest queue %d",
                    100 * tellers.stats.busy:report().mean / 2, tellers.stats.queue:report().max))
