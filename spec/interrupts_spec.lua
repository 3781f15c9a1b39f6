-- spec/interrupts_spec.lua -- interrupts are never lost (issue 15 item 2):
-- every interrupt that interrupt() reports delivered is raised at the
-- task's next wait of any kind, several in order; one still pending when
-- the task returns fails it; and an interrupt wins over an event that
-- made the task ready at the same instant (SimPy's rule).
local des = require "des"
local h = require "helpers"

-- Run fn(sim) as the body of a task "victim" that first waits for a go
-- event, interrupted with `cause` just before go fires; returns the pcall
-- result of what the victim then does (wait(...)) and the victim task.
local function after_interrupt(setup, wait)
  local sim = des.new{}
  local out = {}
  sim:spawn(function()
    local env = setup and setup() or {}
    local victim = des.spawn{name = "victim", function()
      des.sleep(1) -- the interrupt arrives while it sleeps... and is caught
      out.first = table.pack(pcall(des.sleep, 5))
      out.second = table.pack(pcall(wait, env)) -- this wait would return at once
      return "done"
    end}
    des.sleep(2)
    assert(victim:interrupt("one") == true)
    assert(victim:interrupt("two") == true)
    out.victim = victim
  end)
  sim:run()
  return out
end

describe("interrupts", function()
  local waits = {
    ["a wait on a triggered event"] = {
      function() local ev = des.event(); ev:succeed(1); return { ev = ev } end,
      function(env) return env.ev:wait() end },
    ["a join of an ended task"] = {
      function() return { t = des.spawn(function() return 1 end) } end,
      function(env) return env.t:join() end },
    ["an acquire of a free server"] = {
      function() return { res = des.resource(1) } end,
      function(env) return env.res:acquire() end },
    ["a get from a store with an item"] = {
      function() local st = des.store(); st:put("x"); return { st = st } end,
      function(env) return env.st:get() end },
    ["a put into a store with room"] = {
      function() return { st = des.store() } end,
      function(env) return env.st:put("x") end },
    ["a get from a container with the amount"] = {
      function() return { c = des.container(10, 5) } end,
      function(env) return env.c:get(1) end },
    ["a put into a container with room"] = {
      function() return { c = des.container(10, 5) } end,
      function(env) return env.c:put(1) end },
    ["a sleep(0)"] = { nil, function() return des.sleep(0) end },
    ["a wait on a composite that has fired"] = {
      function() local ev = des.event(); ev:succeed(1); return { any = des.any{ ev } } end,
      function(env) return env.any:wait() end },
  }
  for name, case in pairs(waits) do
    it("are raised in order, the second at " .. name, function()
      local out = after_interrupt(case[1], case[2])
      assert.is_false(out.first[1])
      assert.equal("one", des.interrupted(out.first[2]))
      assert.is_false(out.second[1])
      assert.equal("two", des.interrupted(out.second[2]))
      assert.equal("done", out.victim:join())
    end)
  end

  it("keep their order when a cause is nil", function()
    local sim = des.new{}
    local got = {}
    sim:spawn(function()
      local t = des.spawn(function()
        for _ = 1, 3 do
          local ok, e = pcall(des.sleep, 10)
          got[#got + 1] = ok and "none" or tostring(des.interrupted(e))
        end
      end)
      des.sleep(1)
      t:interrupt(nil); t:interrupt("b"); t:interrupt(nil)
    end)
    sim:run()
    assert.same({"true", "b", "true"}, got)
  end)

  it("still pending when the task returns fail it, naming the cause", function()
    -- a task that interrupts itself and returns
    local sim2 = des.new{}
    sim2:spawn{name = "self", function()
      des.self():interrupt("lost")
      return 1
    end}
    local e = h.err_of(sim2.run, sim2)
    h.contains(tostring(e), "task 'self'", "returned with 1 interrupt never delivered",
               "lost")
  end)

  it("sent before a task started are raised at its first wait", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local t = des.spawn(function()
        local ok, e = pcall(des.sleep, 0)
        got = ok and "slept" or des.interrupted(e)
      end)
      assert.is_true(t:interrupt("early")) -- t is ready, not started
    end)
    sim:run()
    assert.equal("early", got)
  end)

  it("pending when a task is cancelled are no error: it ends cancelled", function()
    local sim = des.new{}
    local t
    sim:spawn(function()
      t = des.spawn(function() des.self():interrupt("x") end)
      t:cancel() -- before it ran
      t = des.spawn(function() des.sleep(5) end)
      des.sleep(1)
      t:interrupt("y")
      t:cancel()
    end)
    sim:run()
    assert.equal("cancelled", t.status)
  end)

  it("pending at the end of a joined task re-raise in the joiner", function()
    local sim = des.new{}
    local err
    sim:spawn(function()
      local t = des.spawn(function() des.self():interrupt("x"); des.self():interrupt("y") end)
      local ok, e = pcall(t.join, t)
      assert(not ok)
      err = tostring(e)
    end)
    sim:run()
    h.contains(err, "returned with 2 interrupts never delivered", "x")
  end)

  it("win over an event that fires at the same instant", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local ev = des.event()
      local t = des.spawn(function()
        local ok, e = pcall(ev.wait, ev)
        got = ok and "event" or des.interrupted(e)
        assert.equal("ready", ev.triggered and "ready")
      end)
      des.sleep(1)
      ev:succeed("v")   -- t is made ready ...
      t:interrupt("int") -- ... and then interrupted before it ran
    end)
    sim:run()
    assert.equal("int", got)
  end)

  it("at the instant a sleep ends, before the sleeper ran, are raised by that sleep", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local t = des.spawn(function()
        local ok, e = pcall(des.sleep, 1)
        got = ok and "slept" or des.interrupted(e)
      end)
      des.sleep(1) -- due at 1 before t's sleep (scheduled first)
      t:interrupt("int")
    end)
    sim:run()
    assert.equal("int", got)
  end)

  it("win over a server granted at the same instant, which is handed on", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      local res = des.resource(1)
      local req = res:acquire()
      local a = des.spawn(function()
        local ok, e = pcall(res.acquire, res)
        log[#log + 1] = ok and "a got it" or ("a: " .. tostring(des.interrupted(e)))
      end)
      des.spawn(function()
        local _ <close> = res:acquire()
        log[#log + 1] = "b got it at " .. des.now()
      end)
      des.sleep(1)
      req:release() -- a is granted the server and made ready ...
      a:interrupt("leave") -- ... and interrupted before it ran
    end)
    sim:run()
    assert.same({"b got it at 1.0", "a: leave"}, log) -- (b was woken first)
  end)

  it("win over an item handed over at the same instant, which goes back", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      local st = des.store()
      local a = des.spawn(function()
        local ok, e = pcall(st.get, st)
        log[#log + 1] = ok and "a got " .. e or ("a: " .. tostring(des.interrupted(e)))
      end)
      des.sleep(1)
      st:put("item") -- a is handed the item and made ready
      a:interrupt("leave")
      des.sleep(1)
      log[#log + 1] = "left " .. #st
    end)
    sim:run()
    assert.same({"a: leave", "left 1"}, log)
  end)
end)
