-- random_spec.lua -- des.rng: seeded named streams and their distributions.
local des = require "des"

-- Sample mean and variance of n draws of f().
local function moments(n, f)
  local s, s2 = 0, 0
  for _ = 1, n do
    local x = f()
    s, s2 = s + x, s2 + x * x
  end
  local mean = s / n
  return mean, s2 / n - mean * mean
end

-- |mean - mu| within 5 standard errors (sd / sqrt(n)): a false alarm has
-- probability ~6e-7 per check.
local function assert_mean(mean, mu, sd, n)
  local tol = 5 * sd / math.sqrt(n)
  assert(math.abs(mean - mu) <= tol,
         string.format("mean %.6f not within %.6f of %.6f", mean, tol, mu))
end

describe("des.rng", function()
  it("gives the same numbers for the same seed and stream", function()
    local a, b = des.new{seed = 11}:rng("x"), des.new{seed = 11}:rng("x")
    for _ = 1, 1000 do assert.are.equal(a:random(), b:random()) end
  end)

  it("gives different streams for different names and seeds", function()
    local a, b = des.new{seed = 11}:rng("x"), des.new{seed = 11}:rng("y")
    local c = des.new{seed = 12}:rng("x")
    local same_b, same_c = 0, 0
    for _ = 1, 100 do
      local x = a:random()
      if x == b:random() then same_b = same_b + 1 end
      if x == c:random() then same_c = same_c + 1 end
    end
    assert.are.equal(0, same_b)
    assert.are.equal(0, same_c)
  end)

  it("is not shifted by adding another stream", function()
    local sim1, sim2 = des.new{seed = 3}, des.new{seed = 3}
    local a1 = sim1:rng("a")
    local _ = sim2:rng("new stream"):random()
    local a2 = sim2:rng("a")
    for _ = 1, 100 do assert.are.equal(a1:random(), a2:random()) end
  end)

  it("uses the running task's simulation seed", function()
    local sim, got = des.new{seed = 5}, nil
    sim:spawn(function() got = des.rng("s"):random() end)
    sim:run()
    assert.are.equal(des.new{seed = 5}:rng("s"):random(), got)
  end)

  it("draws with the right moments", function()
    local r, n = des.new{seed = 1}:rng("moments"), 200000
    local m, v = moments(n, function() return r:exponential(2) end)
    assert_mean(m, 2, 2, n)
    assert.is_true(math.abs(v - 4) < 0.2)
    m, v = moments(n, function() return r:normal(3, 2) end)
    assert_mean(m, 3, 2, n)
    assert.is_true(math.abs(v - 4) < 0.1)
    m = moments(n, function() return r:uniform(2, 4) end)
    assert_mean(m, 3, 2 / math.sqrt(12), n)
    m = moments(n, function() return r:integer(1, 6) end)
    assert_mean(m, 3.5, math.sqrt(35 / 12), n)
    m = moments(n, function() return r:triangular(0, 1, 4) end)
    assert_mean(m, 5 / 3, math.sqrt((0 + 1 + 16 - 0 - 0 - 4) / 18), n)
    m = moments(n, function() return r:bernoulli(0.3) and 1 or 0 end)
    assert_mean(m, 0.3, math.sqrt(0.21), n)
    m = moments(n, function() return r:lognormal(0, 0.5) end)
    local mu = math.exp(0.125)
    assert_mean(m, mu, math.sqrt((math.exp(0.25) - 1) * math.exp(0.25)), n)
  end)

  it("covers every integer of a range and nothing outside", function()
    local r, seen = des.rng("cover"), {}
    for _ = 1, 10000 do
      local k = r:integer(-2, 2)
      assert.is_true(k >= -2 and k <= 2 and math.type(k) == "integer")
      seen[k] = true
    end
    for k = -2, 2 do assert.is_true(seen[k]) end
  end)

  it("chooses by weight", function()
    local r, counts = des.rng("choice"), {0, 0, 0}
    for _ = 1, 30000 do
      local i = r:choice{1, 0, 2}
      counts[i] = counts[i] + 1
    end
    assert.are.equal(0, counts[2])
    assert_mean(counts[3] / 30000, 2 / 3, math.sqrt(2 / 9), 30000)
  end)

  it("refuses bad parameters with a message naming the method", function()
    local r = des.rng()
    local cases = {
      { function() return r:exponential(0) end, "exponential: mean must be > 0" },
      { function() return r:normal(0, -1) end, "normal: sd must be >= 0" },
      { function() return r:uniform(2, 1) end, "uniform: needs a <= b" },
      { function() return r:uniform(0 / 0, 1) end, "uniform: argument 1 must be finite" },
      { function() return r:integer(3, 1) end, "integer: needs a <= b" },
      { function() return r:bernoulli(2) end, "bernoulli: p must be in" },
      { function() return r:triangular(1, 0, 2) end, "triangular: needs low <= mode" },
      { function() return r:choice{0, 0} end, "choice: needs at least one weight > 0" },
      { function() return r:choice{1, -1} end, "choice: weight 2" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
  end)
end)
