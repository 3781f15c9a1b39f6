-- spec/check_experiment_spec.lua -- --check-determinism as an experiment
-- option (issue 22 item 3): replication 0 of each sweep point is checked
-- before the study, with that run's seed, parameters and limits; a point
-- that does not repeat prints the checker's report and the study does not
-- run (exit 1).
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

-- mode=good keeps machines in an array; mode=bad keys them by tables, so
-- pairs visits them in address order, which differs from run to run
local MODEL = [[
local des = require "des"
local mode = des.param("mode", "good")
local r = des.rng("x")
local machines = {}
for i = 1, 20 do
  if mode == "bad" then machines[{}] = "m" .. i else machines[i] = "m" .. i end
end
local total = 0
for _, name in pairs(machines) do
  des.spawn{name = name, function() des.sleep(r:exponential(1)); total = total + des.now() end}
end
des.sleep(100)
return {total = total}
]]

describe("deshost --replications N --check-determinism", function()
  local m
  setup(function() m = cli:model(MODEL, "machines.lua") end)

  it("checks replication 0 of the experiment, then runs the study", function()
    local code, out, err = cli:run("--replications", "3", "--check-determinism", m)
    assert.equal(0, code, err)
    contains(err, "--check-determinism: point 1 of 1, replication 0, as: deshost "
             .. "--check-determinism --seed=", "deshost: deterministic: 2 runs, 42 events each")
    contains(out, "point 1 of 1: (3 runs, 0 failed)", "total")
    assert.is_nil(out:find("deterministic", 1, true)) -- stdout: the summary only
  end)

  it("checks every sweep point with --runs K, and stops before the study at one that parts",
     function()
    local results = cli.dir .. "/res.csv"
    local code, out, err = cli:run("--replications", "3", "--check-determinism", "--runs=4",
                                   "--sweep", "mode=good,bad", "--results", results, m)
    assert.equal(1, code, err)
    contains(err, "point 1 of 2 (mode=good), replication 0",
             "deterministic: 4 runs, 42 events each",
             "point 2 of 2 (mode=bad), replication 0, as: deshost --check-determinism --seed=",
             "--param=mode=bad -- ", "not deterministic: run ", "machines.lua:10",
             "the study does not run: its model does not repeat")
    assert.equal("", out) -- no summary: not one run of the study ran
    assert.is_nil(io.open(results), "the results file was written")
  end)

  it("checks the run the study makes: its seed, and the command reruns the check alone", function()
    local results = cli.dir .. "/good.csv"
    local code, _, err = cli:run("--replications", "2", "--check-determinism", "--seed", "9",
                                 "--sweep", "mode=good", "--results", results, m)
    assert.equal(0, code, err)
    local seed = err:match("%-%-seed=(%d+)")
    local row = cli.slurp(results):match("\n([^\n]*)") -- replication 0's row
    contains(row, "good,0," .. seed .. ",ok")
    -- the command printed checks that run alone, with the same verdict
    local cmd = err:match("as: deshost ([^\n]*)")
    local words = {}
    for w in cmd:gmatch("%S+") do words[#words + 1] = w end
    local code2, out2 = cli:run(table.unpack(words))
    assert.equal(0, code2, out2)
    contains(out2, "deterministic: 2 runs, 42 events each")
  end)

  it("passes the workers' limits to the checked run", function()
    local forever = cli:model([[
local des = require "des"
local n = 0
while true do des.sleep(1); n = n + 1 end
]], "forever.lua")
    local code, _, err = cli:run("--replications", "2", "--check-determinism", "--sandbox",
                                 "--until", "10", "--max-steps", "100000000", forever)
    assert.equal(1, code, err) -- the study's runs fail: the main chunk never returns
    contains(err, " --sandbox --max-steps=100000000 --until=10 -- ",
             "deterministic: 2 runs, 10 events each", "did not return by --until")
  end)

  it("refuses --params with it, and --runs without it", function()
    assert.equal(2, (cli:run("--params", "--check-determinism", m)))
    assert.equal(2, (cli:run("--replications", "2", "--runs", "3", m)))
  end)
end)

describe("deshost --check-determinism --runs=N", function()
  it("takes the --runs=N form (the children never see it)", function()
    local m = cli:model("local des = require 'des'\ndes.sleep(1)\nprint('ok')\n", "one.lua")
    local code, out = cli:run("--check-determinism", "--runs=3", m)
    assert.equal(0, code, out)
    contains(out, "deterministic: 3 runs, 2 events each")
  end)
end)
