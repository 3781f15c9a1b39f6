-- stats_spec.lua -- the one statistics core as Lua sees it (lstats.c,
-- ltally.c, llevel.c): statistics readable after their simulation closed
-- (frozen at the close time) or their resource was collected, checked
-- arguments on every entry, resource statistics the model cannot change,
-- finalizers, merge, exact time integrals at the default resolution, and
-- replications.
local des = require "des"
local h = require "helpers"

-- A resource model run in its own simulation, closed at the end; returns
-- the resource, a store, a container and a level monitor.
local function closed_model()
  local sim = des.new{}
  local out = {}
  sim:spawn(function()
    local res, st, c = des.resource(1, { name = "clerk" }), des.store(), des.container(10, 5)
    local lv = des.monitor.level("lv", 0, { time_at = true })
    out.res, out.st, out.c, out.lv = res, st, c, lv
    for _ = 1, 2 do
      des.spawn(function() local _r <close> = res:acquire(); des.sleep(2) end)
    end
    des.spawn(function() des.sleep(1); st:put("x"); c:get(3); lv:set(2) end)
    des.sleep(3)
  end)
  sim:run(3)
  sim:close()
  return out
end

describe("statistics after their simulation closed", function()
  it("read frozen at the close time (resources, stores, containers, monitors)", function()
    local m = closed_model()
    collectgarbage(); collectgarbage()
    local busy, queue, wait = m.res.stats.busy:report(), m.res.stats.queue:report(),
                              m.res.stats.wait:report()
    -- closing cancelled the holder at 3: busy 0 from then, no time passed
    assert.are.same({ 3, 1, 0 }, { busy.duration, busy.mean, busy.value })
    assert.are.same({ [1] = 3 }, busy.time_at)
    assert.are.same({ [0] = 1, [1] = 2 }, queue.time_at)
    assert.are.same({ 2, 0, 2 }, { wait.count, wait.min, wait.max })
    local level = m.st.stats.level:report()
    assert.are.same({ 3, 2 / 3 }, { level.duration, level.mean })
    local c = m.c.stats.level:report()
    assert.are.same({ 3, (5 + 2 * 2) / 3, 2 }, { c.duration, c.mean, c.min })
    local lv = m.lv:report()
    assert.are.same({ 3, 4 / 3, { [0] = 1, [2] = 2 } }, { lv.duration, lv.mean, lv.time_at })
    -- reading again gives the same: the clock stays at the close time
    assert.are.same(busy, m.res.stats.busy:report())
    assert.is_string(des.monitor.json{ m.res, m.st, m.c, m.lv })
    -- resetting is fine; changing a closed simulation's level is not
    m.lv:reset()
    assert.are.equal(0, m.lv:report().duration)
    h.contains(h.err_of(m.lv.set, m.lv, 1), "closed simulation")
    h.contains(h.err_of(m.lv.add, m.lv, 1), "closed simulation")
  end)

  it("des.replicate's runs keep readable statistics (issue 14 item 3)", function()
    local r = des.replicate(3, function()
      local clerk = des.resource(1)
      for _ = 1, 3 do
        des.spawn(function() local _r <close> = clerk:acquire(); des.sleep(1) end)
      end
      des.sleep(5)
      return { clerk = clerk, wait = 1 }
    end, { seed = 1 })
    collectgarbage(); collectgarbage()
    for i = 1, 3 do
      local busy = r.runs[i].clerk.stats.busy:report()
      assert.are.same({ 5, 3 / 5 }, { busy.duration, busy.mean })
      assert.are.equal(3, r.runs[i].clerk.stats.wait:report().count)
    end
  end)

  it("summarises replications through a tally; NaN counts as missing", function()
    local r = des.replicate(4, function(i)
      return { x = i, y = i % 2 == 0 and 0 / 0 or i }
    end)
    assert.are.same({ 4, 2.5 }, { r.stats.x.n, r.stats.x.mean })
    assert.is_true(math.abs(r.stats.x.sd - math.sqrt(5 / 3)) < 1e-15)
    assert.are.same({ 2, 2 }, { r.stats.y.n, r.stats.y.mean })
  end)
end)

