-- Found by fuzz_runtime (class coroutine: "FIFO broken at t=0.0: sleep 10
-- ended after sleep 11", repro/runtime/fifo_broken_coroutine.bin), written
-- by hand, 2026-11-30. Issue 14 item 2.
-- coroutine.resume on a task's thread (captured with coroutine.running)
-- from another task wakes a sleeping task at once: it prints "task woke at
-- 1.0" instead of 5.0, the thread is then dead, and the pending wake fails
-- at t=5 with "cannot resume dead coroutine". Expected: resume / wrap /
-- close / status refuse (or report) a des task's thread; the sleep ends at 5.
-- Run: deshost --sandbox --mem-limit 64M --max-steps 100000000 FILE
local des = require "des"
local co
des.spawn(function()
  co = coroutine.running()
  des.sleep(5)
  print("task woke at", des.now())
end)
des.sleep(1)
print("resume:", coroutine.resume(co))
print("status:", coroutine.status(co))
