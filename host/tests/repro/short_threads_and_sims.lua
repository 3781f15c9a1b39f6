-- Found by fuzz_sandbox (classes close + coroutine), 2026-11-30; issue 14
-- item 9. Two budget holes the fuzzer's model combined (a simulation made,
-- stepped and closed per level, over nested s:step calls):
--  - a fresh thread (a model's coroutine, a task of a new simulation)
--    started on a full count of its own, so one that ran fewer
--    instructions than a count (1000) was never charged: coroutines of 300
--    loop steps each ran 100 times longer than the budget;
--  - des.new and sim:close set up and free a queue of tens of KiB for one
--    instruction: 500 times longer than the budget.
-- Expected (vendor/lua patch 0006: a coroutine runs on its resumer's
-- count; lsim.c: des.new and close charge LSIM_COST): the budget error
-- within a bounded multiple of the budget. Regression: test_host_cloops.c
-- cases sims, short_coroutines.
-- Run: deshost --sandbox --mem-limit 64M --max-steps 100000000 FILE
local des = require "des"
while true do
  coroutine.wrap(function() for _ = 1, 300 do end end)()
  local s = des.new{}
  s:spawn(function() coroutine.wrap(function() for _ = 1, 300 do end end)() end)
  s:step()
  s:close()
end
