-- series_spec.lua -- the time series of levels (level:series()): exact
-- min/max over 10^6 changes, memory bounded, the buckets' time-weighted
-- mean equal to the monitor's; resources', stores' and containers' levels;
-- the registry of a simulation's statistics (des.monitor.gather).
local des = require "des"
local h = require "helpers"

-- The time-weighted mean of a series' rows.
local function series_mean(rows)
  local area, dur = 0, 0
  for _, b in ipairs(rows) do
    area = area + b.mean * (b.t_end - b.t)
    dur = dur + (b.t_end - b.t)
  end
  return area / dur, dur
end

describe("level series", function()
  it("keeps exact min/max over 10^6 changes in bounded memory", function()
    local sim = des.new{ seed = 5 }
    local l, lo, hi
    sim:spawn(function()
      local rng = des.rng("x")
      l = des.monitor.level("q")
      lo, hi = 0, 0
      for i = 1, 1000000 do
        local v = rng:uniform(0, 100) // 1
        if i == 777777 then v = 5000 end -- one peak of no duration
        if i == 333333 then v = -7 end
        l:set(v)
        lo, hi = math.min(lo, v), math.max(hi, v)
        if i % 3 == 0 then des.sleep(rng:uniform(0, 0.01)) end
      end
      l:set(1)
      des.sleep(1)
    end)
    collectgarbage("collect")
    local before = collectgarbage("count")
    sim:run()
    collectgarbage("collect")
    assert.is_true(collectgarbage("count") - before < 200, "memory grew")
    local rows = l:series()
    assert.is_true(#rows >= 256 and #rows <= 512)
    local smin, smax = math.huge, -math.huge
    for i, b in ipairs(rows) do
      smin, smax = math.min(smin, b.min), math.max(smax, b.max)
      assert.is_true(b.min <= b.mean + 1e-9 and b.mean <= b.max + 1e-9)
      if i > 1 then assert.are.equal(rows[i - 1].t_end, b.t) end
    end
    local r = l:report()
    assert.are.equal(-7, smin); assert.are.equal(5000, smax)
    assert.are.equal(lo, r.min); assert.are.equal(hi, r.max)
    local mean, dur = series_mean(rows)
    assert.is_true(math.abs(mean - r.mean) < 1e-9 * math.abs(r.mean))
    assert.is_true(math.abs(dur - r.duration) < 1e-6)
    assert.are.equal(1, rows[#rows].last)
  end)

  it("restarts with the statistics at reset and freezes when closed", function()
    local sim = des.new{ resolution = 1 }
    local l
    sim:spawn(function()
      l = des.monitor.level("q", 9)
      des.sleep(10); l:reset(); l:set(2); des.sleep(10)
    end)
    sim:run()
    local rows = l:series()
    assert.are.equal(10, rows[1].t)
    assert.are.equal(9, rows[1].max) -- the value at the reset is still seen
    assert.are.equal(2, select(1, series_mean(rows)))
    sim:close()
    assert.are.same(rows, l:series())
  end)

  it("follows the busy and queue levels of resources, stores, containers", function()
    local sim = des.new{ resolution = 1 }
    local res, st, c
    sim:spawn(function()
      res = des.resource(1, { name = "m" })
      st, c = des.store(), des.container(10, 5)
      for _ = 1, 3 do
        des.spawn(function() local req = res:acquire(); des.sleep(2); req:release() end)
      end
      st:put("a"); c:get(5); des.sleep(6)
    end)
    sim:run()
    local q = res.stats.queue:series()
    local qmax = 0
    for _, b in ipairs(q) do qmax = math.max(qmax, b.max) end
    assert.are.equal(2, qmax)
    assert.are.equal(1, res.stats.busy:series()[1].max)
    assert.are.equal(1, st.stats.level:series()[1].max)
    assert.are.equal(0, c.stats.level:series()[1].min)
  end)
end)

describe("des.monitor.gather", function()
  it("gives every statistic of a simulation once, in creation order", function()
    local sim = des.new{}
    sim:spawn(function()
      des.monitor("w")
      des.resource(2, { name = "srv" })
      des.store(nil, { name = "box" })
      des.container(10)
      des.monitor.level("lvl")
    end)
    sim:run()
    local names = {}
    for _, r in ipairs(des.monitor.gather(sim)) do
      names[#names + 1] = r.name
      if r.kind == "level" then assert.is_table(r.series) end
    end
    assert.are.same({ "w", "srv.busy", "srv.queue", "srv.reneged", "srv.wait", "box.level",
                      "box.reneged", "box.wait",
                      "container #1.level", "lvl" }, names)
    assert.are.equal(0, select(2, des.monitor.gather(sim)))
    h.contains(des.monitor.report_json(sim), '{"dropped":0,"statistics":[{"count":0,')
    -- another simulation has its own
    assert.are.equal(0, #des.monitor.gather(des.new{}))
  end)

  it("keeps a bounded registry for monitors made in a loop", function()
    local sim = des.new{}
    sim:spawn(function()
      for _ = 1, 10005 do des.monitor("m") end
    end)
    sim:run()
    local g, dropped = des.monitor.gather(sim)
    assert.are.equal(10000, #g)
    assert.are.equal(5, dropped)
  end)

  it("refuses what is not a simulation", function()
    h.contains(h.err_of(des.monitor.gather, 42), "expected a simulation")
    h.contains(h.err_of(des.monitor.gather, {}), "expected a simulation")
  end)
end)

describe("des.monitor.gather with what a model registers", function()
  it("shows a broken object as an error row and keeps the rest", function()
    local sim = des.new{}
    sim:spawn(function()
      des.monitor("before")
      des._stats.register(42)
      des._stats.register(setmetatable({}, { __index = function() error("no!") end }))
      des._stats.register({ stats = { x = 5 } })
      des.container(3); des.container(4)
      des.monitor("after")
    end)
    sim:run()
    local names, kinds = {}, {}
    for _, r in ipairs(des.monitor.gather(sim)) do
      names[#names + 1], kinds[#kinds + 1] = r.name, r.kind
    end
    assert.are.same({ "before", "item #2", "item #3", "item #4", "container #1.level",
                      "container #2.level", "after" }, names)
    assert.are.same({ "tally", "error", "error", "error", "level", "level", "tally" }, kinds)
    h.contains(des.monitor.report_json(sim), '"kind":"error"')
  end)
end)
