-- fuzz_runtime.lua -- the operation interpreter of the runtime fuzzer
-- (fuzz_runtime.c): turns the fuzzer's bytes into spawns, sleeps, events,
-- waits, any/all, joins, cancels, interrupts, resource acquisitions and
-- scheduled calls (des.schedule, handle:cancel) over
-- a small pool, plus coroutine.resume/close/status on the tasks' own threads
-- (which must be refused), runs the simulation, and checks the invariants: the clock
-- never goes back (on the trace), sleeps due at the same time end in the
-- order they began unless ties are shuffled, no task runs after it ended,
-- a resource never has more holders than servers, and every acquisition is
-- released once all tasks are gone; a store never loses an item whose put
-- returned nor hands one out twice, and a container's level stays in range
-- and equals what the gets and puts that returned moved. Any violation is
-- an error (the harness aborts).
local des = require "des"
local bytes = ...
local pos = 0
local function byte()
  pos = pos + 1
  return bytes:byte(pos) or 0
end

local sim = des.new{ seed = 1 }
local last_ticks = -1
sim:trace(function(line)
  local ticks = tonumber(line:match("%[(%d+)%]"))
  assert(ticks >= last_ticks, "clock went back: " .. line)
  last_ticks = ticks
end)

local events, tasks, ended, threads = {}, {}, {}, {}
for i = 1, 4 do events[i] = des.event("e" .. i) end
local res = des.resource(2)
local st, put_ok, got, nitems = des.store(2), {}, {}, 0
local tank, tank_moved = des.container(10, 5), 0
local shuffled = false
local calls, calls_cancelled = {}, {} -- des.schedule handles, by number
local violation -- the first broken invariant (the ops' pcall would hide an error)
local function check(cond, msg)
  if not cond then violation = violation or msg end
end

-- A sleep that checks FIFO order: sleeps are numbered as they begin; two
-- that end at the same time end in that order (no check when shuffled).
local sleeps, last_end_t, last_end_n = 0, -1, 0
local function fifo_sleep(dt)
  sleeps = sleeps + 1
  local n = sleeps
  des.sleep(dt)
  if shuffled then return end
  local now = des.now()
  if now == last_end_t then
    check(n > last_end_n, ("FIFO broken at t=%s: sleep %d ended after sleep %d")
      :format(now, n, last_end_n))
  end
  last_end_t, last_end_n = now, n
end

-- One operation of a task body, chosen by a byte.
local function op(me)
  local b = byte()
  local k = b % 13
  if k == 0 then fifo_sleep((b // 11) % 4)
  elseif k == 1 then fifo_sleep(((b // 11) % 7) / 8)
  elseif k == 10 then
    local req <close> = res:acquire(nil, (b // 11) % 2 == 1 and 0.5 or nil)
    if req then
      check(#res:holders() <= res.capacity, "more holders than servers")
      fifo_sleep((b // 22) % 3)
    end
  elseif k == 11 then -- the store: a put of a fresh item, or a get
    local timeout = (b // 13) % 3 == 1 and 0.5 or nil
    if (b // 39) % 2 == 0 then
      nitems = nitems + 1
      local item = nitems
      if st:put(item, timeout) then put_ok[item] = true end
    else
      local item = st:get(nil, timeout)
      if item then
        check(not got[item], "an item handed out twice")
        got[item] = true
      end
    end
  elseif k == 12 then -- the container: a get or a put of 1..4
    local amount, timeout = 1 + (b // 13) % 4, (b // 52) % 2 == 1 and 0.5 or nil
    if (b // 104) % 2 == 0 then
      if tank:get(amount, timeout) then tank_moved = tank_moved - amount end
    elseif tank:put(amount, timeout) then
      tank_moved = tank_moved + amount
    end
    check(tank.level >= 0 and tank.level <= tank.capacity, "level out of range")
  elseif k == 2 then
    local e = events[b % #events + 1]
    if not e.triggered then e:succeed(me) end
  elseif k == 3 then
    local e = events[b % #events + 1]
    if not e.triggered then e:fail("f" .. me) end
  elseif k == 4 then pcall(function() events[b % #events + 1]:wait() end)
  elseif k == 5 then
    pcall(function() des.any{ events[b % #events + 1], des.timeout((b % 5) / 2) }:wait() end)
  elseif k == 6 then
    local t = tasks[b % 8 + 1]
    if t and t ~= des.self() then pcall(t.join, t) end
  elseif k == 7 then
    local t = tasks[b % 8 + 1]
    if t and t ~= des.self() then t:cancel() end
  elseif k == 8 then
    local t = tasks[b % 8 + 1]
    if t then t:interrupt(me) end
  elseif (b // 11) % 3 == 1 then -- a call scheduled outside any task, or a cancel
    if (b // 33) % 2 == 0 then
      local id = #calls + 1
      calls[id] = des.schedule((b % 4) / 2, function()
        check(des.self() == nil, "a scheduled call ran inside a task")
        check(not calls_cancelled[id], "a cancelled call ran")
        local e = events[id % #events + 1]
        if not e.triggered then e:succeed(-id) end
      end)
    else
      local id = b % 8 + 1
      if calls[id] and calls[id]:cancel() then calls_cancelled[id] = true end
    end
  elseif (b // 11) % 3 == 0 then -- drive a task's thread by hand: refused
    local co = threads[b % 8 + 1]
    if co then
      local how = (b // 33) % 3
      local ok = pcall(how == 0 and coroutine.resume or how == 1 and coroutine.close
                       or coroutine.status, co)
      check(how == 2 or not ok or coroutine.status(co) == "dead",
            "a task's thread was driven by hand")
    end
  else
    local i = b % #events + 1
    if events[i].triggered then events[i] = des.event("e" .. i) end
  end
end

local function body(me)
  threads[me] = coroutine.running()
  for _ = 1, 1 + byte() % 12 do
    check(not ended[me], "task " .. me .. " runs after it ended")
    local ok, err = pcall(op, me)
    if not ok and not des.interrupted(err) and not des.cancelled(err) then
      if type(err) == "string" and err:find("already triggered", 1, true) then error(err) end
    end
  end
  ended[me] = true
end

if byte() % 2 == 1 then
  shuffled = true
  sim:shuffle_ties(byte())
end
sim:on_error(function() end)
for i = 1, 8 do tasks[i] = sim:spawn{ name = "t" .. i, body, i } end
for _ = 1, 200 do
  if not sim:step() then break end
end
sim:close()
assert(not violation, violation)
assert(res.count == 0 and #res:holders() == 0,
       ("%d acquisitions never released"):format(res.count))
for _, item in ipairs(st.items) do
  assert(not got[item], "an item both in the store and handed out")
  got[item] = true
end
for item in pairs(put_ok) do assert(got[item], "a stored item was lost") end
assert(tank.level == 5 + tank_moved, "the container's level drifted")
