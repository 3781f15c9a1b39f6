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

-- A scratch folder and the deshost binary (the DESHOST environment
-- variable, set by ctest) for specs of the command line:
--   local cli = helpers.cli()          -- in setup(); cli:cleanup() in teardown()
--   local path = cli:model(text [, name])
--   local code, out, err = cli:run(arg1, arg2, ...)   -- stdin from /dev/null
--   local code, out, err = cli:run_in(input_path, arg1, ...)
function helpers.cli()
  local deshost = os.getenv("DESHOST")
  assert(deshost and deshost ~= "", "set DESHOST to the deshost binary to test "
         .. "(ctest sets it; by hand: DESHOST=build/deshost busted spec/...)")
  local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
  local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
  end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. q(dir)))
  local cli = { dir = dir, q = q, slurp = slurp }
  function cli.model(_, text, name)
    local path = dir .. "/" .. (name or "model.lua")
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end
  -- Run deshost with standard input from the file `input` (or /dev/null).
  function cli.run_in(_, input, ...)
    local words = {}
    for i = 1, select("#", ...) do words[#words + 1] = q(select(i, ...)) end
    local out, err = dir .. "/stdout", dir .. "/stderr"
    local cmd = ("cd %s && %s %s <%s >%s 2>%s"):format(q(dir), q(deshost), table.concat(words, " "),
                                                         q(input or "/dev/null"), q(out), q(err))
    local ok, how, code = os.execute(cmd)
    assert(how == "exit", ("deshost ended by %s %s"):format(tostring(how), tostring(code)))
    assert((ok == true) == (code == 0))
    return code, slurp(out), slurp(err)
  end
  function cli.run(self, ...) return self:run_in(nil, ...) end
  function cli.cleanup() os.execute("rm -rf " .. q(dir)) end
  return cli
end

return helpers
