-- spec/unhandled_spec.lua -- a failed event that nothing handles stops the
-- run (issue 15 item 3), as an unjoined task error does: its name, the
-- time and the error, unless something waited on it, gave it a callback,
-- or defused it (SimPy's "defused").
local des = require "des"
local h = require "helpers"
local run = require "run_deshost"

-- Run body as a task of a new simulation; returns the run's pcall results
-- and the simulation.
local function run_body(body)
  local sim = des.new{}
  sim:spawn(body)
  return sim, pcall(sim.run, sim)
end

describe("a failed event", function()
  it("that nothing handles stops the run with its name, the time and the error", function()
    local after = false
    local sim, ok, err = run_body(function()
      des.sleep(2)
      des.event("disk"):fail("disk full")
      des.sleep(1)
      after = true
    end)
    assert.is_false(ok)
    h.contains(err, "event 'disk' failed at t=2.0 and nothing handled it: disk full",
               "ev:defuse()", "unhandled_spec.lua")
    assert.equal(2, sim:now())
    assert.is_false(after)
  end)

  it("with an error object names it through its text", function()
    local _, ok, err = run_body(function()
      des.event():fail(setmetatable({}, { __tostring = function() return "E!" end }))
    end)
    assert.is_false(ok)
    h.contains(err, "event failed at t=0.0 and nothing handled it: E!")
  end)

  it("is handled by a task waiting on it", function()
    local got
    local _, ok = run_body(function()
      local ev = des.event()
      des.spawn(function() got = select(2, pcall(ev.wait, ev)) end)
      des.sleep(1)
      ev:fail("x")
    end)
    assert.is_true(ok)
    assert.equal("x", got)
  end)

  it("is handled by a wait or a callback added later in the same instant", function()
    local got = {}
    local _, ok = run_body(function()
      local a, b = des.event("a"), des.event("b")
      a:fail("xa")
      b:fail("xb")
      des.spawn(function() got.a = select(2, pcall(a.wait, a)) end)
      b:on(function(_, e) got.b = e end)
      des.sleep(1)
    end)
    assert.is_true(ok)
    assert.same({ a = "xa", b = "xb" }, got)
  end)

  it("is handled by a callback added before", function()
    local got
    local _, ok = run_body(function()
      local ev = des.event():on(function(_, e) got = e end)
      ev:fail("x")
    end)
    assert.is_true(ok)
    assert.equal("x", got)
  end)

  it("defused before or after it fails does not stop the run; wait still raises", function()
    local defused, raised
    local _, ok = run_body(function()
      local a = des.event():defuse()
      a:fail("x")
      local b = des.event()
      b:fail("y")
      b:defuse()
      defused = a.defused and b.defused
      des.sleep(1)
      raised = select(2, pcall(a.wait, a))
    end)
    assert.is_true(ok)
    assert.is_true(defused)
    assert.equal("x", raised)
  end)

  it("is carried on by a composite, which then needs handling itself", function()
    local got
    local _, ok = run_body(function()
      local ev = des.event()
      local any = des.any{ ev, des.timeout(5) }
      des.spawn(function() got = select(2, pcall(any.wait, any)) end)
      des.sleep(1)
      ev:fail("inner")
    end)
    assert.is_true(ok)
    assert.equal("inner", got)
    local _, ok2, err = run_body(function()
      local ev = des.event("m")
      local _ = des.all{ ev }
      des.sleep(1)
      ev:fail("nobody")
    end)
    assert.is_false(ok2)
    h.contains(err, "all failed at t=1.0 and nothing handled it: nobody")
  end)

  it("whose waiter left before it failed stops the run", function()
    local _, ok, err = run_body(function()
      local ev = des.event("late")
      local t = des.spawn(function() ev:wait() end)
      des.sleep(1)
      t:cancel()
      ev:fail("too late")
    end)
    assert.is_false(ok)
    h.contains(err, "event 'late' failed at t=1.0", "too late")
  end)

  it("that succeeds never stops the run, waited on or not", function()
    local _, ok = run_body(function() des.event():succeed(1) end)
    assert.is_true(ok)
  end)

  it("stops a deshost run with a non-zero exit status", function()
    if not run.available then return end
    local code, _, err = run([[
local des = require "des"
des.sleep(3)
des.event("net"):fail("link down")
des.sleep(1)
print("not reached")
]])
    assert.equal(1, code)
    h.contains(err, "event 'net' failed at t=3.0 and nothing handled it: link down")
  end)
end)
