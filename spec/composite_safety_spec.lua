-- spec/composite_safety_spec.lua -- issue 14, items 1, 4, 5 and 6: what a
-- hostile model does to des.any / des.all, to finalizers and to globals.
-- Each must end in a clear error or a documented outcome, never a crash
-- (the ASan build runs these too).
-- luacheck: ignore 122 241 311 331 (finalizer races: values written for the GC to see)
local des = require "des"
local h = require "helpers"

local run = require "run_deshost"

-- Put the collector back to its defaults after a test played with it.
local function gc_defaults()
  collectgarbage("incremental", 200, 100)
  collectgarbage()
end

describe("des.any / des.all hold the members they checked", function()
  -- issue 14 item 1: a finalizer swaps members[1] after the check
  for _, kind in ipairs({ "any", "all" }) do
    it(kind .. ": a finalizer swapping a member mid-call cannot reach C", function()
      local ev, fake = des.event(), des.resource(0x414141414140)
      local members, armed, mt = nil, false, {}
      mt.__gc = function()
        if armed then members[1] = fake end
        setmetatable({}, mt)
      end
      finally(function() mt.__gc = nil; gc_defaults() end)
      for _ = 1, 20 do setmetatable({}, mt) end
      collectgarbage("incremental", 10, 1000)
      for _ = 1, 400 do
        members = { ev }
        armed = true
        local ok, c = pcall(des[kind], members)
        armed = false
        if ok then
          assert.equal(kind, c.kind)
        else
          h.contains(c, "member 1 is a userdata, expected an event, a task or a request")
        end
        local junk = {}
        for j = 1, 20 do junk[j] = {} end
      end
      mt.__gc = nil
      gc_defaults()
      fake:set_capacity(1) -- the resource is untouched and usable
      assert.equal(1, fake.capacity)
    end)
  end

  it("changing the members table afterwards changes nothing", function()
    local e1, e2 = des.event(), des.event()
    local members = { e1 }
    local a = des.any(members)
    local b = des.all(members)
    members[1] = des.resource(1)
    members[2] = e2
    e1:succeed(5)
    assert.is_true(a.triggered)
    assert.is_true(b.triggered)
    local m, v = a:wait()
    assert.equal(e1, m)
    assert.equal(5, v)
  end)

  it("a table with metamethods is read raw", function()
    local ev = des.event()
    local proxy = setmetatable({}, { __index = function() return ev end,
                                     __len = function() return 3 end })
    h.contains(h.err_of(des.any, proxy), "any: needs at least one member")
    assert.is_true(des.all(proxy).triggered) -- raw length 0: all of nothing
  end)

  it("refuses non-members clearly: resources, stores, tables, numbers", function()
    local res = des.resource(1)
    for _, bad in ipairs({ res, des.store(), {}, 42, des.rng() }) do
      h.contains(h.err_of(des.any, { des.event(), bad }), "any: member 2 is a",
                 "expected an event, a task or a request")
      h.contains(h.err_of(des.all, { bad }), "all: member 1 is a")
    end
  end)

  it("tasks and timeouts are members like events", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local t = des.spawn(function() des.sleep(2); return "task" end)
      local to = des.timeout(1, "timeout")
      local _, v = des.any{ t, to }:wait()
      local all = des.all{ t, to }:wait()
      got = { v, all[1][1], all[2][1], des.now() }
    end)
    sim:run()
    assert.same({ "timeout", "task", "timeout", 2.0 }, got)
  end)

  it("des.all hands out copies: its values cannot change a member's", function()
    local ev = des.event()
    ev:succeed(1, 2)
    local vals = des.all{ ev }:wait()
    assert.equal(2, vals[1].n)
    vals[1].n = -5
    vals[1][1] = "changed"
    setmetatable(vals[1], { __index = function() error("reached") end })
    local a, b = ev:wait()
    assert.equal(1, a)
    assert.equal(2, b)
    assert.equal(2, des.all{ ev }:wait()[1].n)
  end)

  it("the object's metatable is hidden: __gc and methods stay ours", function()
    assert.equal("des.event", getmetatable(des.event()))
    assert.equal("des.task", getmetatable(des.new{}:spawn(function() end)))
    assert.equal("des.resource", getmetatable(des.resource(1)))
    assert.equal("des.sim", getmetatable(des.new{}))
    assert.equal("des.rng", getmetatable(des.rng()))
    h.contains(h.err_of(setmetatable, des.event(), {}), "")
  end)
end)

