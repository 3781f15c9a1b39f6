-- spec/same_turn_spec.lua -- des.sleep(d) and des.timeout(d):wait() wake
-- in the same turn (issue 15 item 5): a task waiting on a timeout resumes
-- when the timeout fires, in its place among the events due at that time,
-- exactly as a sleep of the same length started at the same moment would.
local des = require "des"

-- Two tasks started in order; the first waits with `wait1`, the second
-- with `wait2`, both for 1 unit; a third task, started last, sleeps 1 and
-- logs. Returns the log order.
local function order(wait1, wait2)
  local sim = des.new{}
  local log = {}
  sim:spawn(function() wait1(1); log[#log + 1] = "a" end)
  sim:spawn(function() wait2(1); log[#log + 1] = "b" end)
  sim:spawn(function() des.sleep(1); log[#log + 1] = "c" end)
  sim:run()
  return table.concat(log)
end

local function sleep(d) des.sleep(d) end
local function timeout(d) des.timeout(d):wait() end

describe("sleep and timeout:wait", function()
  it("resume in the same turn: the order depends only on when they began", function()
    assert.equal("abc", order(sleep, sleep))
    assert.equal("abc", order(timeout, timeout))
    assert.equal("abc", order(sleep, timeout))
    assert.equal("abc", order(timeout, sleep))
  end)

  it("see a preemption at the same instant alike", function()
    local function seen(wait)
      local sim = des.new{}
      local got
      sim:spawn(function()
        local flag = false
        des.spawn(function() wait(2); got = flag end)
        des.spawn(function() des.sleep(2); flag = true end)
      end)
      sim:run()
      return got
    end
    assert.equal(seen(sleep), seen(timeout))
    assert.is_false(seen(timeout))
  end)

  it("wake several waiters of one timeout in the order they waited", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      local to = des.timeout(1)
      for i = 1, 3 do des.spawn(function() to:wait(); log[#log + 1] = i end) end
      des.spawn(function() des.sleep(1); log[#log + 1] = "late sleeper" end)
    end)
    sim:run()
    -- the sleeper started after the timeout was made: it comes after
    assert.same({ 1, 2, 3, "late sleeper" }, log)
  end)

  it("still wake a waiter that a callback of the timeout interrupts, with the interrupt", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local to = des.timeout(1)
      local t = des.spawn(function()
        local ok, e = pcall(to.wait, to)
        got = ok and "woke" or des.interrupted(e)
      end)
      to:on(function() t:interrupt("cb") end)
    end)
    sim:run()
    assert.equal("cb", got)
  end)

  it("cancelled by a callback of the timeout, a waiter stays cancelled", function()
    local sim = des.new{}
    local t
    sim:spawn(function()
      local to = des.timeout(1)
      t = des.spawn(function() to:wait(); error("must not run") end)
      to:on(function() t:cancel() end)
    end)
    sim:run()
    assert.equal("cancelled", t.status)
  end)

  it("keep the run's outcome when a woken task fails", function()
    local sim = des.new{}
    local other = false
    sim:spawn(function()
      local to = des.timeout(1)
      des.spawn{ name = "bad", function() to:wait(); error("boom") end }
      des.spawn(function() to:wait(); other = true end)
    end)
    local ok, err = pcall(sim.run, sim)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("task 'bad'", 1, true))
    assert.is_false(other) -- not yet: it resumes in the next run
    sim:run()
    assert.is_true(other)
  end)
end)
