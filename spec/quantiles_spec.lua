-- quantiles_spec.lua -- quantiles of monitors and of resource waiting
-- times (issue 15 item 15): exact (Hyndman and Fan's type 7, as R and
-- numpy) up to 4096 observations, then within the sketch's 1% relative
-- bound; any p by :quantile(p); keep_quantiles on a resource's tally;
-- merge; the errors.
local des = require "des"
local h = require "helpers"

-- The type-7 quantile of xs (sorted copy; the same arithmetic as the core).
local function type7(xs, p)
  local s = table.move(xs, 1, #xs, 1, {})
  table.sort(s)
  local hh = (#s - 1) * p
  local k = math.floor(hh)
  if k >= #s - 1 then return s[#s] end
  local f = hh - k
  if f == 0 or s[k + 1] == s[k + 2] then return s[k + 1] end
  return s[k + 1] + f * (s[k + 2] - s[k + 1])
end

local PS = { 0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1 }
local INNER = table.move(PS, 2, #PS - 1, 1, {}) -- what reports may list: (0, 1)

describe("quantiles of a monitor", function()
  it("are exact for a small sample (the issue's 20 uniforms)", function()
    local r, xs = des.rng("u"), {}
    local m = des.monitor("u", { quantiles = INNER })
    for i = 1, 20 do
      xs[i] = r:uniform(0, 100)
      m:observe(xs[i])
    end
    local q = m:report().quantiles
    for _, p in ipairs(INNER) do assert.are.equal(type7(xs, p), q[p]) end
    for _, p in ipairs(PS) do assert.are.equal(type7(xs, p), m:quantile(p)) end
    assert.are.equal(m.min, m:quantile(0))
    assert.are.equal(m.max, m:quantile(1))
  end)

  it("are numpy's on a hand case, ties included", function()
    local m = des.monitor("h", { quantiles = { 0.5 } })
    for _, x in ipairs{ 3, 1, 4, 1, 5, 9, 2, 6 } do m:observe(x) end
    assert.are.equal(1.75, m:quantile(0.25))
    assert.are.equal(3.5, m:report().quantiles[0.5])
    assert.is_true(math.abs(m:quantile(0.9) - 6.9) < 1e-12)
    assert.are.equal(1, m:quantile(0.1)) -- between the two 1s
  end)

  it("are exact for every count up to 4096, then within 1% of the exact", function()
    local r, xs = des.rng("ln"), {}
    local m = des.monitor("ln", { quantiles = { 0.5 } })
    for i = 1, 4096 do
      xs[i] = r:lognormal(0, 2) * (r:random() < 0.5 and -1 or 1)
      m:observe(xs[i])
      if i % 1000 == 1 or i == 4096 then
        for _, p in ipairs(PS) do assert.are.equal(type7(xs, p), m:quantile(p)) end
      end
    end
    for i = 4097, 30000 do
      xs[i] = r:lognormal(0, 2)
      m:observe(xs[i])
    end
    table.sort(xs)
    for _, p in ipairs(PS) do
      local k = math.floor((#xs - 1) * p) + 1
      local bound = 0.01 * math.max(math.abs(xs[k]), math.abs(xs[k + 1] or xs[k]))
      assert.is_true(math.abs(m:quantile(p) - type7(xs, p)) <= bound * (1 + 1e-9),
                     "p = " .. p)
    end
    m:reset() -- exact again
    m:observe(4); m:observe(8)
    assert.are.equal(5, m:quantile(0.25))
  end)

  it("merge when both keep them", function()
    local a = des.monitor("a", { quantiles = { 0.5 } })
    local b = des.monitor("b", { quantiles = { 0.9 } })
    local xs = {}
    for i = 1, 300 do
      xs[i] = (i * 7919) % 1000
      if i <= 100 then a:observe(xs[i]) else b:observe(xs[i]) end
    end
    a:merge(b)
    assert.are.equal(300, a.count)
    assert.are.equal(type7(xs, 0.5), a:report().quantiles[0.5])
    assert.are.equal(type7(xs, 0.37), a:quantile(0.37))
    -- a monitor without them cannot go into one with them; the other way can
    local plain = des.monitor("plain")
    plain:observe(1)
    h.contains(h.err_of(a.merge, a, plain), "merge: 'a' keeps quantiles")
    assert.are.equal(300, a.count) -- unchanged
    plain:merge(a)
    assert.are.equal(301, plain.count)
  end)

  it("refuse bad probabilities and tallies that keep none", function()
    local m = des.monitor("m", { quantiles = { 0.5 } })
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 1.5 } }), "quantile 1",
               "in (0, 1)")
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 0.5, 1 } }), "quantile 2")
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 0 } }), "quantile 1")
    h.contains(h.err_of(des.monitor, "x", { quantiles = { 0 / 0 } }), "quantile 1")
    h.contains(h.err_of(m.quantile, m, 2), "quantile: p must be a probability")
    h.contains(h.err_of(m.quantile, m, "0.5"), "quantile: p must be a probability")
    h.contains(h.err_of(m.quantile, m), "quantile: p must be a probability")
    assert.is_nil(m:quantile(0.5)) -- none yet
    local plain = des.monitor("plain")
    plain:observe(1)
    h.contains(h.err_of(plain.quantile, plain, 0.5), "'plain' keeps no quantiles",
               "keep_quantiles")
    h.contains(h.err_of(plain.keep_quantiles, plain, { 0.5 }), "already has 1 observations")
    h.contains(h.err_of(m.keep_quantiles, m, { 0.5, 7 }), "quantile 2")
    h.contains(h.err_of(m.keep_quantiles, m, 5), "must be an array")
    plain:reset()
    plain:keep_quantiles{ 0.5 } -- after a reset: fine
    plain:observe(3)
    assert.are.equal(3, plain:report().quantiles[0.5])
  end)
