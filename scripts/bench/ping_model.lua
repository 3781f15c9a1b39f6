-- ping_model.lua -- the "ping" benchmark model: 1000 tasks each looping
-- sleep(d), d exponential of mean 1 from a fixed-seed xorshift generator,
-- 10^6 wakeups in all. Runs on deshost (`require "des"`) or, given the
-- environment variable PING_DES=purelua_des (or purelua_tuned), on a pure-Lua
-- baseline. Prints "wakeups_per_s <n>" measured around the run only.
local impl = os.getenv("PING_DES") or "des"
local des = require(impl)

local NTASKS, TOTAL = 1000, 1000000
local per = TOTAL // NTASKS
local x = 88172645463325252

-- xorshift64: a uniform in (0, 1); identical in every variant
local function uniform()
  x = x ~ (x << 13)
  x = x ~ (x >> 7)
  x = x ~ (x << 17)
  return ((x >> 11) + 0.5) * (1.0 / 9007199254740992)
end

local sleep, log = des.sleep, math.log
local function worker()
  for _ = 1, per do sleep(-log(uniform())) end
end

local t0 = os.clock()
local sim = des.new{}
for _ = 1, NTASKS do sim:spawn(worker) end
sim:run()
print(string.format("wakeups_per_s %.0f", TOTAL / (os.clock() - t0)))
