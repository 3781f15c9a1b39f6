-- repl.lua -- the commands of `deshost -i`: step, inspect and break a
-- paused simulation, and evaluate Lua between events. Part of the CLI, not
-- of the des library: compiled into the deshost binary only (models cannot
-- require it); repl.c runs this chunk with the des module as its argument.
--
-- The C side (host/src/cli/repl.c) only reads lines (with line editing when the
-- input is a terminal) and catches Ctrl-C; everything else is here, so the
-- same session can be driven by a script through a pipe. A session is
--   local s = repl.new(sim, { write = io.write, interrupted = fn })
--   local prompt = s:feed(line)   -- nil once the user quits
local _, des, frames, show, std = ...
-- What the session uses of the standard library: repl_std.lua's copies,
-- taken before the model ran (a model may change its globals and the
-- string table it shares; the session should not follow).
local G = std.globals
local load, pcall, xpcall, setmetatable = std.load, std.pcall, std.xpcall, std.setmetatable
local tostring, tonumber, type, ipairs, next = std.tostring, std.tonumber, std.type, std.ipairs,
                                               std.next
local string, table, math = std.string, std.table, std.math

local repl = {}
local Session = {}
Session.__index = Session

local PROMPT, MORE = "(des) ", "...> "

-- The text of an error value: its __tostring, protected (it may raise,
-- yield or return a non-string), else what kind of value it is.
local error_text
do -- (pcall, tostring, type: the locals above, not the model's)
  function error_text(v)
    local ok, s = pcall(tostring, v)
    if ok and type(s) == "string" then return s end
    return "(error object is a " .. type(v) .. " value; its __tostring failed)"
  end
end

-- One line of help per command, in the order `help` lists them.
local HELP = {
  { "step [n]", "s", "handle the next n events (default 1), printing each" },
  { "next", "n", "handle every event due at the next distinct time" },
  { "until T", "u", "run until time T (events at exactly T are not handled)" },
  { "run", "c", "run to the end, or to the next breakpoint (Ctrl-C stops)" },
  { "time", "t", "print the simulated time" },
  { "tasks", "ts", "list the live tasks: id, name, state, wake time, waiting on" },
  { "events [n]", "ev", "list the next n events in the queue (default 10)" },
  { "finish", "fin", "run until the selected task ends or suspends at a new line" },
  { "bt TASK", nil, "traceback of a task (by id or name) where it is suspended" },
  { "frame [TASK]", "f", "select a task's innermost frame (default: the main task)" },
  { "up / down", nil, "select the calling / called frame of the selected task" },
  { "list [LINE]", "l", "source around where the selected frame is suspended" },
  { "show EXPR", "p", "print a value in detail (a resource or monitor: its report)" },
  { "break at T", "b", "stop before the first event at or after time T" },
  { "break wake NAME", nil, "stop before the task named NAME (or with that id) wakes" },
  { "break if EXPR", nil, "stop when the Lua expression EXPR turns true" },
  { "breaks", nil, "list the breakpoints" },
  { "delete N", "d", "delete breakpoint N (all of them without N)" },
  { "trace on|off", nil, "print every handled event while running" },
  { "help", "h", "this list" },
  { "quit", "q", "leave (end of input does the same)" },
}

-- A new session over `sim`; opts.write prints text, opts.interrupted()
-- says whether Ctrl-C was pressed since the last call.
function repl.new(sim, opts)
  opts = opts or {}
  local self = setmetatable({
    sim = sim,
    dbg = opts.frames and opts or nil, -- repl.c's debugger functions
    sel_task = nil, -- the task selected with `frame` (nil: the main task)
    sel_index = 0, -- the selected frame: 0 the innermost, up from there
    write = opts.write or io.write,
    interrupted = opts.interrupted or function() return false end,
    breaks = {},
    nbreaks = 0,
    tracing = false,
    pending = nil, -- an incomplete Lua chunk awaiting more lines
  }, Session)
  -- what code at the prompt sees: the selected frame's locals, then globals
  self.env = self.dbg and frames.env(self.dbg, function() return self:frame() end, G) or G
  return self
end

-- print-like output through the session's writer.
function Session:say(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = std.text(parts[i]) end
  self.write(table.concat(parts, "\t", 1, parts.n) .. "\n")
end

-- Format a time for listings.
local function fmt_time(t)
  if t == nil then return "-" end
  return string.format("%.14g", t)
end

-- Describe one queued event from sim:events().
local function describe_event(ev)
  if ev.task ~= nil and ev.kind ~= "timeout" then
    return string.format("%s %s", ev.kind, (string.gsub(tostring(ev.task), ": %a+$", "")))
  elseif ev.component ~= nil then
    local who = type(ev.component) == "string" and ("'" .. ev.component .. "'")
                or tostring(ev.component)
    return string.format("component %s kind %d data %d", who, ev.kind, ev.data)
  end
  return ev.kind
end

-- Run fn() with the trace printing to the session when tracing is on (or
-- always when `force`), then restore the trace.
function Session:with_trace(force, fn)
  self.sel_index = 0 -- as in gdb: running selects the innermost frame again
  if force or self.tracing then
    self.sim:trace(function(line) self.write(line .. "\n") end)
  end
  local ok, err = pcall(fn)
  self.sim:trace(false)
  -- Ctrl-C ends the run with an error (so that Lua code that started it
  -- unwinds); the caller says "interrupted" instead
  local stopped = self.interrupted() and type(err) == "string"
                  and string.find(err, "by a stop request to the host", 1, true)
  if not ok and not stopped then self:say("error: " .. error_text(err)) end
  return ok
end

-- Find a live task by id (number) or name.
function Session:find_task(key)
  local id = tonumber(key)
  for _, t in ipairs(self.sim:tasks()) do
    if (id and t.id == id) or t.name == key then return t end
  end
  return nil
end

-- {{==================================================================
-- Frames: what `frame`, `up`, `down`, `list`, `finish` and the locals at
-- the prompt look at
-- ===================================================================

-- The model's main task while it lives: the first task named "main".
function Session:main_task()
  for _, t in ipairs(self.sim:tasks()) do
    if t.name == "main" then return t end
  end
  return nil
end

-- The selected frame: task, frame, the task's model frames, its index
-- (0 innermost); nil when no live task has one (the selection falls back
-- to the main task once the selected task ends).
function Session:frame()
  if not self.dbg then return nil end
  local t = self.sel_task
  if t and not frames.alive(t) then t, self.sel_task, self.sel_index = nil, nil, 0 end
  t = t or self:main_task()
  if not t then return nil end
  local list = frames.list(self.dbg, t)
  if #list == 0 then return nil end
  local i = math.min(self.sel_index, #list - 1)
  return t, list[i + 1], list, i
end

-- Print the selected frame as `frame` does.
function Session:print_frame()
  local t, fr, list, i = self:frame()
  if not t then
    local main = self:main_task()
    return self:say(main and "no frame: the main task has not started yet (step starts it)"
                    or "no frame: the main task has ended (frame TASK selects a live task)")
  end
  self:say(string.format("%s, frame %d of %d: %s", frames.label(t), i, #list, frames.describe(fr)))
end

-- Evaluate a condition in the selected frame's environment: its truth,
-- and the error message if it raised.
function Session.eval_condition(_, bp)
  local ok, v = pcall(bp.fn)
  if not ok then return false, error_text(v) end
  return v and true or false
end

-- }}==================================================================

-- Which breakpoint, if any, stops us before the next event (at `nxt`).
function Session:break_before(nxt)
  local head
  for i = 1, self.nbreaks do
    local bp = self.breaks[i]
    if bp then
      if bp.kind == "at" and not bp.hit and nxt >= bp.time then
        bp.hit = true
        return bp
      elseif bp.kind == "wake" then
        head = head or self.sim:events(1)[1]
        local t = head and head.task
        if t and t.id and (t.name == bp.name or tostring(t.id) == bp.name) then
          return bp
        end
      end
    end
  end
  return nil
end

-- After an event: did a condition breakpoint turn true?
function Session:break_after()
  for i = 1, self.nbreaks do
    local bp = self.breaks[i]
    if bp and bp.kind == "if" then
      local now, err = self:eval_condition(bp)
      local was = bp.last
      bp.last = now
      if err and not bp.raised then -- say it once, and stop there (gdb, pdb)
        bp.raised = true
        return bp, "its condition raised an error (false from now on): " .. err
      end
      if now and not was then return bp end
    end
  end
  return nil
end

-- Say that a breakpoint stopped the run (why: an extra explanation).
function Session:say_break(bp, why)
  self:say(string.format("breakpoint %d (%s) at t=%s%s", bp.id, bp.text,
                         fmt_time(self.sim:now()), why and (": " .. why) or ""))
end

-- Stop before the next event (at nxt) for breakpoint bp: the clock moves
-- to the breakpoint's time (or the event's), no event is handled, so that
-- `time` then says what the breakpoint said.
function Session:stop_before(bp, nxt)
  local sim = self.sim
  local t = bp.kind == "at" and bp.time or nxt
  if t > sim:now() then sim:run(t) end
  local why
  if nxt > sim:now() then why = "the next event is at t=" .. fmt_time(nxt) end
  self:say_break(bp, why)
end

-- The deadlock report, when the queue ran dry while tasks still wait (as
-- the CLI prints it at the end of a batch run).
function Session:report_stuck()
  local shown = 0
  for _, t in ipairs(self.sim:tasks()) do
    if not t.daemon and frames.alive(t) then
      if shown == 0 then
        self:say(string.format("the simulation ran out of events at t=%s while tasks still"
                               .. " wait (a deadlock?):", fmt_time(self.sim:now())))
      end
      shown = shown + 1
      self:say(string.format("  %s: %s on %s since t=%s", frames.label(t), t.status,
                             t.waiting_kind or "?", fmt_time(t.since)))
    end
  end
end

-- Say where a run ended: the clock, whether events are left, and the
-- tasks stuck when none are.
function Session:say_end()
  local sim = self.sim
  if sim:peek() == nil then
    self:say("no more events; t=" .. fmt_time(sim:now()))
    self:report_stuck()
  else
    self:say(string.format("stopped at t=%s with %d events queued", fmt_time(sim:now()),
                           sim:pending()))
  end
end

-- Handle events until `limit` (exclusive; nil for no limit), `count`
-- events (nil for no count), a breakpoint or Ctrl-C.
function Session:advance(limit, count)
  local sim, handled = self.sim, 0
  local skip_wake_break = true -- never stop before the first event itself
  local ok = self:with_trace(false, function()
    while count == nil or handled < count do
      if self.interrupted() then self:say("interrupted at t=" .. fmt_time(sim:now())); return end
      local nxt = sim:peek()
      if nxt == nil then
        if limit then sim:run(limit) end
        self:say_end()
        return
      end
      if limit and nxt >= limit then
        sim:run(limit)
        self:say("t=" .. fmt_time(sim:now()))
        return
      end
      local bp = self:break_before(nxt)
      if bp and not (skip_wake_break and bp.kind == "wake") then
        return self:stop_before(bp, nxt)
      end
      skip_wake_break = false
      sim:step()
      handled = handled + 1
      local why
      bp, why = self:break_after()
      if bp then return self:say_break(bp, why) end
    end
  end)
  if not ok then self:say_end() end
end

-- Commands: each takes the session and the rest of the line.
local commands = {}

commands.step = function(self, arg)
  local n = tonumber(arg ~= "" and arg or "1")
  if not n or n < 1 then return self:say("step: expected a count >= 1") end
  if self.sim:peek() == nil then
    return self:say("no more events; t=" .. fmt_time(self.sim:now()))
  end
  local was = self.tracing
  self.tracing = true -- stepping always shows what it handled
  self:advance(nil, math.floor(n))
  self.tracing = was
end

-- `next` runs every event due at the next time: until the clock moves on.
commands["next"] = function(self)
  local sim = self.sim
  local t = sim:peek()
  if t == nil then return self:say("no more events; t=" .. fmt_time(sim:now())) end
  self:with_trace(true, function()
    while sim:peek() == t and not self.interrupted() do sim:step() end
  end)
  self:say("t=" .. fmt_time(sim:now()))
end

commands["until"] = function(self, arg)
  local t = tonumber(arg)
  if not t then return self:say("until: expected a time") end
  if t < self.sim:now() then return self:say("until: time " .. arg .. " is in the past") end
  self:advance(t, nil)
end

commands.run = function(self)
  if self.nbreaks == 0 or next(self.breaks) == nil then
    self:with_trace(false, function() self.sim:run() end)
    if self.interrupted() then
      self:say("interrupted at t=" .. fmt_time(self.sim:now()))
    else
      self:say_end()
    end
    return
  end
  self:advance(nil, nil)
end

commands.time = function(self)
  self:say("t=" .. fmt_time(self.sim:now()))
end

commands.tasks = function(self)
  local list = self.sim:tasks()
  if #list == 0 then return self:say("no live tasks") end
  self:say(string.format("%5s  %-16s %-9s %-12s %-10s %s", "id", "name", "state",
                         "wakes at", "waits on", "since"))
  for _, t in ipairs(list) do
    self:say(string.format("%5d  %-16s %-9s %-12s %-10s %s", t.id, t.name or "-", t.status,
                           fmt_time(t.wake_at), t.waiting_kind or "-", fmt_time(t.since)))
  end
end

commands.events = function(self, arg)
  local n = tonumber(arg ~= "" and arg or "10")
  if not n or n < 0 then return self:say("events: expected a count") end
  local evs = self.sim:events(math.floor(n))
  if #evs == 0 then return self:say("the event queue is empty") end
  for i, ev in ipairs(evs) do
    self:say(string.format("%4d  t=%-12s %s", i, fmt_time(ev.time), describe_event(ev)))
  end
end

commands.bt = function(self, arg)
  local t = self:find_task(arg)
  if not t then return self:say("bt: no live task '" .. arg .. "' (see: tasks)") end
  self:say(t:traceback(tostring(t)) or (tostring(t) .. " is not suspended"))
end

commands.show = function(self, arg)
  if arg == "" then return self:say("show: expected a name") end
  local f = load("return " .. arg, "=show", "t", self.env)
  if not f then return self:say("show: not an expression: " .. arg) end
  local ok, v = pcall(f)
  if not ok then return self:say("show: " .. error_text(v)) end
  show.value(function(line) self:say(line) end, arg, v)
end

commands.frame = function(self, arg)
  if arg ~= "" then
    local t = self:find_task(arg)
    if not t then return self:say("frame: no live task '" .. arg .. "' (see: tasks)") end
    self.sel_task, self.sel_index = t, 0
  end
  self:print_frame()
end

commands.up = function(self)
  local t, _, list, i = self:frame()
  if t and i + 1 >= #list then return self:say("up: this is the outermost frame") end
  if t then self.sel_index = i + 1 end
  self:print_frame()
end

commands.down = function(self)
  local t, _, _, i = self:frame()
  if t and i == 0 then return self:say("down: this is the innermost frame") end
  if t then self.sel_index = i - 1 end
  self:print_frame()
end

-- `list [LINE]`: eleven lines of source around where the selected frame
-- is suspended (or around LINE of its file), the current one marked.
commands.list = function(self, arg)
  local t, fr = self:frame()
  if not t then return self:print_frame() end
  local lines, err = frames.source(self.dbg, fr)
  if not lines then return self:say("list: " .. err) end
  local center = tonumber(arg) or fr.currentline
  local first = math.max(1, center - 5)
  local last = math.min(#lines, first + 10)
  for i = first, last do
    self:say(string.format("%4d %s %s", i, i == fr.currentline and "->" or "  ", lines[i]))
  end
end

-- `finish`: run until the selected task ends, or until it is suspended
-- at another line of the selected frame (or has left that frame).
commands.finish = function(self)
  local t, fr, list = self:frame()
  if not t then return self:print_frame() end
  local depth, line, sim = #list - self.sel_index, fr.currentline, self.sim
  local function moved()
    if not frames.alive(t) then return true end
    local now = frames.list(self.dbg, t)
    local at = now[#now - depth + 1]
    return #now < depth or at.source ~= fr.source or at.linedefined ~= fr.linedefined
           or at.currentline ~= line
  end
  local ok = self:with_trace(false, function()
    repeat
      if self.interrupted() then return self:say("interrupted at t=" .. fmt_time(sim:now())) end
      if sim:peek() == nil then return end
      sim:step()
    until moved()
  end)
  if not ok then return self:say_end() end
  if sim:peek() == nil and frames.alive(t) and not moved() then return self:say_end() end
  if not frames.alive(t) then
    self:say(string.format("%s ended (%s) at t=%s", frames.label(t), t.status,
                           fmt_time(sim:now())))
  else
    self.sel_task, self.sel_index = t, 0
    self:print_frame()
  end
end

commands["break"] = function(self, arg)
  local kind, rest = string.match(arg, "^(%a+)%s*(.*)$")
  local bp = { id = self.nbreaks + 1, text = arg }
  if kind == "at" and tonumber(rest) then
    bp.kind, bp.time = "at", tonumber(rest)
  elseif kind == "wake" and rest ~= "" then
    bp.kind, bp.name = "wake", rest
  elseif kind == "if" and rest ~= "" then
    local f, err = load("return " .. rest, "=break", "t", self.env)
    if not f then return self:say("break if: " .. err) end
    bp.kind, bp.fn = "if", f
    bp.last, err = self:eval_condition(bp)
    if err then
      bp.raised = true
      self:say("break if: the condition raises an error now (false until it does not): " .. err)
    end
  elseif tonumber(arg) then
    bp.kind, bp.time, bp.text = "at", tonumber(arg), "at " .. arg
  else
    return self:say("break: expected 'at T', 'wake NAME' or 'if EXPR'")
  end
  self.nbreaks = bp.id
  self.breaks[bp.id] = bp
  self:say(string.format("breakpoint %d: %s", bp.id, bp.text))
end

commands.breaks = function(self)
  local any = false
  for i = 1, self.nbreaks do
    local bp = self.breaks[i]
    if bp then
      any = true
      self:say(string.format("%d  %s", i, bp.text))
    end
  end
  if not any then self:say("no breakpoints") end
end

commands.delete = function(self, arg)
  if arg == "" then
    self.breaks = {}
    return self:say("all breakpoints deleted")
  end
  local n = tonumber(arg)
  if not n or not self.breaks[n] then return self:say("delete: no breakpoint " .. arg) end
  self.breaks[n] = nil
  self:say("breakpoint " .. arg .. " deleted")
end

commands.trace = function(self, arg)
  if arg == "on" then self.tracing = true
  elseif arg == "off" then self.tracing = false
  else return self:say("trace: expected on or off") end
  self:say("trace " .. arg)
end

commands.help = function(self)
  for _, h in ipairs(HELP) do
    local name = h[2] and (h[1] .. " (" .. h[2] .. ")") or h[1]
    self:say(string.format("  %-22s %s", name, h[3]))
  end
  self:say("  anything else is Lua, run in the model's global environment between events")
end

local aliases = {
  s = "step", n = "next", u = "until", c = "run", continue = "run", t = "time",
  f = "frame", l = "list", fin = "finish", where = "frame",
  now = "time", ts = "tasks", ev = "events", p = "show", b = "break", d = "delete",
  h = "help", ["?"] = "help",
}

-- The command names and aliases, for completion.
function repl.command_names()
  local names = {}
  for k in next, commands do names[#names + 1] = k end
  for k in next, aliases do names[#names + 1] = k end
  names[#names + 1] = "quit"
  table.sort(names)
  return names
end

-- Completion candidates: the commands, then the global names (sorted).
function repl.completions()
  local list, globals = repl.command_names(), {}
  for k in next, G do
    if type(k) == "string" then globals[#globals + 1] = k end
  end
  table.sort(globals)
  table.move(globals, 1, #globals, #list + 1, list)
  return list
end

-- Drop the frames of the REPL itself from a traceback.
local function chunk_traceback(msg)
  if not std.traceback then return error_text(msg) end -- the sandbox has no debug
  local tb = std.traceback(error_text(msg), 2)
  return (string.gsub(tb, "\n%s*%[C%]: in function 'xpcall'.*$", ""))
end

-- Run a Lua chunk typed at the prompt, printing its results like lua.c.
-- Returns false when the chunk is incomplete (more lines are needed).
function Session:eval(src)
  local f, err = load("return " .. src, "=stdin", "t", self.env)
  if not f then f, err = load(src, "=stdin", "t", self.env) end
  if not f then
    if string.find(err, "<eof>", 1, true) then return false end
    self:say(err)
    return true
  end
  local res = table.pack(xpcall(f, chunk_traceback))
  if not res[1] then
    self:say(tostring(res[2]))
  elseif res.n > 1 then
    self:say(table.unpack(res, 2, res.n))
  end
  return true
end

-- Feed one line of input; returns the next prompt, or nil to quit.
function Session:feed(line)
  if self.pending then
    local src = self.pending .. "\n" .. line
    if self:eval(src) then self.pending = nil; return PROMPT end
    self.pending = src
    return MORE
  end
  local word, rest = string.match(line, "^%s*(%S+)%s*(.-)%s*$")
  if word == nil then return PROMPT end
  if word == "quit" or word == "q" or word == "exit" then return nil end
  local cmd = commands[aliases[word] or word]
  if cmd then
    local ok, err = pcall(cmd, self, rest)
    if not ok then self:say("error: " .. error_text(err)) end
    return PROMPT
  end
  if not self:eval(line) then
    self.pending = line
    return MORE
  end
  return PROMPT
end

-- The banner printed when a session opens.
function Session:banner(model)
  return string.format("%s: %s paused at t=%s with %d events queued; 'help' lists commands",
                       des._VERSION, model or "simulation", fmt_time(self.sim:now()),
                       self.sim:pending())
end

repl.PROMPT = PROMPT
return repl
