-- Found by fuzz_sandbox (class gc), 2026-11-30: the allocator does not
-- balance after des_host_free. A __gc finalizer that re-arms itself runs
-- during lua_close and creates des.resource objects; Lua does not finalize
-- objects created while the state closes, so r_gc never runs and the
-- resource's C arrays (lres_realloc: users, time_at) leak. LeakSanitizer
-- reports it (build-asan/deshost --sandbox FILE). The same holds for any
-- binding object that frees C memory in __gc: the fuzzer found the same
-- with des.new (sim_new's memory leaks: the second pcall below).
-- Expected: nothing leaks, whatever finalizers do at close (e.g. refuse to
-- create des objects once the host is closing, or keep C memory in Lua
-- userdata only).
local des = require 'des'
local n = 50
local mt = {}
mt.__gc = function()
  pcall(des.resource, 1)
  pcall(des.new, {})
  if n > 0 then n = n - 1; setmetatable({}, mt) end
end
for _ = 1, 20 do setmetatable({}, mt) end
