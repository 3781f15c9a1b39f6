-- Found by fuzz_sandbox (class events), 2026-11-30, minimised by machine
-- (line-wise). Issue 14 items 5/6, a variant of deep_all_collected.lua: a
-- chain of 20000 des.any{...} over a 1e-9 timeout built in a daemon task,
-- held only by each other; when the timeout fires, composite_detach
-- (levent.c:60; now levany.c) dereferences a collected composite (ASan SEGV).
-- Reproduces through the harness (its host: --sandbox, 16M, 200000 steps):
--   FUZZ_SANDBOX_FILE=FILE build-fuzz/fuzz_sandbox -runs=1 ANY_FILE
-- (build-asan/deshost does not always crash on it: GC timing differs.)
-- luacheck: ignore (a program as the grammar writes it, kept byte for byte)
local des = require 'des'
local P, setmetatable, collectgarbage, error = pcall, setmetatable, collectgarbage, error
local E, T, R, S, C, M, K, X, F = {}, {}, {}, {}, {}, {}, {}, {}, {}
F[1] = function(...)
end
F[4] = function(...)
  P(function() E[2] = des.timeout(1e-9, {}) end)
  P(function() do local e = E[2] for _ = 1, 20000 do e = des.any{e} end E[2] = e end end)
end
  T[4] = des.spawn{name = 't4', daemon = true, F[4]}
