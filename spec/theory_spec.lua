-- theory_spec.lua -- the library against queueing theory: M/M/1, M/M/c
-- (Erlang C), M/D/1 (Pollaczek-Khinchine) and Little's law, each from one
-- long run with a fixed seed.
--
-- Tolerances are not guessed: they come from the run itself, by batch
-- means. After a warm-up (dropped: the system starts empty), the waits of
-- BATCHES * BATCH_SIZE consecutive customers are cut into BATCHES batches;
-- the batch means are nearly independent when a batch spans many
-- relaxation times of the queue, so se = sd(batch means) / sqrt(BATCHES)
-- is the standard error of the overall mean. Each check asserts
--   |simulated - theory| < Z * se,  Z = 4
-- (a false alarm has probability ~4e-4 per check: Student's t with 29
-- degrees of freedom; the seeds are fixed anyway), and also that the
-- half-width Z * se is below a stated fraction of the theoretical value,
-- so that a run too short or too noisy to tell anything fails instead of
-- passing vacuously. (A 10% error in the M/M/1 theory, or 6% in M/D/1's,
-- makes this spec fail.)
--
-- Under AddressSanitizer (DES_SANITIZED set) batches are 4 times shorter:
-- the tolerance is derived from the CI, so it stays valid, only wider.
-- DES_THEORY_VERBOSE=1 prints the figures of each case to stderr.
local des = require "des"

local Z = 4
local SANITIZED = os.getenv("DES_SANITIZED") ~= nil
local VERBOSE = os.getenv("DES_THEORY_VERBOSE") ~= nil
local BATCHES = 30
local BATCH_SIZE = SANITIZED and 2500 or 10000 -- customers per batch
local WARMUP = BATCH_SIZE                      -- customers dropped first
-- Largest accepted half-width, as a fraction of the theoretical value.
-- The expected fractions are ~0.09 (~0.2 sanitized) for the noisiest case
-- (M/M/1 at rho = 0.8, whose waits are the most autocorrelated).
local MAX_REL_HALF_WIDTH = SANITIZED and 0.4 or 0.2

-- Mean and standard error of xs[first .. first + batches * size - 1] by
-- batch means; also the lag-1 autocorrelation of the batch means (near 0
-- when the batches are long enough to be independent).
local function batch_means(xs, first, batches, size)
  local means, total = {}, 0
  for b = 1, batches do
    local s, lo = 0, first + (b - 1) * size
    for i = lo, lo + size - 1 do s = s + assert(xs[i], "missing observation") end
    means[b] = s / size
    total = total + means[b]
  end
  local mean = total / batches
  local ss, lag = 0, 0
  for b = 1, batches do
    ss = ss + (means[b] - mean) ^ 2
    if b > 1 then lag = lag + (means[b] - mean) * (means[b - 1] - mean) end
  end
  return mean, math.sqrt(ss / (batches - 1) / batches), lag / ss
end

-- Erlang C: the probability that an arrival waits in an M/M/c queue with
-- offered load a = lambda / mu (< c), and the mean wait in queue.
local function erlang_c(c, lambda, mu)
  local a = lambda / mu
  assert(a < c, "unstable queue")
  local term, sum = 1, 0 -- term = a^k / k!
  for k = 0, c - 1 do
    sum = sum + term
    term = term * a / (k + 1)
  end
  local tail = term * c / (c - a) -- a^c / c! * c / (c - a)
  local p_wait = tail / (sum + tail)
  return p_wait, p_wait / (c * mu - lambda)
end

-- Run a FIFO queue with `servers` servers, Poisson arrivals at `lambda`
-- and service times service(rng) until n customers have arrived and left.
-- Returns the waits in queue, indexed by arrival order.
local function run_queue(seed, servers, lambda, service, n)
  local sim = des.new{ seed = seed }
  local waits = {}
  sim:spawn(function()
    local res = des.resource(servers)
    local arrivals, rng = des.rng("arrivals"), des.rng("service")
    local function customer(i)
      local arrived = des.now()
      local _req <close> = res:acquire()
      waits[i] = des.now() - arrived
      des.sleep(service(rng))
    end
    for i = 1, n do
      des.sleep(arrivals:exponential(1 / lambda))
      des.spawn(customer, i)
    end
  end)
  sim:run()
  return waits
