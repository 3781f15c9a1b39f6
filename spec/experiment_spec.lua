-- spec/experiment_spec.lua -- experiments (issue 17): results that do not
-- depend on the number of workers or MPI ranks, --resume after a SIGKILL,
-- failing runs reported while the others complete, usage errors, and
-- des.param / --param / --params for single runs.
local h = require "helpers"
local contains = h.contains

local SRC = os.getenv("DES_SOURCE_DIR") or "."
local MMC = SRC .. "/spec/experiment/mmc.lua"
local MODES = SRC .. "/spec/experiment/modes.lua"

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

-- No sanitizer report may show on stderr, from the coordinator or a worker.
local function clean(code, out, err)
  for _, bad in ipairs{ "AddressSanitizer", "runtime error:", "LeakSanitizer" } do
    assert(not err:find(bad, 1, true), "sanitizer report: " .. err)
  end
  return code, out, err
end

local function run(...) return clean(cli:run(...)) end

-- Run deshost with the environment assignment env (a string, may be "").
local function run_env(env, ...)
  local words = {}
  for i = 1, select("#", ...) do words[#words + 1] = cli.q(select(i, ...)) end
  local out, err = cli.dir .. "/stdout", cli.dir .. "/stderr"
  local cmd = ("cd %s && %s %s %s </dev/null >%s 2>%s"):format(cli.q(cli.dir), env,
    cli.q(cli.deshost), table.concat(words, " "), cli.q(out), cli.q(err))
  local _, how, code = os.execute(cmd)
  if how == "signal" then code = 128 + code end
  return clean(code, cli.slurp(out), cli.slurp(err))
end

local function file(name) return cli.slurp(cli.dir .. "/" .. name) end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local EXP = { "--replications", "4", "--sweep", "servers=1,2,3", "--param", "customers=200",
              "--seed", "11" }
local function exp_args(...)
  local t = {}
  for _, a in ipairs(EXP) do t[#t + 1] = a end
  for i = 1, select("#", ...) do t[#t + 1] = select(i, ...) end
  t[#t + 1] = MMC
  return table.unpack(t)
end

describe("an experiment", function()
  it("gives byte-identical results and summaries for --jobs 1 and 3", function()
    for _, ext in ipairs{ "csv", "jsonl" } do
      local c1, o1 = run(exp_args("--jobs", "1", "--results", "j1." .. ext))
      local c3, o3 = run(exp_args("--jobs", "3", "--results", "j3." .. ext))
      assert.equal(0, c1)
      assert.equal(0, c3)
      assert.equal(file("j1." .. ext), file("j3." .. ext))
      assert.equal(o1, o3)
      assert.equal(ext == "csv" and 13 or 12, #lines(file("j1." .. ext)))
      contains(o1, "point 3 of 3: customers=200 servers=3 (4 runs, 0 failed)", "wait.mean")
    end
    local rows = lines(file("j1.csv"))
    assert.equal("customers,servers,replication,seed,status,message,note,served,wait.mean",
                 rows[1])
    contains(rows[2], "200,1,0,")
    contains(file("j1.jsonl"), '{"customers":200,"servers":1,"replication":0,"seed":')
  end)

  it("gives the same results under mpirun -n 3", function()
    local mpirun = os.getenv("DES_MPIRUN")
    if not mpirun or mpirun == "" then
      pending("deshost is built without MPI")
      return
    end
    run(exp_args("--jobs", "2", "--results", "local.csv"))
    local code = run_env(cli.q(mpirun) .. " --oversubscribe --allow-run-as-root -n 3",
                         exp_args("--results", "mpi.csv"))
    -- run_env puts the command first: mpirun ... deshost args
    assert.equal(0, code)
    assert.equal(file("local.csv"), file("mpi.csv"))
    -- failing, crashing and memory-starved runs on the serving ranks, each
    -- holding two runs at once: the same rows and summary as local workers
    local args = { "--replications", "3", "--mem-limit", "8M", "--sweep",
                   "mode=ok,fail,mem,crash", "--results", "fl.csv", MODES }
    local lcode, lout = run_env("DESHOST_TEST_CRASH=1", "--jobs", "2", table.unpack(args))
    args[8] = "fm.csv"
    local mcode, mout, merr = run_env("DESHOST_TEST_CRASH=1 " .. cli.q(mpirun) ..
      " --oversubscribe --allow-run-as-root -n 3", table.unpack(args))
    assert.equal(1, lcode)
    assert.equal(1, mcode)
    contains(merr, "killed by signal 11", "9 of 12 runs failed")
    assert.equal(lout, mout)
    assert.equal(file("fl.csv"), file("fm.csv"))
  end)

  it("derives a different seed for every run, and a run reruns alone by its seed", function()
    run(exp_args("--jobs", "2", "--results", "s.csv"))
    local seen = {}
    for i, row in ipairs(lines(file("s.csv"))) do
      if i > 1 then
        local seed = row:match("^[^,]*,[^,]*,[^,]*,([^,]*),")
        assert.is_nil(seen[seed])
        seen[seed] = true
      end
    end
    -- the last row: servers=3, replication 3
    local rows = lines(file("s.csv"))
    local last = rows[#rows]
    local seed, served, wait = last:match("^200,3,3,(%d+),ok,,M/M/3,(%d+),(.*)$")
    assert.truthy(seed)
    -- the same model as a single run with that seed and those parameters
    local single = cli:model(([[local r = loadfile(%q)()
print(("%%d %%.17g"):format(r.served, r.wait.mean))]]):format(MMC), "single.lua")
    local code, out = run("--seed", seed, "--param", "servers=3", "--param", "customers=200",
                              single)
    assert.equal(0, code)
    assert.equal(served .. " " .. wait .. "\n", out)
  end)

  it("resumes after a SIGKILL halfway and ends with the uninterrupted file", function()
    local args = { "--replications", "30", "--jobs", "2", "--sweep", "servers=1,2",
                   "--param", "customers=2000" }
    local function with(...)
      local t = { table.unpack(args) }
      for i = 1, select("#", ...) do t[#t + 1] = select(i, ...) end
      t[#t + 1] = MMC
      return table.unpack(t)
    end
    local _, full_out = run(with("--results", "full.csv"))
    -- the coordinator SIGKILLs itself after 17 rows (a test-only hook)
    local code = run_env("DESHOST_TEST_KILL_AFTER=17", with("--results", "part.csv"))
    assert.equal(137, code)
    assert.equal(18, #lines(file("part.csv")))
    local out
    code, out = run(with("--results", "part.csv", "--resume"))
    assert.equal(0, code)
    assert.equal(file("full.csv"), file("part.csv"))
    assert.equal(full_out, out)
    -- resuming a finished file runs nothing and says the same
    code, out = run(with("--results", "part.csv", "--resume"))
    assert.equal(0, code)
    assert.equal(full_out, out)
  end)

  it("drops a row cut short, and refuses a file of another experiment", function()
    run(exp_args("--results", "cut.jsonl"))
    local whole = file("cut.jsonl")
    cli:model(whole:sub(1, #whole // 2), "cut.jsonl") -- ends inside a row
    local code = run(exp_args("--results", "cut.jsonl", "--resume"))
    assert.equal(0, code)
    assert.equal(whole, file("cut.jsonl"))
    local _, err
    code, _, err = run("--replications", "4", "--sweep", "servers=1,2,3", "--param",
                           "customers=200", "--seed", "12", "--results", "cut.jsonl", "--resume",
                           MMC)
    assert.equal(1, code)
    contains(err, "cut.jsonl line 1: seed is", "another experiment")
    assert.equal(whole, file("cut.jsonl"))
    run(exp_args("--results", "j.csv"))
    code, _, err = run("--replications", "4", "--sweep", "lambda=0.5", "--results",
                           "j.csv", "--resume", MMC)
    assert.equal(1, code)
    contains(err, "its column 1 is 'customers'")
  end)

  it("reports each failing run with its seed while the others complete", function()
    local code, out, err = run_env("DESHOST_TEST_CRASH=1", "--replications", "3", "--jobs", "3",
      "--mem-limit", "8M", "--sweep", "mode=ok,fail,mem,crash", "--results", "f.csv", MODES)
    assert.equal(1, code)
    contains(out, "mode=ok (3 runs, 0 failed)", "mode=fail (3 runs, 3 failed)",
             "mode=mem (3 runs, 3 failed)", "mode=crash (3 runs, 3 failed)", "draw")
    contains(err, "failed on purpose", "not enough memory", "killed by signal 11",
             "rerun it: deshost --seed", "--mem-limit 8388608 --param mode=fail",
             "9 of 12 runs failed")
    local rows = lines(file("f.csv"))
    assert.equal(13, #rows)
    assert.equal("mode,replication,seed,status,message,draw,mode", rows[1])
    for i = 2, 4 do contains(rows[i], ",ok,,") end
    for i = 5, 13 do contains(rows[i], ",failed,") end
    -- the crash helper exists only under the environment variable
    local _
    code, _, err = run("--replications", "1", "--sweep", "mode=crash", MODES)
    assert.equal(1, code)
    contains(err, "deshost_test_crash")
    -- a failed run reruns alone with the printed command
    local seed = err:match("rerun it: deshost %-%-seed (%d+)")
    local code1, _, err1 = run("--seed", seed, "--param", "mode=crash", MODES)
    assert.equal(1, code1)
    contains(err1, "deshost_test_crash")
  end)

  it("holds failed rows until the first success fixes the CSV columns", function()
    local m = cli:model([[local des = require 'des'
if des.rng():uniform(0, 1) < 0.5 then error("unlucky") end
return { x = 1, y = { z = "text, with a comma" } }]])
    local code, _, err = run("--replications", "12", "--jobs", "2", "--results", "u.csv", m)
    assert.equal(1, code)
    contains(err, "unlucky")
    local rows = lines(file("u.csv"))
    assert.equal(13, #rows)
    assert.equal("replication,seed,status,message,x,y.z", rows[1])
    for i = 2, 13 do
      local rep = tonumber(rows[i]:match("^(%d+),"))
      assert.equal(i - 2, rep)
    end
    local ok1 = file("u.csv"):match(',ok,,1,"text, with a comma"\n')
    assert.truthy(ok1)
  end)

  it("carries results as a model returns them, and survives hostile ones", function()
    local cases = {
      { "return 42", '"value":42' },
      { "return nil", '"status":"ok","message":""}' },
      { "return { a = { b = { c = 1.5 } }, [3] = true, s = 'q\"\\\\x\\n' }",
        '"3":"true","a.b.c":1.5,"s":"q\'\'x "' },
      { "return setmetatable({ k = 1 }, { __pairs = error, __index = error })", '"k":1' },
      { "local t = {} t.t = t return t", "nest deeper than 16" },
      { "return { inf = math.huge, nan = 0/0 }", '"inf":"inf"' },
    }
    for i, c in ipairs(cases) do
      local m = cli:model("local des = require 'des'\n" .. c[1], "r" .. i .. ".lua")
      local _, _, err = run("--replications", "1", "--results", "r.jsonl", m)
      local text = file("r.jsonl") .. err
      contains(text, c[2])
    end
  end)

  it("stops on Ctrl-C after the runs in progress, leaving the file whole", function()
    -- the coordinator sends itself SIGINT after 5 rows (a test-only hook)
    local code, _, err = run_env("DESHOST_TEST_SIGINT_AFTER=5", "--replications", "200",
      "--jobs", "2", "--param", "customers=3000", "--results", "int.csv", MMC)
    assert.equal(130, code)
    contains(err, "finishing the runs in progress", "--resume finishes the rest")
    -- 5 rows, then the runs in progress and those already finished out of
    -- order (a slow run holds back the rows after it: a loaded machine),
    -- never all 200; replications in order, each whole
    local rows = lines(file("int.csv"))
    assert.truthy(#rows >= 6 and #rows < 201, #rows)
    for i = 2, #rows do
      contains(rows[i], ",ok,,")
      assert.equal(i - 2, tonumber(rows[i]:match("^%d+,(%d+),"))) -- customers,replication
    end
    assert.equal("\n", file("int.csv"):sub(-1))
  end)
end)

describe("experiment usage errors", function()
  local function usage(expect, ...)
    local code, out, err = run(...)
    assert.equal(2, code, err)
    assert.equal("", out)
    contains(err, expect)
  end
  it("exit 2 with a clear message", function()
    usage("unknown parameter 'nope'", "--replications", "2", "--sweep", "nope=1", MMC)
    usage("servers=1, lambda=0.9, mu=1.0, customers=1000", "--replications", "2",
          "--param", "nope=1", MMC)
    usage("bad value 'x' for parameter 'servers' (it needs a number",
          "--replications", "2", "--sweep", "servers=1,x", MMC)
    usage("bad value 'yes' for parameter 'flag'", "--replications", "2", "--param", "flag=yes",
          cli:model("local des = require 'des'\nlocal f = des.param('flag', false)\n", "b.lua"))
    usage("--sweep has an empty value", "--replications", "2", "--sweep", "servers=", MMC)
    usage("--sweep has an empty value", "--replications", "2", "--sweep", "servers=1,,2", MMC)
    usage("--sweep has an empty value", "--replications", "2", "--sweep", "servers=1,", MMC)
    usage("--sweep needs name=v1,v2", "--replications", "2", "--sweep", "servers", MMC)
    usage("--param needs name=value", "--replications", "2", "--param", "servers", MMC)
    usage("bad parameter name", "--replications", "2", "--param", "=3", MMC)
    usage("bad parameter name", "--replications", "2", "--param", "9x=3", MMC)
    usage("parameter given twice", "--replications", "2", "--param", "servers=1",
          "--sweep", "servers=2,3", MMC)
    usage("--sweep goes with --replications", "--sweep", "servers=1,2", MMC)
    usage("--jobs goes with --replications", "--jobs", "2", MMC)
    usage("--resume needs --results", "--replications", "2", "--resume", MMC)
    usage("--replications needs a count", "--replications", "0", MMC)
    usage("--replications needs a count", "--replications", "x", MMC)
    usage("--jobs needs a count", "--replications", "2", "--jobs", "0", MMC)
    usage("--confidence needs a level", "--replications", "2", "--confidence", "1", MMC)
    usage("not with -i", "--replications", "2", "-i", MMC)
    usage("not standard input", "--replications", "2", "-")
    usage("unknown parameter 'nope'", "--param", "nope=1", MMC)
  end)
end)

describe("des.param", function()
  it("gives defaults, --param values converted to the default's type", function()
    local m = cli:model([[local des = require 'des'
print(des.param("n", 1), math.type(des.param("n", 1)), des.param("s", "a"),
      des.param("b", false), des.param("x"), des.param("f", 0.5))]])
    local code, out = run(m)
    assert.equal(0, code)
    assert.equal("1\tinteger\ta\tfalse\tnil\t0.5\n", out)
    code, out = run("--param", "n=7", "--param", "s=12", "--param", "b=true",
                        "--param", "x=2.5", "--param", "f=3", m)
    assert.equal(0, code)
    assert.equal("7\tinteger\t12\ttrue\t2.5\t3\n", out)
    local _, _, err = run("--param", "n=seven", m)
    contains(err, "des.param: parameter 'n' needs a number (got 'seven')")
  end)

  it("lists the model's parameters with --params", function()
    local code, out = run("--params", MMC)
    assert.equal(0, code)
    assert.equal("servers = 1\nlambda = 0.9\nmu = 1.0\ncustomers = 1000\n", out)
    code, out = run("--params", MODES)
    assert.equal(0, code)
    assert.equal('mode = "ok"\n', out)
  end)

  it("checks its arguments, and works in a stock lua5.4", function()
    local des = require "des"
    assert.equal(3, des.param("p", 3))
    assert.equal("d", des.param("q", "d"))
    assert.is_nil(des.param("r"))
    contains(h.err_of(des.param, 1), "string expected")
    contains(h.err_of(des.param, "t", {}), "a default must be a number")
  end)
end)
