-- Found by fuzz_sandbox (class gc/nested), 2026-11-30, minimised by hand:
-- OPEN. Nested des.replicate (each replication's sim is a `<close>`
-- variable) recursing until the memory limit: LeakSanitizer reports the
-- queues that free_queue (rt_close, from s_close run by the `<close>` as
-- the memory error unwinds) makes for the closed sims: never freed,
-- although every sim object is finalized by lua_close at the latest. The
-- same leak appears with a step budget instead of the memory limit (the
-- fuzzer's inputs in sandbox/). A protected detach in rt_free did not
-- change it (tried, reverted). Counting calls: free_queue ran 2903 times
-- and rt_free (the sims' __gc) only 208 (118 of them for sims whose init
-- had failed): most sim objects are never finalized. Look at why lua_close
-- does not reach their __gc (the finalizer loop cut short? the sims'
-- metatable set without __gc at some point?).
--   build-asan/deshost --mem-limit 64M host/tests/repro/leak_sim_queue_replicate.lua
local des = require 'des'
local F = {}
F[4] = function()
  pcall(function() des.spawn{name = 't4', daemon = true, F[4]} end)
  pcall(function() des.replicate(1, F[4], {seed = 38, ['until'] = 5}) end)
end
pcall(function() des.replicate(2, F[4], {seed = 98, ['until'] = 5}) end)
