-- wait_queue_spec.lua -- resources, stores and containers share one wait
-- queue (host/src/rt/waitq.c): a served waiter's timeout never outlives its
-- wait, so the same model ends at the same time and keeps the same
-- statistics whichever of them it queues at; waiters that leave leave no
-- trace; a grant never claimed is handed on.
local des = require "des"
local err_of, contains = require("helpers").err_of, require("helpers").contains

-- Run fn as the main task of a new simulation; returns the end time, what
-- fn returned and the simulation.
local function run(fn)
  local sim = des.new{}
  local t = sim:spawn(fn)
  sim:run()
  return sim:now(), t:join(), sim
end

-- Each way to wait with a timeout of 1000, served at t=1 by another task.
local served_at_1 = {
  ["resource acquire"] = function()
    local res = des.resource(1)
    local held = res:acquire()
    des.spawn(function() des.sleep(1); held:release() end)
    local req = assert(res:acquire(nil, 1000))
    req:release()
    return des.now()
  end,
  ["store get"] = function()
    local st = des.store()
    des.spawn(function() des.sleep(1); st:put("x") end)
    assert(st:get(nil, 1000) == "x")
    return des.now()
  end,
  ["store get with a filter"] = function()
    local st = des.store()
    des.spawn(function() des.sleep(1); st:put(1); st:put(2) end)
    assert(st:get(function(x) return x == 2 end, 1000) == 2)
    return des.now()
  end,
  ["store put"] = function()
    local st = des.store(1)
    st:put("a")
    des.spawn(function() des.sleep(1); st:get() end)
    assert(st:put("b", 1000))
    return des.now()
  end,
  ["container get"] = function()
    local tank = des.container(10, 0)
    des.spawn(function() des.sleep(1); tank:put(5) end)
    assert(tank:get(5, 1000))
    return des.now()
  end,
  ["container put"] = function()
    local tank = des.container(10, 10)
    des.spawn(function() des.sleep(1); tank:get(5) end)
    assert(tank:put(5, 1000))
    return des.now()
  end,
}

local anchored = require("helpers").anchored

