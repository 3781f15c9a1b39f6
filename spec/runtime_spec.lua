-- spec/runtime_spec.lua -- the task runtime and the `des` module (issue 4):
-- simulations, spawn, sleep, now, self, join, cancel, status and name,
-- run/step/peek/until, time conversion, FIFO ties and bad input.
--
-- Every test builds its own simulation (des.new) unless it is about the
-- default simulation, so that tests stay independent.
local des = require "des"

local h = require "helpers"
local err_of, contains, run_task, closer = h.err_of, h.contains, h.run_task, h.closer

-- A failed task's message and traceback: task.traceback, a string, or
-- task:traceback(), a method (the spelling is still settling).
local function traceback_of(t)
  local tb = t.traceback
  if type(tb) == "function" then tb = t:traceback() end
  return tb
end

-- Drain the default simulation (shared by every spec in this Lua state).
local function drain_default()
  des.default():run()
end

describe("des.new", function()
  it("makes an empty simulation at time 0 with the default settings", function()
    local sim = des.new{}
    assert.equal(0, sim.seed)
    assert.equal(1000000000, sim.resolution)
    assert.equal(0, sim:now())
    assert.is_nil(sim:peek())
    assert.equal(0, sim:pending())
    assert.is_false(sim:step())
    assert.same({}, sim:tasks())
  end)

  it("accepts no argument at all", function()
    local sim = des.new()
    assert.equal(1000000000, sim.resolution)
  end)

  it("keeps the seed and the resolution asked for", function()
    local sim = des.new{seed = 7, resolution = 1000}
    assert.equal(7, sim.seed)
    assert.equal(1000, sim.resolution)
  end)

  it("refuses a seed that is not an integer", function()
    contains(err_of(des.new, {seed = 1.5}), "seed")
    contains(err_of(des.new, {seed = "7"}), "seed")
  end)

  it("refuses a resolution that is not an integer >= 1", function()
    contains(err_of(des.new, {resolution = 0}), "resolution")
    contains(err_of(des.new, {resolution = -5}), "resolution")
    contains(err_of(des.new, {resolution = 2.5}), "resolution")
    contains(err_of(des.new, {resolution = "x"}), "resolution")
  end)

  it("refuses options that are not a table", function()
    assert.has_error(function() des.new(5) end)
  end)
end)

