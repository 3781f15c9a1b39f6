-- spec/waiting_spec.lua -- waiting and interaction (issue 5): events,
-- timeouts, any/all, join of failed and cancelled tasks, cancel, interrupt,
-- on_error, and memory of repeated waits.
--
-- Every test builds its own simulation (des.new); inside a task the module
-- functions (des.event, des.timeout, des.spawn, ...) act on its simulation.
local des = require "des"

local h = require "helpers"
local err_of, contains, run_task, closer = h.err_of, h.contains, h.run_task, h.closer

-- Append to a log (a function, so that the value is computed before the
-- log's length is taken: `log[#log + 1] = ev:wait()` would take the length
-- before the wait).
local function push(log, v)
  log[#log + 1] = v
end

describe("des.event", function()
  it("starts pending, with a name and a kind", function()
    local ev = des.event("ready")
    assert.is_false(ev.triggered)
    assert.is_nil(ev.ok)
    assert.is_nil(ev.value)
    assert.equal("ready", ev.name)
    assert.equal("event", ev.kind)
    assert.is_nil(des.event().name)
  end)

  it("succeed wakes a waiter with every value, nils included, at the trigger time", function()
    local sim = des.new{}
    local ev = des.event()
    local got, at
    sim:spawn(function()
      got = table.pack(ev:wait())
      at = des.now()
    end)
    sim:spawn(function() des.sleep(4); ev:succeed("a", nil, 3, nil) end)
    sim:run()
    assert.same({ "a", nil, 3, nil, n = 4 }, got)
    assert.equal(4, at)
    assert.is_true(ev.triggered)
    assert.is_true(ev.ok)
    assert.equal("a", ev.value)
  end)

  it("succeed and fail return the event", function()
    local a, b = des.event(), des.event()
    assert.equal(a, a:succeed())
    assert.equal(b, b:fail("e"))
  end)

  it("succeed with no values: the waiter gets none", function()
    local n
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function() n = select("#", ev:wait()) end)
    sim:spawn(function() ev:succeed() end)
    sim:run()
    assert.equal(0, n)
  end)

  it("resumes waiters through the scheduler, never inside succeed", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function() ev:wait(); push(log, "waiter") end)
    sim:spawn(function()
      des.sleep(1)
      ev:succeed()
      push(log, "trigger continues")
      des.sleep(0)
      push(log, "trigger after sleep(0)")
    end)
    sim:run()
    assert.same({ "trigger continues", "waiter", "trigger after sleep(0)" }, log)
  end)

  it("wakes waiters after the tasks already due at the trigger time", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function() des.sleep(1); ev:succeed(); push(log, "T") end)
    sim:spawn(function() des.sleep(1); push(log, "C") end) -- due at 1 already
    sim:spawn(function() ev:wait(); push(log, "W") end)
    sim:run()
    assert.same({ "T", "C", "W" }, log)
  end)

  it("wakes its waiters in the order they started waiting", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    for i = 1, 5 do
      sim:spawn(function()
        des.sleep(6 - i) -- the later-spawned ones wait first
        local v = ev:wait()
        push(log, i .. v)
      end)
    end
    sim:spawn(function() des.sleep(10); ev:succeed("!") end)
    sim:run()
    assert.same({ "5!", "4!", "3!", "2!", "1!" }, log)
  end)

  it("orders waiters of different events by trigger order at the same time", function()
    local log = {}
    local sim = des.new{}
    local e1, e2, e3 = des.event(), des.event(), des.event()
    sim:spawn(function() e1:wait(); push(log, "w1") end)
    sim:spawn(function() e2:wait(); push(log, "w2") end)
    sim:spawn(function() e3:wait(); push(log, "w3") end)
    sim:spawn(function()
      des.sleep(2)
      e3:succeed(); e1:succeed(); e2:succeed()
    end)
    sim:run()
    assert.same({ "w3", "w1", "w2" }, log)
  end)

  it("fail raises the original error object in every waiter", function()
    local sim = des.new{}
    local ev = des.event()
    local obj = { reason = "broken" }
    local errs = {}
    for i = 1, 2 do
      sim:spawn(function()
        local ok, e = pcall(ev.wait, ev)
        assert(not ok)
        errs[i] = e
      end)
    end
    sim:spawn(function() des.sleep(1); ev:fail(obj) end)
    sim:run()
    assert.is_true(rawequal(obj, errs[1]))
    assert.is_true(rawequal(obj, errs[2]))
    assert.is_true(ev.triggered)
    assert.is_false(ev.ok)
    assert.is_true(rawequal(obj, ev.value))
  end)

  it("fail keeps a string error exactly as given", function()
    local msg
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function() msg = err_of(ev.wait, ev) end)
    sim:spawn(function() ev:fail("no stock") end)
    sim:run()
    assert.equal("no stock", msg)
  end)

  it("fail needs an error value", function()
    local ev = des.event()
    assert.has_error(function() ev:fail() end)
    assert.has_error(function() ev:fail(nil) end)
    assert.is_false(ev.triggered)
  end)

  describe("triggered twice", function()
    local cases = {
      { "succeed", "succeed" }, { "succeed", "fail" },
      { "fail", "succeed" }, { "fail", "fail" },
    }
    for _, c in ipairs(cases) do
      it(("%s then %s is a clear error and keeps the first outcome"):format(c[1], c[2]), function()
        local ev = des.event("door")
        ev[c[1]](ev, "first")
        local msg = err_of(ev[c[2]], ev, "second")
        contains(msg, c[2], "event 'door'", "already triggered")
        assert.equal(c[1] == "succeed", ev.ok)
        assert.equal("first", ev.value)
      end)
    end

    it("from inside a task does not break the task or its simulation", function()
      local sim = des.new{}
      local ev = des.event()
      local msg, got, after
      sim:spawn(function() got = ev:wait() end)
      sim:spawn(function()
        ev:succeed(1)
        msg = err_of(ev.succeed, ev, 2)
        des.sleep(1)
        after = des.now()
      end)
      sim:run()
      contains(msg, "already triggered")
      assert.equal(1, got)
      assert.equal(1, after)
    end)
  end)

  it("waiting on a succeeded event returns at once, every time, without yielding", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    ev:succeed("v", 2)
    sim:spawn(function()
      des.sleep(1)
      des.spawn(function() push(log, "other") end) -- due now, must not cut in
      push(log, table.pack(ev:wait()))
      push(log, table.pack(ev:wait()))
      push(log, des.now())
    end)
    sim:run()
    assert.same({ { "v", 2, n = 2 }, { "v", 2, n = 2 }, 1, "other" }, log)
  end)

  it("waiting on a failed event raises its error at once, every time", function()
    local sim = des.new{}
    local ev = des.event()
    local obj = {}
    ev:fail(obj)
    local errs = {}
    sim:spawn(function()
      for i = 1, 3 do
        local ok, e = pcall(ev.wait, ev)
        assert(not ok)
        errs[i] = e
      end
      errs.t = des.now()
    end)
    sim:run()
    assert.is_true(rawequal(obj, errs[1]) and rawequal(obj, errs[3]))
    assert.equal(0, errs.t)
  end)

  it("waiting on a triggered event works outside a task too", function()
    local ok_ev = des.event():succeed(1, 2)
    assert.same({ 1, 2 }, { ok_ev:wait() })
    assert.same({ 1, 2 }, { ok_ev:wait() })
    local bad = des.event():fail("nope")
    assert.equal("nope", err_of(bad.wait, bad))
    assert.equal("nope", err_of(bad.wait, bad))
  end)

  it("waiting on a pending event outside a task is a clear error", function()
    local ev = des.event()
    contains(err_of(ev.wait, ev), "wait", "not inside a task")
    assert.is_false(ev.triggered)
  end)

  it("a wait on an event triggered earlier in the same instant returns at once", function()
    local sim = des.new{}
    local ev = des.event()
    local got, at
    sim:spawn(function() des.sleep(2); ev:succeed("early") end)
    sim:spawn(function()
      des.sleep(2) -- wakes at 2, after the trigger
      assert(ev.triggered)
      got = ev:wait()
      at = des.now()
    end)
    sim:run()
    assert.equal("early", got)
    assert.equal(2, at)
  end)

  it("can be triggered from outside any task", function()
    local sim = des.new{}
    local ev = des.event()
    local got, at
    sim:spawn(function() got = ev:wait(); at = des.now() end)
    sim:run(3)
    ev:succeed("from C or the host")
    sim:run()
    assert.equal("from C or the host", got)
    assert.equal(3, at)
  end)

  describe("on(fn)", function()
    it("calls fn(ev, values...) when the event triggers, in the order added", function()
      local ev = des.event()
      local log = {}
      assert.equal(ev, ev:on(function(e, a, b) push(log, { "first", e, a, b }) end))
      ev:on(function(e, a, b) push(log, { "second", e, a, b }) end)
      assert.same({}, log)
      ev:succeed(1, 2)
      assert.same({ { "first", ev, 1, 2 }, { "second", ev, 1, 2 } }, log)
    end)

    it("calls fn at once when the event has already triggered", function()
      local ev = des.event():succeed("x")
      local got
      ev:on(function(_, v) got = v end)
      assert.equal("x", got)
    end)

    it("passes the error of a failed event", function()
      local obj = {}
      local got = {}
      local ev = des.event()
      ev:on(function(e, err) got[1], got[2] = e, err end)
      ev:fail(obj)
      assert.equal(ev, got[1])
      assert.is_true(rawequal(obj, got[2]))
      local late
      ev:on(function(_, err) late = err end)
      assert.is_true(rawequal(obj, late))
    end)

    it("runs callbacks in trigger order across events, before waiting tasks resume", function()
      local sim = des.new{}
      local log = {}
      local a, b = des.event(), des.event()
      a:on(function() push(log, "cb a") end)
      b:on(function() push(log, "cb b") end)
      sim:spawn(function() a:wait(); push(log, "task a") end)
      sim:spawn(function()
        des.sleep(1)
        b:succeed()
        a:succeed()
        push(log, "trigger done")
      end)
      sim:run()
      assert.same({ "cb b", "cb a", "trigger done", "task a" }, log)
    end)

    it("module functions inside a callback act on the simulation that fires it", function()
      -- A callback fired by a simulation's run is that simulation's code:
      -- des.now() there is the firing simulation's clock (as env.now in a
      -- SimPy callback), and what it creates belongs to that simulation.
      local sim = des.new{}
      local seen = {}
      sim:spawn(function()
        des.sleep(5)
        des.timeout(2):on(function()
          seen.now = des.now()
          seen.to = des.timeout(1)
        end)
      end)
      sim:run()
      assert.equal(7, seen.now)
      assert.is_true(seen.to.triggered)
      assert.equal(8, sim:now())
    end)

    it("runs each callback once", function()
      local ev = des.event()
      local n = 0
      ev:on(function() n = n + 1 end)
      ev:succeed()
      assert.has_error(function() ev:succeed() end)
      assert.equal(1, n)
    end)
  end)
