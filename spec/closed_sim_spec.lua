-- closed_sim_spec.lua -- closed simulations are inert (issue 14 item 3):
-- every entry point of a closed simulation raises "closed simulation",
-- statistics stay readable, frozen at the close time; close from inside a
-- task, a <close> variable, a finalizer, twice; the default simulation
-- refuses close; the CLI's deadlock report ignores a swapped require.
local des = require "des"
local h = require "helpers"
local contains, err_of = h.contains, h.err_of

-- A simulation run to t=6 and closed, with a resource held by a sleeping
-- task and waited for by another, and a task waiting on an event; returns
-- the objects.
local function closed_world()
  local sim = des.new{}
  local o = { sim = sim }
  o.main = sim:spawn(function()
    o.res = des.resource(1, { name = "clerk" })
    o.ev = des.event("never")
    o.timeout = des.timeout(100, "late")
    o.holder = des.spawn{ name = "holder", function()
      local _req <close> = o.res:acquire()
      des.sleep(100)
    end }
    o.waiter = des.spawn{ name = "waiter", function()
      local _req <close> = o.res:acquire()
      des.sleep(1)
    end }
    o.eventwaiter = des.spawn{ name = "eventwaiter", function() o.ev:wait() end }
    des.sleep(5)
    return "main done"
  end)
  sim:run(6)
  sim:close()
  return o
end

describe("a closed simulation", function()
  it("cancels every live task; each ended task keeps its fields", function()
    local o = closed_world()
    assert.is_true(o.sim.closed)
    assert.equal(6, o.sim.closed_at)
    for _, name in ipairs{ "holder", "waiter", "eventwaiter" } do
      local t = o[name]
      assert.equal("cancelled", t.status, name)
      assert.equal(name, t.name)
      assert.is_nil(t.wake_at)
      assert.is_true(des.cancelled(t.error))
      -- join of an ended task gives its outcome, as for any ended task
      assert.is_true(des.cancelled(select(2, pcall(t.join, t))))
      t:cancel() -- a no-op, as for any ended task
      assert.is_false(t:interrupt("x"))
    end
    assert.equal("main done", o.main:join())
    contains(tostring(o.sim), "closed at t=6")
  end)

  it("raises 'closed simulation' from every method of the sim", function()
    local o = closed_world()
    local sim = o.sim
    local calls = {
      spawn = { function() end }, run = {}, step = {}, peek = {}, now = {},
      pending = {}, stop = {}, tasks = {}, on_error = { print }, trace = { false },
      shuffle_ties = { 1 }, events = {}, rng = {},
    }
    for name, args in pairs(calls) do
      local e = err_of(sim[name], sim, table.unpack(args))
      contains(e, "closed simulation")
      contains(e, "closed at t=6")
    end
    -- the run form of the error names the function
    contains(err_of(function() return sim:now() end), "now: closed simulation")
    -- fields that describe it stay readable, and its clock for statistics
    assert.equal(6, sim:clock())
    assert.equal(0, sim.seed)
    assert.equal(1000000000, sim.resolution)
    sim:close() -- closing twice does nothing
    assert.is_true(sim.closed)
  end)

  it("keeps resource statistics readable, frozen at the close time", function()
    local o = closed_world()
    local busy = o.res.stats.busy:report()
    assert.equal(6, busy.duration)
    assert.equal(1, busy.mean) -- held from 0 to 6, by the holder then the waiter
    assert.equal(0, busy.value) -- the <close> variables released it at close
    assert.same(busy, o.res.stats.busy:report()) -- frozen: no time passes
    local queue = o.res.stats.queue:report()
    assert.equal(6, queue.duration)
    assert.equal(1, queue.mean) -- the waiter waited from 0 to 6
    assert.equal(0, queue.value)
    -- the holder's release at close granted the waiter (which then left)
    local wait = o.res.stats.wait:report()
    assert.equal(2, wait.count)
    assert.equal(3, wait.mean)
    assert.same(wait, o.res.stats.wait:report())
    assert.equal(0, o.res.count)
    assert.same({}, o.res:holders())
    assert.same({}, o.res:waiters())
    assert.same({}, o.res.queue)
    contains(tostring(o.res), "0/1 in use")
  end)

  it("refuses new requests; releases still work and are frozen too", function()
    local sim = des.new{}
    local res, req
    sim:spawn(function()
      res = des.resource(2)
      req = res:acquire() -- granted at once, never released by a task
      des.sleep(4)
    end)
    sim:run()
    sim:close()
    contains(err_of(function() return res:acquire() end), "acquire: closed simulation")
    contains(err_of(res.acquire, res, 0, 1), "closed simulation")
    contains(err_of(res.set_capacity, res, 3), "closed simulation")
    local before = res.stats.busy:report()
    assert.equal(1, before.value)
    req:release()
    req:release() -- a second release does nothing
    local after = res.stats.busy:report()
    assert.equal(0, after.value)
    assert.equal(4, after.duration)
    assert.equal(before.mean, after.mean) -- no time passed
    assert.is_true(req.released)
    assert.equal(0, req.time)
  end)

  it("des.replicate's runs keep their resources' statistics readable", function()
    local r = des.replicate(3, function()
      local clerk = des.resource(1)
      for _ = 1, 3 do
        des.spawn(function() local _q <close> = clerk:acquire(); des.sleep(1) end)
      end
      des.sleep(10)
      local m = des.monitor.level("level", 0)
      m:set(2)
      local st = des.store()
      st:put("x")
      return { clerk = clerk, m = m, st = st, n = 1 }
    end)
    for i = 1, 3 do
      local busy = r.runs[i].clerk.stats.busy:report()
      assert.equal(0.3, busy.mean)
      assert.equal(10, busy.duration)
      assert.equal(0, r.runs[i].m:report().duration) -- set at 10, closed at 10
      assert.equal(1, r.runs[i].st.stats.level:report().value)
      contains(err_of(r.runs[i].clerk.acquire, r.runs[i].clerk), "closed simulation")
    end
  end)

  it("keeps monitor levels, stores and containers readable after close", function()
    local sim = des.new{}
    local lvl, st, c
    sim:spawn(function()
      lvl = des.monitor.level("q", 1)
      st = des.store(2)
      c = des.container(10, 5)
      des.sleep(2)
      lvl:set(3)
      st:put("a")
      c:get(4)
      des.sleep(2)
    end)
    sim:run(3) -- closes at 3, the task still sleeping
    sim:close()
    local r = lvl:report()
    assert.equal(3, r.duration)
    assert.equal((1 * 2 + 3 * 1) / 3, r.mean)
    assert.same(r, lvl:report())
    assert.equal(3, st.stats.level:report().duration)
    assert.equal(1, st.stats.level:report().value)
    assert.equal(3, c.stats.level:report().duration)
    assert.equal(1, c.stats.level:report().value)
  end)

  it("refuses waiting on its pending timeouts, which would never fire", function()
    local sim = des.new{}
    local to
    sim:spawn(function() to = des.timeout(10, "v") end)
    sim:run(1)
    sim:close()
    assert.is_false(to.triggered)
    local other = des.new{}
    local t = other:spawn(function() return to:wait() end)
    contains(err_of(other.run, other), "closed simulation")
    assert.equal("failed", t.status)
    -- its fields stay readable, and it keeps what it needs alive
    sim = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    assert.equal("timeout", to.kind)
    local t2 = other:spawn(function() return to:wait() end)
    contains(err_of(other.run, other), "closed simulation")
    assert.equal("failed", t2.status)
  end)
end)

