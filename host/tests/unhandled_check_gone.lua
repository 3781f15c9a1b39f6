-- Found by fuzz_sandbox (cloops2, 2026-11-30, on branch cloops2's final code;
-- the same input crashes the branch's base b7eee59 too: pre-existing).
-- Fixed (levfail.c): an unhandled-failure check (RT_UNHANDLED) fired for
-- an event whose object was gone (rt_push_object gave nil) and dereferenced
-- it (ASan SEGV in levent_check_unhandled). Needs the fuzz harness's
-- sequence: des_run ends with the budget error, des_set_budget, des_run
-- again (the CLI's single run does not show it). Not minimised. Run by
-- test_host_dloops.c test_unhandled_check_gone (200000-step budget, 16 MiB).
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
  P(function() X[1] = T[3]:join() end)
  P(function() T[3] = X[1]:spawn(F[4]) end)
  P(function() for _ = 1, 1 do P(function() T[3] = des.spawn(function() local x <close> = setmetatable({}, {__close = function() P(function() E[2]:fail(HE[6]) end) end}) des.sleep(0) end) end) end end)
  P(function() E[2]:fail((0/0)) end)
  P(function() R[2]:release(X[1]) end)
  P(function() S[4]:put((0/0), 10) end)
  return ...
end
F[2] = function(...)
  P(function() T[1] = des.spawn(function() error(HE[4]) end) end)
  return ...
end
F[3] = function(...)
  P(function() T[4] = des.spawn(F[2], X[4]) end)
  P(function() E[1] = des.any{des.any{des.all{E[1]}, E[4], T[1]}, T[1]} end)
  P(function() E[1] = des.any{des.any{des.any{E[2], T[2]}, des.any{des.timeout('x'), E[2]}}, des.all{E[1]}} end)
  P(function() setmetatable({}, {__gc = function() P(function() package.preload['des.store'] = function() return X[4] end end) end}) end)
  P(function() E[1] = des.any{X[1]} end)
  return ...
end
F[4] = function(...)
  P(function() do local mt = {} mt.__gc = function() P(function() T[1] = des.spawn(F[4], nil) end) if GCN > 0 then GCN = GCN - 1 setmetatable({}, mt) end end for _ = 1, 20 do setmetatable({}, mt) end end end)
  E[1]:fail(0.5)
  P(function() X[2] = {E[2].triggered, E[2].ok, E[2].value} end)
  return ...
end
-- main
  P(function() T[3]:interrupt(K[4]) end)
  P(function() for _ = 1, 22 do P(function() X[2]:run(nil) end) end end)
  P(function() S[2]:put((0/0), (0/0)) end)
  P(function() ipairs = F[2] end)
  P(function() T[4] = des.spawn{name = 't4', daemon = true, F[4]} end)
  des.sleep(0)
  T[1] = des.spawn{name = 't2', daemon = false, F[2]}
  P(function() E[2]:succeed(X[2]) end)
  P(function() T[4] = des.spawn(F[1], math.maxinteger) end)
  P(function() T[3]:interrupt(-1) end)
  P(function() do local mt = {} mt.__gc = function() P(function() setmetatable(des.default(), {__index = F[1]}) end) if GCN > 0 then GCN = GCN - 1 setmetatable({}, mt) end end for _ = 1, 20 do setmetatable({}, mt) end end end)
  P(function() X[3] = {E[4].triggered, E[4].ok, E[4].value} end)
  P(function() des.default():on_error(F[2]) end)
  P(function() table.insert = function(...) P(function() des.current():close() end) return ... end end)
  P(function() K[2] = coroutine.running() end)
  P(function() E[1] = des.event('e1') end)
