-- spec/run_end_spec.lua -- how a run ends (issue 15 items 12 and 13):
-- daemons do not keep a run alive, and end hooks (des.at_end) run once
-- when a run ends for any reason, with the clock at the end time.
local des = require "des"
local h = require "helpers"

-- An endless daemon loop that counts its turns in box.n.
local function ticker(box, dt)
  return {daemon = true, function()
    while true do des.sleep(dt or 1); box.n = box.n + 1 end
  end}
end

describe("daemon tasks", function()
  it("do not keep a run without `until` alive once the other tasks ended", function()
    local sim, box = des.new{}, {n = 0}
    sim:spawn(ticker(box))
    sim:spawn(function() des.sleep(10.5) end)
    sim:run()
    assert.equal(10.5, sim:now())
    assert.equal(10, box.n)
    assert.equal(0, #(function() local l = {} for _, t in ipairs(sim:tasks()) do
      if not t.daemon then l[#l + 1] = t end end return l end)())
  end)

  it("end a run at once when only daemons were spawned", function()
    local sim, box = des.new{}, {n = 0}
    sim:spawn(ticker(box))
    sim:run()
    assert.equal(0, sim:now())
    assert.equal(0, box.n)
  end)

  it("run to the `until` time when one is given (SimPy's run(until=T))", function()
    local sim, box = des.new{}, {n = 0}
    sim:spawn(ticker(box))
    sim:run(5.5)
    assert.equal(5.5, sim:now())
    assert.equal(5, box.n)
  end)

  it("that wait on a resource or an event also end the run", function()
    local sim = des.new{}
    sim:spawn(function()
      local res, ev = des.resource(1), des.event()
      des.spawn{daemon = true, function()
        local _ <close> = res:acquire()
        while true do des.sleep(2) end
      end}
      des.spawn{daemon = true, function() res:acquire() end}
      des.spawn{daemon = true, function() ev:wait() end}
      des.sleep(3)
    end)
    sim:run()
    assert.equal(3, sim:now())
  end)

  it("keep running while a timeout, a callback or a scheduled wake is pending", function()
    local sim, box = des.new{}, {n = 0}
    local fired
    sim:spawn(ticker(box))
    sim:spawn(function()
      des.timeout(4.5):on(function() fired = des.now() end)
    end)
    sim:run()
    assert.equal(4.5, fired)
    assert.equal(4.5, sim:now())
    assert.equal(4, box.n)
  end)

  it("let a task that is not a daemon, started late, keep the run going", function()
    local sim, box = des.new{}, {n = 0}
    sim:spawn{daemon = true, function()
      des.sleep(1)
      des.spawn(function() des.sleep(5) end) -- a daemon's child is not a daemon
      while true do des.sleep(1); box.n = box.n + 1 end
    end}
    sim:spawn(function() des.sleep(1.5) end)
    sim:run()
    assert.equal(6, sim:now())
  end)

  it("do not change step: a step handles one event", function()
    local sim, box = des.new{}, {n = 0}
    sim:spawn(ticker(box))
    assert.is_true(sim:step())
    assert.is_true(sim:step())
    assert.equal(1, sim:now())
  end)
end)

describe("at_end", function()
  it("runs once when the queue runs dry, with the clock at the end", function()
    local sim = des.new{}
    local seen = {}
    sim:at_end(function(s) seen[#seen + 1] = s:now() end)
    sim:spawn(function() des.sleep(7) end)
    sim:run()
    sim:spawn(function() des.sleep(1) end)
    sim:run()
    assert.same({7}, seen)
  end)

  it("runs after only daemons were left, and at `until`", function()
    local sim, box = des.new{}, {n = 0}
    local seen = {}
    sim:spawn(ticker(box))
    sim:spawn(function()
      des.at_end(function() seen[#seen + 1] = des.now() end)
      des.sleep(2.5)
    end)
    sim:run()
    assert.same({2.5}, seen)
    sim:at_end(function(s) seen[#seen + 1] = s:now() end)
    sim:run(10)
    assert.same({2.5, 10}, seen)
  end)

  it("runs when a task stops the run, in the order the hooks were added", function()
    local sim = des.new{}
    local seen = {}
    sim:at_end(function() seen[#seen + 1] = "a" .. des.now() end)
    sim:at_end(function() seen[#seen + 1] = "b" .. des.now() end)
    sim:spawn(function() des.sleep(3); sim:stop(); des.sleep(1) end)
    sim:run()
    assert.same({"a3.0", "b3.0"}, seen)
  end)

  it("runs when a task's error stops the run, and the run still raises it", function()
    local sim = des.new{}
    local at
    sim:at_end(function(s) at = s:now() end)
    sim:spawn{name = "bad", function() des.sleep(2); error("boom") end}
    local e = h.err_of(sim.run, sim)
    h.contains(tostring(e), "task 'bad'", "boom")
    assert.equal(2, at)
  end)

  it("reports a hook's own error with the time, and adds it to a run's error", function()
    local sim = des.new{}
    sim:at_end(function() error("no report") end)
    sim:spawn(function() des.sleep(1) end)
    h.contains(tostring(h.err_of(sim.run, sim)), "at_end function failed at t=1.0",
               "no report")
    sim:at_end(function() error("second") end)
    sim:spawn{name = "bad", function() error("first") end}
    h.contains(tostring(h.err_of(sim.run, sim)), "first", "(and then: ",
               "at_end function failed", "second")
  end)

  it("may read statistics and start new work for a later run", function()
    local sim = des.new{}
    local busy
    sim:spawn(function()
      local res = des.resource(1)
      local _ <close> = res:acquire()
      des.sleep(4)
    end)
    sim:at_end(function(s)
      busy = s:now()
      s:spawn(function() des.sleep(1) end)
    end)
    sim:run()
    assert.equal(4, busy)
    sim:run()
    assert.equal(5, sim:now())
  end)

  it("does not run on step, and refuses a non-function", function()
    local sim = des.new{}
    local ran = false
    sim:at_end(function() ran = true end)
    sim:spawn(function() des.sleep(1) end)
    sim:step()
    sim:step()
    assert.is_false(ran)
    h.contains(h.err_of(sim.at_end, sim, 42), "function expected")
  end)
end)