describe("several simulations in one Lua state", function()
  it("do not see each other's tasks, clocks or queues", function()
    local a, b = des.new{}, des.new{}
    local ran = {}
    local ta = a:spawn(function() des.sleep(5); ran.a = des.now() end)
    local tb = b:spawn(function() des.sleep(2); ran.b = des.now() end)
    assert.same({ ta }, a:tasks())
    assert.same({ tb }, b:tasks())
    assert.equal(1, a:pending())
    assert.equal(1, b:pending())
    a:run()
    assert.equal(5, ran.a)
    assert.is_nil(ran.b)
    assert.equal(5, a:now())
    assert.equal(0, b:now())
    assert.equal("ready", tb.status)
    b:run()
    assert.equal(2, ran.b)
    assert.equal(2, b:now())
    assert.equal(5, a:now())
  end)

  it("module functions inside a task act on that task's simulation", function()
    local a, b = des.new{}, des.new{}
    local seen = {}
    b:spawn(function() des.sleep(10) end)
    b:run() -- b is at 10, a at 0
    b:spawn(function()
      seen.now = des.now()
      seen.child = des.spawn(function() seen.child_now = des.now() end)
      seen.self_in_b = des.self()
    end)
    b:run()
    assert.equal(10, seen.now)
    assert.equal(10, seen.child_now)
    assert.equal("done", seen.child.status)
    assert.equal(0, a:now())
    assert.equal(0, a:pending())
    a:spawn(function() seen.a_now = des.now() end)
    a:run()
    assert.equal(0, seen.a_now)
  end)

  it("a task may run another simulation (not its own) to completion", function()
    local outer, inner = des.new{}, des.new{}
    local log = {}
    inner:spawn(function()
      des.sleep(100)
      log[#log + 1] = "inner at " .. des.now()
    end)
    outer:spawn(function()
      des.sleep(1)
      inner:run()
      log[#log + 1] = "outer at " .. des.now()
      des.sleep(1)
      log[#log + 1] = "outer at " .. des.now()
    end)
    outer:run()
    assert.same({ "inner at 100.0", "outer at 1.0", "outer at 2.0" }, log)
    assert.equal(100, inner:now())
    assert.equal(2, outer:now())
  end)

  it("numbers task ids from 1 in each simulation", function()
    local a, b = des.new{}, des.new{}
    local f = function() end
    assert.equal(1, a:spawn(f).id)
    assert.equal(2, a:spawn(f).id)
    assert.equal(1, b:spawn(f).id)
    assert.equal(3, a:spawn(f).id)
  end)
end)

describe("spawn", function()
  it("returns a ready task and does not run it before the simulation runs", function()
    local sim = des.new{}
    local ran = false
    local t = sim:spawn(function() ran = true end)
    assert.equal("ready", t.status)
    assert.is_false(ran)
    assert.equal(1, sim:pending())
    sim:run()
    assert.is_true(ran)
    assert.equal("done", t.status)
  end)

  it("passes the arguments, nils included", function()
    local got
    run_task(function(...) got = table.pack(...) end, 1, nil, "x", nil)
    assert.equal(4, got.n)
    assert.equal(1, got[1])
    assert.is_nil(got[2])
    assert.equal("x", got[3])
  end)

  it("takes {name=, daemon=, fn, args...}", function()
    local sim = des.new{}
    local got
    local t = sim:spawn{name = "worker", daemon = true, function(a, b) got = a + b end, 2, 3}
    assert.equal("worker", t.name)
    assert.is_true(t.daemon)
    sim:run(1) -- a run without `until` would end at once: only a daemon is left
    assert.equal(5, got)
    local plain = sim:spawn(function() end)
    assert.is_nil(plain.name)
    assert.is_false(plain.daemon)
  end)

  it("never runs the new task inline", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      log[#log + 1] = "A0"
      local c = des.spawn(function() log[#log + 1] = "C" end)
      log[#log + 1] = "A1:" .. c.status
      des.sleep(0)
      log[#log + 1] = "A2"
    end)
    sim:spawn(function() log[#log + 1] = "B" end)
    sim:run()
    assert.same({ "A0", "A1:ready", "B", "C", "A2" }, log)
  end)

  it("starts the new task after everything already due at that time", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      des.sleep(1)
      log[#log + 1] = "X"
      des.spawn(function() log[#log + 1] = "Z at " .. des.now() end)
    end)
    sim:spawn(function() des.sleep(1); log[#log + 1] = "Y" end)
    sim:spawn(function() des.sleep(1); log[#log + 1] = "W" end)
    sim:run()
    assert.same({ "X", "Y", "W", "Z at 1.0" }, log)
  end)

  it("refuses a non-function and leaves the simulation untouched", function()
    local sim = des.new{}
    contains(err_of(sim.spawn, sim, 42), "spawn", "function", "number")
    contains(err_of(sim.spawn, sim), "spawn", "function")
    contains(err_of(sim.spawn, sim, "print"), "spawn", "function", "string")
    contains(err_of(sim.spawn, sim, {name = "x"}), "spawn", "function")
    contains(err_of(sim.spawn, sim, {name = "x", 42}), "spawn", "function")
    contains(err_of(sim.spawn, sim, {name = 5, function() end}), "spawn", "name")
    assert.equal(0, sim:pending())
    assert.same({}, sim:tasks())
    local ran = false
    local t = sim:spawn(function() ran = true end)
    assert.equal(1, t.id)
    sim:run()
    assert.is_true(ran)
  end)

  it("refuses a non-function from inside a task too, and the task carries on", function()
    local msg, after
    run_task(function()
      msg = err_of(des.spawn, 42)
      des.sleep(1)
      after = des.now()
    end)
    contains(msg, "spawn", "function")
    assert.equal(1, after)
  end)
end)

describe("sleep and now", function()
  it("suspends the task for exactly dt and now() reports it", function()
    local times = {}
    local sim = run_task(function()
      times[#times + 1] = des.now()
      des.sleep(2.5)
      times[#times + 1] = des.now()
      des.sleep(3)
      times[#times + 1] = des.now()
    end)
    assert.same({ 0, 2.5, 5.5 }, times)
    assert.equal(5.5, sim:now())
  end)

  it("sleep(0) lets everything else due now run first, and no time passes", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      log[#log + 1] = "a1"
      des.sleep(0)
      log[#log + 1] = "a2@" .. des.now()
    end)
    sim:spawn(function()
      log[#log + 1] = "b1"
      des.sleep(0)
      log[#log + 1] = "b2"
    end)
    sim:spawn(function() log[#log + 1] = "c" end)
    sim:run()
    assert.same({ "a1", "b1", "c", "a2@0.0", "b2" }, log)
    assert.equal(0, sim:now())
  end)

  it("outside a task is a clear error", function()
    contains(err_of(des.sleep, 1), "sleep", "not inside a task")
  end)

  it("inside a plain coroutine within a task is an error, not a hang", function()
    local msg, status
    local sim = des.new{}
    sim:spawn(function()
      local co = coroutine.wrap(function() des.sleep(1) end)
      local ok, e = pcall(co)
      assert(not ok)
      msg = e
      des.sleep(1)
      status = des.self().status
    end)
    sim:run()
    contains(msg, "sleep")
    assert.equal("running", status)
    assert.equal(1, sim:now())
  end)

  local bad = {
    { "a negative duration", -1, ">= 0" },
    { "a negative fraction", -0.5, ">= 0" },
    { "negative infinity", -math.huge, "" },
    { "NaN", 0 / 0, "nan" },
    { "infinity", math.huge, "inf" },
    { "a string", "1", "number" },
    { "nil", nil, "number" },
    { "a table", {}, "number" },
    { "a boolean", true, "number" },
    { "a huge integer", math.maxinteger, "range" },
    { "a duration past the clock's range", 2 ^ 62, "range" },
    { "a float past 2^63", 1e300, "range" },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[1] .. " and the task and simulation carry on", function()
      local msg, after, pending_after
      local sim = des.new{}
      sim:spawn(function()
        msg = err_of(des.sleep, case[2])
        pending_after = sim:pending()
        des.sleep(1)
        after = des.now()
      end)
      sim:run()
      contains(msg, "sleep", case[3])
      assert.equal(0, pending_after) -- nothing half-scheduled
      assert.equal(1, after)
      assert.equal(1, sim:now())
    end)
  end

  it("refuses a duration whose wake time overflows the clock, and carries on", function()
    local msg1, msg2, t1, t2
    local sim = des.new{}
    sim:spawn(function()
      des.sleep(9e9) -- 9e18 ticks: fits
      t1 = des.now()
      msg1 = err_of(des.sleep, 9e9) -- now + 9e18 does not
      msg2 = err_of(des.sleep, 300000000)
      des.sleep(1)
      t2 = des.now()
    end)
    sim:run()
    assert.equal(9e9, t1)
    contains(msg1, "sleep", "overflow")
    contains(msg2, "sleep", "overflow")
    assert.equal(9e9 + 1, t2)
    assert.equal(0, sim:pending())
  end)

  it("now() outside any task reports the default simulation's clock", function()
    drain_default()
    assert.equal(des.default():now(), des.now())
  end)
end)

describe("time conversion", function()
  it("adds 0.1 a hundred times to exactly 10 (integer ticks)", function()
    local at10, at1
    run_task(function()
      for i = 1, 100 do
        des.sleep(0.1)
        if i == 10 then at1 = des.now() end
      end
      at10 = des.now()
    end)
    assert.equal(1.0, at1)
    assert.equal(10.0, at10)
  end)

  it("rounds each duration to whole ticks (1/3 three times is 0.999999999)", function()
    local t
    run_task(function()
      for _ = 1, 3 do des.sleep(1 / 3) end
      t = des.now()
    end)
    assert.equal(0.999999999, t)
  end)

  it("rounds the fraction to the nearest tick at a coarse resolution", function()
    local sim = des.new{resolution = 1000}
    local times = {}
    sim:spawn(function()
      des.sleep(0.0004) -- 0.4 tick -> 0, but a positive duration is >= 1 tick
      times[#times + 1] = des.now()
      des.sleep(0.0006) -- 0.6 tick -> 1
      times[#times + 1] = des.now()
      des.sleep(0.0016) -- 1.6 ticks -> 2
      times[#times + 1] = des.now()
      des.sleep(2.0004) -- 2 units + 0 ticks
      times[#times + 1] = des.now()
    end)
    sim:run()
    assert.same({ 0.001, 0.002, 0.004, 2.004 }, times)
  end)

  it("a resolution of 3 makes 1/3 exact", function()
    local sim = des.new{resolution = 3}
    local t
    sim:spawn(function()
      for _ = 1, 3 do des.sleep(1 / 3) end
      t = des.now()
    end)
    sim:run()
    assert.equal(1, t)
  end)

  it("converts whole units and the fraction separately (no ticks lost at large times)", function()
    -- 2^33 + 0.5 units: round(d * 1e9) in doubles lands 256 ticks early.
    local sim = des.new{}
    local log = {}
    local big = 2 ^ 33
    sim:spawn(function() -- wakes 100 ticks before the exact time
      des.sleep(big)
      des.sleep(0.4999999)
      log[#log + 1] = "early"
    end)
    sim:spawn(function()
      des.sleep(big + 0.5)
      log[#log + 1] = "direct"
      log.t = des.now()
    end)
    sim:spawn(function() -- same tick as "direct", scheduled later
      des.sleep(big)
      des.sleep(0.5)
      log[#log + 1] = "split"
    end)
    sim:run()
    assert.same({ "early", "direct", "split" }, { log[1], log[2], log[3] })
    assert.equal(big + 0.5, log.t)
  end)

  it("converts integer durations exactly, even past 2^53 ticks", function()
    -- resolution 1: (1 << 53) + 1 ticks would become 2^53 through a double.
    local sim = des.new{resolution = 1}
    local log = {}
    sim:spawn(function() des.sleep((1 << 53) + 1); log[#log + 1] = "plus one" end)
    sim:spawn(function() des.sleep(1 << 53); log[#log + 1] = "exact" end)
    sim:run()
    assert.same({ "exact", "plus one" }, log)
  end)
end)

describe("ordering of events at the same time", function()
  it("is FIFO by the order the wakes were scheduled, not by spawn order", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function() -- wake for t=2 scheduled at t=1
      des.sleep(1); des.sleep(1); log[#log + 1] = "late-scheduled"
    end)
    sim:spawn(function() -- wake for t=2 scheduled at t=0
      des.sleep(2); log[#log + 1] = "early-scheduled"
    end)
    sim:run()
    assert.same({ "early-scheduled", "late-scheduled" }, log)
  end)

  it("wakes tasks sleeping the same duration in the order they slept", function()
    local log = {}
    local sim = des.new{}
    for i = 1, 50 do
      sim:spawn(function() des.sleep(3); log[#log + 1] = i end)
    end
    sim:run()
    local expect = {}
    for i = 1, 50 do expect[i] = i end
    assert.same(expect, log)
  end)

  it("stays FIFO for far-future ties reached from many start times", function()
    -- resolution 1: units are ticks, so the arithmetic below is exact.
    local sim = des.new{resolution = 1}
    local T = 2 ^ 40 + 12345
    local log = {}
    for k = 40, 1, -1 do -- spawned in reverse order
      sim:spawn(function()
        des.sleep(k * 997)
        des.sleep(T - k * 997) -- scheduled at time k*997
        log[#log + 1] = k
      end)
    end
    sim:spawn(function() des.sleep(T); log[#log + 1] = 0 end) -- scheduled at 0
    sim:run()
    local expect = { 0 }
    for k = 1, 40 do expect[#expect + 1] = k end
    assert.same(expect, log)
    assert.equal(T, sim:now())
  end)
end)

describe("run, step, peek and until", function()
  it("run() handles every event and leaves the clock at the last one", function()
    local sim = des.new{}
    sim:spawn(function() des.sleep(3) end)
    sim:spawn(function() des.sleep(7) end)
    sim:run()
    assert.equal(7, sim:now())
    assert.is_nil(sim:peek())
    assert.equal(0, sim:pending())
  end)

  it("run(until) does not handle events at exactly until and ends the clock there", function()
    local sim = des.new{}
    local woke
    sim:spawn(function() des.sleep(5); woke = des.now() end)
    sim:run(5)
    assert.is_nil(woke)
    assert.equal(5, sim:now())
    assert.equal(5, sim:peek())
    assert.equal("sleeping", sim:tasks()[1].status)
    sim:run()
    assert.equal(5, woke)
  end)

  it("run(until) handles events strictly before until", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      while true do
        des.sleep(1)
        log[#log + 1] = des.now()
      end
    end)
    sim:run(3.5)
    assert.same({ 1, 2, 3 }, log)
    assert.equal(3.5, sim:now())
    sim:run(4) -- continues; 4 itself is not handled
    assert.same({ 1, 2, 3 }, log)
    assert.equal(4, sim:now())
    sim:run(4.000000001)
    assert.same({ 1, 2, 3, 4 }, log)
    sim:close()
  end)

  it("run(until) with nothing to do still moves the clock to until", function()
    local sim = des.new{}
    sim:run(12.25)
    assert.equal(12.25, sim:now())
    local t
    sim:spawn(function() t = des.now() end)
    sim:run()
    assert.equal(12.25, t)
  end)

  it("run(until) stops before later events and keeps them", function()
    local sim = des.new{}
    sim:spawn(function() des.sleep(10) end)
    sim:run(2)
    assert.equal(2, sim:now())
    assert.equal(10, sim:peek())
    assert.equal(1, sim:pending())
  end)

  it("refuses an until before the current time and stays usable", function()
    local sim = des.new{}
    sim:run(5)
    contains(err_of(sim.run, sim, 4), "run", "before")
    assert.equal(5, sim:now())
    sim:run(5) -- until == now is fine
    assert.equal(5, sim:now())
  end)

  it("refuses a bad until", function()
    local sim = des.new{}
    contains(err_of(sim.run, sim, -1), "run")
    contains(err_of(sim.run, sim, 0 / 0), "run")
    contains(err_of(sim.run, sim, math.huge), "run")
    contains(err_of(sim.run, sim, "soon"), "run")
    assert.equal(0, sim:now())
  end)

  it("step() handles exactly one event and reports whether it did", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function() log[#log + 1] = "a"; des.sleep(2); log[#log + 1] = "a2" end)
    sim:spawn(function() log[#log + 1] = "b" end)
    assert.is_true(sim:step())
    assert.same({ "a" }, log)
    assert.equal(0, sim:now())
    assert.is_true(sim:step())
    assert.same({ "a", "b" }, log)
    assert.equal(2, sim:peek())
    assert.equal(0, sim:now())
    assert.is_true(sim:step())
    assert.same({ "a", "b", "a2" }, log)
    assert.equal(2, sim:now())
    assert.is_false(sim:step())
    assert.is_false(sim:step())
    assert.equal(2, sim:now())
  end)

  it("peek() reports the next event's time without handling anything", function()
    local sim = des.new{}
    assert.is_nil(sim:peek())
    local ran = false
    sim:spawn(function() ran = true; des.sleep(4.5) end)
    assert.equal(0, sim:peek())
    assert.equal(0, sim:peek())
    assert.is_false(ran)
    sim:step()
    assert.equal(4.5, sim:peek())
    assert.equal(0, sim:now())
    sim:run()
    assert.is_nil(sim:peek())
  end)

  it("pending() counts queued events", function()
    local sim = des.new{}
    for _ = 1, 3 do sim:spawn(function() des.sleep(1) end) end
    assert.equal(3, sim:pending())
    sim:step()
    assert.equal(3, sim:pending()) -- one spawn handled, one wake queued
    sim:run()
    assert.equal(0, sim:pending())
  end)

  it("stop() from a task ends the run after the current event; run continues later", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      des.sleep(1); log[#log + 1] = "a1"
      sim:stop()
      log[#log + 1] = "a1b" -- the current event finishes
      des.sleep(1); log[#log + 1] = "a2"
    end)
    sim:spawn(function() des.sleep(1); log[#log + 1] = "b1" end)
    sim:run()
    assert.same({ "a1", "a1b" }, log)
    assert.equal(1, sim:now())
    sim:run()
    assert.same({ "a1", "a1b", "b1", "a2" }, log)
  end)

  it("des.stop() inside a task stops that task's simulation", function()
    local sim = des.new{}
    local n = 0
    sim:spawn(function()
      while true do
        des.sleep(1); n = n + 1
        if n == 3 then des.stop() end
      end
    end)
    sim:run()
    assert.equal(3, n)
    assert.equal(3, sim:now())
    sim:close()
  end)

  it("run from inside one of its own tasks is an error, and the task carries on", function()
    local sim = des.new{}
    local msg_run, msg_step, msg_mod, after
    sim:spawn(function()
      msg_run = err_of(sim.run, sim)
      msg_step = err_of(sim.step, sim)
      msg_mod = err_of(des.run)
      des.sleep(1)
      after = des.now()
    end)
    sim:run()
    contains(msg_run, "run", "inside a task")
    assert.is_string(msg_step)
    contains(msg_mod, "run", "inside a task")
    assert.equal(1, after)
  end)

  it("an uncaught run-from-inside error fails the task and is reported by run", function()
    local sim = des.new{}
    local t = sim:spawn{name = "driver", function() sim:run() end}
    local msg = err_of(sim.run, sim)
    contains(msg, "task 'driver' (#1) failed", "run", "inside a task")
    assert.equal("failed", t.status)
  end)
end)

describe("the default simulation", function()
  it("is what module functions act on outside a task", function()
    drain_default()
    local sim = des.default()
    assert.equal(sim, des.default())
    local start = sim:now()
    local woke
    local t = des.spawn(function() des.sleep(2); woke = des.now() end)
    assert.equal(t, sim:tasks()[#sim:tasks()])
    assert.equal(start, des.peek())
    assert.equal(sim:pending(), des.pending())
    assert.is_true(des.step()) -- the spawn
    assert.equal(start + 2, des.peek())
    des.run()
    assert.equal(start + 2, woke)
    assert.equal(start + 2, des.now())
    assert.equal(start + 2, sim:now())
    assert.is_nil(des.peek())
    assert.is_false(des.step())
    assert.same({}, des.tasks())
  end)

  it("des.run(until) on the default simulation follows the until rule", function()
    drain_default()
    local start = des.now()
    local woke
    des.spawn(function() des.sleep(1); woke = true end)
    des.run(start + 1)
    assert.is_nil(woke)
    assert.equal(start + 1, des.now())
    des.run()
    assert.is_true(woke)
  end)
end)

describe("self, status, name and tostring", function()
  it("des.self() is nil outside a task and the task object inside", function()
    assert.is_nil(des.self())
    local inside
    local sim = des.new{}
    local t = sim:spawn(function() inside = des.self() end)
    sim:run()
    assert.equal(t, inside)
    assert.is_true(rawequal(t, inside))
  end)

  it("reports the status through the life of a task", function()
    local sim = des.new{}
    local ev = des.event("go")
    local seen = {}
    local t
    t = sim:spawn{name = "w", function()
      seen.running = t.status
      des.sleep(1)
      ev:wait()
      return "ok"
    end}
    seen.ready = t.status
    sim:step() -- start: runs until sleep
    assert.equal("sleeping", t.status)
    assert.equal("sleep", t.waiting_kind)
    assert.is_nil(t.waiting_on) -- a sleep waits on no object
    assert.equal(0, t.since)
    sim:run()
    assert.equal("waiting", t.status)
    assert.equal("event", t.waiting_kind)
    assert.equal(ev, t.waiting_on)
    assert.equal(1, t.since)
    sim:run(3)
    ev:succeed()
    assert.equal("ready", t.status)
    assert.is_nil(t.waiting_on)
    assert.is_nil(t.waiting_kind)
    sim:run()
    assert.equal("done", t.status)
    assert.is_nil(t.waiting_on)
    assert.equal("ready", seen.ready)
    assert.equal("running", seen.running)
  end)

  it("marks failed and cancelled tasks", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local f = sim:spawn(function() error("x") end)
    local c = sim:spawn(function() des.sleep(5) end)
    sim:run(1)
    c:cancel()
    assert.equal("failed", f.status)
    assert.equal("cancelled", c.status)
  end)

  it("names tasks and formats them as task 'name' (#id): status", function()
    local sim = des.new{}
    local t = sim:spawn{name = "worker", function() des.sleep(1) end}
    assert.equal("worker", t.name)
    assert.equal("task 'worker' (#1): ready", tostring(t))
    sim:step()
    assert.equal("task 'worker' (#1): sleeping", tostring(t))
    sim:run()
    assert.equal("task 'worker' (#1): done", tostring(t))
  end)

  it("keeps the error and the traceback of a failed task", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local obj = setmetatable({}, { __tostring = function() return "custom error" end })
    local t = sim:spawn{name = "f", function() des.sleep(1); error(obj) end}
    local ok = sim:spawn(function() end)
    sim:run()
    assert.is_true(rawequal(obj, t.error))
    contains(traceback_of(t), "custom error", "stack traceback")
    assert.is_nil(ok.error)
  end)

  it("lists live tasks in spawn order and drops ended ones", function()
    local sim = des.new{}
    local a = sim:spawn(function() des.sleep(3) end)
    local b = sim:spawn(function() des.sleep(1) end)
    local c = sim:spawn(function() des.sleep(2) end)
    assert.same({ a, b, c }, sim:tasks())
    sim:run(1.5)
    local live = sim:tasks()
    assert.equal(2, #live)
    assert.equal(a, live[1])
    assert.equal(c, live[2])
    sim:run()
    assert.same({}, sim:tasks())
  end)
end)

describe("join", function()
  it("waits for the task and returns all its results, nils included", function()
    local got, at
    run_task(function()
      local t = des.spawn(function() des.sleep(3); return 1, nil, "three", nil end)
      got = table.pack(t:join())
      at = des.now()
    end)
    assert.equal(4, got.n)
    assert.same({ 1, nil, "three", nil, n = 4 }, got)
    assert.equal(3, at)
  end)

  it("returns nothing for a task that returned nothing", function()
    local n
    run_task(function()
      n = select("#", des.spawn(function() end):join())
    end)
    assert.equal(0, n)
  end)

  it("of a finished task returns at once, every time, without yielding", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      local t = des.spawn(function() return 42 end)
      des.sleep(1)
      des.spawn(function() log[#log + 1] = "other" end)
      log[#log + 1] = t:join()
      log[#log + 1] = t:join()
      log[#log + 1] = des.now()
    end)
    sim:run()
    assert.same({ 42, 42, 1, "other" }, log)
  end)

  it("wakes every joiner, in the order they joined", function()
    local log = {}
    local sim = des.new{}
    local worker = sim:spawn(function() des.sleep(2); return "r" end)
    for i = 1, 3 do
      sim:spawn(function()
        local r = worker:join()
        log[#log + 1] = i .. r
      end)
    end
    sim:run()
    assert.same({ "1r", "2r", "3r" }, log)
  end)

  it("of itself is a clear error and the task carries on", function()
    local msg, after
    run_task(function()
      msg = err_of(des.self().join, des.self())
      des.sleep(1)
      after = des.now()
    end)
    contains(msg, "join", "itself")
    assert.equal(1, after)
  end)

  it("re-raises the error of a task that failed, with the original message", function()
    local sim = des.new{}
    local msg, obj_back
    local obj = { code = 7 }
    local f1 = sim:spawn{name = "f1", function() des.sleep(1); error("boom") end}
    local f2 = sim:spawn{name = "f2", function() des.sleep(1); error(obj) end}
    sim:spawn(function()
      local ok, e = pcall(f1.join, f1)
      assert(not ok)
      msg = e
    end)
    sim:spawn(function()
      local ok, e = pcall(f2.join, f2)
      assert(not ok)
      obj_back = e
    end)
    sim:run() -- joined failures do not stop the run
    assert.matches("^[^\n]*runtime_spec%.lua:%d+: boom$", msg)
    assert.is_true(rawequal(obj, obj_back))
  end)

  it("re-raises the same error when joined after the failure, every time", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local f = sim:spawn(function() error({ tag = "e" }) end)
    local errs = {}
    sim:spawn(function()
      des.sleep(1)
      for i = 1, 2 do
        local ok, e = pcall(f.join, f)
        assert(not ok)
        errs[i] = e
      end
    end)
    sim:run()
    assert.equal("e", errs[1].tag)
    assert.is_true(rawequal(errs[1], errs[2]))
    assert.is_true(rawequal(errs[1], f.error))
  end)

  it("outside a task returns the results of a finished task", function()
    -- Like ev:wait() on a triggered event: nothing to wait for.
    local sim = des.new{}
    local t = sim:spawn(function() return "a", "b" end)
    sim:run()
    assert.same({ "a", "b" }, { t:join() })
  end)

  it("outside a task is a clear error for a task still running", function()
    local sim = des.new{}
    local t = sim:spawn(function() des.sleep(1) end)
    contains(err_of(t.join, t), "join", "not inside a task")
    sim:run()
    assert.equal("done", t.status)
  end)

  it("of a cancelled task raises a recognisable cancellation error", function()
    local sim = des.new{}
    local victim = sim:spawn{name = "victim", function() des.sleep(10) end}
    local err
    sim:spawn(function()
      local ok, e = pcall(victim.join, victim)
      assert(not ok)
      err = e
    end)
    sim:spawn(function() des.sleep(1); victim:cancel() end)
    sim:run()
    assert.is_true(des.cancelled(err))
    assert.equal("task 'victim' (#1) was cancelled", tostring(err))
    assert.equal(1, sim:now())
  end)
end)

describe("cancel", function()
  it("ends a sleeping task now, runs its <close> variables and drops its wake", function()
    local sim = des.new{}
    local log = {}
    local t = sim:spawn(function()
      local _ <close> = closer(log, "a")
      local _ <close> = closer(log, "b") -- closes first
      des.sleep(10)
      log[#log + 1] = "after sleep"
    end)
    sim:run(2)
    assert.equal(1, sim:pending())
    t:cancel()
    assert.same({ "b", "a" }, log)
    assert.equal("cancelled", t.status)
    assert.equal(0, sim:pending())
    assert.is_nil(sim:peek())
    sim:run()
    assert.same({ "b", "a" }, log)
    assert.equal(2, sim:now())
    assert.same({}, sim:tasks())
  end)

  it("from another task ends the victim at the canceller's time", function()
    local sim = des.new{}
    local closed_at
    local victim = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() closed_at = des.now() end })
      des.sleep(100)
    end)
    sim:spawn(function() des.sleep(3); victim:cancel() end)
    sim:run()
    assert.equal(3, closed_at)
    assert.equal(3, sim:now())
  end)

  it("of a task that has not started means it never runs", function()
    local sim = des.new{}
    local ran = false
    local t = sim:spawn(function() ran = true end)
    t:cancel()
    assert.equal("cancelled", t.status)
    assert.equal(0, sim:pending())
    sim:run()
    assert.is_false(ran)
  end)

  it("of a finished task is a no-op", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local done = sim:spawn(function() return 5 end)
    local failed = sim:spawn(function() error("x") end)
    sim:run()
    done:cancel()
    failed:cancel()
    done:cancel()
    assert.equal("done", done.status)
    assert.equal("failed", failed.status)
    local got
    sim:spawn(function() got = done:join() end)
    sim:run()
    assert.equal(5, got)
  end)

  it("twice is a no-op", function()
    local sim = des.new{}
    local log = {}
    local t = sim:spawn(function()
      local _ <close> = closer(log, "c")
      des.sleep(1)
    end)
    sim:step()
    t:cancel()
    t:cancel()
    assert.same({ "c" }, log)
    assert.equal("cancelled", t.status)
  end)

  it("of itself unwinds the task, runs its <close> variables and is not a failure", function()
    local sim = des.new{}
    local log = {}
    local t = sim:spawn{name = "self", function()
      local _ <close> = closer(log, "closed")
      des.sleep(1)
      des.self():cancel()
      log[#log + 1] = "not reached"
    end}
    sim:run() -- must not raise
    assert.same({ "closed" }, log)
    assert.equal("cancelled", t.status)
    assert.is_true(des.cancelled(t.error))
    assert.equal(1, sim:now())
  end)

  it("of a waiting task: a later trigger does not bring it back", function()
    local sim = des.new{}
    local ev = des.event()
    local resumed = false
    local t = sim:spawn(function() ev:wait(); resumed = true end)
    sim:run()
    assert.equal("waiting", t.status)
    t:cancel()
    ev:succeed(1)
    sim:run()
    assert.is_false(resumed)
    assert.equal("cancelled", t.status)
  end)

  it("happens when a task variable declared <close> goes out of scope", function()
    local sim = des.new{}
    local child
    sim:spawn(function()
      do
        local c <close> = des.spawn(function() des.sleep(10) end)
        child = c
        des.sleep(1)
      end
      des.sleep(1)
    end)
    sim:run()
    assert.equal("cancelled", child.status)
    assert.equal(2, sim:now())
  end)

  it("sim:close() cancels every live task and the simulation refuses further use", function()
    local log = {}
    local sim = des.new{}
    local a = sim:spawn(function() local _ <close> = closer(log, "a"); des.sleep(5) end)
    local b = sim:spawn(function() local _ <close> = closer(log, "b"); des.event():wait() end)
    sim:run(1)
    sim:close()
    table.sort(log)
    assert.same({ "a", "b" }, log)
    assert.equal("cancelled", a.status)
    assert.equal("cancelled", b.status)
    contains(err_of(sim.run, sim), "closed")
    contains(err_of(sim.spawn, sim, function() end), "closed")
    sim:close() -- closing twice is fine
  end)

  it("a simulation declared <close> is closed at scope end", function()
    local log = {}
    do
      local sim <close> = des.new{}
      sim:spawn(function() local _ <close> = closer(log, "t"); des.sleep(5) end)
      sim:run(1)
    end
    assert.same({ "t" }, log)
  end)
end)

describe("unjoined task errors", function()
  it("stop run with the task's name, the simulated time and a traceback", function()
    local sim = des.new{}
    local later = false
    sim:spawn{name = "worker", function()
      des.sleep(2)
      error("boom")
    end}
    sim:spawn(function() des.sleep(5); later = true end)
    local msg = err_of(sim.run, sim)
    assert.is_string(msg)
    assert.matches("^task 'worker' %(#1%) failed at t=2%.?0*: ", msg)
    contains(msg, "boom", "stack traceback", "runtime_spec.lua")
    assert.is_false(later)
    assert.equal(2, sim:now())
  end)

  it("leave the simulation usable: run again continues", function()
    local sim = des.new{}
    local later
    local f = sim:spawn(function() des.sleep(1); error("x") end)
    sim:spawn(function() des.sleep(5); later = des.now() end)
    assert.has_error(function() sim:run() end)
    assert.equal("failed", f.status)
    sim:run()
    assert.equal(5, later)
  end)

  it("name unnamed tasks by id and describe non-string errors", function()
    local sim = des.new{}
    sim:spawn(function() end)
    sim:spawn(function() error(setmetatable({}, { __tostring = function() return "E!" end })) end)
    local msg = err_of(sim.run, sim)
    contains(msg, "#2", "failed at t=0", "E!")
  end)
end)

describe("<close> variables of a task that fails", function()
  it("run when the task dies of an error, at that time", function()
    -- A task is a scope: an error leaves it, as with coroutine.wrap.
    local sim = des.new{}
    sim:on_error(function() end)
    local log = {}
    local t = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function(_, e)
        log[#log + 1] = des.now()
        log[#log + 1] = e
      end })
      des.sleep(2)
      error("boom", 0)
    end)
    sim:run()
    assert.equal("failed", t.status)
    assert.same({ 2, "boom" }, log)
  end)
end)

describe("bad input inside tasks", function()
  it("a plain coroutine.yield fails the task with a message naming it", function()
    local sim = des.new{}
    local other
    local t = sim:spawn{name = "yielder", function() des.sleep(1); coroutine.yield("foreign") end}
    sim:spawn(function() des.sleep(3); other = des.now() end)
    local msg = err_of(sim.run, sim)
    contains(msg, "task 'yielder' (#1)", "yielded outside des", "failed at t=1")
    assert.equal("failed", t.status)
    sim:run() -- still usable
    assert.equal(3, other)
  end)

  it("a plain coroutine.yield re-raises in a joiner", function()
    local msg
    run_task(function()
      local y = des.spawn{name = "y", function() coroutine.yield() end}
      local ok, e = pcall(y.join, y)
      assert(not ok)
      msg = e
    end)
    contains(msg, "task 'y'", "yielded outside des")
  end)

  it("sleeping inside table.sort's comparator is a clear error", function()
    local msg, after
    run_task(function()
      local ok, e = pcall(table.sort, { 3, 1, 2 }, function(a, b)
        des.sleep(1)
        return a < b
      end)
      assert(not ok)
      msg = e
      des.sleep(1) -- the task is intact
      after = des.now()
    end)
    contains(msg, "sleep", "cannot suspend here", "C-call boundary")
    assert.equal(1, after)
  end)

  it("sleeping inside a gsub callback is a clear error; unjoined, it stops the run", function()
    local sim = des.new{}
    sim:spawn{name = "gsub", function()
      return ("abc"):gsub(".", function(c) des.sleep(1); return c end)
    end}
    contains(err_of(sim.run, sim), "task 'gsub' (#1)", "failed at t=0", "cannot suspend here")
    assert.equal(0, sim:pending())
    assert.same({}, sim:tasks())
  end)

  it("sleeping inside a metamethod called from Lua code works (Lua 5.4 yields there)", function()
    local at
    run_task(function()
      local mt = { __lt = function() des.sleep(1); return true end }
      local a, b = setmetatable({}, mt), setmetatable({}, mt)
      assert(a < b)
      at = des.now()
    end)
    assert.equal(1, at)
  end)
end)

describe("memory", function()
  it("a finished task does not keep its coroutine or its locals alive", function()
    local weak = setmetatable({}, { __mode = "k" })
    local sim = des.new{}
    local t = sim:spawn(function()
      weak[coroutine.running()] = "thread"
      local big = {}
      weak[big] = "local"
      des.sleep(1)
      return #big
    end)
    sim:run()
    collectgarbage()
    collectgarbage()
    -- the locals are gone; the thread is gone too, or back in the runtime's
    -- pool of threads for new tasks, dead and empty
    local k, v = next(weak)
    if k ~= nil then
      assert.equal("thread", v)
      assert.equal("dead", coroutine.status(k))
      assert.is_nil(next(weak, k))
    end
    local got
    sim:spawn(function() got = t:join() end) -- the results are kept
    sim:run()
    assert.equal(0, got)
  end)

  it("a finished task's thread serves a later task, with nothing of the first", function()
    -- coroutine.running marks a task's thread as seen by Lua, which is then
    -- never reused (ownership_spec): observe the pool with the original
    local running = select(2, debug.getupvalue(coroutine.running, 2))
    local sim, seen = des.new{}, {}
    sim:spawn(function() seen[1] = running(); local x <const> = 1; return x end)
    sim:run()
    sim:spawn(function(...)
      seen[2] = running()
      seen.top = select("#", ...)
      seen.self = des.self().name
    end)
    sim:run()
    assert.are.equal(seen[1], seen[2]) -- reused
    assert.are.equal(0, seen.top)
    assert.is_nil(seen.self)
    -- a failed task's thread is not reused
    local failed
    sim:on_error(function() end)
    sim:spawn(function() failed = running(); error("x") end)
    sim:run()
    local next_co
    sim:spawn(function() next_co = running() end)
    sim:run()
    assert.are_not.equal(failed, next_co)
  end)

  it("a cancelled task does not keep its coroutine alive", function()
    local weak = setmetatable({}, { __mode = "k" })
    local sim = des.new{}
    local t = sim:spawn(function() weak[coroutine.running()] = true; des.sleep(5) end)
    sim:run(1)
    t:cancel()
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak))
  end)

  it("an unreachable simulation is collected with its sleeping tasks", function()
    local weak = setmetatable({}, { __mode = "v" })
    do
      local sim = des.new{}
      weak.sim = sim
      weak.task = sim:spawn(function() local x = {}; weak.local_ = x; des.sleep(10) end)
      sim:run(1)
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak.sim)
    assert.is_nil(weak.task)
    assert.is_nil(weak.local_)
  end)

  it("sleep/wake in steady state does not allocate", function()
    local sim = des.new{}
    for _ = 1, 10 do
      sim:spawn(function()
        while true do des.sleep(1) end
      end)
    end
    sim:run(100) -- warm up
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    sim:run(10100) -- 10^5 wakeups
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    sim:close()
    assert.is_true(grown < 16, ("grew by %.1f KB over 10^5 wakeups"):format(grown))
  end)
end)
