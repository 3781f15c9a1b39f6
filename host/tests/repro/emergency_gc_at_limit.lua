-- Found by fuzz_sandbox (seed 1, final code of branch hang), 2026-11-30;
-- issue 14 item 9. At the memory limit every failed allocation runs an
-- emergency full collection of the heap; the model catches the memory
-- errors with pcall, so each instruction walked 16 MiB: 44 s of CPU for
-- the harness's runs of 200000 steps.
-- Expected (vendor/lua patch 0006, lmem.c tryagain): the collection is
-- charged; the harness's runs end in 0.2 s.
-- Regression: test_host_cloops.c test_budget_emergency_gc.
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
  P(function() des.any = nil end)
  P(function() E[1]:succeed(F[1]) end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[4]:interrupt({}) end)
  return ...
end
F[2] = function(...)
  P(function() M[4]:set(X[4]) end)
  P(function() X[4] = tostring(HE[5]) end)
  P(function() error(HE[1]) end)
  X[2] = des.now()
  return ...
end
F[3] = function(...)
  P(function() X[3] = M[3]:report() end)
  P(function() error(HE[2], 0) end)
  E[1]:on(F[1])
  return ...
end
F[4] = function(...)
  P(function() K[3] = coroutine.create(F[3]) end)
  P(function() X[1] = M[3]:report() end)
  return ...
end
-- main
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() des.sleep(nil) end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() T[1] = des.spawn{name = 't1', daemon = false, F[1]} end)
  P(function() do local s <close> = des.new{} T[4] = s:spawn(F[4]) s:step() P(function() des.sleep(0) end) end end)
  T[4]:interrupt(X[4])
  P(function() setmetatable(des.timeout(1), {__index = F[2]}) end)
  P(function() des.default():on_error(F[4]) end)
  P(function() T[4]:interrupt(X[4]) end)
  P(function() T[4]:interrupt(X[4]) end)
  P(function() X[3] = des.self() end)
  P(function() for _ = 1, 7 do des.sleep(0) end end)
