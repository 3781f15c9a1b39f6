-- random_spec.lua -- des.rng: seeded named streams and their distributions.
local des = require "des"

-- Moment checks. The sample mean of n draws is ~ normal(mean, var / n), and
-- the sample variance ~ normal(var, (mu4 - var^2) / n), mu4 the 4th central
-- moment (the delta method; the 1/n bias of the variance is negligible beside
-- it). Both must lie within Z standard errors: Z = 4.5 is a two-sided
-- probability of ~6.8e-6 per check, ~7e-4 for the ~100 checks below. Fixed
-- seeds make every run draw the same numbers, so a pass is a pass for good
-- and a change of algorithm that breaks a distribution shows up here.
-- The normal approximations hold for the parameters chosen: the skewness of
-- the sample variance, (mu6 - 3 mu4 var + 2 var^3) / (mu4 - var^2)^1.5 /
-- sqrt(N), is below 0.06 in every case (computed offline from the exact
-- moments); heavier tails (lognormal sigma >= 0.7, weibull shape <= 1/2)
-- would make it skewed enough for Z to mean less than it says.
local Z, N = 4.5, 200000

-- Checks n draws of f() (numbers) against the exact mean, variance and mu4.
local function check_moments(label, f, mean, var, mu4, n)
  n = n or N
  local s, s2 = 0, 0
  for _ = 1, n do -- sums of x - mean: no cancellation for large means
    local d = f() - mean
    s, s2 = s + d, s2 + d * d
  end
  local dm = s / n
  local m, v = mean + dm, s2 / n - dm * dm
  local tol_m, tol_v = Z * math.sqrt(var / n), Z * math.sqrt((mu4 - var * var) / n)
  assert(math.abs(m - mean) <= tol_m, string.format(
    "%s: mean %.6g not within %.3g of %.6g", label, m, tol_m, mean))
  assert(math.abs(v - var) <= tol_v, string.format(
    "%s: variance %.6g not within %.3g of %.6g", label, v, tol_v, var))
end

-- Mean, variance and mu4 from the raw moments E[X], E[X^2], E[X^3], E[X^4].
local function from_raw(m1, m2, m3, m4)
  return m1, m2 - m1 * m1, m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 ^ 4
end

-- Mean, variance and mu4 of a discrete distribution: {{value, prob}, ...}.
local function discrete(pmf)
  local mean, var, mu4 = 0, 0, 0
  for _, vp in ipairs(pmf) do mean = mean + vp[1] * vp[2] end
  for _, vp in ipairs(pmf) do
    local d = vp[1] - mean
    var, mu4 = var + d * d * vp[2], mu4 + d ^ 4 * vp[2]
  end
  return mean, var, mu4
end

