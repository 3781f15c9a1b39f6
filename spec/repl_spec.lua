-- repl_spec.lua -- `deshost -i` driven through a pipe (the transcript is
-- checked), and once under a real terminal with tmux when it is installed.
local SRC = os.getenv("DES_SOURCE_DIR") or "."

local h = require "helpers"
local session = require "repl_session"

local cli -- its dir is the shell scripts' working directory
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

local TWO_TASKS = [[
local des = require "des"
des.spawn{name = "a", function() for _ = 1, 3 do des.sleep(1) end end}
des.spawn{name = "b", function() des.sleep(2.5); DONE = true end}
]]

describe("deshost -i", function()
  it("lists every command in help", function()
    local out = session(TWO_TASKS, { "help" })
    for _, cmd in ipairs{ "step", "next", "until", "run", "tasks", "events", "bt", "break",
                          "delete", "trace", "show", "quit" } do
      assert.truthy(out:find(cmd, 1, true), "help does not mention " .. cmd)
    end
  end)

  it("starts paused at time 0 and steps one event at a time", function()
    local out = session(TWO_TASKS, { "time", "step", "time", "tasks" })
    assert.truthy(out:find("t=0\n", 1, true))
    assert.truthy(out:find("spawn task 'main' (#1)", 1, true))
    assert.falsy(out:find("spawn task 'a'", 1, true)) -- only one event handled
    assert.truthy(out:match("main%s+done") or out:match("a%s+ready"), out)
  end)

  it("steps n events, to the next time and until a time", function()
    local out = session(TWO_TASKS, { "step 3", "next", "until 2", "time" })
    assert.truthy(out:find("spawn task 'a'", 1, true))
    assert.truthy(out:find("spawn task 'b'", 1, true))
    assert.truthy(out:find("t=2\n", 1, true))
  end)

  it("lists tasks with state, wake time and what they wait on", function()
    local out = session(TWO_TASKS, { "step 4", "tasks" })
    assert.truthy(out:match("a%s+sleeping%s+2%s+sleep"), out)
    assert.truthy(out:match("b%s+sleeping%s+2%.5%s+sleep"), out)
  end)

  it("lists the next events in order", function()
    local out = session(TWO_TASKS, { "step 4", "events" })
    local first = out:find("timer task 'a'", 1, true)
    local second = out:find("timer task 'b'", 1, true)
    assert.truthy(first and second and first < second, out)
  end)

  it("shows where a task is suspended", function()
    local out = session(TWO_TASKS, { "step 4", "bt a" })
    assert.truthy(out:find("in function 'des.sleep'", 1, true), out)
  end)

  it("stops at a time breakpoint, a wake breakpoint and a condition", function()
    local out = session(TWO_TASKS, { "step 4", "break at 2", "run", "time",
                                     "break wake b", "run", "time",
                                     "delete", "break if DONE", "run", "time" })
    assert.truthy(out:find("breakpoint 1 (at 2) at t=2", 1, true), out)
    assert.truthy(out:find("breakpoint 2 (wake b) at t=2.5", 1, true), out)
    assert.truthy(out:find("breakpoint 3 (if DONE) at t=2.5", 1, true), out)
  end)

  it("evaluates Lua between events, with results and multi-line input", function()
    local out = session(TWO_TASKS, { "1 + 2", "x = {1,", "2, 3}", "#x", "type(require 'des')" })
    assert.are.equal("3\n3\ntable\n", out)
  end)

  it("keeps the session alive after errors", function()
    local out = session(TWO_TASKS, { "error('boom')", "step 0", "until -1",
                                     "bt nobody", "run", "step", "time" })
    assert.truthy(out:find("boom", 1, true), out)
    assert.truthy(out:find("step: expected a count >= 1", 1, true), out)
    assert.truthy(out:find("until: time -1 is in the past", 1, true), out)
    assert.truthy(out:find("bt: no live task 'nobody'", 1, true), out)
    assert.truthy(out:find("no more events; t=3", 1, true), out)
    assert.truthy(out:find("t=3\n", 1, true), out)
  end)

  it("reports a model that fails while stepping, and goes on", function()
    local out = session([[
local des = require "des"
des.spawn{name = "bad", function() des.sleep(1); error("kaput") end}
]], { "run", "time" })
    assert.truthy(out:find("task 'bad' (#2) failed at t=1.0", 1, true), out)
    assert.truthy(out:find("t=1\n", 1, true), out)
  end)

  it("Ctrl-C stops a run; a second one interrupts a model stuck in a loop", function()
    cli:model('local des = require "des"\ndes.sleep(1)\nwhile true do end\n', "stuck.lua")
    -- the prompt reads from a slow pipe; two SIGINTs arrive during `run`
    local code, out, err = cli:sh(([[
(printf 'run\n'; sleep 3; printf 'time\nreturn 6 * 7\nquit\n') | %s -i stuck.lua 2>&1 &
pid=$!
sleep 1; kill -INT $pid; sleep 0.3; kill -INT $pid
wait $pid]]):format(cli.q(cli.deshost)))
    assert.are.equal(0, code, out .. err)
    local msg = "task 'main' (#1) failed at t=1.0: interrupted by the host"
    assert.truthy(out:find(msg, 1, true), out)
    assert.truthy(out:find("stuck.lua:3", 1, true), out)
    assert.truthy(out:find("t=1\n", 1, true), out) -- the session lives on
    assert.truthy(out:find("42", 1, true), out)
  end)

  it("Ctrl-C at the prompt of a pipe does not end the session", function()
    cli:model('local des = require "des"\ndes.sleep(1)\n', "m.lua")
    local code, out, err = cli:sh(([[
(sleep 1; printf 'return 6 * 7\nquit\n') | %s -i m.lua 2>&1 &
pid=$!
sleep 0.4; kill -INT $pid
wait $pid
echo "status $?"]]):format(cli.q(cli.deshost)))
    assert.are.equal(0, code, err)
    assert.are.equal("42\nstatus 0\n", out)
  end)

  it("under a terminal, Ctrl-C cancels the typed line and keeps history", function()
    if not h.have("tmux") then
      pending("tmux is not installed")
      return
    end
    local hist = os.tmpname()
    os.remove(hist)
    local model = SRC .. "/scripts/models/clock.lua"
    local p = h.tmux(("DESHOST_HISTORY=%s %s -i %s; echo EXITED $?; sleep 9"):format(
      h.q(hist), h.q(h.deshost()), h.q(model)), 120, 30, 50)
    local ok = p.shows("(des)")
    p.keys("'x = {1,' Enter")
    ok = ok and p.shows("...>")
    p.keys("'abc' C-c") -- drops the line and the open chunk
    ok = ok and p.shows("^C")
    p.keys("C-c") -- on an empty line: nothing happens
    p.keys("'return 6 * 7' Enter")
    ok = ok and p.shows("42")
    p.keys("'quit' Enter")
    ok = ok and p.shows("EXITED 0")
    local shown = p.screen()
    p.close()
    local f = io.open(hist)
    local saved = f and f:read("a") or ""
    if f then f:close() end
    os.remove(hist)
    assert.is_true(ok, shown)
    assert.falsy(shown:find("abc", 1, true) and shown:find("error", 1, true), shown)
    assert.truthy(saved:find("return\\0406\\040*\\0407", 1, true), saved)
  end)

  it("documents the history file in --help", function()
    local help = h.capture(h.q(h.deshost()) .. " --help")
    assert.truthy(help:find("~/.deshost_history", 1, true), help)
    assert.truthy(help:find("DESHOST_HISTORY", 1, true), help)
    local doc = h.slurp(SRC .. "/docs/lua-api.md")
    assert.truthy(doc:find("DESHOST_HISTORY", 1, true))
  end)

  it("works under a real terminal (tmux)", function()
    if not h.have("tmux") then
      pending("tmux is not installed")
      return
    end
    local model = SRC .. "/scripts/models/clock.lua"
    local p = h.tmux(("DESHOST_HISTORY= %s -i %s"):format(h.q(h.deshost()), h.q(model)),
                     120, 30, 50)
    local ok1 = p.shows("(des)")
    p.keys("'step 2' Enter")
    local ok2 = p.shows("timer task 'client'") or p.shows("spawn task 'client'")
    p.keys("'quit' Enter")
    local shown = p.screen()
    p.close()
    assert.is_true(ok1, shown)
    assert.is_true(ok2, shown)
  end)
end)
