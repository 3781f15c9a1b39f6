-- machineshop.lua -- SimPy's machine shop: 10 machines make parts and now
-- and then break down; one repairman repairs them, and repairs come before
-- his other, less important jobs. Teaches interrupts a task catches to
-- resume the remaining work, of both kinds: a breakdown (task:interrupt
-- with a cause of our own) and a preemption (des.resource(1, {preemptive =
-- true}) interrupts the holder with {kind = "preempted", ...}); and how to
-- end a model whose tasks never stop: cancel them at the horizon.
local des = require "des"

local MACHINES = 10
local PT_MEAN, PT_SD = 10, 2    -- minutes to make a part: normal, truncated at > 0
local MTTF = 300                -- mean minutes of working time between breakdowns
local REPAIR = 30               -- minutes to repair a machine
local JOB = 30                  -- minutes of each of the repairman's other jobs
local WEEKS = 4
local HORIZON = WEEKS * 7 * 24 * 60 -- in minutes

-- lower numbers first; a repair request preempts an other job in progress
local REPAIR_PRIORITY, JOB_PRIORITY = 1, 2
local repairman = des.resource(1, { preemptive = true, name = "repairman" })
local repairing = des.monitor.level("repairing") -- 1 while a repair is under way

-- Work for `left` minutes unless interrupted: returns the work still left
-- (0 when done) and the interrupt's cause, if one came.
local function work(left)
  local start = des.now()
  local ok, err = pcall(des.sleep, left)
  left = left - (des.now() - start)
  if ok then return 0 end
  local cause = des.interrupted(err)
  if not cause then error(err, 0) end -- not an interrupt (an error): pass it on
  return left, cause
end

local machines = {}
for i = 1, MACHINES do
  machines[i] = { name = string.format("machine %d", i), parts = 0, breakdowns = 0 }
end

-- A machine makes parts one after the other; a breakdown interrupts the
-- part in progress, which is finished after the repair.
local function machine(m, i)
  local rng = des.rng("parts " .. i)
  while true do
    local left
    repeat left = rng:normal(PT_MEAN, PT_SD) until left > 0
    while left > 0 do
      local cause
      left, cause = work(left)
      if cause then -- broken down: call the repairman, who drops any other job
        m.breakdowns = m.breakdowns + 1
        local _req <close> = repairman:acquire(REPAIR_PRIORITY)
        repairing:add(1)
        des.sleep(REPAIR)
        repairing:add(-1)
        cause.repaired:succeed()
      end
    end
    m.parts = m.parts + 1
  end
end

-- A machine breaks down after exponential(MTTF) minutes of working time:
-- it works whenever it is not broken, so the clock of the next breakdown
-- starts when the repair ends.
local function breaker(task, i)
  local rng = des.rng("failures " .. i)
  while true do
    des.sleep(rng:exponential(MTTF))
    local repaired = des.event("repaired")
    task:interrupt{ what = "breakdown", repaired = repaired }
    repaired:wait()
  end
end

-- The repairman's other jobs, one after the other whenever no machine is
-- broken; a repair preempts the job, which resumes where it stopped.
local jobs = { done = 0, preempted = 0 }
local function other_jobs()
  while true do
    local left = JOB
    while left > 0 do
      local _req <close> = repairman:acquire(JOB_PRIORITY)
      local cause
      left, cause = work(left)
      if cause then
        assert(cause.kind == "preempted" and cause.resource == repairman)
        jobs.preempted = jobs.preempted + 1 -- our request is already released
      end
    end
    jobs.done = jobs.done + 1
  end
end

local tasks = {}
for i, m in ipairs(machines) do
  local t = des.spawn{ name = m.name, machine, m, i }
  tasks[#tasks + 1] = t
  tasks[#tasks + 1] = des.spawn{ name = "breakdowns of " .. m.name, breaker, t, i }
end
tasks[#tasks + 1] = des.spawn{ name = "other jobs", other_jobs }

des.sleep(HORIZON)
print(string.format("Machine shop results after %d weeks (%d minutes)", WEEKS, des.now()))
local total = 0
for _, m in ipairs(machines) do
  print(string.format("%-10s made %4d parts, %2d breakdowns", m.name, m.parts, m.breakdowns))
  total = total + m.parts
end
print(string.format("%d parts in all", total))
local busy = repairman.stats.busy:report()
local repairs = repairing:report()
print(string.format("repairman: repairing %.1f%% of the time, busy %.1f%% (other jobs too)",
                    100 * repairs.mean, 100 * busy.mean))
print(string.format("other jobs: %d done, preempted %d times", jobs.done, jobs.preempted))
-- the machines, their breakdowns and the other jobs never end: stop them
for _, t in ipairs(tasks) do t:cancel() end
