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

return helpers
