-- resurrection_spec.lua -- objects that a model's finalizer brings back
-- (reachable, when a collection began, only from objects being
-- finalized) stay whole: the runtime finds them by address (vendored Lua
-- patch 0012 keeps them in its weak registry), so a simulation used from
-- such a finalizer is never read as nil (a heap overflow before) and an
-- event failed there still gets its report (it was dropped). Run through
-- the deshost binary: the guarantee needs the vendored Lua.
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

-- Run a model; no sanitizer report may show.
local function run(src)
  local code, out, err = cli:run(cli:model(src))
  for _, bad in ipairs{ "AddressSanitizer", "runtime error:", "LeakSanitizer" } do
    assert(not err:find(bad, 1, true), "sanitizer report: " .. err)
  end
  return code, out, err
end

-- hold(make, fn): the object make() returns is reachable only from a
-- holder made after it (so the holder's finalizer runs first), which
-- calls fn(object) when collected.
local HOLD = [[
local function hold(make, fn)
  setmetatable({ obj = make() }, { __gc = function(self) fn(self.obj) end })
  collectgarbage(); collectgarbage()
end
]]

describe("an object a finalizer brings back", function()
  it("reports a failure made in the finalizer", function()
    local code, _, err = run([[local des = require "des"
]] .. HOLD .. [[
hold(function() return des.event("lost") end, function(ev) ev:fail("failed in a finalizer") end)
des.sleep(1)
print("not reached")
]])
    assert.equal(1, code)
    contains(err, "event 'lost' failed at t=0.0 and nothing handled it: failed in a finalizer",
             "in metamethod '__gc'")
  end)

  it("is a whole simulation to every method, before and after its own finalizer", function()
    local code, out, err = run([[local des = require "des"
]] .. HOLD .. [[
local methods = {
  spawn = function(s) return s:spawn(function() des.sleep(1) end) end,
  schedule = function(s) return s:schedule(1, print) end,
  run = function(s) return s:run(2) end,
  step = function(s) return s:step() end,
  events = function(s) return #s:events() end,
  now = function(s) return s:now() end,
  tostring = function(s) return tostring(s) end,
  close = function(s) return s:close() end,
}
local names = {}
for k in pairs(methods) do names[#names + 1] = k end
table.sort(names)
for _, name in ipairs(names) do
  local kept
  hold(function()
    local sim = des.new{}
    sim:spawn(function() des.sleep(1) end)
    return sim
  end, function(s) kept = s; print(name, "in the finalizer", pcall(methods[name], s)) end)
  print(name, "afterwards", pcall(methods[name], kept))
end
print("done")
]])
    assert.equal(0, code, err)
    contains(out, "done")
    -- after its own finalizer, the simulation is closed: a clear error
    contains(out, "spawn	afterwards	false", "closed simulation")
  end)

  it("keeps events and composites usable: waits, triggers and reports", function()
    local code, out, err = run([[local des = require "des"
]] .. HOLD .. [[
hold(function()
  local e1, e2 = des.event("e1"), des.event("e2")
  return { e1 = e1, e2 = e2, any = des.any{ e1, e2 } }
end, function(o) _G.E1, _G.E2, _G.ANY = o.e1, o.e2, o.any end)
des.spawn(function() print("e1 gave", _G.E1:wait()) end)
des.spawn(function() print("any", pcall(_G.ANY.wait, _G.ANY)) end)
des.sleep(1)
_G.E1:succeed(5)
des.sleep(1)
_G.E2:fail("e2 failed late")
des.sleep(1)
print("not reached")
]])
    assert.equal(1, code)
    -- the composite's own finalizer ran: it fails clearly; the events
    -- work as any other, and the failure nobody handled is reported
    contains(out, "any	false	any: the event was collected (its finalizer ran)", "e1 gave	5")
    assert.falsy(out:find("not reached", 1, true))
    contains(err, "event 'e2' failed at t=2.0 and nothing handled it: e2 failed late")
  end)
end)
