-- spec/run_deshost.lua -- run a model text under the CLI with the
-- sandbox's limits, for the specs that check a clean error and exit:
--   local run = require "run_deshost"
--   local code, out, err = run(model_text [, max_steps])
-- The binary comes from $DESHOST (ctest sets it); run.available says
-- whether it is set.
local h = require "helpers"

-- The whole file at path, which is then removed.
local function slurp_rm(path)
  local s = h.slurp(path)
  os.remove(path)
  return s
end

local M = { available = h.deshost_or_nil() ~= nil }

setmetatable(M, { __call = function(_, text, max_steps)
  assert(M.available, "set DESHOST to the deshost binary (ctest sets it)")
  local model, out, err = h.tmpfile(text), os.tmpname(), os.tmpname()
  local cmd = ("%s --sandbox --mem-limit 64M --max-steps %d %s >%s 2>%s"):format(
    h.q(h.deshost()), max_steps or 100000000, h.q(model), h.q(out), h.q(err))
  local ok, how, code = os.execute(cmd)
  os.remove(model)
  assert(how == "exit", ("deshost ended by %s %s"):format(tostring(how), tostring(code)))
  assert((ok == true) == (code == 0))
  local o, e = slurp_rm(out), slurp_rm(err)
  for _, bad in ipairs{ "Sanitizer", "runtime error", "PANIC", "Segmentation" } do
    assert(not e:find(bad, 1, true), "deshost reported: " .. e)
  end
  return code, o, e
end })

return M
