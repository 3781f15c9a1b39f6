-- spec/ctrl_c_spec.lua -- Ctrl-C as people use it (issue 16, items 1 and 9):
-- a batch run says where it stopped (time, events, live tasks), and the
-- first Ctrl-C reaches a sim:run that Lua code started (des.replicate at
-- the REPL's prompt, or inside a model), which stops after its current
-- event and raises, so that the code that started it unwinds.
--
-- No timing: the model sends SIGINT to its own process at a known event
-- (io.popen("kill -INT pid"):close() returns after the handler ran, since
-- the signal is delivered while deshost waits for kill to end).
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

-- ctrl_c(): the model's Ctrl-C, at a point it chooses.
local CTRL_C = [[
local function ctrl_c()
  local pid = io.open("/proc/self/stat"):read("n")
  io.popen("kill -INT " .. pid):close()
end
]]

describe("Ctrl-C in a batch run", function()
  it("says where it stopped: time, events handled, the live tasks and their waits", function()
    local m = cli:model("local des = require 'des'\n" .. CTRL_C .. [[
des.at_end(function() print("end hooks ran at", des.now()) end)
for i = 1, 12 do
  des.spawn{name = "w" .. i, function() while true do des.sleep(i) end end}
end
local ev = des.event("never")
des.spawn{name = "waiter", function() ev:wait() end}
des.spawn{name = "bg", daemon = true, function() ev:wait() end}
des.sleep(5)
ctrl_c()
des.sleep(1)
print("not reached")
]], "batch.lua")
    local code, out, err = cli:run(m)
    assert.equal(130, code, err)
    assert.equal("end hooks ran at\t5.0\n", out)
    -- 15 tasks but the daemon: main, w1..w12, waiter
    contains(err, "deshost: stopped by Ctrl-C at t=5.0 after ", " events, with 14 live tasks "
             .. "(not daemons):\n", "  task 'main' (#1): sleeping since t=5.0\n",
             "  task 'w1' (#2): sleeping since t=4.0\n", "  ... and 4 more\n")
    assert.is_nil(err:find("'bg'", 1, true), err)
    assert.is_nil(err:find("'w10'", 1, true), err) -- a few are named, not all
    -- the count is des_events_handled: main's start, 12 + 2 spawns, the
    -- workers' wakes before t=5, and main's wake at 5 (the first due then:
    -- the run stops after it)
    local n = tonumber(err:match("after (%d+) events"))
    local wakes = 0
    for i = 1, 12 do wakes = wakes + 4 // i end -- w_i wakes at i, 2i, ... < 5
    assert.equal(1 + 12 + 2 + wakes + 1, n)
  end)

  it("names a waiting task's wait, and says when no task is left", function()
    local m = cli:model("local des = require 'des'\n" .. CTRL_C .. [[
local ev = des.event("a-ready")
des.spawn{name = "waiter", function() ev:wait() end}
des.schedule(2, ctrl_c)
]], "wait.lua")
    local code, _, err = cli:run(m)
    assert.equal(130, code, err)
    contains(err, "stopped by Ctrl-C at t=2.0 after ", "with 1 live task (not daemons):\n",
             "  task 'waiter' (#2): waiting on event 'a-ready' since t=0.0")
    m = cli:model("local des = require 'des'\n" .. CTRL_C .. [[
des.schedule(3, ctrl_c)
des.schedule(4, print, "not reached")
]], "none.lua")
    local out
    code, out, err = cli:run(m)
    assert.equal(130, code, err)
    assert.equal("", out)
    contains(err, "stopped by Ctrl-C at t=3.0 after 2 events, with 0 live tasks (not daemons)\n")
  end)
end)

describe("Ctrl-C and a sim:run that Lua code started", function()
  -- a replication that would run long (without the fix, the test fails
  -- rather than hangs), and sends Ctrl-C at its 5th wake
  local FOREVER = CTRL_C .. [[
function forever(i)
  des.at_end(function() print("end hooks of replication " .. i) end)
  local k = 0
  while k < 100000 do
    des.sleep(1); k = k + 1
    if k == 5 then ctrl_c() end
  end
end
]]

  it("stops des.replicate in the model's main task after the current event", function()
    local m = cli:model("local des = require 'des'\n" .. FOREVER .. [[
local r = des.replicate(3, forever)
print("not reached", r)
]], "nested.lua")
    local code, out, err = cli:run(m)
    assert.equal(130, code, err)
    assert.equal("end hooks of replication 1\n", out)
    contains(err, "replication 1 (seed ",
             "failed: run: stopped at t=5.0 by a stop request to the host",
             "nested.lua:", "deshost: stopped by Ctrl-C at t=0.0")
  end)

  it("refuses to start another run, or a step, while the stop stands", function()
    -- a loop of short runs, and one of steps: each unwinds at once, where
    -- a stop of the run in progress alone would leave them spinning
    for _, loop in ipairs{
      "while sim:peek() do sim:run(sim:now() + 1) end",
      "while sim:step() do end",
      "local inner = des.new{}; inner:spawn(function() sim:run() end); inner:run()",
    } do
      local m = cli:model("local des = require 'des'\n" .. CTRL_C .. [[
local sim = des.new{}
sim:spawn(function()
  for k = 1, 100000 do des.sleep(1); if k == 3 then ctrl_c() end end
end)
]] .. loop .. "\nprint('not reached')\n", "loops.lua")
      local code, out, err = cli:run(m)
      assert.equal(130, code, loop .. ": " .. err)
      assert.equal("", out)
      contains(err, "stopped at t=3.0 by a stop request to the host", "stopped by Ctrl-C")
    end
  end)

  it("at the REPL's prompt: stops des.replicate, back to the prompt, the session usable", function()
    local m = cli:model("local des = require 'des'\n" .. FOREVER, "repl.lua")
    local lines = cli:model(table.concat({
      "run", -- the main chunk: defines forever
      "r = des.replicate(3, forever)",
      "print('r is', r)",
      "return 6 * 7",
      "x = des.replicate(2, function() des.sleep(3) return {a = des.now()} end)",
      "print('mean', x.stats.a.mean)",
      "quit", "" }, "\n"), "lines")
    local code, out, err = cli:run_in(lines, "-i", m)
    assert.equal(0, code, err)
    contains(out, "end hooks of replication 1\n",
             "replicate: replication 1 (seed ",
             "failed: run: stopped at t=5.0 by a stop request to the host",
             "r is\tnil\n", "42\n", "mean\t3.0\n")
    assert.is_nil(out:find("replication 2", 1, true), out) -- nothing ran after the stop
  end)

  it("at the REPL: a second Ctrl-C interrupts code that swallows the stop; the model lives on",
     function()
    local m = cli:model("local des = require 'des'\n" .. CTRL_C .. [[
function stubborn() -- catches the stop: every run it starts raises at once
  local sim = des.new{}
  sim:spawn(function() for k = 1, 100000 do des.sleep(1); if k == 3 then ctrl_c() end end end)
  local caught = 0
  for _ = 1, 100000 do -- bounded: without the stop it ends, and fails the test
    if not pcall(sim.run, sim) then caught = caught + 1 end
    if caught == 1000 then ctrl_c() end -- the second Ctrl-C
  end
  print("not reached")
end
des.sleep(1)
print("main done at", des.now())
]], "stubborn.lua")
    local lines = cli:model("step\nstubborn()\nreturn 6 * 7\nrun\nquit\n", "lines")
    local code, out, err = cli:run_in(lines, "-i", m)
    assert.equal(0, code, err)
    contains(err, "interrupted by the host")
    contains(out, "42\n", "main done at\t1.0\n", "no more events; t=1\n")
    assert.is_nil(out:find("not reached", 1, true), out)
  end)

  it("at the REPL: `run` of the model itself stops quietly", function()
    local m = cli:model("local des = require 'des'\n" .. FOREVER .. "forever(1)\n", "run.lua")
    local lines = cli:model("run\ntime\nreturn 6 * 7\nquit\n", "lines")
    local code, out, err = cli:run_in(lines, "-i", m)
    assert.equal(0, code, err)
    contains(out, "interrupted at t=5\n", "t=5\n", "42\n")
    assert.is_nil(out:find("error", 1, true), out)
  end)

  it("under a terminal (tmux): Ctrl-C typed during des.replicate at the prompt", function()
    if not h.have("tmux") then
      pending("tmux is not installed")
      return
    end
    local m = cli:model([[
local des = require "des"
function forever()
  local k = 0
  while true do
    des.sleep(1); k = k + 1
    if k == 3 then print("RUNNING") end
  end
end
]], "tty.lua")
    local p = h.tmux(("DESHOST_HISTORY= %s -i %s; echo EXITED $?; sleep 9"):format(
      cli.q(cli.deshost), cli.q(m)), 160, 40, 100)
    local ok = p.shows("(des)")
    p.keys("'run' Enter")
    ok = ok and p.shows("no more events")
    p.keys("'des.replicate(5, forever)' Enter")
    ok = ok and p.shows("RUNNING") -- the nested run is under way
    p.keys("C-c") -- once
    ok = ok and p.shows("by a stop request to the host")
    p.keys("'return 6 * 7' Enter")
    ok = ok and p.shows("42")
    p.keys("'quit' Enter")
    ok = ok and p.shows("EXITED 0")
    local shown = p.screen()
    p.close()
    assert.is_true(ok, shown)
    assert.is_nil(shown:find("interrupted by the host", 1, true), shown)
  end)
end)
