-- luacheck: ignore
-- A fuzz_sandbox input (2026-11-30), replayed by test_host_gc.c as the
-- harness runs it: lua_close ran its finalizers with the budget spent; a
-- buffer box made then (string.rep in HE[6].__tostring) could not be closed
-- and, made while the state closed, had no __gc: 64 KiB never given back to
-- the embedder (fixed by vendor/lua/patches/0011). Do not edit: the leak
-- needed these exact allocations.
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
  P(function() X[4]:step() end)
  P(function() E[2] = des.timeout(0.5) end)
  P(function() do local x <close> = setmetatable({}, {__close = function() P(function() X[2] = {E[2].triggered, E[2].ok, E[2].value} end) end}) P(function() R[4]:release(X[4]) end) end end)
  P(function() X[4] = tostring(HE[6]) end)
  P(function() C[1] = des.container(-1, -1) end)
  return ...
end
F[2] = function(...)
  P(function() S[3]:put('s', nil) end)
  R[4]:release(X[4])
  P(function() T[4] = des.spawn{name = 't4', daemon = true, F[4]} end)
  P(function() C[1] = des.container(-1, 0) end)
  P(function() R[4]:release(X[4]) end)
  P(function() R[4]:release(X[4]) end)
  return ...
end
F[3] = function(...)
  P(function() X[4]:release() end)
  P(function() M[1] = des.monitor('m1', {quantiles = {0.5, 0.9}, histogram = {0, 1, 5}}) end)
  P(function() M[4]:reset() end)
  P(function() for _ = 1, 640 do local _ = {{}, {}} end end)
  P(function() X[4] = M[4]:report() end)
  P(function() do local x <close> = setmetatable({}, {__close = function() P(function() X[4] = des.interrupted(X[2]) or des.cancelled(X[2]) end) end}) P(function() X[1] = des.rng('r1'):beta(0.25, 2) end) end end)
  return ...
end
F[4] = function(...)
  P(function() T[2]:cancel() end)
  P(function() T[4] = X[4]:spawn(F[4]) end)
  return ...
end
-- main
  P(function() error(HE[2], 0) end)
  P(function() X[4] = tostring(HE[2]) end)
  P(function() X[4] = tostring(HE[2]) end)
  P(function() T[4]:interrupt(HE[4]) end)
  do local x <close> = setmetatable({}, {__close = function() P(function() collectgarbage('step', 100) end) end}) P(function() X[2] = coroutine.status(K[2]) end) end
  P(function() T[3] = des.spawn(function() error(HE[2]) end) end)
  P(function() T[4]:cancel() end)
  P(function() X[1] = {coroutine.resume(K[3], -1)} end)
  P(function() do local mt = {} mt.__gc = function() P(function() E[1] = des.timeout(1e-9, HE[4]) end) if GCN > 0 then GCN = GCN - 1 setmetatable({}, mt) end end for _ = 1, 20 do setmetatable({}, mt) end end end)
  P(function() setmetatable = F[1] end)
  P(function() S[1]:put({}, (0/0)) end)
  P(function() T[4] = des.spawn{name = 't4', daemon = false, F[4]} end)
  P(function() R[3] = des.resource(1, {priority = false, preemptive = false}) end)
  P(function() S[3]:put(E[3], math.huge) end)
  P(function() M[1] = des.monitor('m1', {quantiles = {0.5, 0.9}, histogram = {0, 1, 5}}) end)
