-- Found by fuzz_sandbox (class gc/nested), 2026-11-30, minimised by hand:
-- FIXED (session 5). Nested des.replicate (each replication's sim is a
-- `<close>` variable) recursing until the memory limit leaked the queue of
-- every inner simulation: the collections that should have finalized the
-- closed sims ran near the C stack limit, where upstream Lua cannot start
-- a __gc ("C stack overflow" before the finalizer runs) and drops it with
-- a warning; the sims were freed without rt_free. Vendored-Lua patch 0010
-- marks such objects again so their finalizers run in a later cycle.
-- Test: host_finalizers (host/tests/test_host_gc.c).
--   build-asan/deshost --mem-limit 16M --max-steps 20000000 \
--     host/tests/repro/leak_sim_queue_replicate.lua
-- (with the memory limit alone the daemon tree grows at the limit for
-- minutes: every failed allocation collects the whole heap)
local des = require 'des'
local F = {}
F[4] = function()
  pcall(function() des.spawn{name = 't4', daemon = true, F[4]} end)
  pcall(function() des.replicate(1, F[4], {seed = 38, ['until'] = 5}) end)
end
pcall(function() des.replicate(2, F[4], {seed = 98, ['until'] = 5}) end)
