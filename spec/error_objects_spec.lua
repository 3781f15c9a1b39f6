-- spec/error_objects_spec.lua -- hostile error objects (issue 14 item 7):
-- whatever an error's __tostring does (raise, return a non-string, yield,
-- call des, cancel its own task) and whatever its metatable holds, the task
-- ends FAILED with the original object, joiners and on_error get it, the
-- run reports it with a fallback text, and the simulation stays usable.
local des = require "des"
local h = require "helpers"
local contains, err_of = h.contains, h.err_of

-- Hostile error objects, by name. Each is a function (so that every test
-- gets fresh ones) returning the object.
local function raising(v) return function() error(v) end end
local self_task -- set by the task body, for the __tostring that cancel it
local hostile = {
  ["__tostring raises a string"] = function()
    return setmetatable({}, { __tostring = raising("boom in tostring") })
  end,
  ["__tostring returns a number"] = function()
    return setmetatable({}, { __tostring = function() return 42 end })
  end,
  ["__tostring returns nil"] = function()
    return setmetatable({}, { __tostring = function() end })
  end,
  ["__tostring returns a table with a __tostring"] = function()
    local inner = setmetatable({}, { __tostring = function() return "inner" end })
    return setmetatable({}, { __tostring = function() return inner end })
  end,
  ["__tostring yields"] = function()
    return setmetatable({}, { __tostring = function() return coroutine.yield("y") end })
  end,
  ["__tostring sleeps"] = function()
    return setmetatable({}, { __tostring = function() des.sleep(1); return "late" end })
  end,
  ["__tostring raises a hostile object"] = function()
    local worse = setmetatable({}, { __tostring = raising("worse"),
                                     __index = raising("index") })
    return setmetatable({}, { __tostring = function() error(worse) end })
  end,
  ["__tostring cancels and interrupts its task"] = function()
    return setmetatable({}, { __tostring = function()
      self_task:interrupt("late")
      self_task:cancel()
      return "after cancel"
    end })
  end,
  ["__tostring recurses"] = function()
    local o = {}
    setmetatable(o, { __tostring = function(x) return tostring(x) end })
    return o
  end,
  ["__index, __name, __eq, __len, __concat raise"] = function()
    return setmetatable({}, { __index = raising("index"), __newindex = raising("newindex"),
                              __name = {}, __eq = raising("eq"), __len = raising("len"),
                              __concat = raising("concat"), __call = raising("call") })
  end,
  ["__name is a string, no __tostring"] = function()
    return setmetatable({}, { __name = "MyError", __index = raising("index") })
  end,
  ["a userdata-like table with __metatable"] = function()
    return setmetatable({}, { __metatable = false, __tostring = raising("hidden") })
  end,
}

-- Run a task named "bad" that fails with obj; returns sim, task.
local function failing(sim, obj)
  local t = sim:spawn{name = "bad", function()
    self_task = des.self()
    des.sleep(1)
    error(obj)
  end}
  return t
end

