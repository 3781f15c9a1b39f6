-- spec/waiting_on_spec.lua -- task.waiting_on is the object a task waits
-- on, and the deadlock report names it (issue 15 item 10).
local des = require "des"
local h = require "helpers"
local run = require "run_deshost"

describe("task.waiting_on", function()
  it("is the event, the task joined, the resource, the store or the container", function()
    local sim = des.new{}
    local seen = {}
    sim:spawn(function()
      local ev, res = des.event("go"), des.resource(1, { name = "clerk" })
      local st, c = des.store(), des.container(5)
      local held = res:acquire()
      local tasks = {
        ev = des.spawn(function() ev:wait() end),
        res = des.spawn(function() res:acquire() end),
        st = des.spawn(function() st:get() end),
        c = des.spawn(function() c:get(1) end),
        sleeper = des.spawn(function() des.sleep(10) end),
      }
      tasks.join = des.spawn(function() tasks.ev:join() end)
      local any = des.any{ ev, des.timeout(20) }
      tasks.any = des.spawn(function() any:wait() end)
      des.sleep(1)
      seen.ev = tasks.ev.waiting_on == ev
      seen.join = tasks.join.waiting_on == tasks.ev
      seen.res = tasks.res.waiting_on == res
      seen.st = tasks.st.waiting_on == st
      seen.c = tasks.c.waiting_on == c
      seen.any = tasks.any.waiting_on == any
      seen.sleeper = tasks.sleeper.waiting_on == nil and tasks.sleeper.waiting_kind == "sleep"
      seen.kinds = tasks.res.waiting_kind .. "," .. tasks.st.waiting_kind .. ","
                   .. tasks.join.waiting_kind
      ev:succeed()
      held:release()
      st:put(1)
      c:put(1)
      des.sleep(0)
      seen.after = tasks.ev.waiting_on == nil
    end)
    sim:run()
    assert.same({ ev = true, join = true, res = true, st = true, c = true, any = true,
                  sleeper = true, kinds = "acquire,store get,join", after = true }, seen)
  end)

  it("names the objects in the CLI's deadlock report", function()
    if not run.available then return end
    local _, _, err = run([[
local des = require "des"
local clerk = des.resource(1, { name = "clerk" })
local ready = des.event("a-ready")
local held = clerk:acquire()
local parent = des.spawn{ name = "parent", function() ready:wait() end }
des.spawn{ name = "child", function() parent:join() end }
des.spawn{ name = "customer", function() clerk:acquire() end }
local st = des.store()
st.name = "shelf"
des.spawn{ name = "picker", function() st:get() end }
des.sleep(1)
local _ = held
]])
    h.contains(err, "deadlock",
               "task 'parent' (#2): waiting on event 'a-ready' since t=0.0",
               "task 'child' (#3): joining task 'parent' (#2) since t=0.0",
               "task 'customer' (#4): queued at resource 'clerk' since t=0.0",
               "task 'picker' (#5): queued for store get at 'shelf' since t=0.0")
  end)
end)
