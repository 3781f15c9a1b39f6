-- spec/cli_spec.lua -- the deshost command line: exit statuses, error
-- reports, options, model arguments and the deadlock report.
--
-- The binary comes from the DESHOST environment variable (CMake's ctest
-- sets it to the deshost it built).
local h = require "helpers"
local contains = h.contains

local function lacks(s, sub)
  if s:find(sub, 1, true) then
    error(("expected %q not to contain %q"):format(s, sub), 2)
  end
end

local cli -- a fresh temporary directory for the whole file, the commands' cwd
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

describe("deshost runs a model", function()
  it("as the task 'main' at time 0, which may sleep; exit status 0", function()
    local m = cli:model([[
local des = require "des"
local me = des.self()
print(me.name, me.id, des.now())
des.sleep(2.5)
print("woke at", des.now())
]])
    local code, out, err = cli:run(m)
    assert.equal(0, code)
    assert.equal("main\t1\t0.0\nwoke at\t2.5\n", out)
    assert.equal("", err)
  end)

  it("until no event is left, after the main chunk has returned", function()
    local m = cli:model([[
local des = require "des"
des.spawn(function() des.sleep(5); print("late task at", des.now()) end)
print("main returns")
]])
    local code, out = cli:run(m)
    assert.equal(0, code)
    assert.equal("main returns\nlate task at\t5.0\n", out)
  end)

  it("passes its arguments as ... and in the global arg, as lua does", function()
    cli:model([[
print(select("#", ...), ...)
print(#arg, arg[0], arg[1], arg[2], arg[3])
print(arg[-1], arg[-2])
]])
    local code, out, err = cli:run("--seed", "3", "model.lua", "a", "b c", "")
    assert.equal(0, code, err)
    local lines = {}
    for line in out:gmatch("[^\n]*\n") do lines[#lines + 1] = line end
    assert.equal("3\ta\tb c\t\n", lines[1])
    assert.equal("3\tmodel.lua\ta\tb c\t\n", lines[2])
    assert.equal("3\t--seed\n", lines[3])
  end)

  it("gives options after the model to the model", function()
    cli:model("print(...)")
    local code, out = cli:run("model.lua", "--until", "5", "-e", "x")
    assert.equal(0, code)
    assert.equal("--until\t5\t-e\tx\n", out)
  end)

  it("accepts -- as the end of options", function()
    cli:model("print('ran', ...)", "-odd.lua")
    local code, out = cli:run("--", "-odd.lua", "1")
    assert.equal(0, code)
    assert.equal("ran\t1\n", out)
  end)
end)

describe("deshost errors", function()
  it("exit 1 when a task fails unjoined, naming the task, the time and a traceback", function()
    local m = cli:model([[
local des = require "des"
local function deep() error("disk full") end
des.spawn{name = "worker", function()
  des.sleep(2.5)
  deep()
end}
des.spawn(function() des.sleep(10); print("never printed") end)
print("before")
]])
    local code, out, err = cli:run(m)
    assert.equal(1, code)
    assert.equal("before\n", out)
    contains(err, "task 'worker' (#2) failed at t=2.5", "model.lua:2: disk full",
             "stack traceback", "'deep'", "model.lua:5")
    lacks(out, "never printed")
  end)

  it("exit 1 when the main chunk fails, naming task 'main'", function()
    cli:model([[
local des = require "des"
des.sleep(1)
local t = nil
print(t.field)
]])
    local code, _, err = cli:run("model.lua")
    assert.equal(1, code)
    contains(err, "task 'main' (#1) failed at t=1", "model.lua:4:", "stack traceback")
  end)

  it("describes a non-string error with its __tostring", function()
    cli:model([[error(setmetatable({}, {__tostring = function() return "custom failure" end}))]])
    local code, _, err = cli:run("model.lua")
    assert.equal(1, code)
    contains(err, "task 'main' (#1)", "custom failure")
  end)

  it("exit 0 when the failure is joined", function()
    cli:model([[
local des = require "des"
local t = des.spawn(function() des.sleep(1); error("handled", 0) end)
print(pcall(t.join, t))
]])
    local code, out, err = cli:run("model.lua")
    assert.equal(0, code)
    assert.equal("false\thandled\n", out)
    assert.equal("", err)
  end)

  it("exit 0 when the model handles failures with des.on_error", function()
    cli:model([[
local des = require "des"
des.on_error(function(task, e) print("handled", task.name, e) end)
des.spawn{name = "w", function() des.sleep(1); error("oops", 0) end}
des.sleep(2)
print("main goes on at", des.now())
]])
    local code, out = cli:run("model.lua")
    assert.equal(0, code)
    assert.equal("handled\tw\toops\nmain goes on at\t2.0\n", out)
  end)

  it("exit 1 when the model file does not exist, naming it", function()
    local code, out, err = cli:run("no-such-model.lua")
    assert.equal(1, code)
    assert.equal("", out)
    contains(err, "no-such-model.lua")
  end)

  it("exit 1 when the model does not parse, with the file and line", function()
    cli:model("local x = 1\nlocal y = = 2\n", "broken.lua")
    local code, out, err = cli:run("broken.lua")
    assert.equal(1, code)
    assert.equal("", out)
    contains(err, "broken.lua:2:")
  end)

  it("exit 1 when a task yields outside des", function()
    cli:model([[
local des = require "des"
des.spawn{name = "bad", function() coroutine.yield() end}
]])
    local code, _, err = cli:run("model.lua")
    assert.equal(1, code)
    contains(err, "task 'bad' (#2)", "yielded outside des")
  end)
end)

describe("deshost usage errors: exit 2", function()
  local cases = {
    { "an unknown option", { "--frobnicate", "model.lua" }, "--frobnicate" },
    { "no model", {}, "" },
    { "--until without a value", { "--until" }, "--until" },
    { "--until that is not a number", { "--until", "soon", "model.lua" }, "--until" },
    { "a negative --until", { "--until", "-1", "model.lua" }, "--until" },
    { "--seed without a value", { "--seed" }, "--seed" },
    { "--seed that is not an integer", { "--seed", "1.5", "model.lua" }, "--seed" },
    { "-e without a chunk", { "-e" }, "-e" },
    { "--mem-limit that is not a size", { "--mem-limit", "lots", "model.lua" }, "--mem-limit" },
    { "--mem-limit 0", { "--mem-limit", "0", "model.lua" }, "--mem-limit" },
    { "--mem-limit with a bad suffix", { "--mem-limit", "3X", "model.lua" }, "--mem-limit" },
    { "--max-steps without a value", { "--max-steps" }, "--max-steps" },
    { "--max-steps that is negative", { "--max-steps", "-5", "model.lua" }, "--max-steps" },
    { "--max-steps with a suffix", { "--max-steps", "5K", "model.lua" }, "--max-steps" },
  }
  for _, c in ipairs(cases) do
    it("for " .. c[1], function()
      cli:model("print('model ran')")
      local code, out, err = cli:run(table.unpack(c[2]))
      assert.equal(2, code)
      lacks(out, "model ran")
      contains(err, "usage", c[3])
    end)
  end
end)

describe("deshost options", function()
  local ticker = [[
local des = require "des"
des.spawn{name = "ticker", function()
  while true do des.sleep(1); print("tick", des.now()) end
end}
]]

  it("--until T handles events strictly before T", function()
    cli:model(ticker)
    local code, out, err = cli:run("--until", "3", "model.lua")
    assert.equal(0, code)
    assert.equal("tick\t1.0\ntick\t2.0\n", out)
    -- a run cut short is no deadlock, but the pending task is mentioned
    assert.equal("deshost: --until stopped the run at t=3.0 with 1 live task "
                 .. "(not daemons) still pending\n", err)
  end)

  it("--until runs des.at_end hooks at T and names the tasks it cut short", function()
    cli:model([[
local des = require "des"
des.spawn{daemon = true, function() while true do des.sleep(1) end end}
des.at_end(function() print("end", des.now()) end)
des.sleep(2000)
print("done")
]])
    local code, out, err = cli:run("--until", "100", "model.lua")
    assert.equal(0, code)
    assert.equal("end\t100.0\n", out)
    contains(err, "--until stopped the run at t=100.0 with 1 live task")
    code, out, err = cli:run("model.lua") -- only the daemon is left at 2000
    assert.equal(0, code)
    assert.equal("done\nend\t2000.0\n", out)
    assert.equal("", err)
  end)

  it("Ctrl-C stops the run, runs des.at_end hooks and exits 130", function()
    local flag = cli.dir .. "/started"
    cli:model(([[
local des = require "des"
des.at_end(function() print("at_end ran") end)
local f = assert(io.open(%q, "w")); f:close() -- the run is under way
while true do des.sleep(1) end
]]):format(flag))
    -- the signal is sent once the model says it runs: no timing involved
    local code, out, err = cli:sh(("%s model.lua & pid=$!; "
                                   .. "while [ ! -f %s ]; do sleep 0.01; done; kill -INT $pid; "
                                   .. "wait $pid"):format(cli.q(cli.deshost), cli.q(flag)))
    assert.equal(130, code)
    assert.equal("at_end ran\n", out)
    contains(err, "stopped by Ctrl-C at t=")
  end)

  it("--until says nothing when only daemons were cut short", function()
    cli:model([[
local des = require "des"
des.spawn{daemon = true, function() while true do des.sleep(1) end end}
]])
    local code, out, err = cli:run("--until", "5", "model.lua")
    assert.equal(0, code)
    assert.equal("", out)
    assert.equal("", err)
  end)

  it("--until accepts a fractional time", function()
    cli:model(ticker)
    local code, out = cli:run("--until", "3.5", "model.lua")
    assert.equal(0, code)
    assert.equal("tick\t1.0\ntick\t2.0\ntick\t3.0\n", out)
  end)

  it("--until 0 runs nothing, not even the main chunk", function()
    cli:model("print('main ran')")
    local code, out = cli:run("--until", "0", "model.lua")
    assert.equal(0, code)
    assert.equal("", out)
  end)

  it("--seed N seeds the default simulation", function()
    cli:model([[print(require("des").default().seed)]])
    local _, out7 = cli:run("--seed", "7", "model.lua")
    local _, out0 = cli:run("model.lua")
    local _, outn = cli:run("--seed", "-12", "model.lua")
    assert.equal("7\n", out7)
    assert.equal("0\n", out0)
    assert.equal("-12\n", outn)
  end)

  it("-e CHUNK runs before the model, outside any task, in order", function()
    cli:model([[print("model sees", A, B)]])
    local code, out = cli:run("-e", "A = 1",
                              "-e", "B = A + 1; print('in a task:', require('des').self() ~= nil)",
                              "model.lua")
    assert.equal(0, code)
    assert.equal("in a task:\tfalse\nmodel sees\t1\t2\n", out)
  end)

  it("-e alone runs the chunk and exits 0", function()
    local code, out = cli:run("-e", "print(6 * 7)")
    assert.equal(0, code)
    assert.equal("42\n", out)
  end)

  it("-e with an error exits 1 with its message, and the model does not run", function()
    cli:model("print('model ran')")
    local code, out, err = cli:run("-e", "error('bad chunk')", "model.lua")
    assert.equal(1, code)
    assert.equal("", out)
    contains(err, "bad chunk")
  end)

  it("--help prints the usage with every option and examples; exit 0", function()
    for _, flag in ipairs{ "--help", "-h" } do
      local code, out, err = cli:run(flag)
      assert.equal(0, code)
      assert.equal("", err)
      contains(out, "usage: deshost", "model.lua", "--until", "--seed", "-e", "--version",
               "--help", "example")
      contains(out:lower(), "exit status")
    end
  end)

  it("--version prints the version; exit 0", function()
    local code, out, err = cli:run("--version")
    assert.equal(0, code)
    assert.equal("", err)
    assert.matches("^deshost %d+%.%d+", out)
  end)
end)

describe("deshost determinism", function()
  it("gives the same output, byte for byte, on every run of the same model and seed", function()
    cli:model([[
local des = require "des"
local log, evs = {}, {}
for i = 1, 40 do evs[i] = des.event("e" .. i) end
for i = 1, 40 do
  des.spawn{name = "t" .. i, function()
    des.sleep((i * 7) % 5 / 4)
    local which = des.any{ evs[(i % 40) + 1], des.timeout((i % 3) / 2, i) }:wait()
    log[#log + 1] = ("%s %s %.3f"):format(des.self().name, which.name or which.kind, des.now())
    if not evs[i].triggered then evs[i]:succeed(i) end
  end}
end
des.sleep(5)
print(table.concat(log, "\n"))
]])
    local code1, out1 = cli:run("--seed", "5", "model.lua")
    local code2, out2 = cli:run("--seed", "5", "model.lua")
    assert.equal(0, code1)
    assert.equal(0, code2)
    assert.equal(out1, out2)
    local n = select(2, out1:gsub("\n", ""))
    assert.equal(40, n)
  end)
end)

describe("deshost deadlock report", function()
  it("lists each task still waiting when the events run out, with what and since when", function()
    cli:model([[
local des = require "des"
des.spawn{name = "consumer", function() des.sleep(1); des.event("never"):wait() end}
des.spawn{name = "helper", daemon = true, function() des.event():wait() end}
local c = des.spawn{name = "joiner", function() des.sleep(2); des.event():wait() end}
des.spawn{name = "waits-on-joiner", function() c:join() end}
des.sleep(3)
print("main done")
]])
    local code, out, err = cli:run("model.lua")
    assert.equal(0, code)
    assert.equal("main done\n", out)
    contains(err, "deadlock", "t=3")
    local lines = {}
    for line in err:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local function line_of(name)
      for _, l in ipairs(lines) do
        if l:find("'" .. name .. "'", 1, true) then return l end
      end
      error("no line names task '" .. name .. "' in:\n" .. err)
    end
    contains(line_of("consumer"), "task 'consumer' (#2)", "event", "since t=1")
    contains(line_of("joiner"), "task 'joiner' (#4)", "event", "since t=2")
    contains(line_of("waits-on-joiner"), "task 'waits-on-joiner' (#5)", "join", "since t=0")
    lacks(err, "helper") -- daemons are not reported
  end)

  it("says nothing when every task ended or only daemons wait", function()
    cli:model([[
local des = require "des"
des.spawn{daemon = true, name = "server", function() des.event():wait() end}
des.spawn(function() des.sleep(1) end)
]])
    local code, _, err = cli:run("model.lua")
    assert.equal(0, code)
    assert.equal("", err)
  end)
end)

describe("deshost limits for models you do not trust", function()
  it("--sandbox leaves out io, os, debug and the loading of files and C modules", function()
    cli:model([[
local des = require "des"
print(io, os, debug, dofile, loadfile, package.loadlib)
print(pcall(require, "lfs"))
print(load(string.dump(function() end)))
local r = des.resource(1)
des.spawn(function() local _ <close> = r:acquire(); des.sleep(2) end)
des.sleep(1)
print("simulates", des.now())
]])
    local code, out, err = cli:run("--sandbox", "model.lua")
    assert.equal(0, code, err)
    contains(out, "nil\tnil\tnil\tnil\tnil\tnil", "false", "binary chunk", "simulates\t1.0")
  end)

  it("--sandbox: a model that reaches for a file fails with a clear error", function()
    cli:model("io.open('/etc/passwd')")
    local code, _, err = cli:run("--sandbox", "model.lua")
    assert.equal(1, code)
    contains(err, "task 'main'", "global 'io'")
  end)

  it("--mem-limit: a model that allocates without bound gets a memory error, exit 1", function()
    cli:model("local t = {}\nwhile true do t[#t + 1] = ('x'):rep(100) .. #t end")
    local code, _, err = cli:run("--mem-limit", "16M", "model.lua")
    assert.equal(1, code)
    contains(err, "task 'main' (#1) failed at t=0.0", "not enough memory",
             "memory limit is 16777216 bytes")
  end)

  it("--mem-limit leaves room for a model that fits", function()
    cli:model("local t = {}\nfor i = 1, 1000 do t[i] = {} end\nprint('fits')")
    local code, out = cli:run("--mem-limit", "16M", "model.lua")
    assert.equal(0, code)
    contains(out, "fits")
  end)

  it("--mem-limit: a large model's statistics grow with its history, not up front", function()
    -- 4,000 resources, stores and containers, each with level statistics
    -- and their time series, fit in 32 MB (each series used to take its
    -- 512 buckets at creation: 3,000 resources overran 64 MB); one
    -- resource then runs long enough to fill its series
    cli:model([[
local des = require 'des'
local keep = {}
for i = 1, 4000 do
  keep[#keep + 1] = des.resource(1)
  keep[#keep + 1] = des.store()
  keep[#keep + 1] = des.container(10)
end
local r = keep[1]
for _ = 1, 2000 do
  local req <close> = r:acquire()
  des.sleep(1)
end
print('fits', #keep, #r.stats.busy:series() > 256)
]])
    local code, out, err = cli:run("--sandbox", "--mem-limit", "32M", "model.lua")
    assert.equal(0, code, err)
    contains(out, "fits\t12000\ttrue")
  end)

  it("--max-steps: a model that loops forever is stopped, naming where, exit 1", function()
    cli:model("local des = require 'des'\ndes.sleep(5)\nwhile true do end\n")
    local code, _, err = cli:run("--max-steps", "1000000", "model.lua")
    assert.equal(1, code)
    contains(err, "task 'main' (#1) failed at t=5.0", "instruction budget of 1000000 exhausted",
             "model.lua:3:")
  end)

  it("--max-steps cannot be swallowed by pcall", function()
    cli:model("while true do pcall(function() while true do end end) end")
    local code, _, err = cli:run("--max-steps", "100000", "model.lua")
    assert.equal(1, code)
    contains(err, "instruction budget")
  end)
end)
