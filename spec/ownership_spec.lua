-- spec/ownership_spec.lua -- a task's coroutine belongs to the runtime
-- (issue 14 item 2): coroutine.resume / close / status on a task's thread,
-- from anywhere, cannot drive it; a finished task's thread that Lua has
-- seen is never reused; a pooled thread cannot be driven either.
local des = require "des"
local h = require "helpers"
local contains, err_of = h.contains, h.err_of

-- The value f returns when run as a task of sim (at once).
local function in_sim(sim, f)
  local r
  sim:spawn(function() r = f() end)
  sim:step()
  return r
end

-- The thread of a task waiting on ev, and the task (not started yet: run
-- the simulation a step to start it).
local function waiting_task(sim, ev, log)
  local co
  local t = sim:spawn{name = "T", function()
    co = coroutine.running()
    local _ <close> = h.closer(log or {}, "closed")
    local v = ev:wait()
    if log then log[#log + 1] = "woke " .. tostring(v) end
    return v
  end}
  sim:step()
  return t, co
end

describe("a task's coroutine", function()
  it("the issue's sample: resume from another task is refused, nothing corrupts", function()
    local sim = des.new{}
    local ev, ev2, tco = des.event("ev"), des.event("ev2"), nil
    local msg
    sim:spawn{name = "main", function()
      local T = des.spawn{name = "T", function()
        tco = coroutine.running(); ev:wait(); ev2:wait()
      end}
      des.sleep(0)
      local ok, e = pcall(coroutine.resume, tco)
      assert.is_false(ok)
      msg = e
      T:cancel()
    end}
    sim:run()
    contains(msg, "cannot resume task 'T' (#2): its coroutine belongs to the des runtime")
    tco = nil; collectgarbage(); collectgarbage()
    sim:spawn(function() ev:succeed("x") end)
    sim:run()
  end)

  it("cannot be resumed from outside any task; the task then runs as scheduled", function()
    local sim, ev, log = des.new{}, des.event(), {}
    local t, co = waiting_task(sim, ev, log)
    contains(err_of(coroutine.resume, co, 1, 2), "cannot resume task 'T' (#1)",
             "belongs to the des runtime")
    assert.equal("waiting", t.status)
    sim:spawn(function() ev:succeed("v") end)
    sim:run()
    assert.equal("done", t.status)
    assert.same({ "woke v", "closed" }, log)
  end)

  it("cannot be closed, from outside or from another task; <close> runs once", function()
    local sim, ev, log = des.new{}, des.event(), {}
    local t, co = waiting_task(sim, ev, log)
    contains(err_of(coroutine.close, co), "cannot close task 'T' (#1)")
    local msg
    sim:spawn(function() msg = err_of(coroutine.close, co) end)
    sim:run()
    contains(msg, "cannot close task 'T' (#1)")
    assert.same({}, log)
    t:cancel()
    assert.same({ "closed" }, log)
    assert.equal("cancelled", t.status)
  end)

  it("cannot be resumed by itself, nor from a plain coroutine inside it", function()
    local sim = des.new{}
    local e1, e2, st_inner
    local t = sim:spawn{name = "self", function()
      local me = coroutine.running()
      e1 = err_of(coroutine.resume, me)
      local inner = coroutine.wrap(function()
        st_inner = coroutine.status(me)
        e2 = err_of(coroutine.resume, me)
        coroutine.yield(7)
      end)
      assert.equal(7, inner())
      des.sleep(1)
      return "ok"
    end}
    sim:run()
    contains(e1, "cannot resume task 'self' (#1)")
    contains(e2, "cannot resume task 'self' (#1)")
    assert.equal("normal", st_inner)
    assert.equal("done", t.status)
  end)

  it("status: running for itself, normal while the runtime drives it, dead once ended", function()
    local sim, ev = des.new{}, des.event()
    local own
    local co
    local t = sim:spawn(function()
      co = coroutine.running()
      own = coroutine.status(co)
      ev:wait()
    end)
    assert.is_nil(co)
    sim:run()
    assert.equal("running", own)
    assert.equal("normal", coroutine.status(co))
    local from_task
    sim:spawn(function() from_task = coroutine.status(co); ev:succeed() end)
    sim:run()
    assert.equal("normal", from_task)
    assert.equal("done", t.status)
    assert.equal("dead", coroutine.status(co))
  end)

  it("a stale reference after the task ended reaches a dead thread, never a new task's", function()
    local sim = des.new{}
    local stale
    sim:spawn(function() stale = coroutine.running() end)
    sim:run()
    local runs = 0
    for _ = 1, 100 do
      sim:spawn(function() runs = runs + 1; des.sleep(1) end)
    end
    sim:run(0.5)
    local ok, e = coroutine.resume(stale)
    assert.is_false(ok)
    contains(e, "dead coroutine")
    assert.equal("dead", coroutine.status(stale))
    sim:run()
    assert.equal(100, runs)
  end)

  it("returned by a task (spawn(coroutine.running)) stays dead to Lua", function()
    local sim = des.new{}
    local t = sim:spawn(coroutine.running)
    sim:run()
    local co = t:join()
    assert.equal("thread", type(co))
    local n = 0
    sim:spawn(function() n = n + 1 end)
    sim:run()
    assert.is_false((coroutine.resume(co)))
    assert.equal(1, n)
  end)

  it("a spawned coroutine.resume / close on a task's thread fails that task", function()
    local sim, ev = des.new{}, des.event()
    sim:on_error(function() end)
    local _, co = waiting_task(sim, ev)
    local r = sim:spawn(coroutine.resume, co)
    local c = sim:spawn(coroutine.close, co)
    sim:run()
    assert.equal("failed", r.status)
    assert.equal("failed", c.status)
    contains(tostring(r.error), "cannot resume task 'T'")
    contains(tostring(c.error), "cannot close task 'T'")
  end)

  it("cannot be driven from a finalizer", function()
    local sim, ev = des.new{}, des.event()
    local _, co = waiting_task(sim, ev)
    local results = {}
    do
      setmetatable({}, { __gc = function()
        results[#results + 1] = { pcall(coroutine.resume, co) }
        results[#results + 1] = { pcall(coroutine.close, co) }
      end })
    end
    collectgarbage(); collectgarbage()
    assert.equal(2, #results)
    assert.is_false(results[1][1])
    contains(results[1][2], "cannot resume task 'T'")
    assert.is_false(results[2][1])
    contains(results[2][2], "cannot close task 'T'")
    sim:spawn(function() ev:succeed(1) end)
    sim:run()
  end)

  it("cannot be driven from a <close> handler of a cancelled task", function()
    local sim, ev = des.new{}, des.event()
    local t, co = waiting_task(sim, ev)
    local msg
    local u = sim:spawn(function()
      local _ <close> = setmetatable({}, { __close = function()
        msg = select(2, pcall(coroutine.close, co))
      end })
      des.sleep(10)
    end)
    sim:run(1)
    u:cancel()
    contains(msg, "cannot close task 'T'")
    assert.equal("waiting", t.status)
    t:cancel()
  end)

  it("in a resource queue cannot be resumed (the request stays queued)", function()
    local sim = des.new{}
    local res = in_sim(sim, function() return des.resource(1) end)
    local co, got
    sim:spawn(function() local _ <close> = res:acquire(); des.sleep(5) end)
    local t = sim:spawn(function()
      co = coroutine.running()
      local _ <close> = res:acquire()
      got = des.now()
    end)
    sim:run(1)
    contains(err_of(coroutine.resume, co), "cannot resume task")
    contains(err_of(coroutine.close, co), "cannot close task")
    sim:run()
    assert.equal(5, got)
    assert.equal("done", t.status)
  end)

  it("plain coroutines inside a task work as in Lua, and are not the task", function()
    local sim = des.new{}
    local out = {}
    sim:spawn(function()
      local task_co = coroutine.running()
      local gen = coroutine.wrap(function()
        out.same = coroutine.running() == task_co
        out.yieldable = coroutine.isyieldable()
        for i = 1, 3 do coroutine.yield(i) end
      end)
      out[1], out[2], out[3] = gen(), gen(), gen()
      local c = coroutine.create(function() des.sleep(1) end)
      out.ok, out.err = coroutine.resume(c)
      out.status = coroutine.status(c)
      out.closed = coroutine.close(c)
    end)
    sim:run()
    assert.same({ 1, 2, 3 }, { out[1], out[2], out[3] })
    assert.is_false(out.same)
    assert.is_true(out.yieldable)
    assert.is_false(out.ok)
    contains(out.err, "not a des task")
    assert.equal("dead", out.status)
    assert.is_false(out.closed)
  end)

  it("cannot be cancelled from a plain coroutine it resumed", function()
    local sim = des.new{}
    local msg
    local t = sim:spawn{name = "c", function()
      local me = des.self()
      msg = select(2, pcall(coroutine.wrap(function() me:cancel() end)))
      des.sleep(1)
    end}
    sim:run()
    contains(msg, "cancel: task 'c' (#1) is running and cannot be cancelled from here")
    assert.equal("done", t.status)
  end)

  it("a task may return a nested coroutine's yields; a plain yield of them fails it", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local t = sim:spawn(coroutine.wrap(function() coroutine.yield(5, 6) end))
    local u = sim:spawn{name = "u", function()
      local gen = coroutine.wrap(function() coroutine.yield(1) end)
      coroutine.yield(gen())
    end}
    sim:run()
    assert.same({ 5, 6 }, { t:join() })
    assert.equal("failed", u.status)
    contains(tostring(u.error), "task 'u' (#2) yielded outside des")
  end)

  it("the replacements are in both the globals and package.loaded", function()
    assert.equal(coroutine.resume, package.loaded.coroutine.resume)
    assert.equal(coroutine.close, package.loaded.coroutine.close)
    assert.equal(coroutine.status, package.loaded.coroutine.status)
    assert.equal(coroutine.running, package.loaded.coroutine.running)
    -- plain use is unchanged
    local c = coroutine.create(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
    assert.same({ true, 2 }, { coroutine.resume(c, 1) })
    assert.equal("suspended", coroutine.status(c))
    assert.same({ true, 10 }, { coroutine.resume(c, 5) })
    assert.same({ false, "cannot resume dead coroutine" }, { coroutine.resume(c) })
    assert.has_error(function() coroutine.resume(42) end)
  end)
end)

describe("the thread of a task collected with its simulation", function()
  it("cannot be resumed or closed, and reports dead", function()
    local co
    do
      local sim, ev = des.new{}, des.event()
      sim:spawn(function() co = coroutine.running(); ev:wait() end)
      sim:run(1)
    end
    collectgarbage(); collectgarbage(); collectgarbage()
    assert.equal("dead", coroutine.status(co))
    contains(err_of(coroutine.resume, co), "cannot resume the coroutine of a des task that "
                                            .. "was collected with its simulation")
    contains(err_of(coroutine.close, co), "cannot close the coroutine of a des task")
  end)
end)

describe("pooled threads", function()
  -- The pool is reachable only through the debug library (not in the
  -- sandbox): take tasks' threads with the original coroutine.running
  -- (which does not mark them seen), once their tasks ended.
  local orig_running = select(2, debug.getupvalue(coroutine.running, 2))

  it("cannot be resumed or closed, and report dead", function()
    local sim, pool = des.new{}, {}
    for _ = 1, 5 do
      sim:spawn(function()
        pool[#pool + 1] = orig_running()
        des.sleep(1)
      end)
    end
    sim:run()
    assert.equal(5, #pool)
    for _, co in ipairs(pool) do
      assert.equal("dead", coroutine.status(co))
      contains(err_of(coroutine.resume, co), "thread pool")
      contains(err_of(coroutine.close, co), "thread pool")
    end
    local n = 0
    for _ = 1, 5 do sim:spawn(function() n = n + 1 end) end
    sim:run()
    assert.equal(5, n)
  end)
end)

describe("driving a task by the original functions (debug, C API)", function()
  -- What an embedder's lua_resume or a debug user could do: the runtime
  -- still refuses to continue the task and stays consistent.
  local orig_resume = select(2, debug.getupvalue(coroutine.resume, 2))
  local orig_close = select(2, debug.getupvalue(coroutine.close, 2))

  it("a hand resume of a waiting task fails it cleanly", function()
    local sim, ev = des.new{}, des.event()
    sim:on_error(function() end)
    local t, co = waiting_task(sim, ev)
    local ok, e = orig_resume(co)
    assert.is_false(ok)
    contains(e, "resumed from outside the des runtime")
    sim:spawn(function() ev:succeed(1) end)
    sim:run()
    assert.equal("failed", t.status)
  end)

  it("a hand start of a pooled thread given to a new task cannot suspend it", function()
    local sim = des.new{}
    sim:on_error(function() end)
    sim:spawn(function() end)
    sim:run()
    local co
    for _, v in pairs(debug.getregistry()) do
      if type(v) == "table" then
        for _, x in ipairs(v) do if type(x) == "thread" then co = x end end
      end
    end
    local runs = 0
    local t = sim:spawn(function() runs = runs + 1; des.sleep(1); runs = runs + 10 end)
    if co ~= nil and coroutine.status(co) == "normal" then
      local ok, e = orig_resume(co)
      assert.is_false(ok)
      contains(e, "resumed from outside the des runtime")
    end
    sim:run()
    assert.is_true(t.status == "failed" or t.status == "done")
    assert.is_true(runs <= 11)
  end)

  it("a hand close of a task waiting on a resource leaves the simulation consistent", function()
    local sim = des.new{}
    sim:on_error(function() end)
    local res = in_sim(sim, function() return des.resource(1) end)
    local co
    sim:spawn(function() local _ <close> = res:acquire(); des.sleep(5) end)
    local t = sim:spawn(function()
      co = coroutine.running()
      local _ <close> = res:acquire()
    end)
    local after = sim:spawn(function() des.sleep(1); local _ <close> = res:acquire() end)
    sim:run(2)
    orig_close(co)
    sim:run()
    assert.equal("failed", t.status)
    assert.equal("done", after.status)
    assert.equal(0, res.count)
  end)
end)

describe("under deshost --sandbox", function()
  local run = require "run_deshost"
  if not run.available then return end

  it("the issue's sample ends the main task with a clear error", function()
    local code, _, err = run([[
local des = require "des"
local ev, ev2, tco = des.event("ev"), des.event("ev2"), nil
do
  local T = des.spawn{name="T", function() tco = coroutine.running(); ev:wait(); ev2:wait() end}
  des.sleep(0); coroutine.resume(tco); T:cancel()
end
tco = nil; collectgarbage(); collectgarbage()
ev:succeed("x")
]])
    assert.equal(1, code)
    contains(err, "task 'main' (#1) failed at t=0.0: ",
             "cannot resume task 'T' (#2): its coroutine belongs to the des runtime",
             "stack traceback:")
  end)

  it("variants: close, status, wrap, finalizers, stale and spawned resumes", function()
    local code, out, err = run([[
local des = require "des"
local ev = des.event()
local res = des.resource(1)
local cos = {}
for i = 1, 20 do
  des.spawn{name = "w" .. i, function()
    cos[i] = coroutine.running()
    if i % 2 == 0 then ev:wait() else local _ <close> = res:acquire(); des.sleep(1) end
  end}
end
des.sleep(0)
local refused = 0
for i = 1, 20 do
  if not pcall(coroutine.resume, cos[i]) then refused = refused + 1 end
  if not pcall(coroutine.close, cos[i]) then refused = refused + 1 end
  assert(coroutine.status(cos[i]) == "normal")
  if not pcall(coroutine.wrap(function() return coroutine.resume(cos[i]) end)) then
    refused = refused + 1
  end
end
local mt = {}
mt.__gc = function()
  for i = 1, 20 do pcall(coroutine.resume, cos[i]); pcall(coroutine.close, cos[i]) end
end
for _ = 1, 10 do setmetatable({}, mt) end
collectgarbage(); collectgarbage()
des.on_error(function(t, e) print(t.id, (tostring(e):match("cannot resume task 'w2' %(#3%)"))) end)
local r = des.spawn(coroutine.resume, cos[2])
ev:succeed("x")
des.sleep(30)
for i = 1, 20 do assert(coroutine.status(cos[i]) == "dead") end
local n = 0
for _ = 1, 50 do des.spawn(function() n = n + 1 end) end
des.sleep(1)
for i = 1, 20 do assert(not coroutine.resume(cos[i])) end
print(refused, r.status, n)
]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("22\tcannot resume task 'w2' (#3)\n60\tfailed\t50\n", out)
  end)
end)
