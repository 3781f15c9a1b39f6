-- spec/check_determinism_spec.lua -- deshost --check-determinism: the same
-- model run in several processes that differ in address layout and
-- environment; a model that depends on either is caught at its first
-- divergent event, with where each run's tasks were.
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

describe("des.sorted", function()
  local des = require "des"
  it("visits numbers, then strings, then booleans, each in order", function()
    local t = { b = 1, a = 2, [3] = "x", [1] = "y", [true] = 0, [false] = 1, [2.5] = "z" }
    local seen = {}
    for k, v in des.sorted(t) do seen[#seen + 1] = tostring(k) .. "=" .. tostring(v) end
    assert.same({ "1=y", "2.5=z", "3=x", "a=2", "b=1", "false=1", "true=0" }, seen)
  end)
  it("refuses keys whose order cannot repeat, naming them", function()
    local ok, err = pcall(des.sorted, { [{}] = 1 })
    assert.is_false(ok)
    contains(err, "des.sorted: a key is a table", "keep them in an array")
    assert.is_nil(err:find("0x", 1, true))
    err = select(2, pcall(des.sorted, 3))
    contains(err, "expected a table (got number)")
  end)
end)

describe("math.random under deshost", function()
  local m
  setup(function()
    m = cli:model([[
math.randomseed() -- plain Lua would seed from the clock here
local a = math.random(1000000)
math.randomseed(7)
print(a, math.random(1000000))
]], "mathrandom.lua")
  end)

  it("follows --seed: the same numbers for the same seed, others for another", function()
    local _, a = cli:run("--seed", "3", m)
    local _, b = cli:run("--seed", "3", m)
    local _, c = cli:run("--seed", "4", m)
    assert.equal(a, b)
    assert.are_not.equal(a:match("^%d+"), c:match("^%d+"))
    assert.equal(a:match("\t(%d+)"), c:match("\t(%d+)")) -- an explicit seed is the model's
  end)

  it("does the same in the sandbox", function()
    local _, a = cli:run("--sandbox", "--seed", "3", m)
    local _, b = cli:run("--seed", "3", m)
    assert.equal(a, b)
  end)
end)

describe("deshost --check-determinism", function()
  it("passes a model that repeats, and counts its events", function()
    local m = cli:model([[
local des = require "des"
local r = des.rng("arrivals")
for i = 1, 5 do
  des.spawn{name = "w" .. i, function() des.sleep(r:exponential(1)) print(i, des.now()) end}
end
]])
    local code, out = cli:run("--check-determinism", "--runs", "3", "--seed", "4", m)
    assert.equal(0, code)
    contains(out, "deterministic: 3 runs, ", " events each")
  end)

  it("passes every example model", function()
    for _, path in ipairs(h.example_models()) do
      local code, out = cli:run("--check-determinism", path)
      assert(code == 0, path .. ": " .. out)
    end
  end)

  it("finds pairs over table keys, with where the tasks were spawned", function()
    local m = cli:model([[
local des = require "des"
local r = des.rng("x")
local machines = {}
for i = 1, 30 do machines[{}] = "m" .. i end
local function machine(name) des.sleep(r:exponential(1)) end
for _, name in pairs(machines) do des.spawn{name = name, machine, name} end
]], "objkeys.lua")
    local code, out = cli:run("--check-determinism", "--runs", "6", m)
    assert.equal(1, code)
    contains(out, "not deterministic: run ", " parts from run 1 at event ",
             "spawn task 'm", "spawned at ", "objkeys.lua:6", "run 1 (run again")
  end)

  it("finds os.clock steering a sleep, with the task's traceback", function()
    local m = cli:model([[
local des = require "des"
local n = 0
for _ = 1, 100000 do n = n + 1 end
local t = os.clock()
des.spawn{name = "a", function()
  des.sleep((t * 1e6) % 1000 + 1)
end}
]], "clock.lua")
    local code, out = cli:run("--check-determinism", "--runs", "6", m)
    assert.equal(1, code)
    contains(out, "timer task 'a' (#2)", "stack traceback:", "clock.lua:6")
  end)

  it("finds a decision keyed on tostring of a table", function()
    local m = cli:model([[
local des = require "des"
local addr = tonumber(tostring({}):match("0x(%x+)"), 16)
for i = 1, 3 do
  des.spawn{name = "t" .. i, function() des.sleep((addr // 16 + i) % 97) end}
end
]], "tostr.lua")
    local code, out = cli:run("--check-determinism", "--runs", "6", m)
    assert.equal(1, code)
    contains(out, "not deterministic", "timer task 't", "tostr.lua:4")
  end)

  it("finds output that differs although the events agree", function()
    local m = cli:model([[
local des = require "des"
des.sleep(1)
print(tostring({}))
]], "print.lua")
    local code, out = cli:run("--check-determinism", "--runs", "4", m)
    assert.equal(1, code)
    contains(out, "the same events, but the model's output differs from line 1")
  end)

  it("refuses --runs without the checker and -i with it", function()
    local m = cli:model("local des = require 'des'\n")
    assert.equal(2, (cli:run("--runs", "3", m)))
    assert.equal(2, (cli:run("--check-determinism", "--runs", "1", m)))
    assert.equal(2, (cli:run("--check-determinism", "-i", m)))
  end)
end)
