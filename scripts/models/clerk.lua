-- clerk.lua -- customers arrive at a post office with one clerk and queue
-- up; written with sleep and spawn only (plus one event per customer to be
-- called to the desk). Arrivals and service times are fixed so the output
-- is easy to check by hand.
local des = require "des"

local queue = {}          -- waiting customers, first come first served
local clerk_idle = des.event("clerk idle") -- what an idle clerk waits on

local function customer(id, service)
  local called = des.event("called")
  local arrived = des.now()
  queue[#queue + 1] = { id = id, service = service, called = called }
  if not clerk_idle.triggered then clerk_idle:succeed() end
  local done_at = called:wait()
  print(string.format("t=%4.1f  customer %d leaves (waited %.1f)", done_at, id,
                      done_at - arrived - service))
end

local function clerk()
  while true do
    while #queue == 0 do
      clerk_idle = des.event("clerk idle")
      clerk_idle:wait()
    end
    local c = table.remove(queue, 1)
    des.sleep(c.service)
    c.called:succeed(des.now())
  end
end

des.spawn{name = "clerk", daemon = true, clerk}
local arrivals = { {0, 3}, {1, 2}, {2, 4}, {8, 1}, {8, 2} } -- {time, service}
for id, a in ipairs(arrivals) do
  des.sleep(a[1] - des.now())
  des.spawn{name = "customer " .. id, customer, id, a[2]}
end
