-- M/M/c queue: customers arrive at rate `lambda`, `servers` servers serve
-- at rate `mu` each; returns the mean wait and the number served.
local des = require "des"
local servers = des.param("servers", 1)
local lambda = des.param("lambda", 0.9)
local mu = des.param("mu", 1.0)
local customers = des.param("customers", 1000)

local rng = des.rng("arrivals")
local srv = des.rng("service")
local counter = des.resource(servers)
local waits, total, served = {}, 0, 0

local function customer()
  local arrive = des.now()
  local req <close> = counter:acquire() -- luacheck: no unused
  local w = des.now() - arrive
  total = total + w
  served = served + 1
  waits[#waits + 1] = w
  des.sleep(srv:exponential(1 / mu))
end

for _ = 1, customers do
  des.sleep(rng:exponential(1 / lambda))
  des.spawn(customer)
end
while served < customers do des.sleep(1) end
return { wait = { mean = total / served }, served = served,
         note = "M/M/" .. servers }
