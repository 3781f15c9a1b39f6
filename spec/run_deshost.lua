-- spec/run_deshost.lua -- run a model text under the CLI with the
-- sandbox's limits, for the specs that check a clean error and exit:
--   local run = require "run_deshost"
--   local code, out, err = run(model_text [, max_steps])
-- The binary comes from $DESHOST (ctest sets it); run.available says
-- whether it is set.
local DESHOST = os.getenv("DESHOST")

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

local M = { available = DESHOST ~= nil and DESHOST ~= "" }

setmetatable(M, { __call = function(_, text, max_steps)
  assert(M.available, "set DESHOST to the deshost binary (ctest sets it)")
  local model, out, err = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(model, "wb"))
  f:write(text)
  f:close()
  local cmd = ("%s --sandbox --mem-limit 64M --max-steps %d %s >%s 2>%s"):format(
    q(DESHOST), max_steps or 100000000, q(model), q(out), q(err))
  local ok, how, code = os.execute(cmd)
  os.remove(model)
  assert(how == "exit", ("deshost ended by %s %s"):format(tostring(how), tostring(code)))
  assert((ok == true) == (code == 0))
  local o, e = slurp(out), slurp(err)
  for _, bad in ipairs{ "AddressSanitizer", "runtime error:", "PANIC", "Segmentation" } do
    assert(not e:find(bad, 1, true), "deshost reported: " .. e)
  end
  return code, o, e
end })

return M
