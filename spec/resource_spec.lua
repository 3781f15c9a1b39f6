-- resource_spec.lua -- des.resource: grants, queue order, release by
-- <close>, abandoned requests, timeouts, preemption, capacity, statistics.
local des = require "des"

-- Run fn as the main task of a fresh simulation.
local function sim_run(fn)
  local sim = des.new{}
  local t = sim:spawn(fn)
  sim:run()
  return t, sim
end

local anchored = require("helpers").anchored

describe("des.resource", function()
  it("grants up to capacity at once and queues the rest FIFO", function()
    local order = {}
    sim_run(function()
      local res = des.resource(2)
      for i = 1, 4 do
        des.spawn(function()
          local _req <close> = res:acquire()
          order[#order + 1] = string.format("%d@%g", i, des.now())
          des.sleep(1)
        end)
      end
    end)
    assert.are.same({ "1@0", "2@0", "3@1", "4@1" }, order)
  end)

  it("serves by priority, FIFO among equals (lower number first)", function()
    local order = {}
    sim_run(function()
      local res = des.resource(1, { priority = true })
      des.spawn(function() local _r <close> = res:acquire(5); des.sleep(1) end)
      des.sleep(0.1)
      for i, p in ipairs{ 3, 1, 3, 2 } do
        des.spawn(function()
          local _r <close> = res:acquire(p)
          order[#order + 1] = i
          des.sleep(1)
        end)
      end
    end)
    assert.are.same({ 2, 4, 1, 3 }, order)
  end)

  it("releases explicitly, and a second release does nothing", function()
    sim_run(function()
      local res = des.resource(1)
      local req = res:acquire()
      assert.are.equal(1, res.count)
      res:release(req)
      res:release(req)
      assert.are.equal(0, res.count)
      assert.has_error(function() res:release({}) end)
    end)
  end)

  it("removes a waiter that is cancelled and never grants it", function()
    local got = {}
    sim_run(function()
      local res = des.resource(1)
      local holder = des.spawn(function() local _r <close> = res:acquire(); des.sleep(5) end)
      local w = des.spawn(function() local _r <close> = res:acquire(); got[#got + 1] = "w" end)
      local x = des.spawn(function() local _r <close> = res:acquire(); got[#got + 1] = "x" end)
      des.sleep(1)
      assert.are.equal(2, #res.queue)
      w:cancel()
      assert.are.equal(1, #res.queue)
      holder:join()
      x:join()
      assert.are.equal(0, res.count)
    end)
    assert.are.same({ "x" }, got)
  end)

  it("hands on a grant whose task was cancelled before it resumed", function()
    local got
    sim_run(function()
      local res = des.resource(1)
      local first = res:acquire()
      local w = des.spawn(function() local _r <close> = res:acquire(); got = "w" end)
      local x = des.spawn(function() local _r <close> = res:acquire(); got = "x" end)
      des.sleep(1)
      first:release()   -- grants w, which is woken but has not run yet
      w:cancel()        -- so the grant must go on to x
      x:join()
      assert.are.equal(0, res.count)
    end)
    assert.are.equal("x", got)
  end)

  it("times out with nil, 'timed out' and leaves the queue", function()
    sim_run(function()
      local res = des.resource(1)
      local hold = res:acquire()
      local req, err = res:acquire(nil, 2)
      assert.is_nil(req)
      assert.are.equal("timed out", err)
      assert.are.equal(2, des.now())
      assert.are.equal(0, #res.queue)
      hold:release()
      assert.are.equal(0, res.count)
    end)
  end)

  it("removes a waiter that is interrupted", function()
    sim_run(function()
      local res = des.resource(1)
      local hold = res:acquire()
      local w = des.spawn(function()
        local ok, err = pcall(res.acquire, res)
        return ok, des.interrupted(err)
      end)
      des.sleep(1)
      w:interrupt("stop waiting")
      local ok, cause = w:join()
      assert.is_false(ok)
      assert.are.equal("stop waiting", cause)
      assert.are.equal(0, #res.queue)
      hold:release()
    end)
  end)

  it("preempts the worst holder, which sees who and since when", function()
    local seen
    sim_run(function()
      local res = des.resource(1, { preemptive = true })
      local low = des.spawn{ name = "low", function()
        local _r <close> = res:acquire(5)
        local ok, err = pcall(des.sleep, 10)
        if not ok then seen = des.interrupted(err) end
        return des.now()
      end }
      des.sleep(2)
      local high = des.spawn{ name = "high", function()
        local _r <close> = res:acquire(1)
        des.sleep(1)
      end }
      assert.are.equal(2, low:join())
      high:join()
      assert.are.equal(0, res.count)
    end)
    assert.are.equal("preempted", seen.kind)
    assert.are.equal("high", seen.by.name)
    assert.are.equal(0, seen.usage_since)
  end)

  it("grows and shrinks its capacity", function()
    sim_run(function()
      local res = des.resource(1)
      local a = res:acquire()
      local w = des.spawn(function() return res:acquire() end)
      des.sleep(1)
      res:set_capacity(2)
      local b = w:join()
      assert.are.equal(2, res.count)
      res:set_capacity(1)
      assert.are.equal(2, res.count) -- nobody loses a server
      a:release()
      b:release()
      assert.has_error(function() res:set_capacity(0) end)
    end)
  end)

  it("keeps time-weighted queue and busy statistics and waiting times", function()
    local res
    sim_run(function()
      res = des.resource(1)
      for _ = 1, 3 do
        des.spawn(function() local _r <close> = res:acquire(); des.sleep(2) end)
      end
    end)
    local busy, queue, wait = res.stats.busy:report(), res.stats.queue:report(),
                              res.stats.wait:report()
    assert.are.equal(6, busy.duration)
    assert.are.equal(1, busy.mean)
    assert.is_true(math.abs(queue.mean - (2 * 2 + 1 * 2) / 6) < 1e-12)
    assert.are.equal(3, wait.count)
    assert.are.equal(2, wait.mean) -- waits 0, 2, 4
  end)

  it("refuses bad arguments", function()
    local h = require "helpers"
    h.contains(h.err_of(des.resource, 0), "capacity must be an integer >= 1")
    h.contains(h.err_of(des.resource, 1.5), "capacity must be an integer >= 1")
    h.contains(h.err_of(des.resource, 1, 5), "options must be a table")
    sim_run(function()
      local res = des.resource(1)
      h.contains(h.err_of(res.acquire, res, "high"), "priority must be a number")
      h.contains(h.err_of(res.acquire, res, nil, -1), "timeout must be a number >= 0")
      h.contains(h.err_of(res.acquire, res, nil, 0 / 0), "timeout must be a number >= 0")
      h.contains(h.err_of(res.set_capacity, res, 0), "capacity must be an integer >= 1")
      h.contains(h.err_of(res.release, res, {}), "not a request of this resource")
      local other = des.resource(1):acquire()
      h.contains(h.err_of(res.release, res, other), "not a request of this resource")
      h.contains(h.err_of(res.acquire, {}), "des.resource expected")
    end)
    local busy = des.resource(1)
    local _held = busy:acquire() -- outside a task: granted at once when free
    h.contains(h.err_of(busy.acquire, busy), "not inside a task")
  end)

  it("keeps no request it let go of: cancelled, interrupted, timed out, released", function()
    local res
    sim_run(function()
      res = des.resource(1)
      des.spawn(function() local _r <close> = res:acquire(); des.sleep(1e6) end)
      for _ = 1, 200 do
        des.spawn(function() res:acquire(nil, 0.5) end)
        local c = des.spawn(function() res:acquire() end)
        local i = des.spawn(function() pcall(res.acquire, res) end)
        des.sleep(0.1)
        c:cancel()
        i:interrupt("go")
        des.sleep(1)
      end
      assert.are.equal(0, #res.queue)
    end)
    assert.are.equal(0, #anchored(res)) -- the holder released at the end too
  end)

  it("lists its waiting requests, holders and waiters in order, and prints itself", function()
    sim_run(function()
      local res = des.resource(1, { name = "desk" })
      local function user(t)
        return function() local _r <close> = res:acquire(); des.sleep(t) end
      end
      local a = des.spawn{ name = "a", user(5) }
      local b = des.spawn{ name = "b", user(1) }
      local c = des.spawn{ name = "c", user(1) }
      des.sleep(1)
      assert.are.same({ a }, res:holders())
      assert.are.same({ b, c }, res:waiters())
      local q = res.queue
      assert.are.equal(2, #q)
      assert.are.equal(b, q[1].task)
      assert.is_false(q[1].granted)
      assert.are.equal("des.resource 'desk': 1/1 in use, 2 waiting", tostring(res))
      assert.are.equal("desk", res.name)
    end)
  end)
end)
