-- Found by fuzz_sandbox (class meta: setmetatable(des, {__index = f}) with
-- f re-entering des.monitor.level), 2026-11-30; this is the same shape
-- without des. Issue 14 item 9 (every limit must hold).
-- An __index that re-enters itself twice per level, each under a pcall,
-- makes a binary tree of calls that stops at the C stack limit; every call
-- there fails with "C stack overflow" raised in C, which charges no VM
-- instruction. So the CPU time is not bounded by the budget: with
-- --max-steps 20000 it takes 0.16 s, with 200000 it takes 17 s, the
-- fuzzer's case with 2000000 took 87 s (release build, no sanitizer).
-- Expected: CPU time within a bounded multiple of the budget.
-- Run: deshost --sandbox --max-steps 200000 FILE (and time it)
local t = setmetatable({}, {})
getmetatable(t).__index = function(...)
  pcall(function() local _ = t.a.b end)
  return ...
end
local _ = pcall(function() return t.a end)
