-- Found by fuzz_sandbox (class gc + events), 2026-11-30, minimised by
-- machine (line-wise). Issue 14 items 3/5 (finalizers, close): a
-- self-re-arming __gc finalizer builds des.all chains on an event that
-- already has 4000 composites waiting on it; the finalizers still run in
-- des_host_free (lua_close), and ev_gc -> rt_waiter_unlink (runtime.c:230)
-- reads a waiter node that was freed: heap-use-after-free under
-- build-asan/deshost --sandbox --mem-limit 16M --max-steps 200000 FILE.
-- Expected: des_host_free frees everything once, whatever finalizers do.
-- luacheck: ignore (a program as the grammar writes it, kept byte for byte)
local des = require 'des'
local P, setmetatable, collectgarbage, error = pcall, setmetatable, collectgarbage, error
local E, T, R, S, C, M, K, X, F = {}, {}, {}, {}, {}, {}, {}, {}, {}
  P(function() E[3] = des.event('e3') end)
  P(function() do local e = E[3] for _ = 1, 2000 do e = des.all{e} end E[3] = e end end)
  P(function() do local e = E[3] for _ = 1, 2000 do e = des.all{e} end E[3] = e end end)
  P(function() do local mt = {} mt.__gc = function() do local e = E[3] for _ = 1, 2000 do e = des.all{e} end E[1] = e end if GCN > 0 then GCN = GCN - 1 setmetatable({}, mt) end end for _ = 1, 20 do setmetatable({}, mt) end end end)
