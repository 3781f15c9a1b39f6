-- mm2_purelua.lua -- the same M/M/2 model on the pure-Lua baseline
-- (purelua_des.lua) with a plain FIFO resource written by hand: no
-- statistics, no checks.
local des = require "purelua_des"

local N, LAMBDA, MU = 200000, 1.8, 1.0
local x = 88172645463325252
local function uniform()
  x = x ~ (x << 13)
  x = x ~ (x >> 7)
  x = x ~ (x << 17)
  return ((x >> 11) + 0.5) * (1.0 / 9007199254740992)
end
local log = math.log

-- a FIFO resource: free servers, or a queue of waiting coroutines
local free, queue, qhead, qtail = 2, {}, 1, 0
local function acquire()
  if free > 0 and qhead > qtail then
    free = free - 1
    return
  end
  qtail = qtail + 1
  queue[qtail] = coroutine.running()
  coroutine.yield()
end
local function release(sim)
  if qhead <= qtail then
    local co = queue[qhead]
    queue[qhead] = nil
    qhead = qhead + 1
    sim:wake(co)  -- the server passes straight to the next customer
  else
    free = free + 1
  end
end

local t0 = os.clock()
local sim = des.new()
local total_wait, done = 0, 0

local function customer()
  local arrived = des.now()
  acquire()
  total_wait = total_wait + (des.now() - arrived)
  des.sleep(-log(uniform()) / MU)
  done = done + 1
  release(sim)
end

sim:spawn(function()
  for _ = 1, N do
    sim:spawn(customer)
    des.sleep(-log(uniform()) / LAMBDA)
  end
end)
sim:run()
local dt = os.clock() - t0
print(string.format("customers_per_s %.0f mean_wait %.4f", N / dt, total_wait / done))
