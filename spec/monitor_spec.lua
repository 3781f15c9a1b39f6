-- monitor_spec.lua -- des.monitor: tallies with quantiles and histograms,
-- time-weighted levels with the time at each value, CSV and JSON export,
-- and des.replicate's confidence intervals.
local des = require "des"
local h = require "helpers"

-- The exact p-quantile of xs (linear interpolation between order statistics).
local function exact_quantile(xs, p)
  local s = table.move(xs, 1, #xs, 1, {})
  table.sort(s)
  local k = (#s - 1) * p + 1
  local lo = math.floor(k)
  return s[lo] + (k - lo) * ((s[lo + 1] or s[lo]) - s[lo])
end

describe("des.monitor tallies", function()
  it("count, mean, variance, min and max on a hand-computed case", function()
    local m = des.monitor("x")
    for _, x in ipairs{ 2, 4, 4, 4, 5, 5, 7, 9 } do m:observe(x) end
    local r = m:report()
    assert.are.equal(8, r.count)
    assert.are.equal(5, r.mean)
    assert.is_true(math.abs(r.variance - 32 / 7) < 1e-12)
    assert.are.equal(2, r.min)
    assert.are.equal(9, r.max)
    assert.is_nil(r.quantiles)
  end)

  it("estimates quantiles exactly up to 5 observations", function()
    local m = des.monitor("q", { quantiles = { 0.25, 0.5, 0.9 } })
    local xs = { 3, 1, 4, 1, 5 }
    for _, x in ipairs(xs) do m:observe(x) end
    for _, p in ipairs{ 0.25, 0.5, 0.9 } do
      assert.are.equal(exact_quantile(xs, p), m:report().quantiles[p])
    end
  end)

  it("estimates quantiles of 10^5 observations within a small rank error", function()
    local m = des.monitor("q", { quantiles = { 0.1, 0.5, 0.95, 0.99 } })
    local r, xs = des.new{ seed = 5 }:rng("q"), {}
    for i = 1, 100000 do
      xs[i] = r:exponential(2)
      m:observe(xs[i])
    end
    table.sort(xs)
    for p, est in pairs(m:report().quantiles) do
      -- the estimate's rank in the sample is within 0.5% of p
      local rank = 0
      for _, x in ipairs(xs) do if x <= est then rank = rank + 1 else break end end
      assert.is_true(math.abs(rank / #xs - p) < 0.005,
                     ("p=%g: estimate %g has rank %g"):format(p, est, rank / #xs))
    end
  end)

  it("counts a histogram exactly, with both tails", function()
    local m = des.monitor("h", { histogram = { 0, 1, 10 } })
    for _, x in ipairs{ -5, 0, 0.5, 1, 9.99, 10, 100 } do m:observe(x) end
    local hist = m:report().histogram
    assert.are.same({ { -math.huge, 0, 1 }, { 0, 1, 2 }, { 1, 10, 2 }, { 10, math.huge, 2 } },
                    hist)
  end)

  it("refuses bad options and observations", function()
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 1.5 } }), "quantile 1")
    h.contains(h.err_of(des.monitor, "x", { histogram = { 1, 1 } }), "increasing")
    h.contains(h.err_of(des.monitor, "x", 5), "options must be a table")
    local m = des.monitor("x")
    h.contains(h.err_of(m.observe, m, 0 / 0), "needs a number")
  end)
end)

describe("des.monitor levels", function()
  it("integrate exactly and keep the time at each value", function()
    local sim = des.new{}
    local q
    sim:spawn(function()
      q = des.monitor.level("q", 0, { time_at = true })
      des.sleep(1); q:set(2)
      des.sleep(3); q:add(-1)
      des.sleep(0.5); q:set(0)
      des.sleep(1.5)
    end)
    sim:run()
    local r = q:report()
    assert.are.equal(6, r.duration)
    assert.are.equal((2 * 3 + 1 * 0.5) / 6, r.mean)
    assert.are.same({ [0] = 2.5, [1] = 0.5, [2] = 3 }, r.time_at)
    assert.are.equal(2, r.max)
  end)

  it("resources keep the time at each queue length and busy count", function()
    local sim, res = des.new{}, nil
    sim:spawn(function()
      res = des.resource(1, { name = "clerk" })
      for _ = 1, 2 do des.spawn(function() local _r <close> = res:acquire(); des.sleep(2) end) end
    end)
    sim:run()
    assert.are.same({ [1] = 4 }, res.stats.busy:report().time_at)
    assert.are.same({ [0] = 2, [1] = 2 }, res.stats.queue:report().time_at)
  end)

  it("forget a warm-up period with reset, tallies, levels and resource stats alike", function()
    local sim, res, t, l = des.new{}, nil, nil, nil
    sim:spawn(function()
      res = des.resource(1)
      t = des.monitor("t", { quantiles = { 0.5 }, histogram = { 0 } })
      l = des.monitor.level("l", 0, { time_at = true })
      for _ = 1, 2 do des.spawn(function() local _r <close> = res:acquire(); des.sleep(2) end) end
      t:observe(100); l:set(5)
      des.sleep(10) -- the warm-up
      for _, m in ipairs{ t, l, res.stats.queue, res.stats.busy, res.stats.wait } do m:reset() end
      t:observe(1); l:set(1)
      des.sleep(4)
    end)
    sim:run()
    local tr, lr = t:report(), l:report()
    assert.are.same({ 1, 1, 1 }, { tr.count, tr.mean, tr.quantiles[0.5] })
    assert.are.equal(1, tr.histogram[2][3])
    -- the value at the reset (5, held no time after it) still counts for max
    assert.are.same({ 4, 1, 1, 5 }, { lr.duration, lr.mean, lr.min, lr.max })
    assert.are.same({ [1] = 4 }, lr.time_at)
    local busy = res.stats.busy:report()
    assert.are.same({ 4, 0, 0 }, { busy.duration, busy.mean, busy.max })
    assert.are.equal(0, res.stats.wait:report().count)
  end)

  it("stores keep the time at each number of items", function()
    local sim, st = des.new{}, nil
    sim:spawn(function()
      st = des.store()
      des.sleep(1); st:put("a"); st:put("b")
      des.sleep(2); st:get()
      des.sleep(3)
    end)
    sim:run()
    assert.are.same({ [0] = 1, [1] = 3, [2] = 2 }, st.stats.level:report().time_at)
  end)
end)

describe("des.monitor export", function()
  local function model(seed)
    local sim, res, w = des.new{ seed = seed }, nil, nil
    sim:spawn(function()
      res = des.resource(1, { name = "clerk" })
      w = des.monitor("wait")
      local r = des.rng("a")
      for _ = 1, 50 do
        des.spawn(function()
          local t0 = des.now()
          local _r <close> = res:acquire()
          w:observe(des.now() - t0)
          des.sleep(r:exponential(1))
        end)
        des.sleep(r:exponential(1.2))
      end
    end)
    sim:run()
    return { w, res }
  end

  it("writes CSV in long format: one row per statistic and part", function()
    local sim = des.new{ resolution = 1 }
    local m, l, t
    sim:spawn(function()
      m, l = des.monitor("a,b"), des.monitor.level("lvl")
      t = des.monitor("t", { quantiles = { 0.5 }, histogram = { 2 } })
      m:observe(1); m:observe(3); t:observe(1)
      l:set(4); des.sleep(2)
    end)
    sim:run()
    assert.are.equal("name,kind,stat,at,to,value\n"
                     .. '"a,b",tally,count,,,2\n"a,b",tally,mean,,,2\n'
                     .. '"a,b",tally,sd,,,1.4142135623730951\n"a,b",tally,variance,,,2\n'
                     .. '"a,b",tally,min,,,1\n"a,b",tally,max,,,3\n'
                     .. "lvl,level,mean,,,4\nlvl,level,min,,,0\nlvl,level,max,,,4\n"
                     .. "lvl,level,value,,,4\nlvl,level,duration,,,2\n"
                     .. "lvl,level,series_min,0,1,0\nlvl,level,series_min,1,2,4\n"
                     .. "lvl,level,series_max,0,1,4\nlvl,level,series_max,1,2,4\n"
                     .. "lvl,level,series_mean,0,1,4\nlvl,level,series_mean,1,2,4\n"
                     .. "lvl,level,series_last,0,1,4\nlvl,level,series_last,1,2,4\n"
                     .. "t,tally,count,,,1\nt,tally,mean,,,1\nt,tally,min,,,1\nt,tally,max,,,1\n"
                     .. "t,tally,quantile,0.5,,1\n"
                     .. "t,tally,bin,-inf,2,1\nt,tally,bin,2,inf,0\n",
                     des.monitor.csv{ m, l, t })
  end)

  it("writes JSON with sorted keys and objects for maps such as time_at", function()
    local sim, l = des.new{ resolution = 1 }, nil
    sim:spawn(function()
      l = des.monitor.level("q", 0, { time_at = true })
      des.sleep(1); l:set(1); des.sleep(1)
    end)
    sim:run()
    local m = des.monitor("e")
    assert.are.equal('[{"duration":2,"kind":"level","max":1,"mean":0.5,"min":0,"name":"q",'
                     .. '"series":[{"last":0,"max":0,"mean":0,"min":0,"t":0,"t_end":1},'
                     .. '{"last":1,"max":1,"mean":1,"min":1,"t":1,"t_end":2}],'
                     .. '"time_at":{"0":1,"1":1},"value":1},'
                     .. '{"count":0,"kind":"tally","name":"e"}]\n',
                     des.monitor.json{ l, m })
  end)

  it("gives byte-identical output for the same seed, and writes files", function()
    local a, b = des.monitor.json(model(3)), des.monitor.json(model(3))
    assert.are.equal(a, b)
    assert.are_not.equal(a, des.monitor.json(model(4)))
    local path = os.tmpname()
    des.monitor.csv(model(3), path)
    local text = h.slurp(path)
    os.remove(path)
    h.contains(text, "\nwait,tally,count,,,50\n", "\nclerk.busy,level,mean,",
               "\nclerk.wait,tally,count,,,50\n", "\nclerk.queue,level,series_max,")
  end)

  it("refuses what is not a monitor", function()
    h.contains(h.err_of(des.monitor.csv, { 5 }), "item 1 is not a monitor")
    h.contains(h.err_of(des.monitor.json, "x"), "expected a list")
  end)
end)

describe("des.replicate", function()
  it("has Student t quantiles from the tables", function()
    local t = des.replicate.t_quantile
    assert.is_true(math.abs(t(0.975, 1) - 12.7062) < 1e-4)
    assert.is_true(math.abs(t(0.975, 10) - 2.2281) < 1e-4)
    assert.is_true(math.abs(t(0.995, 5) - 4.0321) < 1e-4)
    assert.is_true(math.abs(t(0.95, 100) - 1.6602) < 1e-4)
  end)

  local function model()
    local r, m = des.rng("x"), des.monitor("u")
    for _ = 1, 200 do
      des.sleep(r:exponential(1))
      m:observe(r:uniform(0, 1))
    end
    return { u = m:report().mean, t = des.now() }
  end

  it("runs independent replications and gives t intervals", function()
    local r = des.replicate(12, model, { seed = 9, confidence = 0.9 })
    assert.are.equal(12, r.n)
    local u = r.stats.u
    assert.are.equal(12, u.n)
    local xs = {}
    for i = 1, 12 do xs[i] = r.runs[i].u end
    -- all different: independent streams
    for i = 2, 12 do assert.are_not.equal(xs[1], xs[i]) end
    local hw = des.replicate.t_quantile(0.95, 11) * u.sd / math.sqrt(12)
    assert.is_true(math.abs(u.half_width - hw) < 1e-12)
    assert.is_true(u.lo < 0.5 and 0.5 < u.hi) -- the true mean of U(0,1)
    assert.is_true(math.abs(r.stats.t.mean - 200) < 4 * r.stats.t.sd)
  end)

  it("gives the same results for the same seed", function()
    assert.are.same(des.replicate(3, model, { seed = 1 }).runs,
                    des.replicate(3, model, { seed = 1 }).runs)
  end)

  it("refuses bad arguments and names a failing replication", function()
    h.contains(h.err_of(des.replicate, 0, model), "integer >= 1")
    h.contains(h.err_of(des.replicate, 2, 5), "must be a function")
    h.contains(h.err_of(des.replicate, 2, model, { confidence = 2 }), "confidence")
    h.contains(h.err_of(des.replicate, 3, function(i)
      if i == 2 then error("boom") end
      return {}
    end), "replication 2 (seed", "boom")
    h.contains(h.err_of(des.replicate, 1, function() return 5 end), "not a table")
  end)
end)
