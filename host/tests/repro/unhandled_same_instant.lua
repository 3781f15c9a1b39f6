-- Found by fuzz_sandbox (seed 1, class events), 2026-11-30; issue 14 item 9
-- (no C loop may run unbounded). Two failed events that nothing handles, at
-- the same simulated time: each one's RT_UNHANDLED check saw the other's
-- check due now and looked again after it, forever, in C (rt_check_unhandled
-- <-> sim_schedule), with no VM instruction for a budget or an interrupt to
-- count. Hung with or without --sandbox/--max-steps.
-- Expected (fixed in levfail.c): the run stops with "event 'a' failed at
-- t=0.0 and nothing handled it: x". Regression: test_host_cloops.c
-- (test_unhandled_same_instant: many, shuffled, nested, handled later).
-- Run: deshost --sandbox --max-steps 100000000 FILE
local des = require "des"
des.event("a"):fail("x")
des.event("b"):fail("y")