describe("a hostile error object", function()
  for name, make in pairs(hostile) do
    describe("(" .. name .. ")", function()
      it("is reported with a fallback; the task ends failed", function()
        local sim, obj = des.new{}, make()
        local t = failing(sim, obj)
        local other = sim:spawn(function() des.sleep(5); return "other" end)
        local e = err_of(sim.run, sim)
        assert.equal("string", type(e))
        contains(e, "task 'bad' (#1) failed at t=1.0")
        assert.equal("failed", t.status)
        assert.is_true(rawequal(obj, t.error))
        -- the simulation is consistent: cancel, join, more runs
        t:cancel()
        assert.equal("failed", t.status)
        sim:run()
        assert.equal("done", other.status)
        local ok, je = pcall(t.join, t)
        assert.is_false(ok)
        assert.is_true(rawequal(obj, je))
        assert.equal("string", type(t:traceback()))
        sim:close()
      end)

      it("reaches joiners and on_error as the original object", function()
        local sim, obj = des.new{}, make()
        local seen = {}
        sim:on_error(function(task, err) seen[#seen + 1] = { task, err } end)
        local t = failing(sim, obj)
        local joined
        sim:spawn(function()
          local ok, je = pcall(t.join, t)
          joined = { ok, je }
        end)
        sim:run()
        assert.equal("failed", t.status)
        assert.is_false(joined[1])
        assert.is_true(rawequal(obj, joined[2]))
        assert.equal(0, #seen) -- joined: not unhandled
        local u = failing(sim, obj)
        sim:run()
        assert.equal(1, #seen)
        assert.is_true(rawequal(u, seen[1][1]))
        assert.is_true(rawequal(obj, seen[1][2]))
      end)
    end)
  end

  it("names why __tostring failed", function()
    local sim = des.new{}
    failing(sim, hostile["__tostring raises a string"]())
    contains(err_of(sim.run, sim),
             "(error object is a table value; its __tostring failed: ",
             "boom in tostring")
    sim = des.new{}
    failing(sim, hostile["__tostring returns nil"]())
    contains(err_of(sim.run, sim), "'__tostring' must return a string")
    sim = des.new{}
    failing(sim, hostile["__tostring yields"]())
    contains(err_of(sim.run, sim), "__tostring failed", "yield")
    sim = des.new{}
    failing(sim, hostile["__tostring raises a hostile object"]())
    contains(err_of(sim.run, sim), "__tostring failed with a table value")
    sim = des.new{}
    failing(sim, hostile["__name is a string, no __tostring"]())
    contains(err_of(sim.run, sim), "failed at t=1.0: (error object is a MyError value)")
  end)

  it("from an on_error handler is reported with the task's failure", function()
    local sim = des.new{}
    sim:on_error(function() error(hostile["__tostring raises a string"]()) end)
    failing(sim, "plain")
    local e = err_of(sim.run, sim)
    contains(e, "error handler failed: (error object is a table value",
             "while handling: task 'bad' (#1) failed at t=1.0: ")
  end)

  it("from a <close> variable of a failing task is noted", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local t = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function()
        error(hostile["__tostring raises a string"]())
      end })
      error("first")
    end)
    sim:run()
    assert.equal("failed", t.status)
    contains(t:traceback(), "first", "(and a <close> variable raised: (error object")
  end)

  it("from a <close> variable while cancelling fails the task", function()
    local sim = des.new{}
    local obj = hostile["__tostring raises a string"]()
    local t = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() error(obj) end })
      des.sleep(5)
    end)
    sim:run(1)
    t:cancel()
    assert.equal("failed", t.status)
    assert.is_true(rawequal(obj, t.error))
  end)

  it("from an event callback is reported", function()
    local sim = des.new{}
    sim:spawn(function()
      des.timeout(1):on(function() error(hostile["__tostring returns nil"]()) end)
    end)
    contains(err_of(sim.run, sim), "event callback failed at t=1.0: (error object is a table")
  end)

  it("from a trace function does not stop the run", function()
    local sim = des.new{}
    sim:trace(function() error(hostile["__tostring yields"]()) end)
    local t = sim:spawn(function() des.sleep(1) end)
    sim:run()
    assert.equal("done", t.status)
  end)

  it("as an interrupt cause prints with a fallback", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local cause = hostile["__tostring raises a string"]()
    local t = sim:spawn{name = "i", function() des.sleep(5) end}
    sim:run(1)
    t:interrupt(cause)
    sim:run()
    assert.equal("failed", t.status)
    assert.is_true(rawequal(cause, t.error.cause))
    contains(tostring(t.error), "interrupted: (error object is a table value")
    contains(t:traceback(), "interrupted: (error object is a table value")
  end)
end)

