-- A model that misbehaves on request (parameter `mode`): "ok" returns its
-- results, "fail" raises an error, "mem" grows until --mem-limit, "crash"
-- kills its worker process (deshost_test_crash exists only when the
-- environment sets DESHOST_TEST_CRASH).
local des = require "des"
local mode = des.param("mode", "ok")
local r = des.rng():uniform(0, 1)
des.sleep(1)
if mode == "fail" then
  error("failed on purpose at draw " .. r)
elseif mode == "mem" then
  local t = {} -- luacheck: ignore t
  for i = 1, 1e9 do t[i] = { i } end
elseif mode == "crash" then
  deshost_test_crash() -- luacheck: ignore
end
return { draw = r, mode = mode }
