-- spec/error_chain_spec.lua -- a failure re-raised through join shows the
-- chain (issue 15 item 4): each task's name and the line where it joined,
-- down to the original error and its traceback.
local des = require "des"
local h = require "helpers"
local run = require "run_deshost"

-- Position of plain substring sub in s (must be there).
local function at(s, sub)
  local i = s:find(sub, 1, true)
  assert(i, ("expected %q to contain %q"):format(s, sub))
  return i
end

describe("error chains", function()
  it("name every task and the line where it joined, in order, down to the origin", function()
    local sim = des.new{}
    sim:spawn{name = "top", function()
      local mid = des.spawn{name = "mid", function()
        local leaf = des.spawn{name = "leaf", function()
          des.sleep(1)
          error("disk full")
        end}
        leaf:join() -- JOIN-MID
      end}
      mid:join() -- JOIN-TOP
    end}
    local ok, err = pcall(sim.run, sim)
    assert.is_false(ok)
    local src = debug.getinfo(1, "S").short_src
    local a = at(err, "task 'top' (#1) failed at t=1.0: ")
    local b = at(err, "raised by task 'mid' (#2), joined at " .. src .. ":")
    local c = at(err, "raised by task 'leaf' (#3), joined at " .. src .. ":")
    local d = at(err, "in function 'error'")
    assert.is_true(a < b and b < c and c < d)
    assert.equal(3, select(2, err:gsub("disk full", "")))
  end)

  it("chain a join that returned at once (the child had already failed)", function()
    local sim = des.new{}
    sim:spawn{name = "parent", function()
      local child = des.spawn{name = "child", function() error({ code = 7 }) end}
      des.sleep(1)
      child:join()
    end}
    local ok, err = pcall(sim.run, sim) -- the child fails unjoined first
    assert.is_false(ok)
    h.contains(tostring(err), "task 'child'")
    ok, err = pcall(sim.run, sim)
    assert.is_false(ok)
    h.contains(tostring(err), "task 'parent'", "raised by task 'child' (#2), joined at")
  end)

  it("stop where a task raised a different error after catching the join's", function()
    local sim = des.new{}
    sim:spawn{name = "parent", function()
      local child = des.spawn{name = "child", function() error("inner") end}
      local ok = pcall(child.join, child)
      assert(not ok)
      error("outer")
    end}
    local ok, err = pcall(sim.run, sim)
    assert.is_false(ok)
    h.contains(err, "outer")
    assert.is_nil(err:find("raised by", 1, true))
  end)

  it("show in the deshost report", function()
    if not run.available then return end
    local code, _, err = run([[
local des = require "des"
local w = des.spawn{name = "worker", function() des.sleep(2); error("bad part") end}
w:join()
]])
    assert.equal(1, code)
    h.contains(err, "task 'main' (#1) failed at t=2.0", "raised by task 'worker' (#2), joined at",
               "bad part")
  end)
end)
