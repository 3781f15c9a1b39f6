-- des.replicate -- run a model n times with independent random streams and
-- summarise each statistic with a mean and a Student t confidence interval.
--
--   local r = des.replicate(20, function(i)     -- runs as the main task of
--     local res = des.resource(2)               -- a fresh simulation
--     ...spawn the model's processes...
--     des.sleep(1000)                           -- the horizon
--     return { wait = res.stats.wait:report().mean, served = n }
--   end, { seed = 7, confidence = 0.95 })
--   r.stats.wait --> { mean=, sd=, n=, half_width=, lo=, hi= }
--   r.runs[i]    --> what replication i returned
--   r.seeds[i]   --> its seed (deshost --seed r.seeds[i] reruns it alone)
--
-- Replication i runs in des.new{seed = des.seed_mix(seed, i - 1)}: the seed
-- experiments give replication i (from 1) with no parameters
-- (docs/experiments.md), so replication i here is replication i of
-- `deshost --replications n --seed <seed>`. The mixing makes nearby seeds
-- share nothing (seeds 1 and 2 share no run), and the same seed gives the
-- same results. `seed` defaults to the current simulation's (the default
-- one's follows --seed). A statistic missing from some run (or NaN in it) is summarised
-- over the runs that have it. The mean and deviation come from the
-- statistics core (a des.tally), as every other statistic of deshost.
local des = require "des"
local tally = des._stats.tally
local seed_mix, current, new = des.seed_mix, des.current, des.new -- as loaded

-- {{==================================================================
-- Student t quantiles, from the regularised incomplete beta function
-- ===================================================================

-- The continued fraction of the incomplete beta function (modified Lentz).
local function betacf(a, b, x)
  local tiny = 1e-300
  local c, d = 1, 1 - (a + b) * x / (a + 1)
  if math.abs(d) < tiny then d = tiny end
  d = 1 / d
  local h = d
  for m = 1, 300 do
    local m2 = 2 * m
    local aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d; if math.abs(d) < tiny then d = tiny end
    c = 1 + aa / c; if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    h = h * d * c
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d; if math.abs(d) < tiny then d = tiny end
    c = 1 + aa / c; if math.abs(c) < tiny then c = tiny end
    d = 1 / d
    local del = d * c
    h = h * del
    if math.abs(del - 1) < 1e-15 then break end
  end
  return h
end

-- log Gamma (Lanczos, g = 7), for x > 0.
local LANCZOS = { 0.99999999999980993, 676.5203681218851, -1259.1392167224028,
                  771.32342877765313, -176.61502916214059, 12.507343278686905,
                  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7 }
local function lgamma(x)
  if x < 0.5 then return math.log(math.pi / math.abs(math.sin(math.pi * x))) - lgamma(1 - x) end
  x = x - 1
  local a, t = LANCZOS[1], x + 7.5
  for i = 2, 9 do a = a + LANCZOS[i] / (x + i - 1) end
  return 0.5 * math.log(2 * math.pi) + (x + 0.5) * math.log(t) - t + math.log(a)
end

-- The regularised incomplete beta function I_x(a, b).
local function ibeta(x, a, b)
  if x <= 0 then return 0 end
  if x >= 1 then return 1 end
  local front = math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * math.log(x)
                         + b * math.log(1 - x))
  if x < (a + 1) / (a + b + 2) then return front * betacf(a, b, x) / a end
  return 1 - front * betacf(b, a, 1 - x) / b
end

-- P(T <= t) for Student's t with df degrees of freedom.
local function t_cdf(t, df)
  local p = 0.5 * ibeta(df / (df + t * t), df / 2, 0.5)
  return t > 0 and 1 - p or p
end

-- The p-quantile of Student's t (p in (0.5, 1)), by bisection.
local function t_quantile(p, df)
  local lo, hi = 0, 1
  while t_cdf(hi, df) < p do hi = hi * 2 end
  for _ = 1, 200 do
    local mid = (lo + hi) / 2
    if t_cdf(mid, df) < p then lo = mid else hi = mid end
    if hi - lo < 1e-12 * hi then break end
  end
  return (lo + hi) / 2
end

-- }}==================================================================

-- Mean, standard deviation and the t interval of the values xs.
local function summarise(xs, confidence)
  local t = tally()
  for _, x in ipairs(xs) do t:observe(x) end
  local r = t:report()
  local n, mean = r.count, r.mean
  local s = { n = n, mean = mean }
  if n >= 2 then
    s.sd = r.sd
    s.half_width = t_quantile((1 + confidence) / 2, n - 1) * s.sd / math.sqrt(n)
    s.lo, s.hi = mean - s.half_width, mean + s.half_width
  end
  return s
end

local function replicate(n, model, opts)
  if math.type(n) ~= "integer" or n < 1 then
    error("replicate: the number of runs must be an integer >= 1 (got " .. tostring(n) .. ")", 2)
  end
  if type(model) ~= "function" then
    error("replicate: the model must be a function (got " .. type(model) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("replicate: options must be a table (got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  local seed, confidence = opts.seed, opts.confidence or 0.95
  if seed == nil then seed = current().seed end
  if math.type(seed) ~= "integer" then
    error("replicate: seed must be an integer (got " .. tostring(seed) .. ")", 2)
  end
  if type(confidence) ~= "number" or not (confidence > 0 and confidence < 1) then
    error("replicate: confidence must be in (0, 1) (got " .. tostring(confidence) .. ")", 2)
  end
  local runs, seeds, values, names = {}, {}, {}, {}
  for i = 1, n do
    seeds[i] = seed_mix(seed, i - 1)
    local sim <close> = new{ seed = seeds[i] }
    local task = sim:spawn{ name = "replication " .. i, model, i }
    local ok, err = pcall(sim.run, sim, opts["until"])
    if not ok then
      error(string.format("replicate: replication %d (seed %d) failed: %s", i, seeds[i],
                          tostring(err)), 2)
    end
    if task.status ~= "done" then
      error(string.format("replicate: replication %d did not return by the end of its run "
                         .. "(its main task is %s)", i, task.status), 2)
    end
    local result = task:join()
    if type(result) ~= "table" then
      error(string.format("replicate: replication %d returned %s, not a table of statistics",
                         i, type(result)), 2)
    end
    runs[i] = result
    for k, v in pairs(result) do
      if type(v) == "number" and v == v then
        if not values[k] then values[k], names[#names + 1] = {}, k end
        table.insert(values[k], v)
      end
    end
  end
  local stats = {}
  for _, k in ipairs(names) do stats[k] = summarise(values[k], confidence) end
  return { n = n, confidence = confidence, seed = seed, seeds = seeds, stats = stats,
           runs = runs }
end

return setmetatable({ replicate = replicate, t_quantile = t_quantile, t_cdf = t_cdf },
                    { __call = function(_, ...) return replicate(...) end })
