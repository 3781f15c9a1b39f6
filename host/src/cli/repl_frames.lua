-- repl_frames.lua -- the debugger half of `deshost -i`: the frames of a
-- suspended task, the environment in which the prompt sees the locals and
-- upvalues of the selected frame (as pdb sees a frame's), and the source
-- around where a task is suspended. Part of the CLI only, like repl.lua.
--
-- `dbg` is the table of C functions repl.c gives the session (frames,
-- getlocal, setlocal, func, getupvalue, setupvalue, source_text): the only
-- way to a task's coroutine, which models cannot reach.
local _, des, std = ...
-- repl_std.lua's copies of the standard functions (not the model's)
local pcall, ipairs, select, setmetatable, tostring, type = std.pcall, std.ipairs, std.select,
  std.setmetatable, std.tostring, std.type
local string = std.string

local frames = {}

-- Frames of the des library (its chunks are "@lua/des/*.lua", see
-- cmake/embed_lua.cmake) and of the REPL itself are not the model's.
local function is_model_frame(fr)
  if fr.what == "C" then return false end
  local src = fr.source
  return string.sub(src, 1, 9) ~= "@lua/des/" and string.sub(src, 1, 14) ~= "@host/src/cli/"
end

-- Whether task t is alive (has a stack to look at).
function frames.alive(t)
  local s = t.status
  return s == "ready" or s == "running" or s == "sleeping" or s == "waiting"
end

-- "task 'main' (#1)" for task t.
function frames.label(t)
  return (string.gsub(tostring(t), ": %a+$", ""))
end

-- The model's frames of task t where it is suspended, innermost first
-- (empty when it has not started or has ended).
function frames.list(dbg, t)
  local ok, all = pcall(dbg.frames, t)
  local out = {}
  if not ok then return out end
  for _, fr in ipairs(all) do
    if is_model_frame(fr) then out[#out + 1] = fr end
  end
  return out
end

-- One line for a frame: "clock.lua:12 in main chunk".
function frames.describe(fr)
  local where
  if fr.what == "main" then
    where = "main chunk"
  elseif fr.name then
    where = "function '" .. fr.name .. "'"
  else
    where = string.format("function <%s:%d>", fr.short_src, fr.linedefined)
  end
  return string.format("%s:%d in %s", fr.short_src, fr.currentline, where)
end

-- Where `name` is visible in frame fr of task t: "local", n (the last
-- active local of that name), or "upvalue", n, f (of the frame's
-- function f), or nil.
local function lookup(dbg, t, fr, name)
  local found, n = nil, 1
  while true do
    local k = dbg.getlocal(t, fr.level, n)
    if k == nil then break end
    if k == name then found = n end
    n = n + 1
  end
  if found then return "local", found end
  local f = dbg.func(t, fr.level)
  n = 1
  while true do
    local k = dbg.getupvalue(f, n)
    if k == nil then return nil end
    if k == name then return "upvalue", n, f end
    n = n + 1
  end
end

-- The value of `name` in frame fr of task t: found, value.
local function read(dbg, t, fr, name)
  local kind, n, f = lookup(dbg, t, fr, name)
  if kind == "local" then return true, select(2, dbg.getlocal(t, fr.level, n)) end
  if kind == "upvalue" then return true, select(2, dbg.getupvalue(f, n)) end
  return false
end

-- Assign `name` in frame fr of task t; false when it is neither a local
-- nor an upvalue there.
local function write(dbg, t, fr, name, v)
  local kind, n, f = lookup(dbg, t, fr, name)
  if kind == "local" then dbg.setlocal(t, fr.level, n, v); return true end
  if kind == "upvalue" then dbg.setupvalue(f, n, v); return true end
  return false
end

-- The globals the frame's code sees: its _ENV (a local or an upvalue),
-- else `globals`.
local function frame_globals(dbg, t, fr, globals)
  local found, env = read(dbg, t, fr, "_ENV")
  if found and type(env) == "table" then return env end
  return globals
end

-- An environment for code typed at the prompt: names resolve to the
-- locals, then the upvalues of the frame that current() returns (t, fr,
-- or nil for none), then its globals, and `des` to the des module when
-- the model has no such name. Assignments go to the same places.
function frames.env(dbg, current, globals)
  return setmetatable({}, {
    __index = function(_, k)
      local t, fr = current()
      local g = globals
      if t then
        local found, v = read(dbg, t, fr, k)
        if found then return v end
        g = frame_globals(dbg, t, fr, globals)
      end
      local v = g[k]
      if v == nil and k == "des" then return des end
      return v
    end,
    __newindex = function(_, k, v)
      local t, fr = current()
      if t then
        if write(dbg, t, fr, k, v) then return end
        frame_globals(dbg, t, fr, globals)[k] = v
        return
      end
      globals[k] = v
    end,
  })
end

-- The source lines of frame fr, or nil and why not.
function frames.source(dbg, fr)
  local src, text = fr.source, fr.source
  if string.sub(src, 1, 1) == "@" then
    local err
    text, err = dbg.source_text(string.sub(src, 2))
    if not text then return nil, err end
  elseif string.sub(src, 1, 1) == "=" then
    return nil, "the source of " .. string.sub(src, 2) .. " is not kept"
  end
  local lines = {}
  for line in string.gmatch(text .. "\n", "([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

return frames