describe("statistics objects", function()
  it("outlive their resource, and the model cannot unanchor a resource's", function()
    local sim, busy, res = des.new{}, nil, nil
    sim:spawn(function()
      res = des.resource(2)
      busy = res.stats.busy
      res.stats.busy, res.stats.queue, res.stats.wait = nil, nil, nil
      collectgarbage(); collectgarbage()
      for _ = 1, 3 do
        des.spawn(function() local _r <close> = res:acquire(); des.sleep(1) end)
      end
      des.sleep(2)
    end)
    sim:run()
    assert.are.same({ [1] = 0, [2] = 1 }, { [1] = 0, [2] = busy:report().time_at[2] })
    assert.are.equal(1.5, busy:report().mean)
    res = nil
    collectgarbage(); collectgarbage()
    assert.are.equal(1.5, busy:report().mean)
  end)

  it("refuse changes to a resource's statistics but let them be reset", function()
    local res = des.resource(1)
    h.contains(h.err_of(res.stats.wait.observe, res.stats.wait, 1), "kept by its resource")
    h.contains(h.err_of(res.stats.busy.set, res.stats.busy, 5), "kept by its resource")
    h.contains(h.err_of(res.stats.queue.add, res.stats.queue, 1), "kept by its resource")
    local t = des.monitor("t")
    t:observe(1)
    h.contains(h.err_of(res.stats.wait.merge, res.stats.wait, t), "kept by its resource")
    res.stats.wait:reset(); res.stats.busy:reset()
    assert.are.equal("waiting time", res.stats.wait:report().name)
  end)

  it("check self and arguments at every entry", function()
    local t, l = des.monitor("t"), des.monitor.level("l")
    local bad = { {}, 5, "x", des.event(), des.resource(1), l }
    for _, b in ipairs(bad) do
      for _, f in ipairs{ t.observe, t.report, t.reset, t.merge } do
        h.contains(h.err_of(f, b, 1), "des.tally expected")
      end
    end
    for _, b in ipairs{ {}, 5, t, des.resource(1) } do
      for _, f in ipairs{ l.set, l.add, l.report, l.reset } do
        h.contains(h.err_of(f, b, 1), "des.level expected")
      end
    end
    h.contains(h.err_of(t.merge, t, l), "des.tally expected")
    h.contains(h.err_of(t.observe, t, "1x"), "needs a number")
    h.contains(h.err_of(t.observe, t), "needs a number")
    h.contains(h.err_of(t.observe, t, "1"), "needs a number")
    h.contains(h.err_of(l.set, l, "x"), "needs a number")
    h.contains(h.err_of(l.set, l, "1"), "needs a number")
    h.contains(h.err_of(l.add, l), "needs a number")
    h.contains(h.err_of(des.monitor.level, "x", "1"), "initial value must be a number")
    local inf = des.monitor.level("inf")
    inf:set(math.huge) -- infinities are numbers; inf - inf is not
    h.contains(h.err_of(inf.add, inf, -math.huge), "needs a number (got nan)")
    assert.are.equal(math.huge, inf.value)

    h.contains(h.err_of(l.set, l, 0 / 0), "needs a number")
    h.contains(h.err_of(l.add, l, 0 / 0), "needs a number")
    h.contains(h.err_of(des.monitor.level, "x", "y"), "initial value must be a number")
    h.contains(h.err_of(des.monitor.level, "x", 0, 5), "options must be a table")
    h.contains(h.err_of(des.monitor, "x", { quantiles = 5 }), "quantiles must be an array")
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 0.5, "a" } }), "quantile 2")
    h.contains(h.err_of(des.monitor, "x", { histogram = {} }), "array of bin edges")
    h.contains(h.err_of(des.monitor, "x", { histogram = { 1, 0 / 0 } }), "edge 2")
    h.contains(h.err_of(des.monitor, "x", { histogram = { 1, "2" } }), "edge 2")
    h.contains(h.err_of(des.monitor, "x", { quantiles = { "0.5" } }), "quantile 1")
    assert.are.equal("des statistics", getmetatable(t))
    h.contains(tostring(t), "des.tally 't'")
    h.contains(tostring(l), "des.level 'l'")
  end)

  it("hold the options they checked while finalizers swap them", function()
    local qs, armed, mt = nil, false, {}
    mt.__gc = function()
      if armed and qs then qs[1], qs[2] = "bad", nil end
      setmetatable({}, mt)
    end
    for _ = 1, 50 do setmetatable({}, mt) end
    collectgarbage("incremental", 10, 1000)
    for i = 1, 500 do
      qs = i % 2 == 0 and { 0.5, 0.9, 0.1 } or { 0.1, 0.5, 0.9 }
      armed = true
      local ok, t = pcall(des.monitor, "x", { quantiles = qs, histogram = qs })
      armed = false
      if ok then
        t:observe(0.3)
        local r = t:report()
        assert.are.equal(0.3, r.quantiles[0.5])
        assert.are.equal(1, r.histogram[2][3])
      else
        h.contains(t, "monitor:")
      end
      local junk = {}
      for j = 1, 20 do junk[j] = {} end
      assert(#junk == 20) -- garbage that drives the collector
    end
    armed = false
    collectgarbage("incremental", 200, 100)
    collectgarbage()
  end)

  it("blame the model's line for a bad call", function()
    local t, l = des.monitor("t"), des.monitor.level("l")
    for _, f in ipairs{
      function() des.monitor("x", 5) end,
      function() des.monitor.tally("x", { quantiles = { 2 } }) end,
      function() des.monitor.level("x", "y") end,
      function() t:observe("a") end,
      function() l:set(0 / 0) end,
    } do
      local ok, e = pcall(f)
      assert.is_false(ok)
      h.contains(e, "stats_spec.lua:")
    end
  end)

  it("read their fields as the former Lua monitors did", function()
    local t, l = des.monitor("t"), des.monitor.level("l", 3)
    assert.are.same({ "t", 0 }, { t.name, t.count })
    assert.is_nil(t.mean)
    t:observe(4); t:observe(2)
    assert.are.same({ 2, 3, 2, 4 }, { t.count, t.mean, t.min, t.max })
    assert.are.same({ "l", 3, 3, 3 }, { l.name, l.value, l.min, l.max })
    l:add(-5)
    assert.are.same({ -2, -2, 3 }, { l.value, l.min, l.max })
    assert.is_nil(l.nothing)
  end)

  it("merge tallies (Chan): the halves give the whole", function()
    local whole, a, b = des.monitor("w"), des.monitor("a"), des.monitor("b")
    local r = des.new{ seed = 3 }:rng("m")
    for i = 1, 1000 do
      local x = 1e9 + r:uniform(0, i < 400 and 1 or 3)
      whole:observe(x)
      if i < 400 then a:observe(x) else b:observe(x) end
    end
    a:merge(b)
    a:merge(a) -- itself: nothing
    local rw, ra = whole:report(), a:report()
    assert.are.same({ rw.count, rw.min, rw.max }, { ra.count, ra.min, ra.max })
    assert.is_true(math.abs(ra.mean - rw.mean) < 1e-6)
    assert.is_true(math.abs(ra.variance - rw.variance) < 1e-9 * rw.variance)
  end)

  it("survive their finalizer running before a finalizer that uses them", function()
    for round = 1, 2 do
      local sim = des.new{}
      sim:spawn(function()
        local kept = {}
        local function user()
          return setmetatable({}, { __gc = function()
            for _, s in ipairs(kept) do
              pcall(s.report, s)
              pcall(s.set, s, 7); pcall(s.add, s, 1); pcall(s.observe, s, 1)
              pcall(s.reset, s); pcall(s.report, s)
            end
          end })
        end
        local before = round == 1 and user() or nil
        local res = des.resource(1)
        kept[1] = des.monitor.level("l", 0, { time_at = true })
        kept[2] = des.monitor("t", { quantiles = { 0.5 }, histogram = { 1, 2 } })
        kept[3], kept[4], kept[5] = res.stats.busy, res.stats.queue, res.stats.wait
        kept[6] = des.store().stats.level
        local after = round == 2 and user() or nil
        local _ = before or after
      end)
      sim:run()
      collectgarbage(); collectgarbage(); collectgarbage()
    end
  end)
end)