end)

describe("des.timeout", function()
  it("succeeds with its value after dt", function()
    local got, at
    local sim = run_task(function()
      local to = des.timeout(2.5, "late")
      assert.equal("timeout", to.kind)
      assert.is_false(to.triggered)
      got = to:wait()
      at = des.now()
    end)
    assert.equal("late", got)
    assert.equal(2.5, at)
    assert.equal(2.5, sim:now())
  end)

  it("without a value succeeds with none", function()
    local n
    run_task(function() n = select("#", des.timeout(1):wait()) end)
    assert.equal(0, n)
  end)

  it("is an event like the others: triggered, ok, value, on", function()
    local sim = des.new{}
    local to, seen
    sim:spawn(function()
      to = des.timeout(1, 42)
      to:on(function(_, v) seen = { v, sim:now() } end)
    end)
    sim:run()
    assert.is_true(to.triggered)
    assert.is_true(to.ok)
    assert.equal(42, to.value)
    assert.same({ 42, 1 }, seen)
    assert.equal(42, to:wait()) -- triggered: also outside a task
  end)

  it("cannot be triggered by hand", function()
    run_task(function()
      local to = des.timeout(1)
      assert.has_error(function() to:succeed() end)
      assert.has_error(function() to:fail("x") end)
      to:wait()
      assert.equal(1, des.now())
      assert.is_true(to.ok)
    end)
  end)

  it("timeout(0) fires now, after what is already due; its waiter resumes in its turn", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      local to = des.timeout(0, "zero")
      des.spawn(function() push(log, "spawned") end)
      push(log, to:wait())
      push(log, des.now())
    end)
    sim:spawn(function() push(log, "other") end)
    sim:run()
    -- the timeout was made before the spawn: its turn (and its waiter's
    -- resume, issue 15 item 5) comes before the spawned task starts
    assert.same({ "other", "zero", 0, "spawned" }, log)
  end)

  it("timeouts due at the same time fire in creation order", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      for i = 1, 5 do
        des.timeout(1):on(function() push(log, i) end)
      end
    end)
    sim:run()
    assert.same({ 1, 2, 3, 4, 5 }, log)
  end)

  it("fires even when nobody keeps a reference to it", function()
    local sim = des.new{}
    local fired
    sim:spawn(function()
      des.timeout(3):on(function() fired = sim:now() end)
    end)
    sim:step()
    collectgarbage()
    collectgarbage()
    sim:run()
    assert.equal(3, fired)
  end)

  it("belongs to the simulation of the task that makes it", function()
    local a, b = des.new{}, des.new{}
    b:run(100)
    local to
    b:spawn(function() to = des.timeout(1, "b") end)
    b:run(100.5)
    assert.equal(101, b:peek())
    assert.is_nil(a:peek())
    b:run()
    assert.is_true(to.triggered)
    assert.equal(101, b:now())
    assert.equal(0, a:now())
  end)

  local bad = {
    { "negative", -1 }, { "NaN", 0 / 0 }, { "infinite", math.huge },
    { "a string", "1" }, { "missing", nil }, { "past the clock", 2 ^ 62 },
  }
  for _, c in ipairs(bad) do
    it("refuses a " .. c[1] .. " duration and schedules nothing", function()
      local msg, pending
      local sim = des.new{}
      sim:spawn(function()
        msg = err_of(des.timeout, c[2])
        pending = sim:pending()
      end)
      sim:run()
      contains(msg, "timeout")
      assert.equal(0, pending)
    end)
  end

  it("refuses a duration whose fire time overflows the clock", function()
    local msg
    local sim = des.new{}
    sim:spawn(function()
      des.sleep(9e9)
      msg = err_of(des.timeout, 9e9)
    end)
    sim:run()
    contains(msg, "timeout", "overflow")
    assert.equal(0, sim:pending())
  end)
