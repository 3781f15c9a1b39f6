-- reneging.lua -- a bank with one teller and impatient customers: each
-- waits for whichever comes first, being called to the teller or running
-- out of patience (des.any over an event and a timeout), and reneges in the
-- second case. Teaches any{}, timeouts, and leaving a queue cleanly.
local des = require "des"

local queue = {}         -- customers waiting, first come first served
local wakeup = des.event("teller wakeup")
local served, reneged = 0, 0

local function customer(id, patience, service)
  local called = des.event("called")
  local me = { id = id, called = called, service = service }
  queue[#queue + 1] = me
  if not wakeup.triggered then wakeup:succeed() end
  local arrived = des.now()
  local first = des.any{called, des.timeout(patience)}:wait()
  if first == called then
    served = served + 1
    print(string.format("t=%5.1f  customer %d served after waiting %.1f", des.now(), id,
                        des.now() - arrived - service))
  else
    me.gone = true        -- the teller skips customers who left
    reneged = reneged + 1
    print(string.format("t=%5.1f  customer %d reneges after %.1f", des.now(), id, patience))
  end
end

local function teller()
  while true do
    while #queue == 0 do
      wakeup = des.event("teller wakeup")
      wakeup:wait()
    end
    local c = table.remove(queue, 1)
    if not c.gone then
      des.sleep(c.service)
      c.called:succeed()
    end
  end
end

des.spawn{name = "teller", daemon = true, teller}
-- {arrival time, patience, service time}
local arrivals = { {0, 5, 4}, {1, 2, 3}, {2, 6, 2}, {3, 1, 2}, {7, 9, 3}, {8, 1.5, 1} }
for id, a in ipairs(arrivals) do
  des.sleep(a[1] - des.now())
  des.spawn{name = "customer " .. id, customer, id, a[2], a[3]}
end
des.sleep(30)
print(string.format("served %d, reneged %d", served, reneged))
