-- pingpong.lua -- two tasks hit a ball back and forth. Each player waits on
-- its own inbox event; events are one-shot, so a player makes itself a fresh
-- inbox each time it receives the ball. A hit takes 0.5 units.
local des = require "des"

local inbox = { ping = des.event("ping's inbox"), pong = des.event("pong's inbox") }

local function player(me, other, hits)
  for _ = 1, hits do
    local ball = inbox[me]:wait()
    inbox[me] = des.event(me .. "'s inbox")
    print(string.format("t=%.1f  %s hits the ball (hit #%d)", des.now(), me, ball))
    des.sleep(0.5)
    inbox[other]:succeed(ball + 1)
  end
end

local ping = des.spawn{name = "ping", player, "ping", "pong", 3}
local pong = des.spawn{name = "pong", player, "pong", "ping", 3}
inbox.ping:succeed(1) -- serve
ping:join()
pong:join()
print(string.format("rally over at t=%.1f", des.now()))
