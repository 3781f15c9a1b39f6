-- network.lua -- an event-style model: a ring of 4 routers passing packets,
-- written with des.schedule and no task per packet or per router (as
-- ns-3 or OMNeT++ models are). Each router sends its packets one at a time
-- over its link to the next router (transmission 0.2 + queueing); a packet
-- travels 3 hops, then is delivered. A link failure at t=5 is repaired at
-- t=7: packets that were being sent on it are cancelled and sent again.
local des = require "des"

local N, HOPS, TX = 4, 3, 0.2
local rng = des.rng("traffic")
local routers, delivered, hops = {}, {}, 0

for i = 1, N do
  routers[i] = { id = i, queue = {}, head = 1, tail = 0, sending = nil, up = true }
end

local send -- forward declaration: start sending a router's next packet

-- A packet arrives at router r: deliver it, or queue it for the next hop.
local function arrive(r, pkt)
  pkt.hops = pkt.hops + 1
  hops = hops + 1
  if pkt.hops > HOPS then
    delivered[#delivered + 1] = pkt
    print(string.format("t=%.2f  packet %s delivered at router %d (sent at %.2f)",
      des.now(), pkt.name, r.id, pkt.born))
    return
  end
  r.tail = r.tail + 1
  r.queue[r.tail] = pkt
  if not r.sending and r.up then send(r) end
end

-- The packet at the head of r's queue has crossed the link.
local function sent(r)
  local pkt = r.queue[r.head]
  r.queue[r.head] = nil
  r.head = r.head + 1
  r.sending = nil
  arrive(routers[r.id % N + 1], pkt)
  if r.queue[r.head] then send(r) end
end

function send(r)
  r.sending = des.schedule(TX, sent, r)
end

-- Link failures: the router stops sending; what was on the wire is lost
-- and sent again once the link is back.
des.at(5, function()
  local r = routers[2]
  r.up = false
  if r.sending then
    print(string.format("t=%.2f  link 2->3 down, packet %s cancelled (due at %.2f)",
      des.now(), r.queue[r.head].name, r.sending.time))
    r.sending:cancel()
    r.sending = nil
  end
end)
des.at(7, function()
  local r = routers[2]
  r.up = true
  print(string.format("t=%.2f  link 2->3 up, %d packet(s) waiting",
    des.now(), r.tail - r.head + 1))
  if r.queue[r.head] then send(r) end
end)

-- Sources: each router injects 3 packets at random times.
for i = 1, N do
  for k = 1, 3 do
    local t = rng:uniform(0, 8)
    des.at(t, arrive, routers[i], { name = i .. "." .. k, born = t, hops = -1 })
  end
end

des.sleep(100)
print(string.format("%d packets delivered after %d arrivals, at t=%.2f",
  #delivered, hops, des.now()))
