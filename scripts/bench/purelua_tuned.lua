-- purelua_tuned.lua -- a tuned pure-Lua DES: the heap kept in three parallel
-- arrays (no table per event), keyed by (time, seq), of coroutines, with
-- new/spawn/sleep/run. No statistics, no checks.
local M = {}
local Sim = {}
Sim.__index = Sim

local current -- the simulation whose run is under way

function M.new()
  return setmetatable({ now = 0, seq = 0, n = 0, t = {}, s = {}, co = {} }, Sim)
end

-- push (time, coroutine) on the heap
local function push(sim, when, co)
  local n = sim.n + 1
  local seq = sim.seq + 1
  sim.n, sim.seq = n, seq
  local t, s, c = sim.t, sim.s, sim.co
  while n > 1 do
    local p = n // 2
    local pt = t[p]
    if pt < when or (pt == when and s[p] < seq) then break end
    t[n], s[n], c[n] = pt, s[p], c[p]
    n = p
  end
  t[n], s[n], c[n] = when, seq, co
end

-- pop the earliest (time, coroutine)
local function pop(sim)
  local t, s, c = sim.t, sim.s, sim.co
  local when, co = t[1], c[1]
  local n = sim.n
  local lt, ls, lc = t[n], s[n], c[n]
  t[n], s[n], c[n] = nil, nil, nil
  n = n - 1
  sim.n = n
  if n > 0 then
    local i = 1
    while true do
      local k = 2 * i
      if k > n then break end
      if k < n and (t[k + 1] < t[k] or (t[k + 1] == t[k] and s[k + 1] < s[k])) then k = k + 1 end
      if lt < t[k] or (lt == t[k] and ls < s[k]) then break end
      t[i], s[i], c[i] = t[k], s[k], c[k]
      i = k
    end
    t[i], s[i], c[i] = lt, ls, lc
  end
  return when, co
end

function Sim:spawn(fn, ...)
  local args = table.pack(...)
  local co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end)
  push(self, self.now, co)
  return co
end

function M.sleep(dt)
  local sim = current
  push(sim, sim.now + dt, coroutine.running())
  coroutine.yield()
end

function Sim:run()
  current = self
  while self.n > 0 do
    local when, co = pop(self)
    self.now = when
    local ok, err = coroutine.resume(co)
    if not ok then error(err) end
  end
end

function M.now() return current.now end

return M