end)

describe("des.any", function()
  it("returns the first member to trigger and its values", function()
    local which, v1, v2, at
    local sim = des.new{}
    local ev = des.event("served")
    local to
    sim:spawn(function()
      to = des.timeout(5, "gave up")
      local any = des.any{ ev, to }
      assert.equal("any", any.kind)
      which, v1, v2 = any:wait()
      at = des.now()
    end)
    sim:spawn(function() des.sleep(3); ev:succeed("desk", 7) end)
    sim:run()
    assert.equal(ev, which)
    assert.equal("desk", v1)
    assert.equal(7, v2)
    assert.equal(3, at)
  end)

  it("lets a timeout win (reneging)", function()
    local which, v, at
    local sim = des.new{}
    local ev = des.event()
    local to
    sim:spawn(function()
      to = des.timeout(3, "gave up")
      which, v = des.any{ ev, to }:wait()
      at = des.now()
    end)
    sim:spawn(function() des.sleep(5); ev:succeed() end)
    sim:run()
    assert.equal(to, which)
    assert.equal("gave up", v)
    assert.equal(3, at)
  end)

  it("breaks ties at the same time by trigger order", function()
    local which
    local sim = des.new{}
    local t1, t2
    sim:spawn(function()
      t2 = des.timeout(2, "second made")
      t1 = des.timeout(2, "first made")
      which = des.any{ t1, t2 }:wait()
    end)
    sim:run()
    assert.equal(t2, which)
  end)

  it("with a member already triggered returns at once with the first such member", function()
    local which, v, at
    local sim = des.new{}
    local a, b, c = des.event(), des.event(), des.event()
    b:succeed("b")
    c:succeed("c")
    sim:spawn(function()
      des.sleep(1)
      which, v = des.any{ a, b, c }:wait()
      at = des.now()
    end)
    sim:run()
    assert.equal(b, which)
    assert.equal("b", v)
    assert.equal(1, at)
  end)

  it("fails when the first member to trigger fails, with its error", function()
    local err, at
    local sim = des.new{}
    local obj = {}
    local ev, bad = des.event(), des.event()
    sim:spawn(function()
      local ok, e = pcall(function() return des.any{ ev, bad, des.timeout(9) }:wait() end)
      assert(not ok)
      err, at = e, des.now()
    end)
    sim:spawn(function() des.sleep(1); bad:fail(obj) end)
    sim:run()
    assert.is_true(rawequal(obj, err))
    assert.equal(1, at)
  end)

  it("takes tasks as members: their results, or their failure", function()
    local r = {}
    local sim = des.new{}
    sim:spawn(function()
      local fast = des.spawn(function() des.sleep(1); return "fast", 1 end)
      local slow = des.spawn(function() des.sleep(2); return "slow" end)
      local which, a, b = des.any{ slow, fast }:wait()
      r.which, r.a, r.b = (which == fast) and "fast task" or "?", a, b
      local failing = des.spawn{name = "f", function() des.sleep(1); error("task broke", 0) end}
      local ok, e = pcall(function() return des.any{ failing, des.timeout(5) }:wait() end)
      r.ok, r.e = ok, e
    end)
    sim:run() -- the failure was seen by the any: not an unhandled error
    assert.same({ which = "fast task", a = "fast", b = 1, ok = false, e = "task broke" }, r)
  end)

  it("nests: an any or all can be a member", function()
    local which, inner_which
    local sim = des.new{}
    local a, b = des.event(), des.event()
    local inner
    sim:spawn(function()
      inner = des.any{ a, b }
      local w, iw = des.any{ des.timeout(5), inner }:wait()
      which, inner_which = w, iw
    end)
    sim:spawn(function() des.sleep(1); b:succeed() end)
    sim:run()
    assert.equal(inner, which)
    assert.equal(b, inner_which)
  end)

  it("needs at least one member", function()
    contains(err_of(des.any, {}), "any")
  end)

  it("refuses a member that is not an event or a task, naming its index", function()
    local ev = des.event()
    contains(err_of(des.any, { ev, 42 }), "any", "member 2", "number")
    contains(err_of(des.any, { "x" }), "member 1", "string")
    contains(err_of(des.any, { ev, ev, {} }), "member 3", "table")
    assert.has_error(function() des.any(ev) end)
    assert.has_error(function() des.any() end)
  end)

  it("after it fires, later triggers of other members do not wake the task", function()
    local log = {}
    local sim = des.new{}
    local a, b = des.event(), des.event()
    local t = sim:spawn(function()
      local w = des.any{ a, b }:wait()
      push(log, (w == a and "a" or "b") .. "@" .. des.now())
      des.sleep(10)
      push(log, "slept until " .. des.now())
    end)
    sim:spawn(function()
      des.sleep(1); a:succeed()
      des.sleep(1); b:succeed()
    end)
    sim:run(5)
    assert.equal("sleeping", t.status)
    assert.equal(11, sim:peek())
    sim:run()
    assert.same({ "a@1.0", "slept until 11.0" }, log)
  end)

  it("keeps its first outcome when other members trigger later", function()
    local a, b, c = des.event(), des.event(), des.event()
    local any = des.any{ a, b, c }
    local calls = 0
    any:on(function() calls = calls + 1 end)
    a:succeed("a")
    b:succeed("b")
    c:fail("c")
    assert.equal(1, calls)
    assert.is_true(any.ok)
    local which, v = any:wait()
    assert.equal(a, which)
    assert.equal("a", v)
  end)

  it("a pending timeout left behind by an any does not wake the task later", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function()
      des.any{ ev, des.timeout(2) }:wait()
      push(log, "any@" .. des.now())
      local ev2 = des.event()
      des.spawn(function() des.sleep(5); ev2:succeed() end)
      ev2:wait()
      push(log, "ev2@" .. des.now())
    end)
    sim:spawn(function() des.sleep(1); ev:succeed() end)
    sim:run()
    assert.same({ "any@1.0", "ev2@6.0" }, log)
  end)
