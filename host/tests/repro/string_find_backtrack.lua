-- Found by fuzz_sandbox (class cloop), 2026-11-30. Issue 14 item 9.
-- A backtracking pattern keeps string.find in C for hours (found with 5
-- groups: seconds to minutes; 7 here): no VM
-- instruction runs, so neither --max-steps nor des_interrupt stops it.
-- Expected: the budget error (or an interrupt) within a bounded time.
-- Run: deshost --sandbox --mem-limit 64M --max-steps 100000000 FILE (hangs)
local _ = string.find(string.rep('a', 5000), '(.-)(.-)(.-)(.-)(.-)(.-)(.-)x')