describe("time-weighted levels", function()
  it("integrate in integer ticks: exact means at the default resolution", function()
    local sim, l = des.new{}, nil
    sim:spawn(function()
      l = des.monitor.level("l", 0, { time_at = true })
      for i = 1, 30 do
        des.sleep(0.1); l:set(i % 3)
      end
      des.sleep(0.1)
    end)
    sim:run()
    local r = l:report()
    -- 31 steps of 0.1 (10^8 ticks each) at 0, then 1, 2, 0, 1, 2, ...
    assert.are.equal(31 * 100000000 / 1e9, r.duration)
    assert.are.equal((10 * 1 + 10 * 2) * 1e8 / (31 * 1e8), r.mean)
    assert.are.same({ [0] = 11 * 1e8 / 1e9, [1] = 1.0, [2] = 1.0 }, r.time_at)
  end)

  it("keep the time at fractional, negative and large values", function()
    local sim, l = des.new{}, nil
    sim:spawn(function()
      l = des.monitor.level("l", -1.5, { time_at = true })
      des.sleep(1); l:set(1e12); des.sleep(2); l:set(0.25); des.sleep(3)
      l:set(-0.0); des.sleep(1); l:set(0); des.sleep(1)
    end)
    sim:run()
    local r = l:report()
    assert.are.same({ [-1.5] = 1, [1e12] = 2, [0.25] = 3, [0] = 2 }, r.time_at)
    assert.are.same({ -1.5, 1e12, 8 }, { r.min, r.max, r.duration })
  end)
end)