end)

describe("des.all", function()
  it("returns each member's values as table.pack, in the order given", function()
    local res, at
    local sim = des.new{}
    local a, b = des.event(), des.event()
    sim:spawn(function()
      local all = des.all{ a, des.timeout(2, "t"), b }
      assert.equal("all", all.kind)
      res = all:wait()
      at = des.now()
    end)
    sim:spawn(function()
      des.sleep(1); b:succeed("b1", nil)
      des.sleep(2); a:succeed()
    end)
    sim:run()
    assert.same({ { n = 0 }, { "t", n = 1 }, { "b1", nil, n = 2 } }, res)
    assert.equal(3, at)
  end)

  it("of nothing succeeds at once with an empty list", function()
    local res, at
    run_task(function()
      des.sleep(1)
      res = des.all{}:wait()
      at = des.now()
    end)
    assert.same({}, res)
    assert.equal(1, at)
  end)

  it("counts members that already triggered", function()
    local res
    local a, b = des.event(), des.event()
    a:succeed(1)
    local sim = des.new{}
    sim:spawn(function() res = des.all{ a, b }:wait() end)
    sim:spawn(function() des.sleep(1); b:succeed(2) end)
    sim:run()
    assert.same({ { 1, n = 1 }, { 2, n = 1 } }, res)
    local both = des.all{ a, b }
    assert.is_true(both.triggered)
  end)

  it("fails as soon as one member fails, without waiting for the others", function()
    local err, at
    local sim = des.new{}
    local a, b = des.event(), des.event()
    sim:spawn(function()
      local ok, e = pcall(function() return des.all{ a, b, des.timeout(10) }:wait() end)
      assert(not ok)
      err, at = e, des.now()
    end)
    sim:spawn(function() des.sleep(1); a:succeed(); des.sleep(1); b:fail("b failed") end)
    sim:run()
    assert.equal("b failed", err)
    assert.equal(2, at)
  end)

  it("keeps its first failure when other members trigger later", function()
    local a, b, c = des.event(), des.event(), des.event()
    local all = des.all{ a, b, c }
    local calls = 0
    all:on(function() calls = calls + 1 end)
    b:fail("b failed")
    a:succeed()
    c:fail("c failed")
    assert.equal(1, calls)
    assert.is_false(all.ok)
    assert.equal("b failed", err_of(all.wait, all))
  end)

  it("takes tasks: their results in order, or the first failure", function()
    local res, err
    local sim = des.new{}
    sim:spawn(function()
      local t1 = des.spawn(function() des.sleep(2); return "one" end)
      local t2 = des.spawn(function() des.sleep(1); return "two", 2 end)
      res = des.all{ t1, t2 }:wait()
      local bad = des.spawn(function() des.sleep(1); error({ code = 3 }) end)
      local ok, e = pcall(function() return des.all{ des.timeout(5), bad }:wait() end)
      assert(not ok)
      err = e
    end)
    sim:run()
    assert.same({ { "one", n = 1 }, { "two", 2, n = 2 } }, res)
    assert.equal(3, err.code)
  end)

  it("refuses a member that is not an event or a task, naming its index", function()
    contains(err_of(des.all, { des.event(), des.event(), false }), "all", "member 3", "boolean")
  end)
end)