describe("closing", function()
  it("from inside one of its own tasks is an error; the run goes on", function()
    local sim = des.new{}
    local seen
    sim:spawn(function()
      local ok, e = pcall(sim.close, sim)
      seen = not ok and tostring(e)
      des.sleep(1)
      return "still running"
    end)
    sim:run()
    contains(seen, "close: the simulation is running")
    assert.is_false(sim.closed)
    assert.equal(1, sim:now())
  end)

  it("a simulation that runs from a task of another one is running too", function()
    local a, b = des.new{}, des.new{}
    local seen
    a:spawn(function()
      b:spawn(function() seen = select(2, pcall(a.close, a)) end)
      b:run()
    end)
    a:run()
    contains(tostring(seen), "close: the simulation is running")
    -- closing another simulation from a task is fine
    local c = des.new{}
    local ct = c:spawn(function() des.sleep(1) end)
    a:spawn(function() c:close() end)
    a:run()
    assert.is_true(c.closed)
    assert.equal("cancelled", ct.status)
  end)

  it("cancels in spawn order", function()
    local sim, log = des.new{}, {}
    for i = 1, 50 do
      sim:spawn(function() local _ <close> = h.closer(log, i); des.sleep(1) end)
    end
    sim:run(0.5)
    sim:close()
    for i = 1, 50 do assert.equal(i, log[i]) end
  end)

  it("from a <close> variable during close does nothing; the outer close finishes", function()
    local sim, log = des.new{}, {}
    local tasks = {}
    for i = 1, 3 do
      tasks[i] = sim:spawn(function()
        local _ <close> = setmetatable({}, { __close = function()
          log[#log + 1] = i
          sim:close()              -- nested: ignored
          log[#log + 1] = tostring(sim.closed)
        end })
        des.sleep(10)
      end)
    end
    sim:run(1)
    sim:close()
    assert.same({ 1, "false", 2, "false", 3, "false" }, log)
    for i = 1, 3 do assert.equal("cancelled", tasks[i].status) end
    assert.is_true(sim.closed)
  end)

  it("from a <close> variable of a task being cancelled by task:cancel()", function()
    local sim = des.new{}
    local t = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() sim:close() end })
      des.sleep(10)
    end)
    local u = sim:spawn(function() des.sleep(10) end)
    local joiner = des.new{}
    local j = joiner:spawn(function() return pcall(t.join, t) end)
    joiner:step()
    sim:run(1)
    t:cancel()
    assert.is_true(sim.closed)
    assert.equal("cancelled", t.status)
    assert.equal("cancelled", u.status)
    contains(tostring(sim), "closed at t=1")
    joiner:run()
    local ok, e = j:join()
    assert.is_false(ok)
    assert.is_true(des.cancelled(e))
  end)

  it("refuses spawns and timeouts from <close> variables; reads and releases work", function()
    local sim, ran = des.new{}, false
    local seen = {}
    local res
    sim:spawn(function()
      res = des.resource(1)
      local _req <close> = res:acquire()
      local _ <close> = setmetatable({}, { __close = function()
        seen.now = des.now()
        seen.simnow = sim:now()
        seen.spawn = select(2, pcall(des.spawn, function() ran = true end))
        seen.simspawn = select(2, pcall(sim.spawn, sim, function() ran = true end))
        seen.timeout = select(2, pcall(des.timeout, 1))
        seen.run = select(2, pcall(sim.run, sim))
        seen.acquire = select(2, pcall(res.acquire, res))
      end })
      des.sleep(10)
    end)
    sim:run(2)
    sim:close()
    assert.equal(2, seen.now)
    assert.equal(2, seen.simnow)
    for _, k in ipairs{ "spawn", "simspawn", "timeout", "run", "acquire" } do
      contains(tostring(seen[k]), "closed simulation", "it is closing")
    end
    assert.is_false(ran)
    assert.equal(0, res.count) -- the request's <close> released it
    assert.equal(2, res.stats.busy:report().duration)
  end)

  it("an error from a callback during close is raised once the simulation is closed", function()
    local sim = des.new{}
    local a = sim:spawn(function() des.sleep(10) end)
    local b = sim:spawn(function() des.sleep(10) end)
    sim:run(1)
    local any = des.any{ a }
    any:on(function() error("callback boom") end)
    contains(err_of(sim.close, sim), "callback boom")
    assert.is_true(sim.closed)
    assert.equal("cancelled", a.status)
    assert.equal("cancelled", b.status)
  end)

  it("a <close> variable that raises fails its task; close goes on", function()
    local sim = des.new{}
    local a = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function() error("close boom") end })
      des.sleep(10)
    end)
    local b = sim:spawn(function() des.sleep(10) end)
    sim:run(1)
    sim:close()
    assert.equal("failed", a.status)
    contains(tostring(a.error), "close boom")
    assert.equal("cancelled", b.status)
  end)

  it("a simulation declared <close> closes at scope end; its objects stay safe", function()
    local res
    do
      local sim <close> = des.new{}
      sim:spawn(function()
        res = des.resource(1)
        local _r <close> = res:acquire()
        des.sleep(3)
      end)
      sim:run(2)
    end
    assert.equal(2, res.stats.busy:report().duration)
    contains(err_of(res.acquire, res), "closed simulation")
  end)

  -- A finalizer that closes the simulation while a call on it allocates:
  -- every call ends in success or a clear error, never a crash.
  it("from a __gc finalizer in the middle of a call on it", function()
    local target
    local mt = {}
    mt.__gc = function()
      if target then pcall(target.close, target) end
      setmetatable({}, mt) -- keep finalizers coming
    end
    for _ = 1, 50 do setmetatable({}, mt) end
    collectgarbage("incremental", 10, 400)
    local outcomes = {}
    local ok_, err_ = pcall(function()
      for i = 1, 300 do
        local sim = des.new{}
        local res
        sim:spawn(function() res = des.resource(1) end)
        sim:run()
        local calls = {
          function() return sim:spawn(function() error("must not run") end) end,
          function() return res:acquire() end,
          function() return sim:run() end,
          function() return sim:step() end,
          function() return sim:now() end,
          function() return sim:tasks() end,
        }
        local f = calls[i % #calls + 1]
        target = sim -- from now on a finalizer closes it, inside f or before
        local ok, e = pcall(f)
        target = nil
        if not ok then
          contains(tostring(e), "closed simulation")
          outcomes.err = (outcomes.err or 0) + 1
        elseif sim.closed then
          outcomes.closed_inside = (outcomes.closed_inside or 0) + 1
        end
        if sim.closed then
          contains(err_of(sim.run, sim), "closed simulation")
          contains(err_of(res.acquire, res), "closed simulation")
          contains(err_of(sim.spawn, sim, print), "closed simulation")
        end
        for _ = 1, 10 do setmetatable({}, nil) end -- garbage: GC steps
      end
    end)
    collectgarbage("incremental", 200, 100)
    collectgarbage()
    assert(ok_, err_)
    -- the race was met: spawn refused after the close its allocation ran,
    -- or a call that had begun (a request granted) ended on a closed one
    assert.is_truthy(outcomes.err or outcomes.closed_inside)
  end)

  it("by collection, with objects a finalizer brings back afterwards", function()
    local result
    local function make()
      local keep = {}
      -- made before the simulation, so finalized after it
      setmetatable({}, { __gc = function()
        local r = {}
        r.closed = keep.sim.closed
        r.status = keep.waiter.status
        r.join = select(2, pcall(keep.waiter.join, keep.waiter))
        r.cancel = pcall(keep.waiter.cancel, keep.waiter)
        r.interrupt = select(2, pcall(keep.waiter.interrupt, keep.waiter, 1))
        r.busy = keep.res.stats.busy:report()
        r.acquire = select(2, pcall(keep.res.acquire, keep.res))
        r.release = pcall(keep.req.release, keep.req)
        r.succeed = pcall(keep.ev.succeed, keep.ev, 1)
        r.now = select(2, pcall(keep.sim.now, keep.sim))
        r.timeout_wait = select(2, pcall(keep.to.wait, keep.to))
        r.str = tostring(keep.sim)
        result = r
      end })
      local sim = des.new{}
      keep.sim = sim
      keep.ev = des.event()
      sim:spawn(function()
        keep.res = des.resource(1)
        keep.req = keep.res:acquire()
        keep.to = des.timeout(50)
        keep.waiter = des.spawn(function() keep.ev:wait() end)
        keep.queued = des.spawn(function() local _q <close> = keep.res:acquire() end)
        des.sleep(100)
      end)
      sim:run(7)
    end
    make()
    collectgarbage()
    collectgarbage()
    collectgarbage()
    assert.is_table(result)
    assert.is_true(result.closed)
    assert.equal("cancelled", result.status)
    contains(tostring(result.join), "closed simulation")
    assert.is_true(result.cancel)
    assert.is_false(result.interrupt)
    assert.equal(7, result.busy.duration)
    contains(tostring(result.acquire), "closed simulation")
    assert.is_true(result.release)
    assert.is_true(result.succeed)
    contains(tostring(result.now), "closed simulation")
    -- its finalizer ran before the simulation closed: it failed then
    contains(tostring(result.timeout_wait), "timeout: the event was collected")
    contains(result.str, "closed at t=7")
  end)
end)