end)

describe("quantiles of a resource's waiting times", function()
  -- A single server with random arrivals and services; every wait is also
  -- observed by hand into a monitor, so both must agree exactly.
  local function model(res, m, n)
    local r = des.rng("mm1")
    for _ = 1, n do
      des.spawn(function()
        local arrived = des.now()
        local _req <close> = res:acquire()
        m:observe(des.now() - arrived)
        des.sleep(r:exponential(0.9))
      end)
      des.sleep(r:exponential(1))
    end
  end

  for _, n in ipairs{ 50, 6000 } do
    it("agree with the waits observed by hand (" .. n .. " customers)", function()
      local sim = des.new{ seed = 3 }
      local res, m
      sim:spawn(function()
        res = des.resource(1, { name = "clerk" })
        res.stats.wait:keep_quantiles{ 0.5, 0.95 }
        m = des.monitor("by hand", { quantiles = { 0.5, 0.95 } })
        model(res, m, n)
      end)
      sim:run()
      local w = res.stats.wait
      assert.are.equal(n, w.count)
      -- (the resource measures in ticks, the model subtracts times: the
      -- same waits to within a rounding)
      local near = function(a, b) return math.abs(a - b) <= 1e-9 * math.max(1, math.abs(b)) end
      local mq, wq = m:report().quantiles, w:report().quantiles
      for _, p in ipairs{ 0.5, 0.95 } do assert.is_true(near(mq[p], wq[p])) end
      assert.is_true(near(m:quantile(0.3), w:quantile(0.3)))
      assert.are.equal(0, w:quantile(0)) -- the first customer never waits
      -- the model cannot change them, but may read and reset them
      h.contains(h.err_of(w.observe, w, 1), "kept by its resource")
      h.contains(h.err_of(w.keep_quantiles, w, { 0.5 }), "already has")
      w:reset()
      assert.is_nil(w:quantile(0.5))
      w:keep_quantiles{ 0.99 }
      assert.are.same({}, w:report().quantiles)
    end)
  end

  it("are not kept unless asked", function()
    local sim = des.new{}
    local res
    sim:spawn(function()
      res = des.resource(1)
      local _r <close> = res:acquire()
    end)
    sim:run()
    assert.is_nil(res.stats.wait:report().quantiles)
    h.contains(h.err_of(res.stats.wait.quantile, res.stats.wait, 0.5), "keeps no quantiles")
  end)
end)