-- Gamma function at x > 0, x a multiple of 1/2 (all the moments below need).
local function gamma_fn(x)
  assert(x > 0 and x % 0.5 == 0)
  local t, g = 1, 1
  if x % 1 ~= 0 then t, g = 0.5, math.sqrt(math.pi) end
  while t < x do g, t = g * t, t + 1 end
  return g
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

  describe("draws with the exact mean and variance", function()
    local r = des.new{seed = 1}:rng("moments")
    local function draws(method, ...)
      local args = table.pack(...)
      return function() return r[method](r, table.unpack(args, 1, args.n)) end
    end

    it("random and uniform", function()
      -- uniform on [a, b): var (b - a)^2 / 12, mu4 (b - a)^4 / 80
      check_moments("random", draws("random"), 0.5, 1 / 12, 1 / 80)
      check_moments("uniform(2, 4)", draws("uniform", 2, 4), 3, 4 / 12, 16 / 80)
      check_moments("uniform(-7, 1e3)", draws("uniform", -7, 1e3), 496.5,
                    1007 ^ 2 / 12, 1007 ^ 4 / 80)
    end)

    it("integer", function()
      for _, ab in ipairs{{1, 6}, {-5, 1000}, {0, 1 << 40}} do
        local a, b = ab[1], ab[2]
        -- discrete uniform on m values: var (m^2 - 1) / 12,
        -- mu4 (m^2 - 1)(3 m^2 - 7) / 240
        local m = b - a + 1.0
        check_moments(string.format("integer(%d, %d)", a, b), draws("integer", a, b),
                      (a + b) / 2, (m * m - 1) / 12, (m * m - 1) * (3 * m * m - 7) / 240)
      end
    end)

    it("exponential", function()
      -- mean m: var m^2, mu4 9 m^4
      for _, m in ipairs{2, 0.01, 1e4} do
        check_moments("exponential(" .. m .. ")", draws("exponential", m), m, m * m,
                      9 * m ^ 4)
      end
    end)

    it("normal", function()
      -- mu4 3 sd^4
      check_moments("normal(3, 2)", draws("normal", 3, 2), 3, 4, 3 * 16)
      check_moments("normal(-1e6, 0.1)", draws("normal", -1e6, 0.1), -1e6, 0.01, 3e-4)
    end)

    it("lognormal", function()
      -- E[X^k] = exp(k mu + k^2 sigma^2 / 2)
      for _, p in ipairs{{0, 0.5}, {1, 0.25}, {-2, 0.6}} do
        local mu, s = p[1], p[2]
        local function raw(k) return math.exp(k * mu + k * k * s * s / 2) end
        local mean, var, mu4 = from_raw(raw(1), raw(2), raw(3), raw(4))
        check_moments(string.format("lognormal(%g, %g)", mu, s), draws("lognormal", mu, s),
                      mean, var, mu4)
      end
    end)

    it("triangular", function()
      -- var (a^2 + b^2 + c^2 - ab - ac - bc) / 18; the excess kurtosis of
      -- every triangular is -3/5, so mu4 = 2.4 var^2
      for _, p in ipairs{{0, 1, 4}, {0, 0, 1}, {-1, 3, 3}, {10, 12, 20}} do
        local a, c, b = p[1], p[2], p[3]
        local var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        check_moments(string.format("triangular(%g, %g, %g)", a, c, b),
                      draws("triangular", a, c, b), (a + b + c) / 3, var, 2.4 * var * var)
      end
    end)

    it("bernoulli", function()
      for _, p in ipairs{0.3, 0.01, 0.9} do
        local mean, var, mu4 = discrete{{0, 1 - p}, {1, p}}
        check_moments("bernoulli(" .. p .. ")",
                      function() return r:bernoulli(p) and 1 or 0 end, mean, var, mu4)
      end
    end)

    it("choice", function()
      local w = {1, 0, 2, 5, 0.5}
      local total, pmf = 8.5, {}
      for i, x in ipairs(w) do pmf[i] = {i, x / total} end
      local mean, var, mu4 = discrete(pmf)
      check_moments("choice", draws("choice", w), mean, var, mu4)
    end)

    it("gamma", function()
      -- shape k, scale t: mean k t, var k t^2, mu4 3 k (k + 2) t^4 (excess
      -- kurtosis 6 / k); k < 1 takes the boost, k >= 1 Marsaglia-Tsang alone
      for _, p in ipairs{{0.5, 2}, {0.2, 1}, {1, 1.5}, {3.7, 2}, {50, 0.1}} do
        local k, t = p[1], p[2]
        check_moments(string.format("gamma(%g, %g)", k, t), draws("gamma", k, t), k * t,
                      k * t * t, 3 * k * (k + 2) * t ^ 4)
      end
    end)

    it("erlang", function()
      -- gamma(k, mean / k); k <= 8 sums exponentials, beyond draws a gamma
      for _, p in ipairs{{1, 2}, {3, 6}, {8, 1}, {9, 1}, {20, 5}} do
        local k, m = p[1], p[2]
        local t = m / k
        check_moments(string.format("erlang(%d, %g)", k, m), draws("erlang", k, m), m,
                      k * t * t, 3 * k * (k + 2) * t ^ 4)
      end
    end)

    it("beta", function()
      -- E[X^j] = prod_{i < j} (a + i) / (a + b + i)
      for _, p in ipairs{{2, 5}, {0.5, 0.5}, {0.3, 3}, {1, 1}, {40, 0.7}} do
        local a, b = p[1], p[2]
        local raw, m = {}, 1
        for j = 0, 3 do
          m = m * (a + j) / (a + b + j)
          raw[j + 1] = m
        end
        local mean, var, mu4 = from_raw(table.unpack(raw))
        check_moments(string.format("beta(%g, %g)", a, b), draws("beta", a, b), mean, var,
                      mu4)
      end
    end)

    it("weibull", function()
      -- E[X^j] = scale^j Gamma(1 + j / shape); shapes whose Gamma values are
      -- at multiples of 1/2 (gamma_fn)
      for _, p in ipairs{{2, 3}, {1, 2}, {2 / 3, 1}, {2, 1e-3}} do
        local k, l = p[1], p[2]
        local function raw(j) return l ^ j * gamma_fn(1 + j / k) end
        local mean, var, mu4 = from_raw(raw(1), raw(2), raw(3), raw(4))
        check_moments(string.format("weibull(%g, %g)", k, l), draws("weibull", k, l),
                      mean, var, mu4)
      end
    end)

    it("poisson", function()
      -- mean m: var m, mu4 m (1 + 3 m); below 10 by inversion, from 10 PTRS
      for _, m in ipairs{0.05, 0.7, 4, 9.99, 10, 37.5, 1000, 1e6, 1e12} do
        check_moments("poisson(" .. m .. ")", draws("poisson", m), m, m, m * (1 + 3 * m))
      end
    end)

    it("empirical", function()
      local data = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
      local pmf = {}
      for i, x in ipairs(data) do pmf[i] = {x, 1 / #data} end
      local mean, var, mu4 = discrete(pmf)
      check_moments("empirical", draws("empirical", data), mean, var, mu4)
      -- interpolated: a mixture, with weight 1 / (n - 1) each, of the uniforms
      -- on [x(i), x(i+1)] of the sorted data (F(x(i)) = (i - 1) / (n - 1)):
      -- E[(X - c)^j] on [a, b] is ((b - c)^(j+1) - (a - c)^(j+1)) / ((j+1)(b - a))
      local xs = table.move(data, 1, #data, 1, {})
      table.sort(xs)
      local w = 1 / (#xs - 1)
      local function central(j, c)
        local sum = 0
        for i = 1, #xs - 1 do
          local a, b = xs[i] - c, xs[i + 1] - c
          sum = sum + w * (a == b and a ^ j or (b ^ (j + 1) - a ^ (j + 1)) / ((j + 1) * (b - a)))
        end
        return sum
      end
      mean = central(1, 0)
      check_moments("empirical, interpolated", draws("empirical", data, true), mean,
                    central(2, mean), central(4, mean))
    end)
  end)

  it("gives the same draws for the same seed, in every distribution", function()
    local a, b = des.new{seed = 11}:rng("x"), des.new{seed = 11}:rng("x")
    for _ = 1, 1000 do
      assert.are.equal(a:gamma(0.7, 2), b:gamma(0.7, 2))
      assert.are.equal(a:erlang(12, 2), b:erlang(12, 2))
      assert.are.equal(a:beta(0.5, 3), b:beta(0.5, 3))
      assert.are.equal(a:weibull(1.5, 2), b:weibull(1.5, 2))
      assert.are.equal(a:poisson(3), b:poisson(3))
      assert.are.equal(a:poisson(300), b:poisson(300))
      assert.are.equal(a:empirical({1, 2, 7}, true), b:empirical({1, 2, 7}, true))
    end
  end)

  it("draws erlang(1, m) as exponential(m)", function()
    local a, b = des.rng("e"), des.rng("e")
    for _ = 1, 1000 do assert.are.equal(a:exponential(3), b:erlang(1, 3)) end
  end)

  it("draws poisson values as integers >= 0", function()
    local r = des.rng("poisson")
    for _, m in ipairs{0, 0.3, 9.5, 10, 123.4, 1e9} do
      for _ = 1, 2000 do
        local k = r:poisson(m)
        assert.are.equal("integer", math.type(k))
        assert.is_true(k >= 0)
      end
    end
    assert.are.equal(0, r:poisson(0))
  end)

  it("draws poisson(15) (PTRS) with the exact probabilities", function()
    -- each count k in 5..25 within Z binomial standard errors of n p(k)
    local r, n, counts = des.new{seed = 2}:rng("pmf"), N, {}
    for _ = 1, n do
      local k = r:poisson(15)
      counts[k] = (counts[k] or 0) + 1
    end
    local p = math.exp(-15)
    for k = 0, 25 do
      if k > 0 then p = p * 15 / k end
      if k >= 5 then
        local tol = Z * math.sqrt(n * p * (1 - p))
        assert(math.abs((counts[k] or 0) - n * p) <= tol,
               string.format("poisson(15): %d draws of %d, expected %.1f +- %.1f",
                             counts[k] or 0, k, n * p, tol))
      end
    end
  end)

  it("draws empirical values from the data, or within [min, max]", function()
    local r, data = des.rng("empirical"), {2.5, -1, 7, 2.5, 0.25}
    local in_data, seen = {}, {}
    for _, x in ipairs(data) do in_data[x] = true end
    for _ = 1, 10000 do
      local x = r:empirical(data)
      assert.is_true(in_data[x], tostring(x))
      seen[x] = true
      local y = r:empirical(data, true)
      assert.is_true(y >= -1 and y <= 7, tostring(y))
    end
    for _, x in ipairs(data) do assert.is_true(seen[x]) end
    assert.are.same({2.5, -1, 7, 2.5, 0.25}, data) -- not sorted in place
    assert.are.equal(4, r:empirical{4})
    assert.are.equal(4, r:empirical({4}, true))
    assert.are.equal(3, r:empirical({3, 3, 3}, true))
    local big = r:empirical({-1e308, 1e308}, true)
    assert.is_true(big >= -1e308 and big <= 1e308)
  end)

  it("keeps gamma, beta and weibull in their supports", function()
    local r = des.rng("support")
    for _ = 1, 10000 do
      assert.is_true(r:gamma(0.05, 1) >= 0)
      local x = r:beta(0.05, 0.05)
      assert.is_true(x >= 0 and x <= 1)
      assert.is_true(r:weibull(0.3, 1) >= 0)
    end
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
    local tol = Z * math.sqrt(2 / 9 / 30000)
    assert.is_true(math.abs(counts[3] / 30000 - 2 / 3) <= tol)
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
      { function() return r:gamma(0, 1) end, "gamma: shape k must be > 0" },
      { function() return r:gamma(1, -2) end, "gamma: scale theta must be > 0" },
      { function() return r:gamma(1 / 0, 1) end, "gamma: argument 1 must be finite" },
      { function() return r:erlang(0, 1) end, "erlang: k must be an integer >= 1" },
      { function() return r:erlang(2.5, 1) end, "erlang: k must be an integer >= 1" },
      { function() return r:erlang(2, 0) end, "erlang: mean must be > 0" },
      { function() return r:beta(0, 1) end, "beta: a must be > 0" },
      { function() return r:beta(1, -1) end, "beta: b must be > 0" },
      { function() return r:beta(1, 0 / 0) end, "beta: argument 2 must be finite" },
      { function() return r:weibull(0, 1) end, "weibull: shape must be > 0" },
      { function() return r:weibull(1, 0) end, "weibull: scale must be > 0" },
      { function() return r:poisson(-1) end, "poisson: mean must be in [0, " },
      { function() return r:poisson(1e16) end, "poisson: mean must be in [0, " },
      { function() return r:poisson(1 / 0) end, "poisson: argument 1 must be finite" },
      { function() return r:empirical{} end, "empirical: data must be a non-empty array" },
      { function() return r:empirical(3) end, "empirical: data must be a non-empty array" },
      { function() return r:empirical{1, "2"} end, "empirical: data[2] must be a number" },
      { function() return r:empirical({1, 0 / 0}, true) end,
        "empirical: data[2] must be finite" },
      { function() return r:empirical({1}, 1) end, "empirical: interpolate must be a boolean" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
  end)
end)
