-- memory.lua -- bytes per sleeping task: spawn N tasks (default 10^6) that
-- all sleep at once, and report the growth of Lua's heap (collectgarbage)
-- and of the process's resident set, per task. Run: deshost memory.lua [N]
local des = require "des"

local N = tonumber(arg and arg[1]) or 1000000

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local kb = f:read("a"):match("VmRSS:%s*(%d+)")
  f:close()
  return tonumber(kb) or 0
end

local function sleeper() des.sleep(1) end

collectgarbage("collect")
local heap0, rss0 = collectgarbage("count"), rss_kb()
local sim = des.new{}
for _ = 1, N do sim:spawn(sleeper) end
sim:run(0.5)            -- every task started and is now asleep
collectgarbage("collect")
local heap1, rss1 = collectgarbage("count"), rss_kb()
print(string.format("%d tasks asleep: %.0f bytes/task (Lua heap), %.0f bytes/task (RSS)",
                    N, (heap1 - heap0) * 1024 / N, (rss1 - rss0) * 1024 / N))
sim:run()
print(string.format("all woke and ended at t=%.1f", sim:now()))

-- Repeated waits leave memory flat: 10^6 waits on any{ev, timeout} where
-- the timeout wins, with the Lua heap sampled every 10^5 waits.
local waits = tonumber(arg and arg[2]) or 1000000
local sim2 = des.new{}
sim2:spawn(function()
  local ev = des.event("never")
  local samples = {}
  for i = 1, waits do
    des.any{ ev, des.timeout(1) }:wait()
    if i % (waits // 10) == 0 then
      collectgarbage("collect")
      samples[#samples + 1] = string.format("%.0f", collectgarbage("count"))
    end
  end
  print(string.format("%d any{event, timeout} waits: Lua heap in KB every %d waits: %s",
                      waits, waits // 10, table.concat(samples, " ")))
end)
sim2:run()
