-- spec/hash_seed_spec.lua -- the vendored Lua hashes strings with a fixed
-- seed (vendor/lua/patches/0004), so `pairs` over string keys and
-- table.sort give the same order on every run of deshost (issue 22,
-- item 1). Needs the vendored Lua (the default build).
local h = require "helpers"
local DESHOST = h.deshost()

if os.getenv("DES_SYSTEM_LUA") == "1" then -- built with DESHOST_SYSTEM_LUA
  it("needs the vendored Lua", function() pending("built against the system's Lua") end)
  return
end

local path

setup(function()
  path = h.tmpfile([[
local des = require "des"
local machines = {}
for i = 1, 300 do machines["machine" .. i] = {rate = i} end
local order = {}
for name in pairs(machines) do order[#order + 1] = name end
print(table.concat(order, " "))
-- tasks spawned in pairs order, drawing from one shared stream
local rng, log = des.rng(), {}
for name in pairs(machines) do
  des.spawn{name = name, function()
    des.sleep(rng:exponential(1))
    log[#log + 1] = name
  end}
end
des.sleep(1000) -- every task has ended by then
print(table.concat(log, " "))
-- sort with many equal keys: the order of equals is the sort's own
local items = {}
for i = 1, 5000 do items[i] = {key = i % 3, id = i} end
table.sort(items, function(a, b) return a.key < b.key end)
local ids = {}
for i = 1, #items, 50 do ids[#ids + 1] = items[i].id end
print(table.concat(ids, " "))
]])
end)

teardown(function()
  if path then os.remove(path) end
end)

describe("the vendored Lua's fixed hash seed", function()
  it("gives one output in 10 runs of a model that iterates string keys with pairs", function()
    local outputs = {}
    for run = 1, 10 do
      local out, status = h.capture(h.q(DESHOST) .. " --sandbox --seed 7 " .. h.q(path))
      assert(status == 0)
      assert.truthy(#out > 1000)
      outputs[run] = out
    end
    for run = 2, 10 do
      assert.equal(outputs[1], outputs[run])
    end
  end)
end)
