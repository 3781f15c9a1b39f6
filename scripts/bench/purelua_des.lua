-- purelua_des.lua -- the pure-Lua baseline: a DES as a Lua user would
-- write it by hand, a binary heap of {time, seq, coroutine} entries, with
-- new/spawn/sleep/run. No statistics, no checks. (purelua_tuned.lua is the
-- same with the heap in parallel arrays, for comparison.)
local M = {}
local Sim = {}
Sim.__index = Sim

local current -- the simulation whose run is under way

function M.new()
  return setmetatable({ now = 0, seq = 0, heap = {} }, Sim)
end

local function before(a, b)
  return a.time < b.time or (a.time == b.time and a.seq < b.seq)
end

-- push an entry and sift it up
local function push(sim, time, co)
  sim.seq = sim.seq + 1
  local heap, e = sim.heap, { time = time, seq = sim.seq, co = co }
  local i = #heap + 1
  heap[i] = e
  while i > 1 do
    local p = i // 2
    if before(heap[p], e) then break end
    heap[i], heap[p] = heap[p], e
    i = p
  end
end

-- pop the earliest entry and sift the last one down
local function pop(sim)
  local heap = sim.heap
  local top, last = heap[1], heap[#heap]
  heap[#heap] = nil
  local n = #heap
  if n > 0 then
    local i = 1
    while true do
      local k = 2 * i
      if k > n then break end
      if k < n and before(heap[k + 1], heap[k]) then k = k + 1 end
      if before(last, heap[k]) then break end
      heap[i] = heap[k]
      i = k
    end
    heap[i] = last
  end
  return top
end

function Sim:spawn(fn, ...)
  local args = table.pack(...)
  local co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end)
  push(self, self.now, co)
  return co
end

-- wake a waiting coroutine at the current time
function Sim:wake(co)
  push(self, self.now, co)
end

function M.sleep(dt)
  local sim = current
  push(sim, sim.now + dt, coroutine.running())
  coroutine.yield()
end

function Sim:run()
  current = self
  while #self.heap > 0 do
    local e = pop(self)
    self.now = e.time
    local ok, err = coroutine.resume(e.co)
    if not ok then error(err) end
  end
end

function M.now() return current.now end

return M
