-- mm2_model.lua -- M/M/2 benchmark on deshost: 200,000 customers, arrival
-- rate 1.8, service rate 1.0, two servers as des.resource(2) (with its
-- automatic statistics on). Prints customers/s and the mean wait.
local des = require "des"

local N, LAMBDA, MU = tonumber(arg and arg[1]) or 200000, 1.8, 1.0
local x = 88172645463325252
local function uniform()
  x = x ~ (x << 13)
  x = x ~ (x >> 7)
  x = x ~ (x << 17)
  return ((x >> 11) + 0.5) * (1.0 / 9007199254740992)
end
local log = math.log

local t0 = os.clock()
local sim = des.new{}
local servers
local total_wait, done = 0, 0

local function customer()
  local arrived = des.now()
  local _req <close> = servers:acquire()
  total_wait = total_wait + (des.now() - arrived)
  des.sleep(-log(uniform()) / MU)
  done = done + 1
end

sim:spawn(function()
  servers = des.resource(2)
  for _ = 1, N do
    des.spawn(customer)
    des.sleep(-log(uniform()) / LAMBDA)
  end
end)
sim:run()
local dt = os.clock() - t0
print(string.format("customers_per_s %.0f mean_wait %.4f", N / dt, total_wait / done))
