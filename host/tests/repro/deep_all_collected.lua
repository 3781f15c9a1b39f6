-- Found by fuzz_sandbox (class events), 2026-11-30. Issue 14 items 5/6.
-- A chain of 2000 des.all{...}, each holding only the previous one: the
-- inner composites are unreachable from Lua; when the timeout fires,
-- composite_notify (levany.c) recurses through them and rt_push_object
-- gets an object that was collected: SEGV in getgeneric/lua_rawgetp under
-- ASan (build-asan/deshost FILE), with or without --sandbox.
-- Expected: the chain fires (or a clear error), no crash.
local des = require 'des'
local e = des.timeout(0, 0.5)
for _ = 1, 2000 do e = des.all{e} end
