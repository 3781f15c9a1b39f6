-- spec/schedule_spec.lua -- event-style models (issue 19): des.schedule,
-- des.at, sim:schedule / sim:at and their handles.
local des = require "des"

local h = require "helpers"
local err_of, contains = h.err_of, h.contains

describe("des.schedule / des.at", function()
  it("calls fn(...) at now + dt, outside any task, with every argument", function()
    local sim, log = des.new(), {}
    sim:schedule(2, function(a, b, c, n)
      log[#log + 1] = { sim:now(), a, b, c, n, des.self() }
    end, "x", nil, false, 3)
    sim:run()
    assert.same({ { 2, "x", nil, false, 3, nil } }, log)
  end)

  it("des.at takes an absolute time, refuses the past, accepts now", function()
    local sim, log = des.new(), {}
    sim:spawn(function()
      des.sleep(5)
      des.at(7, function() log[#log + 1] = des.now() end)
      des.at(5, function() log[#log + 1] = des.now() end)
      log[#log + 1] = err_of(des.at, 4, print)
    end)
    sim:run()
    assert.equal(5, log[2])
    assert.equal(7, log[3])
    contains(log[1], "at: time 4.0 is before the current time 5.0")
  end)

  it("keeps FIFO ties with tasks, timeouts and other calls", function()
    local sim, log = des.new(), {}
    local function put(x) log[#log + 1] = x end
    sim:spawn(function()
      des.schedule(1, put, "s1")
      des.spawn(function() des.sleep(1); put("task") end) -- sleeps after s3 is scheduled
      des.timeout(1):on(function() put("timeout") end)
      des.at(1, put, "s2")
      des.schedule(1, function() put("s3"); des.schedule(0, put, "s4") end)
      des.sleep(1)
      put("main")
    end)
    sim:run()
    assert.same({ "s1", "timeout", "s2", "s3", "main", "task", "s4" }, log)
  end)

  it("runs on its own simulation: spawn and schedule inside act on it", function()
    local a, b, log = des.new(), des.new(), {}
    b:schedule(1, function()
      des.spawn(function() des.sleep(1); log[#log + 1] = "spawned " .. des.now() end)
      des.schedule(3, function() log[#log + 1] = "again " .. des.now() end)
    end)
    a:run()
    assert.equal(0, a:pending())
    b:run()
    assert.same({ "spawned 2.0", "again 4.0" }, log)
  end)

  it("refuses bad arguments with a clear message", function()
    local sim = des.new()
    contains(err_of(sim.schedule, sim, -1, print), "duration must be >= 0")
    contains(err_of(sim.schedule, sim, 0 / 0, print), "nan")
    contains(err_of(sim.schedule, sim, 1, 42), "function expected")
    contains(err_of(sim.schedule, sim, "x", print), "duration must be a number")
    contains(err_of(sim.at, sim, 1 / 0, print), "finite")
    assert.equal(0, sim:pending())
  end)

  it("cannot sleep or wait: a clear error naming the scheduled function", function()
    for _, wait in ipairs({
      function() des.sleep(1) end,
      function() des.timeout(1):wait() end,
      function() des.self() .join() end,
      function() local r = des.resource(1); r:acquire(); r:acquire() end,
      function() des.store():get() end,
    }) do
      local sim = des.new()
      sim:schedule(1, wait)
      local e = err_of(sim.run, sim)
      contains(e, "scheduled function failed at t=1.0")
      contains(e, "stack traceback")
      assert.equal(1, sim:now())
    end
    local sim = des.new()
    sim:schedule(1, des.sleep, 1)
    contains(err_of(sim.run, sim),
      "a function scheduled with des.schedule or des.at runs outside any task")
  end)

  it("an error stops the run, names the time, and leaves the simulation usable", function()
    local sim, log = des.new(), {}
    sim:schedule(1, function() error("boom") end)
    sim:schedule(2, function() log[#log + 1] = sim:now() end)
    local e = err_of(sim.run, sim)
    contains(e, "scheduled function failed at t=1.0", "boom", "stack traceback")
    assert.equal(1, sim:pending())
    sim:run()
    assert.same({ 2 }, log)
    -- error objects (tables) are described, not lost
    local bad = setmetatable({}, { __tostring = function() error("x") end })
    sim:schedule(1, function() error(bad) end)
    contains(err_of(sim.run, sim), "scheduled function failed at t=3.0")
  end)
end)

describe("runs of scheduled calls (one protected call for several)", function()
  -- A chain of calls at times 1..n (two per time) logging the clock.
  local function chain(sim, n, log, extra)
    for i = 1, n do
      sim:at(i, function()
        log[#log + 1] = ("a%g"):format(sim:now())
        if extra then extra(i) end
      end)
      sim:at(i, function() log[#log + 1] = ("b%g"):format(sim:now()) end)
    end
  end

  it("stop in a call ends the run right after it, more calls due or not", function()
    local sim, log = des.new(), {}
    chain(sim, 4, log, function(i) if i == 2 then sim:stop() end end)
    sim:run()
    assert.same({ "a1", "b1", "a2" }, log)
    assert.equal(2, sim:now())
    assert.equal(5, sim:pending())
    sim:run()
    assert.same({ "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4" }, log)
  end)

  it("run(until) leaves the calls at until; step takes exactly one", function()
    local sim, log = des.new(), {}
    chain(sim, 4, log)
    sim:run(2)
    assert.same({ "a1", "b1" }, log)
    assert.equal(6, sim:pending())
    assert.is_true(sim:step())
    assert.same({ "a1", "b1", "a2" }, log)
    assert.is_true(sim:step())
    assert.equal(4, sim:pending())
    sim:run(3.5)
    assert.same({ "a1", "b1", "a2", "b2", "a3", "b3" }, log)
    assert.equal(3.5, sim:now())
  end)

  it("an error in the middle names its own time and leaves the rest pending", function()
    local sim, log = des.new(), {}
    chain(sim, 5, log, function(i) if i == 3 then error("third") end end)
    local e = err_of(sim.run, sim)
    contains(e, "scheduled function failed at t=3.0", "third", "stack traceback")
    assert.same({ "a1", "b1", "a2", "b2", "a3" }, log)
    assert.equal(5, sim:pending())
    sim:run()
    assert.equal(10, #log)
  end)

  it("tasks, timeouts and calls interleave at every time, in FIFO order", function()
    local sim, log = des.new(), {}
    local function put(x) log[#log + 1] = ("%s%g"):format(x, sim:now()) end
    sim:spawn(function()
      for _ = 1, 3 do
        des.schedule(1, put, "c")
        des.timeout(1):on(function() put("o") end)
        des.schedule(1, put, "d")
        des.sleep(1)
        put("t")
        des.schedule(0, put, "e")
      end
    end)
    sim:run()
    assert.same({ "c1", "o1", "d1", "t1", "e1", "c2", "o2", "d2", "t2", "e2",
                  "c3", "o3", "d3", "t3", "e3" }, log)
  end)

  it("each call of a run shows in the trace", function()
    local sim, lines = des.new(), {}
    chain(sim, 3, {})
    sim:trace(function(line) lines[#lines + 1] = line end)
    sim:run()
    assert.equal(6, #lines)
    contains(lines[6], "t=3.0", "scheduled function")
  end)

  it("a call may run another simulation, and not close its own", function()
    local a, b, log = des.new(), des.new(), {}
    chain(b, 2, log)
    a:at(1, function() b:run(); log[#log + 1] = "ran b" end)
    a:at(1, function() log[#log + 1] = "then a" end)
    a:at(2, function() a:close() end)
    a:at(2, function() log[#log + 1] = "after" end)
    contains(err_of(a.run, a), "scheduled function failed at t=2.0",
      "close: the simulation is running")
    assert.same({ "a1", "b1", "a2", "b2", "ran b", "then a" }, log)
    assert.equal(1, a:pending())
    a:run()
    assert.equal("after", log[7])
  end)

  it("sim:run(ev) stops right after the call that triggers ev", function()
    local sim, log, ev = des.new(), {}, nil
    sim:at(0, function() ev = des.event() end)
    sim:step()
    chain(sim, 3, log, function(i) if i == 2 then ev:succeed("x") end end)
    assert.equal("x", sim:run(ev))
    assert.same({ "a1", "b1", "a2" }, log)
  end)
end)

describe("scheduled calls in listings", function()
  it("show in sim:events() and in the trace as scheduled functions", function()
    local sim, lines = des.new(), {}
    sim:schedule(1, function() end)
    local evs = sim:events()
    assert.equal(1, #evs)
    assert.equal("scheduled", evs[1].kind)
    assert.equal(1, evs[1].time)
    assert.is_nil(evs[1].task)
    sim:trace(function(line) lines[#lines + 1] = line end)
    sim:run()
    assert.equal(1, #lines)
    contains(lines[1], "t=1.0", "scheduled function")
  end)
end)

describe("schedule handles", function()
  it("tell time and pending, cancel once, and go stale when fired", function()
    local sim, log = des.new(), {}
    local h1 = sim:schedule(1.5, function() log[#log + 1] = "h1" end)
    local h2 = sim:at(2, function() log[#log + 1] = "h2" end)
    assert.equal(1.5, h1.time)
    assert.is_true(h1.pending)
    contains(tostring(h1), "des.scheduled", "1.5")
    assert.is_true(h2:cancel())
    assert.is_false(h2:cancel())
    assert.is_false(h2.pending)
    assert.is_nil(h2.time)
    sim:run()
    assert.same({ "h1" }, log)
    assert.is_false(h1.pending)
    assert.is_false(h1:cancel())
    -- a slot reused by a new call: the old handle stays stale
    local h3 = sim:schedule(1, function() log[#log + 1] = "h3" end)
    assert.is_false(h1:cancel())
    assert.is_false(h2:cancel())
    assert.is_true(h3.pending)
    sim:run()
    assert.same({ "h1", "h3" }, log)
    assert.equal("des.scheduled", getmetatable(h3))
  end)

  it("cancel from inside another call, same time included", function()
    local sim, log = des.new(), {}
    local later
    sim:schedule(1, function() log[#log + 1] = "a"; assert(later:cancel()) end)
    later = sim:schedule(1, function() log[#log + 1] = "b" end)
    sim:run()
    assert.same({ "a" }, log)
  end)

  it("a closed simulation drops its pending calls", function()
    local sim, n = des.new(), 0
    local hd = sim:schedule(1, function() n = n + 1 end)
    sim:close()
    assert.is_false(hd.pending)
    assert.is_false(hd:cancel())
    contains(err_of(sim.schedule, sim, 1, print), "closed simulation")
    assert.equal(0, n)
  end)

  it("a simulation with pending calls that hold it is collected", function()
    local weak = setmetatable({}, { __mode = "k" })
    do
      local sim = des.new()
      weak[sim] = true
      for i = 1, 10 do
        sim:schedule(i, function() return sim end)
      end
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak))
    -- the slots were given back: new calls still work
    local sim, n = des.new(), 0
    for i = 1, 100 do sim:schedule(i, function() n = n + 1 end) end
    sim:run()
    assert.equal(100, n)
  end)
end)

describe("event-style cost", function()
  it("allocates nothing per call in steady state without extra arguments", function()
    local sim, n = des.new(), 0
    local function hop()
      n = n + 1
      if n < 20000 then sim:schedule(1, hop) end
    end
    for _ = 1, 64 do sim:schedule(0, hop) end -- warm up the slots
    sim:run()
    n = 0
    sim:schedule(0, hop)
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    sim:run()
    local grew = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(20000, n)
    assert.truthy(grew < 4, "grew " .. grew .. " KiB")
  end)

  it("survives finalizers that schedule and cancel while a call is made", function()
    local sim, n = des.new(), 0
    local handles = {}
    local function junk()
      setmetatable({}, { __gc = function()
        local hh = sim:schedule(1, function() n = n + 1 end)
        handles[#handles + 1] = hh
        if #handles % 3 == 0 then hh:cancel() end
      end })
    end
    for i = 1, 2000 do
      junk()
      sim:schedule(i % 7, function(...) n = n + select("#", ...) end, i, i)
    end
    collectgarbage()
    sim:run()
    assert.is_true(n >= 4000)
    assert.equal(0, sim:pending())
  end)
end)