end

-- Assert that a batch-means estimate matches theory within Z * se, and
-- that the half-width is informative.
local function check(label, mean, se, lag1, theory)
  local half = Z * se
  if VERBOSE then
    io.stderr:write(string.format(
      "%-24s sim %.4f  theory %.4f  diff %+.4f  half-width (z=%d) %.4f (%.1f%%)  lag-1 %.2f\n",
      label, mean, theory, mean - theory, Z, half, 100 * half / math.abs(theory), lag1))
  end
  assert(math.abs(mean - theory) < half, string.format(
    "%s: simulated %.4f, theory %.4f: |diff| %.4f >= %d * se = %.4f",
    label, mean, theory, math.abs(mean - theory), Z, half))
  assert(half < MAX_REL_HALF_WIDTH * math.abs(theory), string.format(
    "%s: half-width %.4f is more than %g of %.4f: the run tells nothing",
    label, half, MAX_REL_HALF_WIDTH, theory))
end

local N = WARMUP + BATCHES * BATCH_SIZE

describe("queueing theory", function()
  it("M/M/1 (lambda 0.8, mu 1): Wq = rho / (mu - lambda)", function()
    local lambda, mu = 0.8, 1
    local waits = run_queue(101, 1, lambda, function(r) return r:exponential(1 / mu) end, N)
    local mean, se, lag1 = batch_means(waits, WARMUP + 1, BATCHES, BATCH_SIZE)
    check("M/M/1 Wq", mean, se, lag1, (lambda / mu) / (mu - lambda)) -- 4
  end)

  it("M/M/3 (lambda 2.4, mu 1): Wq from Erlang C", function()
    local lambda, mu, c = 2.4, 1, 3
    local p_wait, wq = erlang_c(c, lambda, mu)
    -- the helper against a hand computation: C(3, 2.4) = 11.52 / 17.8
    assert.is_true(math.abs(p_wait - 11.52 / 17.8) < 1e-12)
    -- c = 1 is M/M/1: P(wait) = rho, Wq = rho / (mu - lambda)
    local p1, wq1 = erlang_c(1, 0.8, 1)
    assert.is_true(math.abs(p1 - 0.8) < 1e-12 and math.abs(wq1 - 4) < 1e-12)
    local waits = run_queue(202, c, lambda, function(r) return r:exponential(1 / mu) end, N)
    local mean, se, lag1 = batch_means(waits, WARMUP + 1, BATCHES, BATCH_SIZE)
    check("M/M/3 Wq", mean, se, lag1, wq) -- 1.0787
    -- the fraction of customers who wait at all is Erlang C itself
    local waited = {}
    for i, w in ipairs(waits) do waited[i] = w > 0 and 1 or 0 end
    mean, se, lag1 = batch_means(waited, WARMUP + 1, BATCHES, BATCH_SIZE)
    check("M/M/3 P(wait)", mean, se, lag1, p_wait) -- 0.6472
  end)

  it("M/D/1 (lambda 0.7, service 1): Pollaczek-Khinchine Wq", function()
    local lambda, s = 0.7, 1
    local rho = lambda * s
    local waits = run_queue(303, 1, lambda, function() return s end, N)
    local mean, se, lag1 = batch_means(waits, WARMUP + 1, BATCHES, BATCH_SIZE)
    check("M/D/1 Wq", mean, se, lag1, lambda * s ^ 2 / (2 * (1 - rho))) -- 1.1667
  end)

  it("Little's law L = lambda * W inside a model (M/G/2)", function()
    -- 2 servers, Poisson arrivals at 1.5, service uniform(0.5, 1.5): the
    -- law holds whatever the distributions. The run is cut into time
    -- batches after a warm-up; in batch j, L_j is the time-average number
    -- in system (a level monitor the model updates) and lambda_j * W_j =
    -- (sum of the times in system of the arrivals of batch j) / length.
    -- Both have expectation L in steady state, so D_j = L_j - lambda_j W_j
    -- has mean 0 and its batch means give the CI of L - lambda * W. (A
    -- customer who straddles a boundary makes adjacent D_j negatively
    -- correlated, which only makes this se conservative.)
    local lambda, servers = 1.5, 2
    local warmup, length = WARMUP / lambda, BATCH_SIZE / lambda -- in time
    local horizon = warmup + BATCHES * length
    local area = {}     -- area[j]: integral of the level up to the end of batch j
    local sojourn = {}  -- sojourn[j]: sum of the times in system of batch j's arrivals
    local arrivals_in = {}
    for j = 0, BATCHES do sojourn[j], arrivals_in[j] = 0, 0 end
    local res, level, total_sojourn, total_service = nil, nil, 0, 0
    local sim = des.new{ seed = 404 }
    sim:spawn(function()
      res = des.resource(servers)
      level = des.monitor.level("in system")
      local arr, rng = des.rng("arrivals"), des.rng("service")
      local function customer()
        local arrived = des.now()
        level:add(1)
        do
          local _req <close> = res:acquire()
          local s = rng:uniform(0.5, 1.5)
          total_service = total_service + s
          des.sleep(s)
        end
        level:add(-1)
        local w = des.now() - arrived
        total_sojourn = total_sojourn + w
        local j = arrived < warmup and 0
                  or math.min(BATCHES, math.floor((arrived - warmup) / length) + 1)
        sojourn[j], arrivals_in[j] = sojourn[j] + w, arrivals_in[j] + 1
      end
      des.spawn{ name = "observer", daemon = true, function()
        des.sleep(warmup)
        for j = 0, BATCHES do
          local rep = level:report()
          area[j] = rep.mean * rep.duration
          if j < BATCHES then des.sleep(warmup + (j + 1) * length - des.now()) end
        end
      end }
      while true do
        des.sleep(arr:exponential(1 / lambda))
        if des.now() >= horizon then break end
        des.spawn(customer)
      end
    end)
    sim:run()

    -- D_j by batch, then the overall estimates over the observed window
    local d, l_sum, lw_sum, n_obs = {}, 0, 0, 0
    for j = 1, BATCHES do
      local l_j = (area[j] - area[j - 1]) / length
      d[j] = l_j - sojourn[j] / length
      l_sum, lw_sum, n_obs = l_sum + l_j, lw_sum + sojourn[j], n_obs + arrivals_in[j]
    end
    local l_hat = l_sum / BATCHES
    local lambda_obs = n_obs / (BATCHES * length)
    local w_hat = lw_sum / n_obs
    local mean_d, se, lag1 = batch_means(d, 1, BATCHES, 1)
    local half = Z * se
    if VERBOSE then
      io.stderr:write(string.format(
        "%-24s L %.4f  lambda_obs %.4f * W %.4f = %.4f  diff %+.4f  half-width %.4f  " ..
        "lag-1 %.2f\n", "Little M/G/2", l_hat, lambda_obs, w_hat, lambda_obs * w_hat,
        mean_d, half, lag1))
    end
    -- l_hat - lambda_obs * w_hat is mean_d up to rounding
    assert.is_true(math.abs((l_hat - lambda_obs * w_hat) - mean_d) < 1e-9)
    assert.is_true(math.abs(mean_d) < half, string.format(
      "L %.4f vs lambda * W %.4f: |diff| %.4f >= %d * se = %.4f",
      l_hat, lambda_obs * w_hat, math.abs(mean_d), Z, half))
    assert.is_true(half < 0.01 * l_hat, "half-width too wide to tell anything")
    -- lambda_obs estimates lambda: Poisson count, sd sqrt(n) / T
    assert.is_true(math.abs(lambda_obs - lambda) < Z * math.sqrt(n_obs) / (BATCHES * length))

    -- Over the whole run, which starts and ends empty, Little's law is an
    -- identity: the area under the number in system is the sum of the
    -- times in system; likewise for the resource's own statistics (queue
    -- area = sum of waits, busy area = sum of service times).
    local function area_of(l)
      local rep = l:report()
      return rep.mean * rep.duration
    end
    local function close(a, b) return math.abs(a - b) <= 1e-9 * math.max(1, math.abs(b)) end
    local wait = res.stats.wait:report()
    assert.are.equal(0, level.value)
    assert.is_true(close(area_of(level), total_sojourn))
    assert.is_true(close(area_of(res.stats.queue), wait.count * wait.mean))
    assert.is_true(close(area_of(res.stats.busy), total_service))
  end)
end)
