-- requests_spec.lua -- requests are events (issue 15 items 6 and 16):
-- res:request, st:get_request/put_request, c:get_request/put_request in
-- des.any/des.all, reneging, withdrawal on <close>, interrupts, preempt =
-- false, maxlen, reneged statistics, res.queued, and hostile uses.
local des = require "des"
local h = require "helpers"

-- Run fn as the main task of a fresh simulation; returns the task, sim.
local function sim_run(fn)
  local sim = des.new{}
  local t = sim:spawn(fn)
  sim:run()
  return t, sim
end

-- A task holding res for dt from now.
local function hold(res, dt, prio)
  return des.spawn(function()
    local _r <close> = res:acquire(prio)
    des.sleep(dt)
  end)
end

describe("resource requests", function()
  it("renege with des.any{req, timeout}: SimPy's idiom", function()
    local res, log
    sim_run(function()
      res = des.resource(1, { name = "clerk" })
      hold(res, 10)
      des.sleep(0)
      local req <close> = res:request()
      assert.are.equal(1, res.queued)
      local got = des.any{ req, des.timeout(5) }:wait()
      log = { t = des.now(), granted = req.granted, queued = req.queued, timeout = got ~= req }
    end)
    assert.are.same({ t = 5, granted = false, queued = true, timeout = true }, log)
    assert.are.equal(0, res.queued) -- closing withdrew it
    assert.are.equal(0, res.count)
    assert.are.equal(1, res.stats.reneged.count)
    assert.are.equal(5, res.stats.reneged.mean)
    assert.are.equal(1, res.stats.wait.count) -- only the holder's (0) wait
    assert.are.equal(0, res.stats.wait.mean)
  end)

  it("a request granted inside the any holds its server until closed", function()
    local res, log = nil, {}
    sim_run(function()
      res = des.resource(1)
      hold(res, 3)
      des.sleep(0)
      do
        local req <close> = res:request()
        local got = des.any{ req, des.timeout(5) }:wait()
        log[#log + 1] = { des.now(), got == req, req.granted, req.granted_at, res.count }
        des.sleep(1)
        assert.are.equal(1, res.count)
      end
      log[#log + 1] = res.count
    end)
    assert.are.same({ { 3, true, true, 3, 1 }, 0 }, log)
    assert.are.equal(0, res.stats.reneged.count)
    assert.are.equal(2, res.stats.wait.count)
  end)

  it("is granted at once when a server is free; wait returns the request", function()
    sim_run(function()
      local res = des.resource(2)
      local req <close> = res:request()
      assert.is_true(req.granted and req.triggered and req.ok)
      assert.are.equal(req, req:wait())
      assert.are.equal("request", req.kind)
      assert.are.equal(1, res.count)
      local got = des.any{ req, des.timeout(1) }:wait()
      assert.are.equal(req, got)
      assert.are.equal(0, des.now())
    end)
  end)

  it("des.all waits for requests of several resources", function()
    local t_all
    sim_run(function()
      local a, b = des.resource(1), des.resource(1)
      hold(a, 2); hold(b, 4)
      des.sleep(0)
      local ra <close> = a:request()
      local rb <close> = b:request()
      des.all{ ra, rb }:wait()
      t_all = des.now()
      assert.is_true(ra.granted and rb.granted)
    end)
    assert.are.equal(4, t_all)
  end)

  it("withdraws a queued request on close: nothing lost, no server leaked", function()
    local res, order = nil, {}
    sim_run(function()
      res = des.resource(1)
      hold(res, 2)
      des.sleep(0)
      do
        local _req <close> = res:request()
      end
      des.spawn(function()
        local _r <close> = res:acquire()
        order[#order + 1] = des.now()
      end)
    end)
    assert.are.same({ 2 }, order)
    assert.are.equal(0, res.count)
    assert.are.equal(0, res.queued)
    assert.are.equal(1, res.stats.reneged.count)
  end)

  it("release after the grant frees the server for the next; twice is harmless", function()
    local res, got
    sim_run(function()
      res = des.resource(1)
      local req <close> = res:request()
      local waiter = des.spawn(function()
        local r <close> = res:request()
        r:wait()
        got = des.now()
      end)
      des.sleep(1)
      req:release()
      req:release()
      assert.is_true(req.released and not req.reneged)
      waiter:join()
    end)
    assert.are.equal(1, got)
    assert.are.equal(0, res.count)
  end)

  it("keeps a request across an interrupt: the task may wait on it again", function()
    local res, log = nil, {}
    sim_run(function()
      res = des.resource(1)
      hold(res, 5)
      des.sleep(0)
      local me = des.self()
      des.spawn(function() des.sleep(1); me:interrupt("hey") end)
      local req <close> = res:request()
      local ok, err = pcall(req.wait, req)
      log[#log + 1] = { ok, des.interrupted(err), des.now(), req.queued }
      req:wait()
      log[#log + 1] = { des.now(), req.granted }
    end)
    assert.are.same({ { false, "hey", 1, true }, { 5, true } }, log)
    assert.are.equal(0, res.stats.reneged.count)
  end)

  it("a request is waited on by any task, not only the one that made it", function()
    local at
    sim_run(function()
      local res = des.resource(1)
      hold(res, 2)
      des.sleep(0)
      local req <close> = res:request()
      local other = des.spawn(function() req:wait(); at = des.now() end)
      other:join()
    end)
    assert.are.equal(2, at)
  end)

  it("a granted request never released keeps its server after its task ended (as SimPy)",
     function()
    local res
    sim_run(function()
      res = des.resource(1)
      des.spawn(function() res:request() end):join()
      assert.are.equal(1, res.count)
      local r, err = res:acquire(nil, 3)
      assert.is_nil(r)
      assert.are.equal("timed out", err)
    end)
    assert.are.equal(1, res.count)
    assert.are.equal(1, res.stats.reneged.count)
  end)

  it("res.queued counts what res.queue lists", function()
    sim_run(function()
      local res = des.resource(1)
      hold(res, 1)
      des.sleep(0)
      local a <close> = res:request()
      local b <close> = res:request()
      local w = des.spawn(function() res:acquire() end)
      des.sleep(0)
      assert.are.equal(3, res.queued)
      local q = res.queue
      assert.are.equal(3, #q)
      assert.are.equal(a, q[1])
      assert.are.equal(b, q[2])
      w:cancel()
      assert.are.equal(2, res.queued)
    end)
  end)

  it("request + wait is acquire: an M/M/2 queue gives the same waits either way", function()
    local function mm2(use_request)
      local x = 88172645463325252
      local function uniform()
        x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)
        return ((x >> 11) + 0.5) * (1.0 / 9007199254740992)
      end
      local res, total = nil, 0
      sim_run(function()
        res = des.resource(2)
        for _ = 1, 2000 do
          des.spawn(function()
            local arrived = des.now()
            local req <close> = use_request and res:request() or res:acquire()
            if use_request then req:wait() end
            total = total + (des.now() - arrived)
            des.sleep(-math.log(uniform()))
          end)
          des.sleep(-math.log(uniform()) / 1.8)
        end
      end)
      return { total, res.stats.wait.count, res.stats.wait.mean, res.stats.busy.mean }
    end
    local by_acquire, by_request = mm2(false), mm2(true)
    assert.is_true(by_acquire[1] > 0 and by_acquire[2] == 2000)
    assert.are.same(by_acquire, by_request)
  end)

  it("acquire's timeouts, interrupts and cancels are reneging too", function()
    local res
    sim_run(function()
      res = des.resource(1)
      hold(res, 10)
      des.sleep(0)
      des.spawn(function() res:acquire(nil, 2) end)
      local i = des.spawn(function() pcall(res.acquire, res) end)
      local c = des.spawn(function() res:acquire() end)
      des.sleep(3)
      i:interrupt()
      des.sleep(1)
      c:cancel()
    end)
    assert.are.equal(3, res.stats.reneged.count)
    assert.are.equal((2 + 3 + 4) / 3, res.stats.reneged.mean)
    assert.are.equal(1, res.stats.wait.count)
  end)
end)

describe("preempt = false and maxlen", function()
  it("preempt = false queues by priority without preempting", function()
    local log = {}
    sim_run(function()
      local res = des.resource(1, { preemptive = true })
      local holder = des.spawn(function()
        local ok, err = pcall(function()
          local _r <close> = res:acquire(5)
          des.sleep(4)
        end)
        log[#log + 1] = ok and "holder done" or "holder preempted"
        if not ok then assert(des.interrupted(err)) end
      end)
      des.sleep(1)
      local _low <close> = res:request(7)
      local polite <close> = res:request(0, { preempt = false })
      assert.is_false(polite.granted)
      assert.are.equal(polite, res.queue[1]) -- ahead of the priority-3 one
      polite:wait()
      log[#log + 1] = des.now()
      holder:join()
    end)
    assert.are.same({ "holder done", 4 }, log)
  end)

  it("without preempt = false the same request preempts", function()
    local log = {}
    sim_run(function()
      local res = des.resource(1, { preemptive = true })
      des.spawn(function()
        local ok = pcall(function()
          local _r <close> = res:acquire(5)
          des.sleep(4)
        end)
        log[#log + 1] = ok and "done" or "preempted"
      end)
      des.sleep(1)
      local req <close> = res:request(0)
      assert.is_true(req.granted)
      des.sleep(0)
    end)
    assert.are.same({ "preempted" }, log)
  end)

  it("refuses bad options", function()
    local res = des.resource(1)
    h.contains(h.err_of(res.request, res, 0, { preempt = 1 }), "preempt must be a boolean")
    h.contains(h.err_of(res.request, res, 0, 7), "options must be a table")
    h.contains(h.err_of(res.request, res, "x"), "priority must be a number")
    h.contains(h.err_of(des.resource, 1, { maxlen = -1 }), "maxlen must be an integer >= 0")
    h.contains(h.err_of(des.resource, 1, { maxlen = 1.5 }), "maxlen must be an integer >= 0")
  end)

  it("maxlen: a request beyond it fails at once with a clear error object", function()
    local res, full
    sim_run(function()
      res = des.resource(1, { maxlen = 1, name = "desk" })
      assert.are.equal(1, res.maxlen)
      local a <close> = res:request()
      local b <close> = res:request()
      local c <close> = res:request()
      assert.is_true(a.granted)
      assert.is_true(b.queued)
      assert.is_false(c.ok)
      full = c.error
      assert.are.equal("queue full", full.kind)
      assert.are.equal(res, full.resource)
      assert.are.equal(1, full.maxlen)
      h.contains(tostring(full), "resource 'desk' is full", "maxlen")
      local ok, err = pcall(c.wait, c)
      assert.is_false(ok)
      assert.are.equal(full, err)
      ok, err = pcall(function() return des.any{ c, des.timeout(1) }:wait() end)
      assert.is_false(ok)
      assert.are.equal(full, err)
      -- acquire raises the same kind of error
      ok, err = pcall(res.acquire, res)
      assert.is_false(ok)
      assert.are.equal("queue full", err.kind)
      assert.are.equal(1, res.queued)
    end)
    assert.are.equal(0, res.count)
    assert.are.equal(0, res.queued)
  end)

  it("maxlen = 0: never queues", function()
    sim_run(function()
      local res = des.resource(1, { maxlen = 0 })
      local _a <close> = res:acquire()
      local b <close> = res:request()
      assert.is_false(b.ok)
      assert.are.equal(0, res.queued)
    end)
  end)
end)

describe("store and container requests", function()
  it("st:get_request in des.any: renege, or get the item", function()
    local st, log = nil, {}
    sim_run(function()
      st = des.store()
      des.spawn(function() des.sleep(8); st:put("late") end)
      do
        local g <close> = st:get_request()
        local got = des.any{ g, des.timeout(5) }:wait()
        log[#log + 1] = { des.now(), g.granted, got == g }
      end
      local g2 <close> = st:get_request()
      local got, item = des.any{ g2, des.timeout(5) }:wait()
      log[#log + 1] = { des.now(), g2.granted, got == g2, item, g2.item }
    end)
    assert.are.same({ { 5, false, false }, { 8, true, true, "late", "late" } }, log)
    assert.are.equal(0, #st) -- the item went to the second request
    assert.are.equal(1, st.stats.reneged.count)
    assert.are.equal(5, st.stats.reneged.mean)
    assert.are.equal(1, st.stats.wait.count)
  end)

  it("a withdrawn get request loses no item; its filter is kept", function()
    local st, got
    sim_run(function()
      st = des.store()
      do
        local _g <close> = st:get_request(function(x) return x == "eggs" end)
      end
      local want <close> = st:get_request(function(x) return x == "spam" end)
      st:put("eggs")
      st:put("spam")
      got = want:wait()
      assert.is_true(want.granted)
    end)
    assert.are.equal("spam", got)
    assert.are.same({ "eggs" }, st.items)
  end)

  it("an item already there is granted at once", function()
    sim_run(function()
      local st = des.store()
      st:put(1)
      local g <close> = st:get_request()
      assert.is_true(g.granted)
      assert.are.equal(1, g.item)
      assert.are.equal(1, g:wait())
    end)
  end)

  it("st:put_request waits for room and is withdrawn on close", function()
    local st
    sim_run(function()
      st = des.store(1)
      st:put("a")
      do
        local p <close> = st:put_request("b")
        assert.is_false(p.granted)
        local got = des.any{ p, des.timeout(1) }:wait()
        assert.are_not.equal(p, got)
      end
      local p2 <close> = st:put_request("c")
      des.spawn(function() des.sleep(2); st:get() end)
      assert.is_true(p2:wait())
      assert.are.equal(3, des.now())
    end)
    assert.are.same({ "c" }, st.items)
  end)

  it("c:get_request / c:put_request: renege, and a withdrawn head lets the rest through",
     function()
    local c, log = nil, {}
    sim_run(function()
      c = des.container(100, 10)
      local big <close> = c:get_request(50)
      local small = c:get_request(5)
      assert.is_false(small.granted) -- FIFO: behind the big one
      local got = des.any{ big, des.timeout(1) }:wait()
      log[#log + 1] = got == big
      big:release()
      log[#log + 1] = small.granted
      assert.is_true(small:wait())
      log[#log + 1] = c.level
      local p <close> = c:put_request(90)
      log[#log + 1] = p.granted
      local p2 <close> = c:put_request(10)
      log[#log + 1] = p2.granted
    end)
    assert.are.same({ false, true, 5, true, false }, log)
    assert.are.equal(95, c.level) -- the queued put was withdrawn
  end)

  it("blocking get/put are the shorthands: timeouts leave nothing queued", function()
    local st, c
    sim_run(function()
      st, c = des.store(1), des.container(10, 0)
      assert.are.same({ nil, "timed out" }, { st:get(nil, 2) })
      st:put(1)
      assert.are.same({ nil, "timed out" }, { st:put(2, 1) })
      assert.are.same({ nil, "timed out" }, { c:get(3, 1) })
      assert.are.equal(0, #st.getq + #st.putq + #c.getq + #c.putq)
    end)
    assert.are.equal(1, st.stats.reneged.count)
    assert.are.equal(2, st.stats.reneged.mean)
  end)

  it("a blocking get cancelled after it was served gives the item back", function()
    local st, got
    sim_run(function()
      st = des.store()
      local g = des.spawn(function() return st:get() end)
      des.sleep(1)
      st:put("x") -- serves g, which has not resumed yet
      g:cancel()
      got = st:get()
    end)
    assert.are.equal("x", got)
  end)
end)

describe("hostile uses of requests", function()
  it("closed twice, released twice, released from another task", function()
    local res, log = nil, {}
    sim_run(function()
      res = des.resource(1)
      hold(res, 5)
      des.sleep(0)
      local req = res:request()
      local waiter = des.spawn(function()
        local ok, err = pcall(req.wait, req)
        log[#log + 1] = { ok, tostring(err):match("withdrawn") }
      end)
      des.sleep(1)
      des.spawn(function() req:release() end):join() -- from another task
      waiter:join()
      do
        local r2 <close> = res:request()
        r2:release()
      end -- closed after release: nothing
      assert.are.equal(0, res.queued)
    end)
    assert.are.same({ { false, "withdrawn" } }, log)
    assert.are.equal(0, res.count)
  end)

  it("used in des.any after release: fails (withdrawn) or raises on wait (released)",
     function()
    sim_run(function()
      local res = des.resource(1)
      local granted = res:request()
      local queued = res:request()
      queued:release()
      granted:release()
      h.contains(tostring(select(2, pcall(function() return des.any{ queued }:wait() end))),
                 "withdrawn")
      h.contains(h.err_of(granted.wait, granted), "was released")
      h.contains(tostring(h.err_of(queued.wait, queued)), "withdrawn")
      assert.are.equal(0, res.count)
    end)
  end)

  it("an acquire released from another task through res.queue raises, not hangs", function()
    local msg
    sim_run(function()
      local res = des.resource(1)
      hold(res, 5)
      des.sleep(0)
      local w = des.spawn(function()
        local ok, err = pcall(res.acquire, res)
        msg = not ok and tostring(err)
      end)
      des.sleep(1)
      res.queue[1]:release()
      w:join()
    end)
    h.contains(msg, "withdrawn")
  end)

  it("an acquire's queued request in des.any: the any waits on when its task leaves",
     function()
    local got
    sim_run(function()
      local res = des.resource(1)
      hold(res, 5)
      des.sleep(0)
      local w = des.spawn(function() res:acquire() end)
      des.sleep(0)
      local to = des.timeout(10)
      local any = des.any{ res.queue[1], to }
      des.spawn(function() des.sleep(1); w:cancel() end)
      got = any:wait() == to and des.now()
    end)
    assert.are.equal(10, got)
  end)

  it("an interrupt in SimPy's idiom ends cleanly: the abandoned any reports nothing",
     function()
    for _, kind in ipairs{ "resource", "store", "container" } do
      local caught
      local sim = des.new{}
      sim:spawn(function()
        local res, st, c = des.resource(1), des.store(), des.container(10, 0)
        hold(res, 20)
        des.sleep(0)
        local me = des.self()
        des.spawn(function() des.sleep(1); me:interrupt("stop") end)
        local ok, err = pcall(function()
          local req <close> = kind == "resource" and res:request()
                              or kind == "store" and st:get_request() or c:get_request(5)
          des.any{ req, des.timeout(5) }:wait()
        end)
        caught = not ok and des.interrupted(err)
        des.sleep(10) -- past the abandoned any's timeout: the run goes on
      end)
      sim:run()
      assert.are.equal("stop", caught)
      assert.are.equal(20, sim:now())
    end
  end)

  it("a request of a closed simulation is refused; releasing it still works", function()
    local sim = des.new{}
    local res, req
    sim:spawn(function()
      res = des.resource(1)
      req = res:request()
      des.sleep(1)
    end)
    sim:run()
    sim:close()
    h.contains(h.err_of(res.request, res), "closed")
    req:release()
    assert.are.equal(0, res.count)
  end)

  it("another simulation's task can neither make nor wait on a request", function()
    local res = des.resource(1)
    local a = res:request()
    local b = res:request()
    local errs = {}
    local other = des.new{}
    other:spawn(function()
      errs[1] = select(2, pcall(res.request, res))
      errs[2] = select(2, pcall(b.wait, b))
    end)
    other:run()
    h.contains(errs[1], "belongs to another simulation")
    h.contains(errs[2], "belongs to another simulation")
    a:release(); b:release()
    assert.are.equal(0, res.count)
  end)

  it("store and container requests: closed twice, waited after release", function()
    sim_run(function()
      local st, c = des.store(), des.container(10, 0)
      local g = st:get_request()
      local p = c:put_request(20 - 15)
      assert.is_true(p.granted)
      g:release(); g:release()
      assert.is_true(g.withdrawn)
      h.contains(tostring(h.err_of(g.wait, g)), "withdrawn")
      p:release(); p:release()
      assert.are.equal(5, c.level) -- a granted put stays
      assert.are.equal(0, #st.getq)
      st:put("x")
      assert.are.same({ "x" }, st.items) -- nobody took it
      h.contains(tostring(select(2, pcall(function() return des.any{ g }:wait() end))),
                 "withdrawn")
    end)
  end)

  it("outside a task: granted at once, a queued one cannot be waited on", function()
    local res = des.resource(1)
    local a = res:request()
    local b = res:request()
    assert.is_true(a.granted)
    h.contains(h.err_of(b.wait, b), "not inside a task")
    a:release()
    assert.is_true(b.granted)
    b:release()
  end)

  it("finalizers releasing requests during allocation never over-grant", function()
    local res
    local max_count = 0
    sim_run(function()
      res = des.resource(2)
      local held = {}
      for i = 1, 40 do
        des.spawn(function()
          local req <close> = res:request(i % 3)
          held[#held + 1] = req
          setmetatable({}, { __gc = function()
            for j = #held, 1, -1 do
              if held[j] then held[j]:release() end
            end
          end })
          -- a finalizer may withdraw it meanwhile: the any then fails
          local ok, err = pcall(function() return des.any{ req, des.timeout(i % 5) }:wait() end)
          assert(ok or tostring(err):find("withdrawn"), err)
          if res.count > max_count then max_count = res.count end
          local junk = {}
          for k = 1, 50 do junk[k] = { k } end -- allocations: finalizers run
          held.junk = junk
          des.sleep(1)
        end)
      end
      for _ = 1, 20 do collectgarbage("step"); des.sleep(0.5) end
    end)
    collectgarbage()
    assert.is_true(max_count <= 2)
    assert.are.equal(0, res.queued)
    assert.are.equal(0, res.count)
  end)
end)
