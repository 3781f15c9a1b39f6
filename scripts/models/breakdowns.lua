-- breakdowns.lua -- a machine that works through jobs and is interrupted by
-- breakdowns: it catches the interrupt, waits for the repair, and resumes
-- the remaining work of the job (SimPy's machine shop pattern).
local des = require "des"

local function machine(jobs)
  for j, work in ipairs(jobs) do
    local left = work
    while left > 0 do
      local start = des.now()
      local ok, err = pcall(des.sleep, left)
      left = left - (des.now() - start)
      if not ok then
        local cause = des.interrupted(err)
        if not cause then error(err, 0) end -- not a breakdown: pass it on
        print(string.format("t=%5.1f  job %d interrupted (%s), %.1f left", des.now(), j,
                            cause.what, left))
        des.sleep(cause.repair)
        print(string.format("t=%5.1f  repaired", des.now()))
      end
    end
    print(string.format("t=%5.1f  job %d done (%.1f of work)", des.now(), j, work))
  end
end

local m = des.spawn{name = "machine", machine, {6, 4, 5}}
-- breakdowns at fixed times: {time, what, repair time}
local breakdowns = { {3, "belt", 2}, {9.5, "motor", 1.5}, {14, "belt", 1} }
des.spawn{name = "breakdowns", function()
  for _, b in ipairs(breakdowns) do
    des.sleep(b[1] - des.now())
    m:interrupt{what = b[2], repair = b[3]}
  end
end}
m:join()
print(string.format("all jobs done at t=%.1f", des.now()))