describe("one wait queue", function()
  for name, body in pairs(served_at_1) do
    it(name .. " with timeout 1000 served at t=1 ends the run at t=1", function()
      local now, served_at, sim = run(body)
      assert.are.equal(1, served_at)
      assert.are.equal(1, now)
      assert.is_nil(sim:peek())
    end)
  end

  -- The same waits, but nobody serves them: each times out at its deadline.
  local never = {
    ["resource acquire"] = function()
      local res = des.resource(1)
      local _held <close> = res:acquire()
      return select(2, res:acquire(nil, 3))
    end,
    ["store get"] = function() return select(2, des.store():get(nil, 3)) end,
    ["store put"] = function()
      local st = des.store(1)
      st:put(1)
      return select(2, st:put(2, 3))
    end,
    ["container get"] = function() return select(2, des.container(5, 0):get(1, 3)) end,
    ["container put"] = function() return select(2, des.container(5, 5):put(1, 3)) end,
  }
  for name, body in pairs(never) do
    it(name .. " times out at its deadline and leaves nothing behind", function()
      local now, err, sim = run(body)
      assert.are.equal("timed out", err)
      assert.are.equal(3, now)
      assert.is_nil(sim:peek())
    end)
  end

  -- A waiter with a timeout that is cancelled or interrupted at t=2 takes
  -- its deadline with it: the run ends at t=2, not at t=1000.
  local blockers = {
    ["resource acquire"] = function()
      local res = des.resource(1)
      local held = res:acquire()
      return function() return res:acquire(nil, 1000) end, function() held:release() end
    end,
    ["store get"] = function()
      local st = des.store()
      return function() return st:get(nil, 1000) end, function() st:put(1) end
    end,
    ["store put"] = function()
      local st = des.store(1)
      st:put(0)
      return function() return st:put(1, 1000) end, function() st:get() end
    end,
    ["container get"] = function()
      local c = des.container(5, 0)
      return function() return c:get(1, 1000) end, function() c:put(1) end
    end,
    ["container put"] = function()
      local c = des.container(5, 5)
      return function() return c:put(1, 1000) end, function() c:get(1) end
    end,
  }
  for name, make in pairs(blockers) do
    for how, done in pairs{ cancel = "cancelled", interrupt = "interrupted" } do
      it(name .. ": a waiter " .. done .. " at t=2 takes its deadline along", function()
        local now, _, sim = run(function()
          local wait = make()
          local w = des.spawn(function() return pcall(wait) end)
          des.sleep(2)
          if how == "cancel" then w:cancel() else w:interrupt("go") end
        end)
        assert.are.equal(2, now)
        assert.is_nil(sim:peek())
      end)
    end
    it(name .. ": a waiter that left is never served later", function()
      local served = false
      run(function()
        local wait, serve = make()
        local w = des.spawn(function() wait(); served = true end)
        des.sleep(1)
        w:cancel()
        serve()
        des.sleep(1)
      end)
      assert.is_false(served)
    end)
  end

  it("anchors no resource request handed on or preempted before its task resumed", function()
    local res
    local preempted = 0
    run(function()
      res = des.resource(1, { preemptive = true })
      for _ = 1, 50 do
        local h = res:acquire(5)
        local a = des.spawn(function() local _r <close> = res:acquire(5) end)
        des.spawn(function()
          local ok = pcall(function() local _r <close> = res:acquire(5); des.sleep(1) end)
          if not ok then preempted = preempted + 1 end
        end)
        des.sleep(0) -- a and b queue
        assert.are.equal(2, #res.queue)
        assert.are.equal(a, res.queue[1].task)
        h:release() -- granted to a, which has not resumed
        a:cancel()  -- handed on to b, which has not resumed either
        local mine = res:acquire(0) -- preempts b before it resumes
        assert.is_true(mine.granted)
        des.sleep(0)
        mine:release()
        des.sleep(2)
      end
    end)
    assert.are.equal(50, preempted)
    assert.are.equal(0, #anchored(res))
  end)

  it("hands a store item, never claimed, on to the next getter", function()
    local got = {}
    run(function()
      local st = des.store()
      local a = des.spawn(function() got.a = st:get() end)
      des.spawn(function() got.b = { st:get(nil, 10), des.now() } end)
      des.sleep(1)
      st:put("x") -- served to a, which has not resumed yet
      a:cancel()  -- so it goes on to b, at once
      assert.are.equal(0, #st)
    end)
    assert.is_nil(got.a)
    assert.are.same({ "x", 1 }, got.b)
  end)

  it("hands a container amount, never claimed, on to the next getter", function()
    local got
    run(function()
      local c = des.container(10, 0)
      local a = des.spawn(function() c:get(4) end)
      des.spawn(function() assert(c:get(4, 10)); got = des.now() end)
      des.sleep(1)
      c:put(4)
      a:cancel()
      des.sleep(0)
      assert.are.equal(0, c.level)
    end)
    assert.are.equal(1, got)
  end)

  it("a container get that leaves the head lets smaller gets behind it through", function()
    local log = {}
    run(function()
      local c = des.container(10, 3)
      des.spawn(function() local e = { "big", c:get(8, 2), des.now() }; log[#log + 1] = e end)
      des.spawn(function() local e = { "small", c:get(2), des.now() }; log[#log + 1] = e end)
    end)
    assert.are.same({ { "big", nil, 2 }, { "small", true, 2 } }, log)
  end)

  it("survives a store filter that cancels the getter it is asked about", function()
    run(function()
      local st = des.store()
      local g
      g = des.spawn(function()
        return st:get(function() g:cancel(); return true end)
      end)
      des.sleep(1)
      st:put("x")
      assert.are.equal("cancelled", g.status)
      assert.are.equal(1, #st) -- the item was never taken
      assert.are.equal("x", st:get())
    end)
  end)

  it("outlives a simulation collected while its tasks waited in it", function()
    local st, c = des.store(), des.container(5, 0)
    do
      local sim = des.new{}
      for _ = 1, 3 do
        sim:spawn(function() st:get() end)
        sim:spawn(function() c:get(1, 100) end)
      end
      sim:run(1)
    end
    assert.are.equal(3, #st.getq)
    collectgarbage()
    collectgarbage()
    assert.are.equal(0, #st.getq) -- they left as they were collected
    assert.are.equal(0, #c.getq)
    local now = run(function()
      des.spawn(function() des.sleep(1); st:put("x"); c:put(2) end)
      assert.are.equal("x", st:get(nil, 5))
      assert.is_true(c:get(2, 5))
      assert.is_nil(st.getq:first())
    end)
    assert.are.equal(1, now)
  end)

  it("gives stores and containers waiters that show what they wait on", function()
    run(function()
      local st, c = des.store(1), des.container(1, 0)
      st:put(1)
      local g = des.spawn(function() c:get(1) end)
      local p = des.spawn(function() st:put(2) end)
      des.sleep(0)
      assert.are.equal("container get", g.waiting_kind)
      assert.are.equal("store put", p.waiting_kind)
      assert.are.equal(c, g.waiting_on)
      assert.are.equal(st, p.waiting_on)
      g:cancel(); p:cancel()
    end)
  end)

  it("refuses misuse of the queue binding with a message", function()
    local q = des._waitq("store get")
    contains(err_of(q.wait, q, {}), "store get: not inside a task")
    contains(err_of(des._waitq, "sideways"), "invalid option")
    run(function()
      local other = des._waitq("store put")
      local w = des.spawn(function() other:wait({}) end)
      des.sleep(0)
      local node = other:first()
      contains(err_of(q.serve, q, node), "a waiter of another queue")
      contains(err_of(q.next, q, {}), "des.waitq.waiter expected")
      contains(err_of(other.wait, other, {}, -1), "must be")
      assert.is_true(other:serve(node))
      assert.is_false(other:serve(node)) -- served once only
      w:join()
    end)
  end)

  it("serves a store's waiters whatever simulation they are in", function()
    local st = des.store()
    local sim1, sim2 = des.new{}, des.new{}
    local got = {}
    sim1:spawn(function() got[1] = { st:get(nil, 10), des.now() } end)
    sim2:spawn(function() got[2] = { st:get(nil, 10), des.now() } end)
    sim1:run(1)
    sim2:run(2)
    assert.are.equal(2, #st.getq)
    st:put("a") -- outside any task: serves sim1's getter (first in line)
    sim2:spawn(function() st:put("b") end)
    sim2:run()
    sim1:run()
    assert.are.same({ { "a", 1 }, { "b", 2 } }, got)
    assert.are.equal(1, sim1:now())
    assert.are.equal(2, sim2:now())
  end)
end)

-- One M/M/2-like model with reneging, written with a resource and with a
-- store of two tokens: the same random draws, the same run.
local function model(kind)
  local sim = des.new{ seed = 7 }
  local stats
  sim:spawn(function()
    local rng = des.rng("customers")
    local res = kind == "resource" and des.resource(2) or nil
    local st = kind == "store" and des.store(2) or nil
    if st then st:put("t1"); st:put("t2") end
    for _ = 1, 300 do
      local patience, service = rng:exponential(2), rng:exponential(1)
      des.spawn(function()
        if res then
          local req = res:acquire(nil, patience)
          if req then des.sleep(service); req:release() end
        else
          local tok = st:get(nil, patience)
          if tok then des.sleep(service); st:put(tok) end
        end
      end)
      des.sleep(rng:exponential(1 / 1.8))
    end
    stats = res and res.stats or st.stats
  end)
  sim:run()
  return sim:now(), stats
end

describe("a store-based and a resource-based model", function()
  it("end at the same time with the same time-weighted statistics", function()
    local t_res, s_res = model("resource")
    local t_st, s_st = model("store")
    assert.are.equal(t_res, t_st)
    local busy, level = s_res.busy:report(), s_st.level:report()
    assert.are.equal(busy.duration, level.duration)
    assert.is_true(math.abs((2 - level.mean) - busy.mean) < 1e-9)
    for n = 0, 2 do
      assert.is_true(math.abs((busy.time_at[n] or 0) - (level.time_at[2 - n] or 0)) < 1e-9)
    end
    local w_res, w_st = s_res.wait:report(), s_st.wait:report()
    assert.are.equal(w_res.count, w_st.count)
    assert.is_true(math.abs(w_res.mean - w_st.mean) < 1e-12)
  end)
end)
