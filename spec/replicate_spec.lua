-- replicate_spec.lua -- des.replicate's seeds (issue 15 item 14): each
-- replication's seed is mixed from (seed, i) by the experiments' rule
-- (des.seed_mix), so nearby seeds share no run; the seed defaults to the
-- current simulation's, which follows --seed; replication i equals run i
-- of `deshost --replications`.
local des = require "des"
local h = require "helpers"

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

local function model()
  local r = des.rng("x")
  des.sleep(r:exponential(1))
  return { x = r:uniform(0, 1), t = des.now() }
end

-- The model above as text, for the command line.
local MODEL = [[
local des = require "des"
local function model()
  local r = des.rng("x")
  des.sleep(r:exponential(1))
  return { x = r:uniform(0, 1), t = des.now() }
end
]]

-- Every value of the runs' results and their seeds, as a set.
local function values(r)
  local set = {}
  for i, run in ipairs(r.runs) do
    set[run.x], set[run.t], set[r.seeds[i]] = true, true, true
  end
  return set
end

describe("des.replicate's seeds", function()
  it("share nothing between nearby seeds", function()
    for _, pair in ipairs{ { 1, 2 }, { 0, 1 }, { -1, 0 }, { 7, 8 } } do
      local a = des.replicate(20, model, { seed = pair[1] })
      local b = values(des.replicate(20, model, { seed = pair[2] }))
      for i, run in ipairs(a.runs) do
        assert.is_nil(b[run.x], "seeds " .. pair[1] .. ", " .. pair[2] .. " share run " .. i)
        assert.is_nil(b[a.seeds[i]])
      end
    end
  end)

  it("are des.seed_mix(seed, i - 1), the same for the same seed", function()
    local a = des.replicate(5, model, { seed = 42 })
    local b = des.replicate(5, model, { seed = 42 })
    assert.are.same(a.runs, b.runs)
    for i = 1, 5 do
      assert.are.equal(des.seed_mix(42, i - 1), a.seeds[i])
      -- the run is the model in a fresh simulation of that seed
      local sim <close> = des.new{ seed = a.seeds[i] }
      local t = sim:spawn(model)
      sim:run()
      assert.are.same(a.runs[i], t:join())
    end
    -- the rule's own values (pinned in C by test_seedmix too)
    assert.are.equal(5431838523607871871, des.seed_mix(5, 0))
    assert.are.equal(4128888236382796882, des.seed_mix(5, 1))
    assert.are_not.equal(des.seed_mix(5, 0), des.seed_mix(5, 0, "k=2\n"))
  end)

  it("default to the current simulation's seed", function()
    local a = des.replicate(3, model)
    assert.are.equal(des.current().seed, a.seed)
    local sim = des.new{ seed = 77 }
    local t = sim:spawn(function() return des.replicate(3, model) end)
    sim:run()
    local r = t:join()
    assert.are.equal(77, r.seed)
    assert.are.same(des.replicate(3, model, { seed = 77 }).runs, r.runs)
  end)

  it("follow --seed and equal the runs of --replications", function()
    local path = cli:model(MODEL .. [[
local r = des.replicate(3, model)
for i = 1, 3 do print(r.seeds[i], string.format("%.17g", r.runs[i].x)) end
]], "rep.lua")
    local code, out5 = cli:run("--seed", "5", path)
    assert.are.equal(0, code)
    local _, out6 = cli:run("--seed", "6", path)
    local seeds = {}
    for s, x in out5:gmatch("(%d+)\t(%S+)") do
      seeds[#seeds + 1] = s
      assert.is_nil(out6:find(x, 1, true)) -- --seed 6 shares nothing with 5
      local sim <close> = des.new{ seed = math.tointeger(tonumber(s)) }
      local t = sim:spawn(model)
      sim:run()
      assert.are.equal(x, string.format("%.17g", t:join().x))
    end
    assert.are.same({ tostring(des.seed_mix(5, 0)), tostring(des.seed_mix(5, 1)),
                      tostring(des.seed_mix(5, 2)) }, seeds)
    -- the experiment runs the same model as its main chunk: the same runs
    local single = cli:model(MODEL .. "return model()\n", "single.lua")
    code = cli:run("--replications", "3", "--jobs", "1", "--seed", "5", "--results",
                   "out.csv", single)
    assert.are.equal(0, code)
    local csv = cli.slurp(cli.dir .. "/out.csv")
    for i = 1, 3 do
      h.contains(csv, "\n" .. (i - 1) .. "," .. seeds[i] .. ",ok,")
    end
    local i = 0
    for x in out5:gmatch("\t(%S+)") do
      i = i + 1
      local row = csv:match("\n" .. (i - 1) .. ",%d+,ok,,[^,]*,([^\n]*)")
      assert.are.equal(tonumber(x), tonumber(row))
    end
    assert.are.equal(3, i)
    -- with a parameter, the point's encoding enters the seed the same way
    local param = cli:model([[
local des = require "des"
local k = des.param("k", 1)
return { k = k }
]], "param.lua")
    code = cli:run("--replications", "2", "--jobs", "1", "--seed", "5", "--param", "k=2",
                   "--results", "p.csv", param)
    assert.are.equal(0, code)
    h.contains(cli.slurp(cli.dir .. "/p.csv"), "," .. des.seed_mix(5, 1, "k=2\n") .. ",ok,")
  end)

  it("refuses bad seeds and options", function()
    h.contains(h.err_of(des.replicate, 2, model, { seed = 1.5 }), "seed must be an integer")
    h.contains(h.err_of(des.replicate, 2, model, 5), "options must be a table")
    h.contains(h.err_of(des.seed_mix, "1", 0), "seed must be an integer")
    h.contains(h.err_of(des.seed_mix, 1), "replication must be an integer")
    h.contains(h.err_of(des.seed_mix, 1, -1), "replication must be >= 0")
    h.contains(h.err_of(des.seed_mix, 1, 0, 5), "point must be a string")
    h.contains(h.err_of(des.replicate, 3, function(i)
      if i == 2 then error("boom") end
      return {}
    end, { seed = 5 }), "replication 2 (seed " .. des.seed_mix(5, 1) .. ") failed", "boom")
  end)
end)
