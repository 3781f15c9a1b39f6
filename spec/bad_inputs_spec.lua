-- bad_inputs_spec.lua -- the rows of docs/bad-inputs.md not covered by the
-- other specs: unbounded recursion, non-string error objects, many failing
-- tasks, many events. Each leaves the simulation usable.
local des = require "des"
local contains = require("helpers").contains

-- Run sim and return the error it raises (it must raise).
local function run_error(sim)
  local ok, err = pcall(sim.run, sim)
  assert(not ok, "expected the run to fail")
  return tostring(err)
end

describe("bad inputs", function()
  it("unbounded recursion in a task is a stack overflow error naming the task", function()
    local sim = des.new{}
    sim:spawn{ name = "deep", function()
      local function f(n) return 1 + f(n + 1) end
      return f(1)
    end }
    contains(run_error(sim), "task 'deep' (#1) failed at t=0.0", "stack overflow")
    local t = sim:spawn(function() return "still works" end)
    sim:run()
    assert.are.equal("done", t.status)
  end)

  it("reports non-string error objects: __tostring, nil and numbers", function()
    local sim = des.new{}
    sim:spawn{ name = "tbl", function()
      error(setmetatable({}, { __tostring = function() return "custom error" end }))
    end }
    contains(run_error(sim), "task 'tbl'", "custom error")
    sim:spawn{ name = "nil", function() error(nil) end }
    contains(run_error(sim), "task 'nil'", ": nil")
    sim:spawn{ name = "num", function() error(42) end }
    contains(run_error(sim), "task 'num'", ": 42")
  end)

  -- Full sizes in the normal build; a tenth under the sanitizers (~10x slower).
  local scale = os.getenv("DES_SANITIZED") and 1 or 10

  it("survives 10^6 tasks that all fail, through an error handler", function()
    local sim, n = des.new{}, 100000 * scale
    local caught = 0
    sim:on_error(function(task, err)
      if type(err) == "table" and err.id == task.id - 1 then caught = caught + 1 end
    end)
    sim:spawn(function()
      for i = 1, n do des.spawn(function() error({ id = i }) end) end
    end)
    sim:run()
    assert.are.equal(n, caught)
    assert.are.equal(0, #sim:tasks())
  end)

  it("re-raises each error of failed tasks in joiners that wait for them", function()
    local sim, n, caught = des.new{}, 1000, 0
    sim:spawn(function()
      local tasks = {}
      for i = 1, n do tasks[i] = des.spawn(function() des.sleep(1); error({ id = i }) end) end
      local all = des.all(tasks) -- registered before any fails
      local ok = pcall(all.wait, all)
      assert(not ok)
      for i = 1, n do
        local jok, err = pcall(tasks[i].join, tasks[i])
        if not jok and err.id == i then caught = caught + 1 end
      end
    end)
    sim:on_error(function() end) -- the failures after the first are not joined in time
    sim:run()
    assert.are.equal(n, caught)
  end)

  it("handles 10^7 events in one run", function()
    local sim, fired, per_task = des.new{}, 0, 1000 * scale
    sim:spawn(function()
      for _ = 1, 1000 do
        des.spawn(function()
          for _ = 1, per_task - 1 do des.sleep(0.001); fired = fired + 1 end
        end)
      end
    end)
    sim:run()
    assert.are.equal(1000 * (per_task - 1), fired)
    assert.are.equal(0, sim:pending())
  end)
end)
