-- fuelstation.lua -- SimPy's gas station refuelling: cars take fuel from a
-- station tank (a des.container); when the tank runs low a control task
-- calls a tanker, which arrives after a delay and refills it. Teaches
-- containers, blocking gets, and a monitoring task.
local des = require "des"

local CAPACITY, THRESHOLD = 400, 150 -- litres; call the tanker below this
local tank = des.container(CAPACITY, CAPACITY)
local arrivals, needs = des.rng("arrivals"), des.rng("needs")
local tanker_busy, refills, served, waited = false, 0, 0, 0

local function car(id)
  local litres = needs:integer(15, 40)
  local start = des.now()
  tank:get(litres)                 -- waits while the tank is too low
  des.sleep(litres / 20)           -- pumping at 20 litres per minute
  served = served + 1
  waited = waited + (des.now() - start - litres / 20)
  if id % 25 == 0 then
    print(string.format("t=%6.1f  car %d took %d litres", des.now(), id, litres))
  end
end

local function tanker()
  tanker_busy = true
  des.sleep(30)                    -- the tanker takes 30 minutes to come
  local amount = CAPACITY - tank.level
  tank:put(amount)
  refills = refills + 1
  print(string.format("t=%6.1f  tanker refills %.0f litres", des.now(), amount))
  tanker_busy = false
end

local control = des.spawn{name = "control", function()
  while true do
    if tank.level < THRESHOLD and not tanker_busy then
      des.spawn{name = "tanker", tanker}
    end
    des.sleep(5)                   -- checks every 5 minutes
  end
end}

local source = des.spawn{name = "cars", function()
  local id = 0
  while true do
    des.sleep(arrivals:exponential(4))
    id = id + 1
    des.spawn{name = "car " .. id, car, id}
  end
end}

des.sleep(8 * 60)
source:cancel()   -- the station closes: no more cars, no more checks
control:cancel()
local level = tank.stats.level:report()
print(string.format("after %d min: %d cars served, %d refills, mean wait %.2f min, " ..
                    "mean tank level %.1f litres", des.now(), served, refills,
                    waited / served, level.mean))
