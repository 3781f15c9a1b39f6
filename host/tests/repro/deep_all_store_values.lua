-- Found by fuzz_sandbox (class events), 2026-11-30, minimised by machine
-- (line-wise). Issue 14 items 5/6: chains of des.all held only by each
-- other, plus finalizers and allocations while the timeout fires:
-- store_values (levent.c:104; now levany.c) through the harness,
-- composite_notify (levent.c:285; now levany.c) under build-asan/deshost
-- --sandbox --mem-limit 16M --max-steps 200000 FILE. Reproduce exactly as found:
--   FUZZ_SANDBOX_FILE=FILE build-fuzz/fuzz_sandbox -runs=1 ANY_FILE
-- luacheck: ignore (a program as the grammar writes it, kept byte for byte)
local des = require 'des'
local P, setmetatable, collectgarbage, error = pcall, setmetatable, collectgarbage, error
local E, T, R, S, C, M, K, X, F = {}, {}, {}, {}, {}, {}, {}, {}, {}
local HE = {}
HE[1] = setmetatable({}, {__tostring = function() error('tostring fails') end})
HE[6] = setmetatable({}, {__tostring = function() return string.rep('x', 1 << 16) end, __name = 'des.task'})
F[1] = function(...)
  P(function() X[3] = S[3]:get(nil, 2) end)
end
  P(function() do local e = E[4] for _ = 1, 3 do e = des.all{e} end E[2] = e end end)
  P(function() E[3] = des.timeout(0, 0.5) end)
  P(function() X[3] = R[3]:acquire(nil, 1e-9) end)
  P(function() X[2] = {E[3].triggered, E[3].ok, E[3].value} end)
  P(function() X[3] = des.now() end)
  P(function() do local e = E[3] for _ = 1, 2000 do e = des.all{e} end E[3] = e end end)
  P(function() X[3] = {E[2].triggered, E[2].ok, E[2].value} end)
  P(function() E[1]:on(F[4]) end)
  X[2] = des.monitor.json({M[4], R[2], S[4], C[2]})
  P(function() X[3] = R[3]:acquire(nil, 1e-9) end)
  setmetatable({}, {__gc = function() X[4] = tostring(HE[2]) end})
  P(function() X[4] = tostring(HE[2]) end)
  P(function() X[4] = tostring(HE[2]) end)
  P(function() X[4] = tostring(HE[2]) end)
