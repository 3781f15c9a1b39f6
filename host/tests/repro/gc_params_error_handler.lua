-- Found by fuzz_sandbox (random seed, 10-minute run on branch hang),
-- 2026-11-30; issue 14 item 9. collectgarbage('incremental', 10, 1000)
-- (line 46) makes the collector run almost all the time with huge steps,
-- so every allocation (here of the error handler F[3], line 57, after each
-- budget error) paid for a collection the budget did not count: 47 s of
-- CPU for the harness's three runs of 200000 steps.
-- Expected (vendor/lua patch 0006, lgc.c incstep): a collector step
-- charges its work; the harness's runs end in 0.2 s.
-- Regression: test_host_cloops.c case gc_params.
-- Run: FUZZ_SANDBOX_FILE=FILE build-fuzz/fuzz_sandbox -runs=1 FILE
-- luacheck: ignore (the fuzzer's program, kept as it ran)
local des = require 'des'
local P, setmetatable, collectgarbage, error = pcall, setmetatable, collectgarbage, error
local E, T, R, S, C, M, K, X, F = {}, {}, {}, {}, {}, {}, {}, {}, {}
GCN = 50
local HE = {}
HE[1] = setmetatable({}, {__tostring = function() error('tostring fails') end})
HE[2] = setmetatable({}, {__tostring = function() return {} end})
HE[3] = setmetatable({}, {__tostring = function() des.sleep(1) return 'slept' end})
HE[4] = setmetatable({}, {__tostring = function(e) error(e) end})
HE[5] = setmetatable({}, {__index = function() error('index') end, __tostring = function() return nil end})
HE[6] = setmetatable({}, {__tostring = function() return string.rep('x', 1 << 16) end, __name = 'des.task'})
F[1] = function(...)
  P(function() for _ = 1, 1 do P(function() X[3] = getmetatable(E[1]) end) end end)
  P(function() S[1] = des.store(2, {priority = true}) end)
  P(function() X[2]:step() end)
  P(function() K[4] = coroutine.running() end)
  X[1] = tostring(HE[1])
  P(function() M[1] = des.monitor.level('l1', 0, {time_at = true}) end)
  return ...
end
F[2] = function(...)
  P(function() X[4]:step() end)
  P(function() X[1] = getmetatable(E[1]) end)
  des.sleep(1e300)
  return ...
end
F[3] = function(...)
  P(function() T[1] = des.spawn(F[3], F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  return ...
end
F[4] = function(...)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  return ...
end
-- main
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(X[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() X[2]:close() end)
  P(function() collectgarbage('incremental', 10, 1000) end)
  P(function() rawset = function(...) P(function() X[3] = M[1]:report() end) return ... end end)
  P(function() E[3] = des.event('e3') end)
  P(function() E[3]:on(F[4]) end)
  P(function() X[3] = R[4]:acquire(nil, 0) end)
  des.sleep(0)
  P(function() X[2] = des.interrupted(X[2]) or des.cancelled(X[2]) end)
  P(function() for _ = 1, 7 do E[3]:on(F[2]) end end)
  P(function() getmetatable(des.timeout(1)).__gc = F[2] end)
  P(function() rawset = function(...) P(function() T[1]:interrupt(F[1]) end) return ... end end)
  P(function() T[1]:interrupt(F[1]) end)
  P(function() des.default():on_error(F[3]) end)
  P(function() X[3] = M[1]:report() end)
  P(function() E[3] = des.event('e3') end)
  P(function() E[3]:on(F[4]) end)
  P(function() X[3] = R[4]:acquire(nil, 0) end)
  des.sleep('x')
  P(function() E[1]:on(F[4]) end)
