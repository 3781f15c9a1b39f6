-- udp_model.lua -- the model of host/examples/udp_inbox.c: a controller that
-- reacts to sensor readings arriving as UDP datagrams ("seq value"), posted by
-- the host's receiving thread into the inbox "udp". It checks that every
-- reading arrives once, in order, at non-decreasing simulated times, keeps a
-- smoothed value, and prints a summary when "end" (kind 1) comes.
local des = require "des"

local inbox = des.inbox("udp")
local count, expected, smooth, last_time, ok = 0, 1, 0, 0, true
local first_time

while true do
  local msg = inbox:get()
  if msg.kind == 1 then break end
  local seq, value = msg.data:match("^(%d+) (%d+)$")
  seq, value = tonumber(seq), tonumber(value)
  if seq ~= expected or msg.time < last_time then
    ok = false
    print(("out of order: got %s at %g, expected %d after %g"):format(
      tostring(seq), msg.time, expected, last_time))
  end
  first_time = first_time or msg.time
  expected, last_time, count = expected + 1, msg.time, count + 1
  smooth = smooth + 0.1 * (value - smooth) -- the controller's state
end

print(("received %d readings, in order: %s"):format(count, tostring(ok)))
print(("simulated times: first %.3f, last %.3f, end %.3f"):format(
  first_time or -1, last_time, des.now()))
print(("smoothed value: %.2f"):format(smooth))
des.default():stop()