describe("the runtime's own error objects", function()
  it("hide their metatables: none can be changed or forged", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local c = sim:spawn(function() des.sleep(5) end)
    local i = sim:spawn(function() des.sleep(5) end)
    sim:run(1)
    c:cancel()
    i:interrupt("x")
    sim:run()
    assert.equal("des.Cancelled", getmetatable(c.error))
    assert.equal("des.Interrupt", getmetatable(i.error))
    assert.has_error(function() setmetatable(c.error, nil) end)
    assert.has_error(function() setmetatable(i.error, {}) end)
    -- a forged cancel (same fields) is an ordinary failure
    local f
    f = sim:spawn(function() error({ task = f, kind = "cancelled" }) end)
    sim:run()
    assert.equal("failed", f.status)
    contains(tostring(c.error), "was cancelled")
  end)

  it("a task cancelled again by its own <close> handler ends cancelled", function()
    local sim = des.new{}
    local t
    t = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() t:cancel() end })
      des.sleep(5)
    end)
    local u = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() des.self():cancel() end })
      error("first")
    end)
    sim:on_error(function() end)
    sim:run(1)
    t:cancel()
    assert.equal("cancelled", t.status)
    assert.is_true(des.cancelled(t.error))
    -- failing first: it stays failed, its error kept, the cancel noted
    assert.equal("failed", u.status)
    contains(u:traceback(), "first", "(and a <close> variable raised: task #2 was cancelled)")
  end)

  it("print even when their fields were changed", function()
    local sim = des.new{}
    local c = sim:spawn(function() des.sleep(5) end)
    sim:run(1)
    c:cancel()
    local e = c.error
    e.task = setmetatable({}, { __tostring = raising("no") })
    assert.equal("task was cancelled", tostring(e))
  end)
end)

describe("under deshost --sandbox", function()
  local run = require "run_deshost"
  local session = require "repl_session"
  if not run.available then return end

  it("an unhandled hostile error is reported; exit status 1", function()
    local code, _, err = run([[
local des = require "des"
des.spawn{name = "bad", function()
  des.sleep(1)
  error(setmetatable({}, { __tostring = function() error("boom") end }))
end}
]])
    assert.equal(1, code)
    contains(err, "task 'bad' (#2) failed at t=1.0: (error object is a table value; "
                  .. "its __tostring failed: ", "boom", "stack traceback:")
  end)

  it("on_error gets it; the run goes on and ends with status 0", function()
    local code, out, err = run([[
local des = require "des"
des.on_error(function(t, e) print("handled", t.name, type(e), rawequal(e, _G.E)) end)
_G.E = setmetatable({}, { __tostring = function() return {} end, __index = error })
local t = des.spawn{name = "bad", function() des.sleep(1); error(_G.E) end}
des.sleep(2)
t:cancel()
print(t.status)
]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("handled\tbad\ttable\ttrue\nfailed\n", out)
  end)

  it("a __tostring that loops ends at the budget, the task failed", function()
    local code, _, err = run([[
local des = require "des"
des.spawn{name = "bad", function()
  des.sleep(1)
  error(setmetatable({}, { __tostring = function() while true do end end }))
end}
]], 1000000)
    assert.is_true(code ~= 0)
    contains(err, "task 'bad' (#2) failed at t=1.0: (error object is a table value; "
                  .. "its __tostring failed: instruction budget of 1000000 exhausted")
  end)

  it("the REPL prints hostile errors and goes on", function()
    local out = session('local des = require "des"; des.sleep(1)\n', {
      'error(setmetatable({}, { __tostring = function() error("x") end }))',
      'error({})',
      'show setmetatable({}, { __index = function() error(setmetatable({}, '
        .. '{ __tostring = function() return {} end })) end }).x',
      'print("still here")' })
    contains(out, "(error object is a table value; its __tostring failed)",
             "show: (error object is a table value; its __tostring failed)", "still here")
    assert.is_nil(out:find("gsub", 1, true))
  end)

  it("the main chunk's hostile error is reported", function()
    local code, _, err = run([[
error(setmetatable({}, { __tostring = function() coroutine.yield() end }))
]])
    assert.equal(1, code)
    contains(err, "task 'main' (#1) failed at t=0.0: (error object is a table value; "
                  .. "its __tostring failed: ")
  end)
end)