describe("join of failed and cancelled tasks", function()
  it("re-raises a failed task's original error in every joiner", function()
    local sim = des.new{}
    local obj = setmetatable({}, { __tostring = function() return "E" end })
    local f = sim:spawn{name = "f", function() des.sleep(1); error(obj) end}
    local errs = {}
    for i = 1, 3 do
      sim:spawn(function()
        local ok, e = pcall(f.join, f)
        assert(not ok)
        errs[i] = e
      end)
    end
    sim:run() -- joined: the failure does not stop the run
    for i = 1, 3 do assert.is_true(rawequal(obj, errs[i])) end
  end)

  it("gives joiners of a cancelled task an error des.cancelled recognises", function()
    local sim = des.new{}
    local victim = sim:spawn{name = "victim", function() des.sleep(10) end}
    local errs = {}
    for i = 1, 2 do
      sim:spawn(function()
        local ok, e = pcall(victim.join, victim)
        assert(not ok)
        errs[i] = e
      end)
    end
    sim:spawn(function() des.sleep(2); victim:cancel() end)
    sim:run()
    for i = 1, 2 do
      assert.is_true(des.cancelled(errs[i]))
      assert.equal("task 'victim' (#1) was cancelled", tostring(errs[i]))
      assert.is_nil(des.interrupted(errs[i]))
    end
    assert.equal(2, sim:now())
  end)

  it("joining a task cancelled earlier raises the cancellation at once", function()
    local err, at
    local sim = des.new{}
    local victim = sim:spawn{name = "v", function() des.sleep(10) end}
    sim:spawn(function()
      des.sleep(1)
      victim:cancel()
      des.sleep(1)
      local ok, e = pcall(victim.join, victim)
      assert(not ok)
      err, at = e, des.now()
    end)
    sim:run()
    assert.is_true(des.cancelled(err))
    assert.equal(2, at)
  end)

  it("a cancelled member fails an any with the cancellation", function()
    local err
    local sim = des.new{}
    local victim = sim:spawn(function() des.sleep(10) end)
    sim:spawn(function()
      local ok, e = pcall(function() return des.any{ victim, des.timeout(5) }:wait() end)
      assert(not ok)
      err = e
    end)
    sim:spawn(function() des.sleep(1); victim:cancel() end)
    sim:run()
    assert.is_true(des.cancelled(err))
  end)

  it("des.cancelled is false for other values", function()
    assert.is_false(des.cancelled("task 'x' (#1) was cancelled"))
    assert.is_false(des.cancelled(nil))
    assert.is_false(des.cancelled({}))
    assert.is_false(des.cancelled({ kind = "cancelled" }))
  end)
end)

