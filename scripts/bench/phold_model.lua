-- phold_model.lua STYLE END -- PHOLD in deshost (issue 19): 10 entities,
-- each event schedules one more at a random entity after exponential(1) +
-- 1e-5, until time END (Simian's phold-noop-noMPI: 10 nodes, END 100000
-- gives about 10^6 events). STYLE: event (des.schedule), process (a task
-- per token), timeout (des.timeout(dt):on(fn)). Prints "events N".
local des = require "des"
local style, END = arg[1] or "event", tonumber(arg[2]) or 100000
local N, LOOKAHEAD = 10, 0.00001
local random, log = math.random, math.log
local events = 0

if style == "event" then
  -- one closure per entity: a call with no extra argument allocates nothing
  local generate, schedule = {}, des.schedule
  for i = 0, N - 1 do
    generate[i] = function()
      events = events + 1
      schedule(-log(random()) + LOOKAHEAD, generate[random(0, N - 1)])
    end
  end
  for i = 0, N - 1 do schedule(0, generate[i]) end
elseif style == "timeout" then
  local generate, timeout = {}, des.timeout
  for i = 0, N - 1 do
    generate[i] = function()
      events = events + 1
      timeout(-log(random()) + LOOKAHEAD):on(generate[random(0, N - 1)])
    end
  end
  for i = 0, N - 1 do timeout(0):on(generate[i]) end
elseif style == "process" then
  -- each of the N tokens is a task; its entity is only a number
  for _ = 1, N do
    des.spawn(function()
      local sleep = des.sleep
      while true do
        events = events + 1
        local _ = random(0, N - 1) -- the target entity (no state)
        sleep(-log(random()) + LOOKAHEAD)
      end
    end)
  end
else
  error("style must be event, process or timeout")
end

des.sleep(END)
print("events " .. events)
des.stop()
