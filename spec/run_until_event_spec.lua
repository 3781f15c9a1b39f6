-- spec/run_until_event_spec.lua -- sim:run(ev) runs until an event or a
-- task triggers (issue 15 item 7, SimPy's run(until=event)), and the
-- messages of run's bad `until` values (item 17, docs/bad-inputs.md).
local des = require "des"
local h = require "helpers"

describe("run(ev)", function()
  it("stops right after the event triggers and returns its values", function()
    local sim = des.new{}
    local ev = des.event("ready")
    local later = false
    sim:spawn(function() des.sleep(3); ev:succeed("a", 2); des.sleep(1); later = true end)
    local a, b = sim:run(ev)
    assert.equal("a", a)
    assert.equal(2, b)
    assert.equal(3, sim:now())
    assert.is_false(later)
    sim:run()
    assert.is_true(later)
  end)

  it("takes a timeout, a composite or a task", function()
    local sim = des.new{}
    local t = sim:spawn(function() des.sleep(2); return "done" end)
    assert.equal("done", sim:run(t))
    assert.equal(2, sim:now())
    local sim2 = des.new{}
    sim2:spawn(function() while true do des.sleep(1) end end)
    local to
    sim2:spawn(function() to = des.timeout(4.5, "x") end)
    sim2:step()
    sim2:step()
    assert.equal("x", sim2:run(to))
    assert.equal(4.5, sim2:now())
  end)

  it("takes a request: a resource's returns it once granted, a store's its item", function()
    local sim = des.new{}
    local req, get
    sim:spawn(function()
      local res, st = des.resource(1), des.store()
      local _mine <close> = res:acquire()
      req, get = res:request(), st:get_request()
      des.spawn(function() des.sleep(5); st:put("item") end)
      des.sleep(2)
    end)
    sim:step()
    assert.equal(req, sim:run(req))
    assert.equal(2, sim:now())
    assert.is_true(req.granted)
    assert.equal("item", sim:run(get))
    assert.equal(5, sim:now())
    req:release()
  end)

  it("raises for a request withdrawn before it was granted", function()
    local sim = des.new{}
    local req
    sim:spawn(function()
      local res = des.resource(1)
      local _mine <close> = res:acquire()
      req = res:request()
      des.spawn(function() des.sleep(1); req:release() end)
      des.sleep(3)
    end)
    sim:step()
    local ok, err = pcall(sim.run, sim, req)
    assert.is_false(ok)
    h.contains(tostring(err), "withdrawn")
  end)

  it("raises the event's error, or a failed task's", function()
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function() des.sleep(1); ev:fail("bad") end)
    assert.equal("bad", h.err_of(sim.run, sim, ev))
    local t = sim:spawn(function() error("oops", 0) end)
    assert.equal("oops", h.err_of(sim.run, sim, t))
  end)

  it("returns at once for an event that already triggered", function()
    local sim = des.new{}
    local ev = des.event():succeed(7)
    sim:spawn(function() des.sleep(1) end)
    assert.equal(7, sim:run(ev))
    assert.equal(0, sim:now())
  end)

  it("raises when the run ends first, and leaves nothing behind", function()
    local sim = des.new{}
    local ev = des.event("never")
    sim:spawn(function() des.sleep(2) end)
    h.contains(h.err_of(sim.run, sim, ev), "run: the run ended at t=2.0", "before",
               "event 'never'")
    -- a later trigger does not stop a later run
    local done = false
    sim:spawn(function() ev:succeed(); des.sleep(1); done = true end)
    sim:run()
    assert.is_true(done)
  end)

  it("is refused from a task of the same simulation", function()
    local sim = des.new{}
    local ev = des.event()
    local err
    sim:spawn(function() err = select(2, pcall(sim.run, sim, ev)) end)
    sim:run()
    h.contains(err, "run:")
  end)

  it("works on the module: des.run(ev)", function()
    local sim = des.new{}
    local ev = des.event()
    sim:spawn(function()
      des.sleep(1)
      ev:succeed("m")
    end)
    -- des.run acts on the default simulation: use sim's method form here
    assert.equal("m", sim:run(ev))
  end)
end)

describe("run's until", function()
  it("before the current time, negative included, says so as bad-inputs.md does", function()
    local sim = des.new{}
    h.contains(h.err_of(sim.run, sim, -3), "run: until time is before the current time")
    h.contains(h.err_of(sim.run, sim, -0.5), "run: until time is before the current time")
    sim:run(5)
    h.contains(h.err_of(sim.run, sim, 4), "run: until time is before the current time")
  end)

  it("that is a string is refused, not converted", function()
    local sim = des.new{}
    h.contains(h.err_of(sim.run, sim, "3.14"),
               "run: until must be a time (a number) or an event (got string)")
    assert.equal(0, sim:now())
  end)

  it("that is NaN or infinite is refused", function()
    local sim = des.new{}
    h.contains(h.err_of(sim.run, sim, 0 / 0), "run: until must be a number (got nan)")
    h.contains(h.err_of(sim.run, sim, math.huge), "run:", "finite")
  end)
end)
