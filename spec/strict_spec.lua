-- spec/strict_spec.lua -- deshost --strict (issue 22 item 4): the calls
-- whose results cannot repeat from run to run raise an error naming the
-- call and why, wherever the model makes them inside a run or at load;
-- the determinism checker's report lists those a model made.
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

local function model(body, name)
  return cli:model("local des = require 'des'\n" .. body .. "\n", name or "strict.lua")
end

describe("deshost --strict", function()
  local refused = {
    { "os.clock()", "os.clock() reads the processor clock" },
    { "os.time()", "os.time() reads the wall clock" },
    { "os.date('%H:%M')", "os.date() without a time reads the wall clock" },
    { "os.date()", "os.date() without a time reads the wall clock" },
    { "collectgarbage('count')", "collectgarbage(\"count\") reads the memory in use" },
    { "tostring({})", "tostring of a table shows its address" },
    { "tostring(des.sleep)", "tostring of a function shows its address" },
    { "tostring(coroutine.create(print))", "tostring of a thread shows its address" },
    { "tostring(io.stderr)", "tostring of a file handle shows its address" },
    { "print('x', {})", "print of a table shows its address" },
    { "string.format('%d %s', 1, {})", "string.format of a table shows its address" },
    { "('%-20s'):format(print)", "string.format of a function shows its address" },
    { "string.format('%p', 'x')", "string.format of '%p' shows its address" },
    { "tostring(setmetatable({}, {__name = 'thing'}))", -- "thing: 0x..."
      "tostring of a table shows its address" },
  }
  for _, case in ipairs(refused) do
    it("refuses " .. case[1] .. ", naming the call, why, the task, the time and the line",
       function()
      local m = model("des.sleep(2)\nlocal x = " .. case[1] .. "\nprint('not reached')")
      local code, out, err = cli:run("--strict", m)
      assert.equal(1, code, err)
      assert.equal("", out)
      contains(err, "task 'main' (#1) failed at t=2.0: ", "strict.lua:3: " .. case[2],
               "a run that uses it cannot be reproduced (--strict")
      -- without --strict the same model runs
      code = cli:run(m)
      assert.equal(0, code)
    end)
  end

  it("allows the same calls when what they show repeats", function()
    local m = model([[
assert(os.time{year = 2020, month = 1, day = 1, hour = 12} > 0)
assert(os.date("!%Y", 0) == "1970")
collectgarbage("step"); collectgarbage(); collectgarbage("collect")
print(tostring(1), tostring("s"), tostring(nil), tostring(true), 2.5)
print(setmetatable({}, {__tostring = function() return "a machine" end}))
print(string.format("%d %s %%p %5.1f %q", 1, "a", 2, "q"))
print(("%s"):format(setmetatable({}, {__tostring = function() return "named" end})))
print(des.event("e"), des.self())
-- the wrappers' argument errors name the function as the model called it
assert(select(2, pcall(tostring)):find("to 'tostring'", 1, true))
assert(select(2, pcall(string.format, "%d", "x")):find("to 'string.format'", 1, true))
assert(select(2, pcall(os.date, 5, "x")):find("to 'os.date'", 1, true))
]])
    local code, out, err = cli:run("--strict", m)
    assert.equal(0, code, err)
    contains(out, "1\ts\tnil\ttrue\t2.5\n", "a machine\n", "1 a %p   2.0 \"q\"\n", "named\n")
  end)

  it("applies in tasks, scheduled calls, end hooks, nested runs and -e chunks", function()
    for _, body in ipairs{
      "des.spawn{name = 'w', function() des.sleep(3); os.clock() end}",
      "des.schedule(3, function() os.clock() end)",
      "des.at_end(function() os.clock() end)",
      "local s = des.new{}; s:spawn(function() des.sleep(3); os.clock() end); s:run()",
      "local s = des.new{}; s:schedule(3, function() os.clock() end); s:run()",
      "package.loaded.os.clock()",
      "require('os').clock()",
    } do
      local code, _, err = cli:run("--strict", model(body))
      assert.equal(1, code, body .. ": " .. err)
      contains(err, "os.clock() reads the processor clock")
    end
    local code, _, err = cli:run("--strict", "-e", "x = os.clock()", model(""))
    assert.equal(1, code, err)
    contains(err, "os.clock() reads the processor clock")
  end)

  it("holds in the sandbox, whose models have no os", function()
    local code, _, err = cli:run("--strict", "--sandbox", model("print({})"))
    assert.equal(1, code, err)
    contains(err, "print of a table shows its address")
    code, _, err = cli:run("--strict", "--sandbox", model("return collectgarbage('count')"))
    assert.equal(1, code, err)
    contains(err, "collectgarbage(\"count\") reads the memory in use")
  end)

  it("leaves a model no way back to the originals", function()
    local m = model([[
assert(debug.getupvalue(os.clock, 1) == nil)
assert(debug.getupvalue(tostring, 1) == nil)
local ok, err = pcall(os.clock)
assert(not ok and err:find("--strict", 1, true))
os.clock = function() return 0 end -- the model's own function: its business
print(os.clock())
]])
    local code, out, err = cli:run("--strict", m)
    assert.equal(0, code, err)
    assert.equal("0\n", out)
  end)

  it("fails the runs of an experiment that make such calls", function()
    local m = model("des.sleep(1)\nreturn { t = os.clock() }", "exp.lua")
    local code, _, err = cli:run("--replications", "2", "--strict", m)
    assert.equal(1, code, err)
    contains(err, "os.clock() reads the processor clock", "2 of 2 runs failed")
    code = cli:run("--replications", "2", m)
    assert.equal(0, code)
  end)

  it("at the REPL: the model's run is strict, the prompt's display is not", function()
    local m = model("des.sleep(1)\nlocal t = os.clock()", "repl.lua")
    local lines = cli:model("return {}\nrun\nprint(os.clock() >= 0)\nquit\n", "lines")
    local code, out, err = cli:run_in(lines, "--strict", "-i", m)
    assert.equal(0, code, err)
    contains(out, "table: 0x", "repl.lua:3: os.clock() reads the processor clock", "true\n")
  end)

  it("runs every example model as without it (the library shows no address)", function()
    for _, path in ipairs(h.example_models()) do
      local code, out, err = cli:run("--strict", path)
      local code2, out2 = cli:run(path)
      assert(code == code2 and out == out2, path .. ": " .. err)
      assert.is_nil(err:find("--strict", 1, true), path .. ": " .. err)
    end
  end)

  it("is in --help", function()
    local _, out = cli:run("--help")
    contains(out, "--strict", "os.clock")
  end)
end)