describe("finalizers and des objects", function()
  -- issue 14 item 5: a newer finalizer triggers a member of a composite
  -- that is being collected (it is no longer in the objects table)
  for _, kind in ipairs({ "any", "all" }) do
    it(kind .. ": a member triggered by a later finalizer skips a dying composite", function()
      local evs = {}
      for i = 1, 50 do
        local ev = des.event()
        evs[i] = ev
        local _ = des[kind]{ ev } -- garbage, older than the finalizer below
        setmetatable({}, { __gc = function() ev:succeed(i) end })
      end
      collectgarbage()
      collectgarbage()
      for i = 1, 50 do
        assert.is_true(evs[i].triggered)
        assert.equal(i, (evs[i]:wait()))
      end
    end)
  end

  it("a task member cancelled by a later finalizer", function()
    local sim = des.new{}
    local tasks = {}
    for i = 1, 20 do
      local t = sim:spawn(function() des.sleep(10) end)
      tasks[i] = t
      sim:spawn(function() des.any{ t } end) -- a composite that becomes garbage
    end
    sim:run(1)
    for i = 1, 20 do
      local t = tasks[i]
      setmetatable({}, { __gc = function() t:cancel() end })
    end
    tasks = nil
    collectgarbage()
    collectgarbage()
    sim:run()
  end)

  it("a composite brought back by a finalizer fails clearly", function()
    local saved
    for _, kind in ipairs({ "any", "all" }) do
      local ev = des.event()
      do
        local holder = setmetatable({}, { __gc = function(o) saved = o.c end })
        holder.c = des[kind]{ ev } -- newer: finalized before its holder
      end
      collectgarbage()
      collectgarbage()
      assert.is_not_nil(saved)
      assert.is_true(saved.triggered)
      assert.is_false(saved.ok)
      h.contains(h.err_of(saved.wait, saved), kind .. ": the event was collected")
      ev:succeed(1) -- tells nothing freed
      assert.is_true(des.any{ saved }.triggered)
      assert.is_false(des.any{ saved }.ok)
      local called
      saved:on(function() called = true end)
      assert.is_true(called)
      saved = nil
    end
  end)

  it("a task brought back with its simulation is inert", function()
    local got
    do
      local sim = des.new{}
      local t = sim:spawn(function() des.sleep(5) end)
      sim:run(1)
      local holder = setmetatable({}, { __gc = function(o) got = o end })
      holder.t, holder.sim = t, sim
    end
    collectgarbage()
    collectgarbage()
    assert.is_not_nil(got)
    local t, sim = got.t, got.sim
    assert.equal("cancelled", t.status)
    t:cancel()
    assert.is_false(t:interrupt("x"))
    h.contains(h.err_of(t.join, t), "collected with its simulation")
    assert.is_false(pcall(sim.run, sim))
    got = nil
  end)

  it("an acquire racing finalizers that acquire never over-grants", function()
    local res = des.resource(1)
    local held, armed, mt = {}, false, {}
    mt.__gc = function()
      if armed then
        local ok, r = pcall(res.acquire, res)
        if ok then held[#held + 1] = r end
      end
      setmetatable({}, mt)
    end
    finally(function() mt.__gc = nil; gc_defaults() end)
    for _ = 1, 20 do setmetatable({}, mt) end
    collectgarbage("incremental", 10, 1000)
    for _ = 1, 400 do
      armed = true
      local ok, r = pcall(res.acquire, res)
      armed = false
      if ok then held[#held + 1] = r end
      assert.is_true(res.count <= 1)
      for i = #held, 1, -1 do held[i]:release(); held[i] = nil end
      local junk = {}
      for j = 1, 20 do junk[j] = {} end
    end
    mt.__gc = nil
    gc_defaults()
    assert.equal(0, res.count)
  end)
end)

describe("notification does not recurse in C", function()
  -- issue 14 item 6
  for _, kind in ipairs({ "any", "all" }) do
    it(kind .. ": 200000 nested levels stop with a clear error at creation", function()
      local c = des.event()
      local top = c
      local e = h.err_of(function()
        for _ = 1, 200000 do top = des[kind]{ top } end
      end)
      h.contains(e, kind .. ": composites nest too deep", "at most 1000 levels")
      -- the 1000 levels made fire, and the values are all there
      c:succeed(42)
      assert.is_true(top.triggered)
      if kind == "any" then
        local vals = table.pack(top:wait())
        assert.equal(1001, vals.n)
        assert.equal(42, vals[vals.n])
      else
        local v = top:wait()
        for _ = 1, 999 do v = v[1][1] end
        assert.equal(42, v[1][1])
      end
    end)
  end

  it("many composites on one event, each waited on by a task, wake in order", function()
    local sim = des.new{}
    local ev, order = nil, {}
    sim:spawn(function()
      ev = des.event()
      for i = 1, 20000 do
        local c = des.any{ ev }
        des.spawn(function() c:wait(); order[#order + 1] = i end)
      end
      des.sleep(1)
      ev:succeed()
    end)
    sim:run()
    assert.equal(20000, #order)
    for i = 1, #order do assert.equal(i, order[i]) end
  end)

  it("depth first, as before: a composite's waiters and callbacks come first", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      local ev = des.event()
      local x = des.any{ ev }
      des.spawn(function() x:wait(); log[#log + 1] = "A (any)" end)
      des.spawn(function() ev:wait(); log[#log + 1] = "B (ev)" end)
      des.sleep(0)
      local y = des.all{ ev }
      des.spawn(function() y:wait(); log[#log + 1] = "C (all)" end)
      ev:on(function() log[#log + 1] = "ev:on" end)
      x:on(function() log[#log + 1] = "x:on" end)
      y:on(function() log[#log + 1] = "y:on" end)
      des.sleep(0)
      ev:succeed()
      log[#log + 1] = "after succeed"
    end)
    sim:run()
    assert.same({ "x:on", "y:on", "ev:on", "after succeed", "A (any)", "B (ev)", "C (all)" },
                log)
  end)

  it("a chain of on-callbacks triggering the next ends in a clear error", function()
    local first = des.event()
    local prev = first
    for _ = 1, 100000 do
      local nxt = des.event()
      prev:on(function() nxt:succeed() end)
      prev = nxt
    end
    local e = h.err_of(first.succeed, first)
    h.contains(tostring(e), "stack overflow")
    local ev = des.event() -- the simulation still works
    ev:succeed(1)
    assert.equal(1, (ev:wait()))
  end)

  it("a chain of 100000 joins returns through every task", function()
    local sim = des.new{}
    local last
    sim:spawn(function()
      local prev = des.spawn(function() des.sleep(1); return 0 end)
      for _ = 1, 100000 do
        local p = prev
        prev = des.spawn(function() return p:join() + 1 end)
      end
      last = prev:join()
    end)
    sim:run()
    assert.equal(100000, last)
  end)
end)

describe("no model global reaches C or the library", function()
  -- issue 14 item 4
  it("sim:tasks sorts without table.sort", function()
    local sim = des.new{}
    for i = 1, 100 do sim:spawn{ name = "t" .. i, function() des.sleep(i % 7) end } end
    sim:run(1)
    local sort = table.sort
    table.sort = function(t, f) f(t, 1); f(nil, nil) end
    local ok, list = pcall(sim.tasks, sim)
    table.sort = sort
    assert.is_true(ok, list)
    local prev = 0
    for _, t in ipairs(list) do
      assert.is_true(t.id > prev)
      prev = t.id
    end
    assert.equal(#list, #sim:tasks())
  end)

  local swaps = [[
table.sort = function() error("model table.sort called") end
table.remove = function() error("model table.remove called") end
table.insert = function() error("model table.insert called") end
string.format = function() error("model string.format called") end
require = function() error("model require called") end
pairs = function() error("model pairs called") end
ipairs = function() error("model ipairs called") end
setmetatable = function() error("model setmetatable called") end
tostring = function() error("model tostring called") end
type = function() error("model type called") end
error = function() os.exit(3) end
getmetatable("").__index = function() return function() return "hijacked" end end
des.event = nil
des.self = function() return "not a task" end
]]
  local use = [[
local st = des.store(2)
des.spawn(function() st:put(1); st:put(2); st:put(3) end)
des.sleep(1)
assert(st:get() == 1)
local m = des.monitor.tally("x")
m:observe(3)
assert(m:report().count == 1)
local c = des.container(10, 5)
c:get(2)
assert(c.level == 3)
local r = des.replicate
assert(r ~= nil)
]]
  for _, when in ipairs({ "before", "after" }) do
    it("globals swapped " .. when .. " the library loads", function()
      if not run.available then return end
      local text = "local des = require 'des'\n"
      if when == "after" then text = text .. use end
      text = text .. swaps .. use .. "print('ok')\n"
      local code, out, err = run(text)
      assert.equal(0, code, err)
      assert.equal("ok\n", out)
    end)
  end

  it("des.store and require 'des.store' are one module", function()
    assert.equal(require("des.store"), des.store)
    assert.equal(require("des.monitor"), des.monitor)
  end)

  it("a field of the des module replaced does not reach the library", function()
    local saved = des.event
    des.event = function() error("model's des.event") end
    local ok, e = pcall(function()
      local sim = des.new{}
      local got
      sim:spawn(function()
        local st = des.store(1)
        des.spawn(function() got = st:get() end)
        des.sleep(1)
        st:put("x")
      end)
      sim:run()
      return got
    end)
    des.event = saved
    assert.is_true(ok, e)
    assert.equal("x", e)
  end)
end)
