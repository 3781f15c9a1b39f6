-- spec/running_task_spec.lua -- the shortcuts of the wake, sleep and task
-- end path (issue 19 items 2 and 3) keep their meaning: the running task
-- known without a look-up (des.self, des.now, des.sleep from the task, from
-- a plain coroutine it resumes, from a nested run's tasks and scheduled
-- calls on its thread), and the thread pool that new tasks take their
-- coroutines from.
local des = require "des"
local h = require "helpers"
local err_of, contains = h.err_of, h.contains

describe("the running task", function()
  it("is the task itself, before and after every sleep", function()
    local sim, seen = des.new{}, {}
    local t
    t = sim:spawn(function()
      for i = 1, 3 do
        seen[#seen + 1] = des.self() == t
        des.sleep(i)
        seen[#seen + 1] = des.self() == t and des.now()
      end
    end)
    sim:run()
    assert.same({ true, 1, true, 3, true, 6 }, seen)
  end)

  it("is none in a plain coroutine the task resumes, whichever runs first", function()
    local sim, log = des.new{}, {}
    sim:spawn(function()
      local me = des.self()
      local co = coroutine.create(function()
        log.inner_self = des.self()
        log.inner_sleep = err_of(des.sleep, 1)
        coroutine.yield()
        log.inner_self2 = des.self()
      end)
      assert(coroutine.resume(co))
      log.outer_self = des.self() == me
      des.sleep(1)
      assert(coroutine.resume(co))
      log.outer_self2 = des.self() == me
    end)
    sim:run()
    assert.is_nil(log.inner_self)
    assert.is_nil(log.inner_self2)
    contains(log.inner_sleep, "called from a coroutine that is not a des task")
    assert.is_true(log.outer_self)
    assert.is_true(log.outer_self2)
  end)

  it("is the inner task in a nested run, and the outer one again after it", function()
    local a, b, log = des.new{}, des.new{}, {}
    local outer, inner
    outer = a:spawn(function()
      des.sleep(1)
      inner = b:spawn(function()
        log[#log + 1] = des.self() == inner
        des.sleep(5)
        log[#log + 1] = des.self() == inner and des.now()
      end)
      b:run()
      log[#log + 1] = des.self() == outer and des.now()
      des.sleep(2)
      log[#log + 1] = des.self() == outer and des.now()
    end)
    a:run()
    assert.same({ true, 5, 1, 3 }, log)
  end)

  it("is none in a call a nested run schedules on the task's thread", function()
    local a, b, log = des.new{}, des.new{}, {}
    local outer
    outer = a:spawn(function()
      b:schedule(1, function()
        log.self = des.self()
        log.sleep = err_of(des.sleep, 1)
      end)
      b:run()
      log.after = des.self() == outer
      des.sleep(1)
      log.later = des.self() == outer and des.now()
    end)
    a:run()
    assert.is_nil(log.self)
    contains(log.sleep, "not inside a task")
    assert.is_true(log.after)
    assert.equal(1, log.later)
  end)

  it("is none once the run is over, at the top level", function()
    local sim = des.new{}
    sim:spawn(function() des.sleep(1) end)
    sim:run()
    assert.is_nil(des.self())
    contains(err_of(des.sleep, 1), "not inside a task")
  end)

  it("is not a task that ended, cancelled by its own <close> or error", function()
    local sim, log = des.new{}, {}
    local t
    t = sim:spawn(function()
      des.sleep(1)
      t:cancel()
    end)
    sim:spawn(function()
      des.sleep(2)
      log.self = des.self() ~= t
      log.status = t.status
    end)
    sim:run()
    assert.is_true(log.self)
    assert.equal("cancelled", log.status)
  end)
end)

describe("the anchor table a run holds", function()
  it("serves two runs on one thread, one started by the other's scheduled call", function()
    local a, b, log = des.new{}, des.new{}, {}
    for i = 1, 5 do
      b:spawn(function() des.sleep(i); log[#log + 1] = "b" .. i end)
    end
    a:schedule(1, function() b:run() end)
    for i = 1, 3 do
      a:spawn(function() des.sleep(2 * i); log[#log + 1] = "a" .. i end)
    end
    a:run()
    assert.same({ "b1", "b2", "b3", "b4", "b5", "a1", "a2", "a3" }, log)
    collectgarbage()
    local t = b:spawn(function() return "again" end)
    b:run()
    assert.same({ "again" }, { t:join() })
  end)

  it("is not trusted once the debug library replaced it", function()
    local sim, done, replaced = des.new{}, 0, false
    sim:schedule(0, function()
      for level = 2, 50 do
        local info = debug.getinfo(level, "S")
        if not info then break end
        if info.what == "C" then
          for n = 1, 8 do
            local name, v = debug.getlocal(level, n)
            if not name then break end
            if type(v) == "table" then
              for _, x in pairs(v) do
                if getmetatable(x) == "des.task" then
                  debug.setlocal(level, n, { "not the anchors" })
                  replaced = true
                  break
                end
              end
            end
          end
        end
      end
    end)
    local tasks = {}
    for i = 1, 20 do
      tasks[i] = sim:spawn(function()
        des.sleep(i % 3)
        collectgarbage()
        done = done + 1 -- (no results: the common end)
      end)
    end
    sim:run()
    assert.is_true(replaced)
    assert.equal(20, done)
    for i = 1, 20 do assert.equal("done", tasks[i].status) end
    local t = sim:spawn(function() end)
    sim:run()
    assert.equal("done", t.status)
  end)
end)

describe("a task that ended the common way", function()
  it("keeps its meaning while its thread serves other tasks", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local first = {}
    for i = 1, 5 do first[i] = sim:spawn(function() des.sleep(i) end) end
    sim:run()
    -- the same threads, taken again: one fails, one is seen by Lua, one
    -- is cancelled while it sleeps, one ends the common way again
    local failed = sim:spawn(function() des.sleep(1); error("boom") end)
    local seen = sim:spawn(function() local co = coroutine.running(); des.sleep(1); return co end)
    local cancelled = sim:spawn(function() des.sleep(10) end)
    local again = sim:spawn(function() des.sleep(1) end)
    sim:spawn(function() des.sleep(2); cancelled:cancel() end)
    sim:run()
    collectgarbage()
    for i = 1, 5 do
      assert.equal("done", first[i].status)
      assert.is_nil(first[i]:traceback())
      assert.same({}, { first[i]:join() })
      contains(tostring(first[i]), "done")
    end
    assert.equal("failed", failed.status)
    contains(failed:traceback(), "boom")
    assert.equal("dead", coroutine.status(seen:join()))
    assert.equal("cancelled", cancelled.status)
    assert.equal("done", again.status)
    local n = 0
    for _ = 1, 100 do sim:spawn(function() n = n + 1 end) end
    sim:run()
    assert.equal(100, n)
  end)
end)
