-- spec/helpers.lua -- small helpers shared by the specs:
-- local h = require "helpers"
local des = require "des"

local helpers = {}

-- The error of f(...), which must fail.
function helpers.err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error, got success")
  return e
end

-- Assert that string s contains every plain substring given.
function helpers.contains(s, ...)
  assert(type(s) == "string", "expected a string, got " .. type(s) .. ": " .. tostring(s))
  for i = 1, select("#", ...) do
    local sub = select(i, ...)
    if not s:find(sub, 1, true) then
      error(("expected %q to contain %q"):format(s, sub), 2)
    end
  end
end

-- A new simulation running fn as a task to the end; returns sim, task.
function helpers.run_task(fn, ...)
  local sim = des.new{}
  local t = sim:spawn(fn, ...)
  sim:run()
  return sim, t
end

-- An object whose __close appends `name` to log.
function helpers.closer(log, name)
  return setmetatable({}, { __close = function() log[#log + 1] = name end })
end

-- The requests a resource anchors: in its anchor table (user value 1) and
-- in its anchor slots (user values 9.., lres.h: LRES_UV_ANCHOR).
function helpers.anchored(res)
  local list = {}
  for _, req in pairs((debug.getuservalue(res, 1))) do list[#list + 1] = req end
  local i = 9
  while true do
    local v, ok = debug.getuservalue(res, i)
    if not ok then break end
    if v ~= nil then list[#list + 1] = v end
    i = i + 1
  end
  return list
end

-- Quote s as one word for /bin/sh.
function helpers.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The whole content of the file at path.
function helpers.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Write text as the whole content of the file at path.
function helpers.spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Whether a file at path can be opened for reading.
function helpers.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A new temporary file holding text; returns its path (the caller removes it).
function helpers.tmpfile(text)
  local path = os.tmpname()
  helpers.spit(path, text)
  return path
end

-- The deshost binary to test: the DESHOST environment variable (ctest
-- sets it), or nil when it is unset.
function helpers.deshost_or_nil()
  local deshost = os.getenv("DESHOST")
  if deshost == nil or deshost == "" then return nil end
  return deshost
end

-- The deshost binary to test; an error saying how to set it if unset.
function helpers.deshost()
  local deshost = helpers.deshost_or_nil()
  if not deshost then
    error("set DESHOST to the deshost binary to test "
          .. "(ctest sets it; by hand: DESHOST=build/deshost busted spec/...)", 2)
  end
  return deshost
end

-- Run the shell command line cmd; returns its standard output and its
-- exit status (the signal's number if a signal ended it).
function helpers.capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- The paths of the example models, scripts/models/*.lua of the source
-- tree (DES_SOURCE_DIR, set by ctest; else the current directory).
function helpers.example_models()
  local src = os.getenv("DES_SOURCE_DIR") or "."
  local paths = {}
  local ls = helpers.capture("ls " .. helpers.q(src .. "/scripts/models") .. "/*.lua")
  for path in ls:gmatch("[^\n]+") do
    paths[#paths + 1] = path
  end
  assert(#paths > 0, "no example model in " .. src .. "/scripts/models")
  return paths
end

-- Whether the program named name is installed (on PATH).
function helpers.have(name)
  return os.execute("command -v " .. helpers.q(name) .. " >/dev/null 2>&1") == true
end

-- A shell command line run in a new tmux pane of cols x rows (a real
-- terminal); the pane keeps the screen after it ends only as long as
-- cmd does (end it with e.g. "; echo EXITED $?; sleep 9"). Returns
--   P.screen()                 the pane's text now
--   P.wait_for(pattern, plain) the screen once it has pattern, polled
--                              every 0.1 s up to `tries` times (a watchdog
--                              against a hang, not a timing), or nil
--   P.shows(text)              whether the plain text shows, so polled
--   P.keys(k)                  tmux send-keys k (a shell fragment)
--   P.close()                  end the session
function helpers.tmux(cmd, cols, rows, tries)
  local name = "deshost_spec_" .. tostring(os.time()) .. tostring(math.random(1e6))
  local function tmux(args) return os.execute("tmux " .. args .. " >/dev/null 2>&1") end
  assert(tmux(("new-session -d -s %s -x %d -y %d %s"):format(name, cols, rows, helpers.q(cmd))),
         "tmux new-session failed")
  local P = {}
  function P.screen() return (helpers.capture("tmux capture-pane -p -t " .. name)) end
  function P.wait_for(pattern, plain)
    for _ = 1, tries do
      local s = P.screen()
      if s:find(pattern, 1, plain) then return s end
      os.execute("sleep 0.1")
    end
    return nil
  end
  function P.shows(text) return P.wait_for(text, true) ~= nil end
  function P.keys(k) tmux("send-keys -t " .. name .. " " .. k) end
  function P.close() tmux("kill-session -t " .. name) end
  return P
end

-- A scratch folder and the deshost binary (the DESHOST environment
-- variable, set by ctest) for specs of the command line:
--   local cli = helpers.cli()          -- in setup(); cli:cleanup() in teardown()
--   local path = cli:model(text [, name])
--   local code, out, err = cli:run(arg1, arg2, ...)   -- stdin from /dev/null
--   local code, out, err = cli:run_in(input_path, arg1, ...)
--   local code, out, err = cli:sh(shell_command)       -- a raw command line
-- cli.dir is the folder (every command's working directory), cli.deshost
-- the binary, cli.q / cli.slurp the helpers above.
function helpers.cli()
  local deshost = helpers.deshost()
  local q, slurp = helpers.q, helpers.slurp
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. q(dir)))
  local cli = { dir = dir, deshost = deshost, q = q, slurp = slurp }
  -- Write a file named name (default model.lua) in dir; returns its path.
  function cli.model(_, text, name)
    local path = dir .. "/" .. (name or "model.lua")
    helpers.spit(path, text)
    return path
  end
  -- Run the shell command line cmd in dir; returns exit status, stdout, stderr.
  function cli.sh(_, cmd)
    local out, err = dir .. "/stdout", dir .. "/stderr"
    local _, how, code = os.execute(("cd %s && { %s; } >%s 2>%s"):format(q(dir), cmd, q(out),
                                                                            q(err)))
    assert(how == "exit", ("ended by %s %s"):format(tostring(how), tostring(code)))
    return code, slurp(out), slurp(err)
  end
  -- Run deshost with the argument words (quoted here) and standard input
  -- from the file `input` (or /dev/null).
  function cli.run_in(self, input, ...)
    local words = {}
    for i = 1, select("#", ...) do words[#words + 1] = q(select(i, ...)) end
    return self:sh(("%s %s <%s"):format(q(deshost), table.concat(words, " "),
                                        q(input or "/dev/null")))
  end
  function cli.run(self, ...) return self:run_in(nil, ...) end
  function cli.cleanup() os.execute("rm -rf " .. q(dir)) end
  return cli
end

return helpers
