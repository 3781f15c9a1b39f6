-- Found while minimising a fuzz_sandbox timeout (class meta, the same cause
-- as budget_cstack_errors.lua), 2026-11-30; issue 14 item 9. Deep in a
-- recursion, every caught error made Lua walk the whole stack (the stack
-- shrink after a pcall, lua_getstack for error's level, two reallocations
-- of the stack per 'stack overflow'), one VM instruction for a walk of
-- 150000 frames: 24 s of CPU for a budget of 1e6 steps, 40 min for 1e8.
-- Expected (vendor/lua patch 0006): those walks are charged (or skipped),
-- the budget error comes within a bounded multiple of the budget.
-- Regression: test_host_cloops.c cases deep_pcall, deep_error_level,
-- stack_limit, cstack_tree.
-- Run: deshost --sandbox --mem-limit 64M --max-steps 100000000 FILE
local function deep(n)
  if n == 0 then
    while true do
      pcall(error)
      pcall(error, "x", 1 << 30)
    end
  end
  return 1 + deep(n - 1)
end
deep(150000)
