-- realtime_spec.lua -- des.inbox (the store fed by des_post) and paced runs
-- under the CLI (--realtime): a lower bound on wall time only, never an
-- upper one; strict mode failing with a clear message; the same events
-- paced or not.
local des = require "des"
local h = require "helpers"
local run_task, contains, err_of = h.run_task, h.contains, h.err_of

describe("des.inbox", function()
  it("is one store per name, fed by post in order, with kind, data, time, seq", function()
    local log = {}
    run_task(function()
      local a = des.inbox("rt-a")
      assert.are.equal(a, des.inbox("rt-a"))
      assert.are_not.equal(a, des.inbox("rt-b"))
      des.spawn(function()
        for _ = 1, 3 do
          local m = a:get()
          log[#log + 1] = ("%d:%s@%g#%d"):format(m.kind, tostring(m.data), des.now(), m.seq)
        end
      end)
      a:post(1, "x")
      des.sleep(2)
      a:post(2)
      a:post(3, "z\0")
    end)
    assert.are.same({ "1:x@0#1", "2:nil@2#2", "3:z\0@2#3" }, log)
  end)

  it("never resumes a getter inside post: the getter runs after the poster goes on", function()
    local log = {}
    run_task(function()
      local box = des.inbox("rt-inline")
      des.spawn(function() box:get(); log[#log + 1] = "got" end)
      des.sleep(1)
      box:post(0, "p")
      log[#log + 1] = "posted"
    end)
    assert.are.same({ "posted", "got" }, log)
  end)

  it("keeps posts made before anyone asks, and gets with a timeout", function()
    run_task(function()
      des.inbox("rt-early"):post(5, "kept")
      local m = des.inbox("rt-early"):get()
      assert.are.equal("kept", m.data)
      local none, err = des.inbox("rt-early"):get(nil, 3)
      assert.is_nil(none)
      assert.are.equal("timed out", err)
      assert.are.equal(3, des.now())
      assert.truthy(tostring(des.inbox("rt-early")):find("des.inbox 'rt-early'", 1, true))
    end)
  end)

  it("says that pacing needs deshost under a plain lua", function()
    contains(err_of(des.realtime, 1), "realtime: paced runs need deshost")
    contains(err_of(function() return des.new():lateness() end),
             "lateness: paced runs need deshost")
  end)

  it("refuses bad names, kinds and data with a clear error", function()
    contains(err_of(des.inbox, ""), "inbox: name must be a non-empty string")
    contains(err_of(des.inbox, 3), "inbox: name must be a non-empty string")
    local box = des.inbox("rt-bad")
    contains(err_of(box.post, box, -1), "post: kind must be an integer >= 0")
    contains(err_of(box.post, box, 1.5), "post: kind must be an integer >= 0")
    contains(err_of(box.post, box, 1, {}), "post: data must be a string or nil")
  end)
end)

describe("deshost --realtime", function()
  local cli
  setup(function() cli = h.cli() end)
  teardown(function() cli:cleanup() end)

  local function wall()
    local p = io.popen("date +%s.%N")
    local t = tonumber(p:read("a"))
    p:close()
    return t
  end

  it("takes at least the model's time on the wall clock, and reports the lag", function()
    local m = cli:model("local des = require 'des'\nfor i = 1, 4 do des.sleep(0.05) end\n"
                        .. "print(des.now())\n")
    local t0 = wall()
    local code, out, err = cli:run("--realtime", m)
    local took = wall() - t0
    assert.equal(0, code)
    assert.equal("0.2\n", out)
    assert.is_true(took >= 0.15, "took " .. took)
    contains(err, "realtime x1: 5 event times")
    t0 = wall()
    code, out = cli:run("--realtime=2", "--sandbox", m)
    assert.equal(0, code)
    assert.equal("0.2\n", out)
    assert.is_true(wall() - t0 >= 0.07)
  end)

  it("paces from the model with sim:realtime and reports sim:lateness", function()
    local m = cli:model("local des = require 'des'\ndes.sleep(5)\n"
                        .. "des.default():realtime(10)\n"
                        .. "for i = 1, 4 do des.sleep(0.5) end\n"
                        .. "local worst, late, n = des.default():lateness()\n"
                        .. "print(des.now(), n, math.type(late), worst >= 0)\n"
                        .. "des.realtime(false)\ndes.sleep(1e6)\nprint(des.now())\n"
                        .. "print(pcall(des.realtime, 0))\n"
                        .. "print(pcall(des.new().realtime, des.new(), 1))\n")
    local t0 = wall()
    local code, out = cli:run("--sandbox", m)
    assert.is_true(wall() - t0 >= 0.15)
    assert.equal(0, code)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("7.0\t4\tinteger\ttrue", lines[1])
    assert.equal("1000007.0", lines[2])
    contains(lines[3], "realtime: factor must be a number from 1e-9 to 1e9")
    contains(lines[4], "realtime: only the host's own simulation is paced")
  end)

  it("handles the same events as an unpaced run", function()
    local m = cli:model("local des = require 'des'\nlocal r = des.rng('x')\n"
                        .. "for i = 1, 3 do des.spawn(function()\n"
                        .. "  for k = 1, 3 do des.sleep(r:exponential(1)) end end) end\n")
    local _, _, plain = cli:run("--trace", "--seed", "4", m)
    local _, _, paced = cli:run("--trace", "--seed", "4", "--realtime", "100", m)
    assert.is_true(#plain > 0)
    assert.equal(plain, (paced:gsub("deshost: realtime[^\n]*\n", "")))
  end)

  it("fails in strict mode with how late and where", function()
    local m = cli:model("local des = require 'des'\nlocal t = os.clock()\n"
                        .. "while os.clock() - t < 0.2 do end\n"
                        .. "des.sleep(0.001)\nprint('not here')\n")
    local code, out, err = cli:run("--realtime-strict", "0.05", m)
    assert.equal(1, code)
    assert.equal("", out)
    contains(err, "realtime: the events at t=0.001", "ms late on the wall clock",
             "strict tolerance 50.000 ms")
  end)

  it("refuses bad factors and tolerances with the usage status", function()
    local m = cli:model("local des = require 'des'\n")
    for _, v in ipairs{ "--realtime=0", "--realtime=-1", "--realtime=inf", "--realtime=x",
                        "--realtime=1e10", "--realtime=1e-10" } do
      local code, _, err = cli:run(v, m)
      assert.equal(2, code)
      contains(err, "--realtime needs a factor from 1e-9 to 1e9")
    end
    local code, _, err = cli:run("--realtime-strict", "nan", m)
    assert.equal(2, code)
    contains(err, "--realtime-strict needs a tolerance > 0")
    code = cli:run(m, "--realtime-strict")
    assert.equal(0, code) -- after the model: the model's argument
  end)
end)