describe("cancel while waiting", function()
  it("on an any: the task ends, its <close> variables run, members no longer reach it", function()
    local log = {}
    local sim = des.new{}
    local ev = des.event()
    local t = sim:spawn(function()
      local _ <close> = closer(log, "closed@")
      des.any{ ev, des.timeout(5) }:wait()
      push(log, "resumed")
    end)
    sim:run(1)
    assert.equal("waiting", t.status)
    t:cancel()
    assert.same({ "closed@" }, log)
    ev:succeed()
    sim:run()
    assert.same({ "closed@" }, log)
    assert.equal("cancelled", t.status)
    assert.equal(5, sim:now()) -- the timeout still fires, harmlessly
  end)

  it("on an all: the same", function()
    local log = {}
    local sim = des.new{}
    local a, b = des.event(), des.event()
    local t = sim:spawn(function()
      local _ <close> = closer(log, "closed")
      des.all{ a, b }:wait()
      push(log, "resumed")
    end)
    sim:spawn(function()
      des.sleep(1); a:succeed()
      des.sleep(1); t:cancel()
      des.sleep(1); b:succeed()
    end)
    sim:run()
    assert.same({ "closed" }, log)
    assert.equal("cancelled", t.status)
  end)

  it("on a join: the joined task's end no longer reaches it", function()
    local sim = des.new{}
    local resumed = false
    local worker = sim:spawn(function() des.sleep(5); return 1 end)
    local joiner = sim:spawn(function() worker:join(); resumed = true end)
    sim:spawn(function() des.sleep(1); joiner:cancel() end)
    sim:run()
    assert.is_false(resumed)
    assert.equal("cancelled", joiner.status)
    assert.equal("done", worker.status)
  end)

  it("the canceller's joiners see the cancellation at the cancel time", function()
    local at
    local sim = des.new{}
    local ev = des.event()
    local t = sim:spawn(function() ev:wait() end)
    sim:spawn(function()
      local ok, e = pcall(t.join, t)
      assert(not ok and des.cancelled(e))
      at = des.now()
    end)
    sim:spawn(function() des.sleep(4); t:cancel() end)
    sim:run()
    assert.equal(4, at)
  end)
end)