describe("the default simulation", function()
  it("cannot be closed by a model", function()
    local d = des.default()
    contains(err_of(d.close, d), "the default simulation is closed by its host")
    local ok, e = pcall(function()
      local _ <close> = des.default()
    end)
    assert.is_false(ok)
    contains(tostring(e), "the default simulation is closed by its host")
    assert.is_false(d.closed)
    local t = des.spawn(function() return 1 end)
    des.run()
    assert.equal(1, t:join())
  end)

  it("and no des object gives its metatable (and so its __gc) away", function()
    local sim = des.new{}
    local t, ev, res, req
    sim:spawn(function()
      t = des.self(); ev = des.event(); res = des.resource(1); req = res:acquire()
    end)
    sim:run()
    assert.equal("des.sim", getmetatable(des.default()))
    assert.equal("des.sim", getmetatable(sim))
    assert.equal("des.task", getmetatable(t))
    assert.equal("des.event", getmetatable(ev))
    assert.equal("des.resource", getmetatable(res))
    assert.equal("des.request", getmetatable(req))
    sim:close()
  end)
end)

describe("the CLI's deadlock report", function()
  local run = require "run_deshost"
  it("calls neither the model's require nor its changes to the module", function()
    if not run.available then
      pending("DESHOST is not set")
      return
    end
    local code, out, err = run([[
local des = require "des"
local real = require
require = function(name)
  local d = real(name)
  print("model's require called")
  pcall(function() d.default():close() end)
  return d
end
des.tasks = function() print("model's des.tasks called"); return {} end
des.now = function() print("model's des.now called"); return -1 end
des.spawn{ name = "waiter", function() des.event("never"):wait() end }
]])
    local text = out .. err
    assert.is_true(code == 0, text)
    contains(text, "ran out of events at t=0.0",
             "task 'waiter' (#2): waiting on event 'never' since t=0.0")
    assert.is_nil(text:find("model's", 1, true), text)
  end)
end)