describe("the determinism checker names the calls that cannot repeat", function()
  it("in each run's report at the first divergent event", function()
    local m = model([[
local x = os.clock()
local s = tostring({})
for i = 1, 3 do des.spawn{name = "t" .. i, function() des.sleep((x * 1e6 + i) % 7 + 1) end} end
]], "clock.lua")
    local code, out = cli:run("--check-determinism", "--runs", "8", m)
    assert.equal(1, code, out)
    contains(out, "-- calls that cannot repeat, made before this event:\n  os.clock(): 1 time\n"
             .. "  tostring of an object (its address): 1 time\n", "deshost --strict")
  end)

  it("when only the output differs, and as a note when the runs agreed", function()
    local m = model("des.sleep(1)\nprint({})", "print.lua")
    local code, out = cli:run("--check-determinism", m)
    assert.equal(1, code, out)
    contains(out, "the model's output differs from line 1",
             "run 1 made calls that cannot repeat:\n  print of an object (its address): 1 time\n",
             "run 2 made calls that cannot repeat:\n")
    m = model("des.sleep(1)\nlocal t = os.time()\nlocal c = collectgarbage('count')", "agree.lua")
    code, out = cli:run("--check-determinism", m)
    assert.equal(0, code, out)
    contains(out, "deshost: deterministic: 2 runs",
             "run 1 made calls that cannot repeat:\n  os.time(): 1 time\n"
             .. "  collectgarbage(\"count\"): 1 time\n", "--strict finds each")
  end)

  it("counts pairs and next visiting object keys (address order), which --strict allows",
     function()
    local m = model([[
local r = des.rng("x")
local machines = {}
for i = 1, 20 do machines[{}] = "m" .. i end
for _, name in pairs(machines) do
  des.spawn{name = name, function() des.sleep(r:exponential(1)) end}
end
local _ = next(machines) -- one more step
]], "objkeys.lua")
    local code, out = cli:run("--check-determinism", "--runs", "6", m)
    assert.equal(1, code, out)
    contains(out, "pairs/next visiting a key that is an object (address order): 21 times")
    -- string and number keys are not counted; a __pairs is the model's own
    m = model([[
local t = {a = 1, b = 2, 3, 4, [2.5] = 5}
for _ in pairs(t) do end
for _ in next, t do end
local p = setmetatable({}, {__pairs = function() return function() end end})
for _ in pairs(p) do end
print(tostring(select(1, pairs(t)) == next))
]], "strkeys.lua")
    code, out = cli:run("--check-determinism", m)
    assert.equal(0, code, out)
    assert.is_nil(out:find("cannot repeat", 1, true), out)
    code, out = cli:run("--strict", m) -- allowed under --strict
    assert.equal(0, code, out)
  end)

  it("says nothing of them for a model that makes none", function()
    local code, out = cli:run("--check-determinism", model("des.sleep(1)\nprint(1)", "clean.lua"))
    assert.equal(0, code, out)
    assert.is_nil(out:find("cannot repeat", 1, true), out)
  end)

  it("stops at the first such call with --strict, the same in every run", function()
    local m = model("des.sleep(1)\nprint(os.clock())", "strictcheck.lua")
    local code, out, err = cli:run("--check-determinism", "--strict", m)
    assert.equal(0, code, out .. err) -- every run fails the same way
    contains(err, "os.clock() reads the processor clock")
  end)
end)