describe("interrupt", function()
  it("raises an interrupt at the task's sleep; the task catches it and carries on", function()
    local sim = des.new{}
    local seen = {}
    local t
    t = sim:spawn{name = "m", function()
      local ok, e = pcall(des.sleep, 10)
      seen.ok = ok
      seen.cause = des.interrupted(e)
      seen.time = e.time
      seen.task = e.task
      seen.cancelled = des.cancelled(e)
      seen.at = des.now()
      des.sleep(1)
      seen.after = des.now()
    end}
    local r
    sim:spawn(function() des.sleep(3); r = t:interrupt("bearing") end)
    sim:run()
    assert.is_true(r)
    assert.is_false(seen.ok)
    assert.equal("bearing", seen.cause)
    assert.equal(3, seen.time)
    assert.equal(t, seen.task)
    assert.is_false(seen.cancelled)
    assert.equal(3, seen.at)
    assert.equal(4, seen.after)
    assert.equal(4, sim:now()) -- the original wake at 10 is gone
  end)

  it("lets a machine resume its remaining work after a breakdown", function()
    local sim = des.new{}
    local log = {}
    local machine = sim:spawn{name = "machine", function()
      local work = 10
      while work > 0 do
        local start = des.now()
        local ok, err = pcall(des.sleep, work)
        work = work - (des.now() - start)
        if not ok then
          push(log, ("broken at %g by %s"):format(des.now(), des.interrupted(err)))
          des.sleep(2)
        end
      end
      return des.now()
    end}
    local done
    sim:spawn(function()
      des.sleep(4)
      machine:interrupt("bearing")
      done = machine:join()
    end)
    sim:run()
    assert.same({ "broken at 4 by bearing" }, log)
    assert.equal(12, done)
  end)

  it("raises at a wait on a resource-like event; the event no longer reaches the task", function()
    local sim = des.new{}
    local log = {}
    local queue = {} -- a tiny resource: a FIFO of request events
    local function request()
      local ev = des.event()
      queue[#queue + 1] = ev
      return ev
    end
    local t = sim:spawn{name = "customer", function()
      local req = request()
      local ok, e = pcall(req.wait, req)
      push(log, ("%s %s @%g"):format(tostring(ok), tostring(des.interrupted(e)), des.now()))
      des.sleep(5)
      push(log, "slept to " .. des.now())
      push(log, "late grant: " .. tostring(req:wait())) -- triggered meanwhile: at once
      push(log, des.now())
    end}
    sim:spawn(function()
      des.sleep(1); t:interrupt("preempted")
      des.sleep(1); queue[1]:succeed("granted") -- the resource grants it anyway
    end)
    sim:run()
    assert.same({ "false preempted @1", "slept to 6.0", "late grant: granted", 6 }, log)
  end)

  it("raises at a wait on an any, and the any's members no longer reach the task", function()
    local sim = des.new{}
    local log = {}
    local ev = des.event()
    local t = sim:spawn(function()
      local ok, e = pcall(function() return des.any{ ev, des.timeout(3) }:wait() end)
      push(log, des.interrupted(e) or tostring(ok))
      des.sleep(10)
      push(log, des.now())
    end)
    sim:spawn(function() des.sleep(1); t:interrupt("stop"); des.sleep(1); ev:succeed() end)
    sim:run()
    assert.same({ "stop", 11 }, log)
  end)

  it("raises at a join; the joined task's end no longer reaches the task", function()
    local sim = des.new{}
    local log = {}
    local worker = sim:spawn(function() des.sleep(2); return "w" end)
    local t = sim:spawn(function()
      local ok, e = pcall(worker.join, worker)
      push(log, tostring(ok) .. " " .. tostring(des.interrupted(e)) .. " @" .. des.now())
      des.sleep(5)
      push(log, des.now())
    end)
    sim:spawn(function() des.sleep(1); t:interrupt("hurry") end)
    sim:run()
    assert.same({ "false hurry @1.0", 6 }, log)
  end)

  it("of a task that has not started yet is raised at its first sleep", function()
    local sim = des.new{}
    local log = {}
    local t = sim:spawn(function()
      push(log, "started")
      local ok, e = pcall(des.sleep, 5)
      push(log, tostring(ok) .. " " .. tostring(des.interrupted(e)) .. " @" .. des.now())
    end)
    assert.is_true(t:interrupt("early"))
    sim:run()
    assert.same({ "started", "false early @0.0" }, log)
    assert.equal(0, sim:now())
  end)

  it("of the running task itself is raised at its next wait, without time passing", function()
    local log = {}
    local sim = des.new{}
    sim:spawn(function()
      push(log, des.self():interrupt("me"))
      push(log, "still running")
      local ev = des.event()
      local ok, e = pcall(ev.wait, ev)
      push(log, tostring(ok) .. " " .. tostring(des.interrupted(e)))
      des.sleep(1)
      push(log, des.now())
    end)
    sim:run()
    assert.same({ true, "still running", "false me", 1 }, log)
  end)

  it("without a cause is recognised: des.interrupted returns true", function()
    local got
    local sim = des.new{}
    local t = sim:spawn(function()
      local _, e = pcall(des.sleep, 5)
      got = des.interrupted(e)
    end)
    sim:spawn(function() des.sleep(1); t:interrupt() end)
    sim:run()
    assert.is_true(got)
  end)

  it("delivers several interrupts one at a time, in order", function()
    local causes = {}
    local sim = des.new{}
    local t = sim:spawn(function()
      for _ = 1, 2 do
        local ok, e = pcall(des.sleep, 5)
        assert(not ok)
        push(causes, des.interrupted(e) .. "@" .. des.now())
      end
      des.sleep(1)
      push(causes, des.now())
    end)
    sim:spawn(function()
      des.sleep(1)
      t:interrupt("first")
      t:interrupt("second")
    end)
    sim:run()
    assert.same({ "first@1.0", "second@1.0", 2 }, causes)
  end)

  it("of an ended task returns false and does nothing", function()
    local sim = des.new{}
    local t = sim:spawn(function() return 1 end)
    sim:run()
    assert.is_false(t:interrupt("late"))
    assert.equal("done", t.status)
    assert.equal(0, sim:pending())
    local c = sim:spawn(function() des.sleep(1) end)
    c:cancel()
    assert.is_false(c:interrupt("late"))
  end)

  it("uncaught, fails the task: unjoined it stops the run naming the task", function()
    local sim = des.new{}
    local t = sim:spawn{name = "victim", function() des.sleep(5) end}
    sim:spawn(function() des.sleep(2); t:interrupt("power cut") end)
    local msg = err_of(sim.run, sim)
    contains(msg, "task 'victim' (#1) failed at t=2", "power cut")
    assert.equal("failed", t.status)
    assert.equal("power cut", des.interrupted(t.error))
  end)

  it("uncaught, reaches a joiner as the interrupt object", function()
    local sim = des.new{}
    local cause_obj = { why = "storm" }
    local t = sim:spawn(function() des.sleep(5) end)
    local got
    sim:spawn(function()
      local ok, e = pcall(t.join, t)
      assert(not ok)
      got = e
    end)
    sim:spawn(function() des.sleep(1); t:interrupt(cause_obj) end)
    sim:run()
    assert.is_true(rawequal(cause_obj, des.interrupted(got)))
    assert.equal(t, got.task)
  end)

  it("des.interrupted is nil for other values", function()
    assert.is_nil(des.interrupted("interrupted: x"))
    assert.is_nil(des.interrupted(nil))
    assert.is_nil(des.interrupted({ cause = "x" }))
    assert.is_nil(des.interrupted({ kind = "interrupt", cause = "x" }))
  end)
end)

describe("on_error", function()
  it("handles unjoined failures with (task, original error); the run carries on", function()
    local sim = des.new{}
    local calls = {}
    local obj = { code = 1 }
    sim:on_error(function(task, err) push(calls, { task, err, des.now() }) end)
    local f = sim:spawn{name = "f", function() des.sleep(1); error(obj) end}
    local later
    sim:spawn(function() des.sleep(3); later = des.now() end)
    sim:run()
    assert.equal(1, #calls)
    assert.equal(f, calls[1][1])
    assert.is_true(rawequal(obj, calls[1][2]))
    assert.equal(3, later)
    assert.equal("failed", f.status)
  end)

  it("is not called for joined failures or for cancellations", function()
    local sim = des.new{}
    local calls = 0
    sim:on_error(function() calls = calls + 1 end)
    local f = sim:spawn(function() des.sleep(1); error("x") end)
    sim:spawn(function() pcall(f.join, f) end)
    local c = sim:spawn(function() des.sleep(5) end)
    sim:spawn(function() des.sleep(2); c:cancel() end)
    sim:spawn(function() des.sleep(3); des.self():cancel() end)
    sim:run()
    assert.equal(0, calls)
  end)

  it("is per simulation, and on_error(nil) removes it", function()
    local a, b = des.new{}, des.new{}
    local seen = {}
    a:on_error(function(task) push(seen, task.name) end)
    a:spawn{name = "in a", function() error("x") end}
    b:spawn{name = "in b", function() error("y") end}
    a:run()
    assert.same({ "in a" }, seen)
    contains(err_of(b.run, b), "task 'in b' (#1) failed")
    a:on_error(nil)
    a:spawn{name = "again", function() error("z") end}
    contains(err_of(a.run, a), "task 'again' (#2) failed")
    assert.same({ "in a" }, seen)
  end)

  it("des.on_error inside a task sets its simulation's handler", function()
    local sim = des.new{}
    local seen
    sim:spawn(function()
      des.on_error(function(task) seen = task.name end)
      des.spawn{name = "child", function() error("c") end}
    end)
    sim:run()
    assert.equal("child", seen)
  end)

  it("a handler that fails stops the run with both errors", function()
    local sim = des.new{}
    sim:on_error(function() error("handler broke", 0) end)
    sim:spawn{name = "f", function() error("task broke", 0) end}
    local msg = err_of(sim.run, sim)
    contains(msg, "handler broke", "task 'f' (#1)", "task broke")
  end)

  it("refuses a handler that is not a function", function()
    local sim = des.new{}
    assert.has_error(function() sim:on_error(42) end)
    assert.has_error(function() sim:on_error("f") end)
  end)
end)

describe("memory", function()
  it("a loop of 10^6 any{ev, timeout} waits leaves memory flat", function()
    -- 10^6 waits take about 4 s under ASan. Odd rounds: a timeout beats an
    -- event that never triggers (the same one every time); even rounds: a
    -- shorter timeout beats the longer one, which stays pending and fires
    -- later into an any that is done.
    local N = 1000000
    local sim = des.new{}
    local wins, mid_kb = 0, nil
    sim:spawn(function()
      local never = des.event("never")
      for i = 1, N do
        local ev = (i % 2 == 0) and des.timeout(0.5, i) or never
        local which, v = des.any{ ev, des.timeout(1) }:wait()
        if which == ev then
          assert(v == i)
          wins = wins + 1
        end
        if i == 10000 then
          collectgarbage()
          collectgarbage()
          mid_kb = collectgarbage("count")
        end
      end
    end)
    sim:run()
    collectgarbage()
    collectgarbage()
    local end_kb = collectgarbage("count")
    assert.equal(N / 2, wins)
    assert.equal(N * 0.75 + 0.5, sim:now()) -- the last long timeout fires too
    assert.is_true(end_kb - mid_kb < 512,
      ("memory grew from %.0f KB to %.0f KB"):format(mid_kb, end_kb))
  end)

  it("an event a task waited on does not keep that task's coroutine alive", function()
    local weak = setmetatable({}, { __mode = "k" })
    local sim = des.new{}
    local never = des.event()
    local t = sim:spawn(function()
      weak[coroutine.running()] = true
      des.any{ never, des.timeout(1) }:wait()
    end)
    sim:run()
    collectgarbage()
    collectgarbage()
    assert.equal("done", t.status)
    -- gone, or dead and empty in the runtime's pool of threads for new tasks
    local co = next(weak)
    assert.is_true(co == nil or coroutine.status(co) == "dead")
    assert.is_false(never.triggered)
  end)
end)
