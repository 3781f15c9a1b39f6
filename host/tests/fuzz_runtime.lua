-- fuzz_runtime.lua -- the operation interpreter of the runtime fuzzer
-- (fuzz_runtime.c): turns the fuzzer's bytes into spawns, sleeps, events,
-- waits, any/all, joins, cancels, interrupts, resource acquisitions and
-- scheduled calls (des.schedule, handle:cancel) and requests in des.any
-- (resource and store requests that renege) over a small pool, runs the
-- simulation, and checks the invariants: the clock
-- never goes back (on the trace), sleeps due at the same time end in the
-- order they began unless ties are shuffled, no task runs after it ended,
-- a resource never has more holders than servers, and every acquisition is
-- released once all tasks are gone. Any violation is an error (the harness
-- aborts).
--
-- The second byte turns on hostile classes (an attacker's model, issue 14):
--   coroutine  coroutine.running() captured in tasks, then resume / wrap /
--              close / status on it from other tasks and from outside
--   gc         __gc and __close finalizers that trigger events, cancel,
--              interrupt, spawn and close the simulation
--   close      sim:close() at random points (inside tasks, between steps)
--   globals    swapped globals (table.sort, require, pairs, setmetatable,
--              tostring, coroutine.*) before and after the library loads
--   nested     nested and deep des.any / des.all
--   errors     error objects whose __tostring fails or is not a string
-- A class named in the harness's second argument (FUZZ_RUNTIME_SKIP) stays
-- off, to keep fuzzing the others once a class has a saved find.
local bytes, skip = ...
skip = skip or ""
-- everything this script uses, captured before any global is swapped
local pcall, error, type, tostring, select = pcall, error, type, tostring, select
local pairs, ipairs = pairs, ipairs
local setmetatable, collectgarbage, assert = setmetatable, collectgarbage, assert
local require, fmt, find = require, string.format, string.find
local co_running, co_resume, co_wrap = coroutine.running, coroutine.resume, coroutine.wrap
local co_close, co_status = coroutine.close, coroutine.status

local pos = 0
local function byte()
  pos = pos + 1
  return bytes:byte(pos) or 0
end

local CLASSES = { "coroutine", "gc", "close", "globals", "nested", "errors" }
local first = byte()
local mask = byte()
local on = {}
for i, name in ipairs(CLASSES) do
  on[name] = (mask >> (i - 1)) & 1 == 1 and not find(skip, name, 1, true)
end
local hostile = on.coroutine or on.gc or on.close or on.globals or on.nested or on.errors

-- Error objects a model can raise: __tostring fails, returns a non-string,
-- yields, or raises itself.
local hostile_errors = {
  setmetatable({}, { __tostring = function() error("tostring fails") end }),
  setmetatable({}, { __tostring = function() return {} end }),
  setmetatable({}, { __tostring = function() return nil end }),
  setmetatable({}, { __tostring = function(e) error(e) end }),
  setmetatable({}, { __tostring = function() coroutine.yield() end }),
  setmetatable({}, { __name = "des.task", __index = function() error("index") end }),
}

-- Replacements for globals: one that errors, one that re-enters des, junk.
local des -- set once loaded
local swap_targets = {
  { table, "sort" }, { _G, "require" }, { _G, "pairs" }, { _G, "ipairs" },
  { _G, "setmetatable" }, { _G, "tostring" }, { _G, "type" }, { _G, "next" },
  { coroutine, "running" }, { coroutine, "resume" }, { coroutine, "wrap" },
  { coroutine, "yield" }, { coroutine, "close" }, { coroutine, "status" },
  { table, "insert" }, { table, "remove" }, { table, "unpack" }, { table, "pack" },
}
local function swap_global(b)
  local t = swap_targets[b % #swap_targets + 1]
  local orig = t[1][t[2]]
  local kind = (b // #swap_targets) % 4
  if kind == 0 then
    t[1][t[2]] = function() error(hostile_errors[b % #hostile_errors + 1]) end
  elseif kind == 1 then
    t[1][t[2]] = function(...) -- re-enters des, then does the real thing
      if des then pcall(des.spawn, function() end); pcall(des.now) end
      return orig(...)
    end
  elseif kind == 2 then
    t[1][t[2]] = function() return {}, 1, nil end
  else
    t[1][t[2]] = orig
  end
end

-- before the library loads: the Lua library (stores, containers) then
-- runs over the globals it captured, so its own invariants are only
-- checked when none was swapped (memory safety and the C objects' always)
local lib_broken = false
if on.globals then
  for _ = 1, byte() % 4 do swap_global(byte()); lib_broken = true end
end
-- A library loaded over globals the model broke may fail to set up (it
-- captured them, as documented); that is a clean error, not a find.
local loaded, lib = pcall(require, "des")
if not loaded then return end
des = lib

local calls, calls_cancelled = {}, {} -- des.schedule handles, by number
local violation -- the first broken invariant (the ops' pcall would hide an error)
local function check(cond, msg)
  if not cond then violation = violation or msg end
end
local function lib_check(cond, msg) -- an invariant of the Lua library
  if not lib_broken then check(cond, msg) end
end

-- the simulation and the shared objects (only the globals class may break
-- their set-up, through the globals the library captured)
local set_up, sim, res, st, tank = pcall(function()
  return des.new{ seed = 1 }, des.resource(2), des.store(2), des.container(10, 5)
end)
if not set_up then
  if not on.globals then error("set-up failed without swapped globals: " .. tostring(sim)) end
  return
end
local last_ticks = -1
sim:trace(function(line)
  local ticks = tonumber(line:match("%[(%d+)%]"))
  check(ticks >= last_ticks, "clock went back: " .. line)
  last_ticks = ticks
end)

local events, tasks, ended, cos = {}, {}, {}, {}
for i = 1, 4 do events[i] = des.event("e" .. i) end
local put_ok, got, nitems = {}, {}, 0
-- get requests whose task may end before it looks: a granted one's item
-- is its owner's (documented), so it counts as handed out
local held = {}
local tank_moved = 0
local shuffled = false
local closed = false -- sim:close() ran: the resource check no longer applies

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
    check(n > last_end_n, fmt("FIFO broken at t=%s: sleep %d ended after sleep %d",
                              now, n, last_end_n))
  end
  last_end_t, last_end_n = now, n
end

-- What a finalizer, a <close> handler or a swapped global does: one des
-- call chosen by b, wherever it happens to run.
local function disturb(b)
  local k = b % 8
  if k == 0 then
    local e = events[b % #events + 1]
    pcall(e.succeed, e, "gc")
  elseif k == 1 then
    local e = events[b % #events + 1]
    pcall(e.fail, e, hostile_errors[b % #hostile_errors + 1])
  elseif k == 2 then
    local t = tasks[b % 8 + 1]
    if t then pcall(t.cancel, t) end
  elseif k == 3 then
    local t = tasks[b % 8 + 1]
    if t then pcall(t.interrupt, t, "gc") end
  elseif k == 4 then
    pcall(sim.spawn, sim, function() pcall(des.sleep, 1) end)
  elseif k == 5 and on.close then
    closed = true
    pcall(sim.close, sim)
  elseif k == 6 then
    local c = cos[b % 4 + 1]
    if c then pcall(co_resume, c, "gc") end
  else
    pcall(res.release, res, nil)
  end
end

-- A finalizer that re-arms itself a few times, so it runs during later
-- allocations anywhere in the runtime.
local function arm_gc(b, n)
  local mt = {}
  mt.__gc = function()
    disturb(b)
    if n > 0 then n = n - 1; setmetatable({}, mt) end
  end
  setmetatable({}, mt)
end

-- A waitable built from bytes: events, tasks, timeouts and composites.
local function waitable(depth)
  local b = byte()
  local k = b % 6
  if depth > 3 or k == 0 then return events[b % #events + 1]
  elseif k == 1 then return tasks[b % 8 + 1] or des.timeout(1)
  elseif k == 2 then return des.timeout((b // 6) % 4 / 2)
  else
    local members = {}
    for i = 1, 1 + byte() % 3 do members[i] = waitable(depth + 1) end
    return (k % 2 == 0 and des.any or des.all)(members)
  end
end

-- Drive a captured coroutine (maybe a task's thread) by hand.
local function drive_co(b)
  local c = cos[b % 4 + 1]
  if not c then return end
  local k = (b // 4) % 5
  if k == 0 then pcall(co_resume, c, "by hand")
  elseif k == 1 then pcall(co_close, c)
  elseif k == 2 then pcall(co_status, c)
  elseif k == 3 then pcall(function() co_wrap(function() return co_resume(c) end)() end)
  else pcall(co_wrap(function() des.sleep(0) end)) -- des inside a plain coroutine
  end
end

-- One hostile operation, chosen by b (only classes that are on).
local function hostile_op(me, b)
  local k = b % 7
  if k == 0 and on.coroutine then
    cos[b // 7 % 4 + 1] = co_running()
  elseif k == 1 and on.coroutine then
    drive_co(byte())
  elseif k == 2 and on.gc then
    arm_gc(byte(), b % 8)
    if b & 64 ~= 0 then collectgarbage("step") end
  elseif k == 3 and on.gc then
    local _x <close> = setmetatable({}, { __close = function() disturb(b // 7) end })
    fifo_sleep((b // 7) % 3)
  elseif k == 4 and on.close then
    closed = true
    pcall(sim.close, sim)
  elseif k == 5 and on.nested then
    if b & 128 ~= 0 then
      local e = events[b % #events + 1]
      for _ = 1, (b // 7 % 4 + 1) * 500 do e = des.any{ e } end
      e:wait()
    else
      waitable(0):wait()
    end
  elseif k == 6 and on.errors then
    local h = hostile_errors[b % #hostile_errors + 1]
    if b & 64 ~= 0 then error(h) end
    local t = tasks[b % 8 + 1]
    if t then t:interrupt(h) end
  elseif on.globals then
    swap_global(byte())
    if b & 8 ~= 0 then pcall(des.tasks) end
  end
  return me
end

-- One operation of a task body, chosen by a byte.
local function op(me)
  local b = byte()
  local k = b % 14
  if k == 12 then -- the store: a put of a fresh item, or a get
    local timeout = (b // 14) % 3 == 1 and 0.5 or nil
    if (b // 42) % 2 == 0 then
      nitems = nitems + 1
      local item = nitems
      if st:put(item, timeout) then put_ok[item] = true end
    elseif (b // 84) % 2 == 1 then -- a get request in des.any: renege or take
      local g <close> = st:get_request()
      held[g] = true -- (a cancel may end the task here: the end counts it)
      pcall(function() return des.any{ g, des.timeout(0.5) }:wait() end)
      held[g] = nil
      if g.granted then
        lib_check(not got[g.item], "an item handed out twice")
        got[g.item] = true
      end
    else
      local item = st:get(nil, timeout)
      if item then
        lib_check(not got[item], "an item handed out twice")
        got[item] = true
      end
    end
    lib_check(#st.items <= st.capacity, "store over capacity")
  elseif k == 13 then -- the container: a get or a put of 1..4
    local amount, timeout = 1 + (b // 14) % 4, (b // 56) % 2 == 1 and 0.5 or nil
    if (b // 112) % 2 == 0 then
      if tank:get(amount, timeout) then tank_moved = tank_moved - amount end
    elseif tank:put(amount, timeout) then
      tank_moved = tank_moved + amount
    end
    lib_check(tank.level >= 0 and tank.level <= tank.capacity,
              "level out of range: " .. tostring(tank.level))
  elseif k == 11 then
    if hostile then hostile_op(me, byte()) else fifo_sleep(0) end
  elseif k == 0 then fifo_sleep((b // 12) % 4)
  elseif k == 1 then fifo_sleep(((b // 12) % 7) / 8)
  elseif k == 10 and (b // 72) % 2 == 1 then -- a request in des.any (renege)
    local req <close> = res:request((b // 12) % 3, { preempt = (b // 36) % 2 == 1 })
    pcall(function() return des.any{ req, des.timeout(((b // 24) % 3) / 2) }:wait() end)
    check(res.count <= res.capacity, "more holders than servers")
    if req.granted and not req.released then
      check(#res:holders() <= res.capacity, "more holders than servers")
      fifo_sleep((b // 24) % 2)
    end
  elseif k == 10 then
    local req <close> = res:acquire(nil, (b // 12) % 2 == 1 and 0.5 or nil)
    if req then
      check(#res:holders() <= res.capacity, "more holders than servers")
      fifo_sleep((b // 24) % 3)
    end
  elseif k == 2 then
    local e = events[b % #events + 1]
    if not e.triggered then e:succeed(me) end
  elseif k == 3 then
    local e = events[b % #events + 1]
    if not e.triggered then e:defuse():fail("f" .. me) end -- (unhandled failures stop a run)
  elseif k == 4 then pcall(function() events[b % #events + 1]:wait() end)
  elseif k == 5 then
    -- defused: an any abandoned by an interrupt or a cancel may fail later
    -- with its member, and then nothing handles it (which stops a run)
    pcall(function()
      des.any{ events[b % #events + 1], des.timeout((b % 5) / 2) }:defuse():wait()
    end)
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
  else
    local i = b % #events + 1
    if events[i].triggered then events[i] = des.event("e" .. i) end
  end
end

local function body(me)
  for _ = 1, 1 + byte() % 12 do
    check(not ended[me], "task " .. me .. " runs after it ended")
    local ok, err = pcall(op, me)
    if not ok and not hostile and not des.interrupted(err) and not des.cancelled(err) then
      -- a finalizer may trigger an event between the check and the trigger
      if type(err) == "string" and err:find("already triggered", 1, true) then error(err) end
    end
  end
  ended[me] = true
end

if first % 2 == 1 then
  shuffled = true
  sim:shuffle_ties(byte())
end
sim:on_error(function() end)
for i = 1, 8 do tasks[i] = sim:spawn{ name = "t" .. i, body, i } end
for _ = 1, 200 do
  -- from outside any task: drive a captured task thread, close, disturb
  if hostile and byte() % 8 == 0 then
    local b = byte()
    if on.coroutine and b % 3 == 0 then drive_co(byte())
    elseif on.close and b % 3 == 1 and byte() % 4 == 0 then
      closed = true
      pcall(sim.close, sim)
    elseif on.gc then disturb(byte()); collectgarbage("step")
    end
  end
  local ok, more = pcall(sim.step, sim)
  if not ok then
    -- a step may only fail in hostile runs (a closed simulation, an error
    -- object raised from a finalizer) and must then fail cleanly
    check(hostile, "step failed: " .. select(2, pcall(tostring, more)))
    if closed then break end
  elseif not more then
    break
  end
end
pcall(sim.close, sim)
assert(not violation, violation)
if not closed then
  assert(res.count == 0 and #res:holders() == 0,
         fmt("%d acquisitions never released", res.count))
end
-- (hostile classes cancel, interrupt and collect tasks in the middle of a
-- get or put: the store/container accounting holds for plain runs only)
if not closed and not hostile then
  for _, item in ipairs(st.items) do
    assert(not got[item], "an item both in the store and handed out")
    got[item] = true
  end
  for g in pairs(held) do
    if g.granted then got[g.item] = true end
  end
  for item in pairs(put_ok) do assert(got[item], "a stored item was lost") end
  assert(tank.level == 5 + tank_moved, "the container's level drifted")
end
if on.close and byte() % 2 == 1 then pcall(function() des.default():close() end) end
