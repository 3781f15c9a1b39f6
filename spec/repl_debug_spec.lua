-- repl_debug_spec.lua -- `deshost -i` as a debugger (issue 16, items 2-4):
-- the locals and upvalues of the selected frame at the prompt, frame / up /
-- down / list / finish, breakpoints that say the truth, `show` of the
-- statistics objects and the deadlock report.
local session = require "repl_session"

-- A model that keeps its state in locals, with a task two calls deep.
local MODEL = [[
local des = require "des"
local tellers = des.resource(2, { name = "tellers" })
local served = 0
local function serve(n)
  local inner = n * 10
  des.sleep(1)
  served = served + inner
  des.sleep(1)
  return inner
end
local function customer(n)
  local mine = n + 1
  serve(mine)
  LEFT = (LEFT or 0) + 1
end
des.spawn{name = "cust", customer, 4}
local limit = 5
des.sleep(limit)
print("served " .. served .. " limit " .. limit)
]]

-- Both plain and sandboxed runs (the sandbox has no debug library).
for _, flags in ipairs{ "", "--sandbox" } do
  describe("deshost -i " .. flags .. ": the locals at the prompt", function()
    it("sees the main chunk's locals once it runs, and says why not before", function()
      local out = session(MODEL, { "tellers", "frame", "step", "frame", "served", "limit * 2",
                                   "tellers.name", "show limit" }, flags)
      assert.truthy(out:find("no frame: the main task has not started yet", 1, true), out)
      assert.truthy(out:find("task 'main' (#1), frame 0 of 1: ", 1, true), out)
      assert.truthy(out:find(":18 in main chunk", 1, true), out)
      assert.truthy(out:find("\n0\n10\ntellers\nlimit = 5\n", 1, true), out)
      assert.are.equal("nil\n", out:sub(1, 4)) -- before the main task ran
    end)

    it("assigns the frame's locals; globals stay globals", function()
      local out = session(MODEL, { "step", "limit = 7", "G1 = limit + 1", "frame cust",
                                   "G1", "run" }, flags)
      assert.truthy(out:find("\n8\n", 1, true), out)
      -- the model's local changed: its last line prints the new value
      assert.truthy(out:find("served 50 limit 7", 1, true), out)
    end)

    it("defines des at the prompt, and the model's own des wins", function()
      local out = session("DES_G = 1\n", { "type(des.now)", "des.now()" }, flags)
      assert.truthy(out:find("function\n0.0\n", 1, true), out)
      out = session(MODEL, { "step", "des.now()", "des == require('des')" }, flags)
      assert.truthy(out:find("0.0\ntrue\n", 1, true), out)
    end)

    it("selects a task's frame, moves up and down, sees locals and upvalues", function()
      local out = session(MODEL, { "step 2", "frame cust", "inner", "served", "up", "mine",
                                   "inner", "up", "down", "down" }, flags)
      assert.truthy(out:find("task 'cust' (#2), frame 0 of 2: ", 1, true), out)
      assert.truthy(out:find(":6 in function 'serve'", 1, true), out)
      assert.truthy(out:find("\n50\n0\n", 1, true), out) -- inner, then served (an upvalue)
      assert.truthy(out:find("frame 1 of 2: ", 1, true), out)
      assert.truthy(out:find(":13 in function <", 1, true), out)
      assert.truthy(out:find("\n5\nnil\n", 1, true), out) -- mine; inner is not visible
      assert.truthy(out:find("up: this is the outermost frame", 1, true), out)
      assert.truthy(out:find("down: this is the innermost frame", 1, true), out)
    end)

    it("skips the des library's frames: a task waiting in store:get is at its own line", function()
      local out = session([[
local des = require "des"
local st = des.store(2)
des.spawn{name = "getter", function()
  local item = st:get()
  GOT = item
end}
des.sleep(1)
st:put(42)
des.sleep(1)
]], { "step 2", "frame getter", "up", "list", "finish", "GOT" }, flags)
      assert.truthy(out:find("task 'getter' (#2), frame 0 of 1: ", 1, true), out)
      assert.truthy(out:find(":4 in function <", 1, true), out)
      assert.truthy(out:find("up: this is the outermost frame", 1, true), out)
      assert.truthy(out:find("   4 ->   local item = st:get()", 1, true), out)
      assert.falsy(out:find("store.lua", 1, true), out)
      assert.truthy(out:find("task 'getter' (#2) ended (done) at t=1\n42\n", 1, true), out)
    end)

    it("refuses frames of tasks that do not live, and falls back to main", function()
      local out = session(MODEL, { "frame nobody", "step 3", "frame cust", "until 3",
                                   "frame", "limit" }, flags)
      assert.truthy(out:find("frame: no live task 'nobody'", 1, true), out)
      assert.truthy(out:find("task 'main' (#1), frame 0 of 1: ", 1, true), out)
      assert.truthy(out:find("\n5\n", 1, true), out)
    end)

    it("lists the source around the selected frame", function()
      local out = session(MODEL, { "step 2", "list", "frame cust", "list", "list 1" }, flags)
      assert.truthy(out:find("  18 -> des.sleep(limit)", 1, true), out)
      assert.truthy(out:find("   6 ->   des.sleep(1)", 1, true), out)
      assert.truthy(out:find("   1    local des = require \"des\"", 1, true), out)
      out = session("local des = require 'des'\ndes.sleep(1)\n", { "step", "list" }, flags)
      assert.truthy(out:find("   2 -> des.sleep(1)", 1, true), out)
    end)

    it("finishes: to a new line of the frame, out of it, and to the task's end", function()
      local out = session(MODEL, { "step 2", "frame cust", "finish", "finish", "finish",
                                   "frame" }, flags)
      assert.truthy(out:find("frame 0 of 2: [^\n]*:8 in function 'serve'"), out)
      assert.truthy(out:find("task 'cust' (#2) ended (done) at t=2", 1, true), out)
      out = session(MODEL, { "step 2", "frame cust", "up", "finish", "time" }, flags)
      assert.truthy(out:find("task 'cust' (#2) ended (done) at t=2", 1, true), out)
    end)
  end)
end

describe("deshost --sandbox -i: a hostile model", function()
  it("cannot break the session by changing the libraries it shares", function()
    local out = session([[
local des = require "des"
local bad = setmetatable({}, { __tostring = function() error("no text for you") end,
                               __index = function() error("gotcha") end })
local function deep(depth) if depth == 0 then des.sleep(1) else deep(depth - 1) end end
des.spawn{name = "deep", deep, 30}
string.format, string.match, string.sub, string.gsub, string.find = nil, nil, nil, nil, nil
table.concat, table.pack, table.unpack, math.floor = nil, nil, nil, nil
ipairs, pcall, xpcall, tostring, setmetatable, load, next = nil, nil, nil, nil, nil, nil, nil
des.sleep(1)
]], { "step 2", "frame", "bad", "show bad", "bad.x", "show {bad}", "frame deep", "up",
      "depth", "list", "break if bad.x", "finish", "time", "step 3", "tasks" }, "--sandbox")
    assert.truthy(out:find("task 'main' (#1), frame 0 of 1: ", 1, true), out)
    assert.truthy(out:find("\n(a table value whose __tostring failed)\n", 1, true), out)
    assert.truthy(out:find("bad = (a table value whose __tostring failed)\n", 1, true), out)
    assert.truthy(out:find(":3: gotcha", 1, true), out)
    assert.truthy(out:find("  1 = (a table value whose __tostring failed)\n", 1, true), out)
    assert.truthy(out:find("task 'deep' (#2), frame 1 of 31: ", 1, true), out)
    assert.truthy(out:find("\n1\n", 1, true), out) -- depth, one call up
    assert.truthy(out:find("   4 -> local function deep(depth)", 1, true), out)
    assert.truthy(out:find("break if: the condition raises an error now", 1, true), out)
    assert.truthy(out:find("task 'deep' (#2) ended (done) at t=1", 1, true), out)
    assert.truthy(out:find("no more events; t=1\n", 1, true), out)
    assert.falsy(out:find("deshost:", 1, true), out) -- the session never failed itself
  end)
end)

describe("deshost -i: the truth after runs and breakpoints", function()
  local FAILING = [[
local des = require "des"
des.spawn{name = "bad", function() des.sleep(0.5); error("kaput") end}
des.spawn{name = "later", function() des.sleep(3) end}
des.sleep(2)
]]

  it("`run` after a task error says that events remain", function()
    local out = session(FAILING, { "run", "run", "time" })
    assert.truthy(out:find("task 'bad' (#2) failed at t=0.5", 1, true), out)
    assert.truthy(out:find("stopped at t=0.5 with 2 events queued", 1, true), out)
    assert.falsy(out:find("no more events; t=0.5", 1, true), out)
    assert.truthy(out:find("no more events; t=3\n", 1, true), out)
    out = session(FAILING, { "until 1", "time" }) -- the same through `until`
    assert.truthy(out:find("stopped at t=0.5 with 2 events queued", 1, true), out)
  end)

  it("`break at T` puts the clock at T: `time` agrees", function()
    local SLEEPY = "local des = require 'des'\ndes.spawn(des.sleep, 0.7)\ndes.sleep(2)\n"
    local out = session(SLEEPY, { "step", "break at 1", "run", "time", "events 1" })
    assert.truthy(out:find("breakpoint 1 (at 1) at t=1: the next event is at t=2\nt=1\n",
                           1, true), out)
    -- a breakpoint already behind the clock stops at once, without moving it
    out = session(SLEEPY, { "until 1.5", "break at 1", "run", "time" })
    assert.truthy(out:find("breakpoint 1 (at 1) at t=1.5: the next event is at t=2\nt=1.5\n",
                           1, true), out)
  end)

  it("a `break if` that raises says so once, and stops there once", function()
    local out = session(FAILING, { "break if nosuch.field", "run", "run", "time" })
    local msg = "attempt to index a nil value (global 'nosuch')"
    assert.truthy(out:find("break if: the condition raises an error now", 1, true), out)
    local n = select(2, out:gsub("nosuch", ""))
    assert.are.equal(2, n, out) -- the message, and the breakpoint's own text
    assert.truthy(out:find(msg, 1, true), out)
    -- one that starts raising later stops the run once, with the error
    out = session([[
local des = require "des"
des.spawn{name = "t", function() for i = 1, 5 do des.sleep(1); X = i end end}
]], { "break if X == nil or X.v > 2", "run", "time", "run", "time" })
    assert.truthy(out:find("breakpoint 1 (if X == nil or X.v > 2) at t=1: its condition raised"
                           .. " an error (false from now on): ", 1, true), out)
    assert.truthy(out:find("attempt to index a number value (global 'X')", 1, true), out)
    assert.truthy(out:find("t=1\nno more events; t=5\n", 1, true), out)
    assert.are.equal(1, select(2, out:gsub("attempt to", "")), out)
  end)
end)

describe("deshost -i: show and the deadlock report", function()
  local STATS = [[
local des = require "des"
local res = des.resource(1, { name = "desk" })
local store = des.store(3)
local tank = des.container(10, 4)
local mon = des.monitor("lengths")
mon:observe(2); mon:observe(4)
local level = des.monitor.level("queue", 0)
des.spawn{name = "user", function() local _r <close> = res:acquire(); des.sleep(2) end}
des.sleep(1)
]]

  it("prints the report of a monitor, resource, store and container", function()
    local out = session(STATS, { "step 2", "show mon", "show res", "show store", "show tank",
                                 "show level", "show {a = 1}" })
    assert.truthy(out:find("mon = tally 'lengths': tally, count=2, mean=3, ", 1, true), out)
    assert.falsy(out:find("m2", 1, true), out)
    assert.truthy(out:find("res = des.resource 'desk': 1/1 in use", 1, true), out)
    assert.truthy(out:find("  wait (waiting time): tally, count=1, mean=0", 1, true), out)
    assert.truthy(out:find("  busy (in use): level, mean=", 1, true), out)
    assert.truthy(out:find("store = des.store: 0 items", 1, true), out)
    assert.truthy(out:find("tank = des.container: level 4 of 10", 1, true), out)
    assert.truthy(out:find("level = level 'queue': level, ", 1, true), out)
    assert.truthy(out:find("  a = 1", 1, true), out)
  end)

  it("shows the deadlock report when a run ends with stuck tasks", function()
    local out = session([[
local des = require "des"
local ev = des.event()
des.spawn{name = "waiter", function() ev:wait() end}
des.spawn{name = "bg", daemon = true, function() ev:wait() end}
des.sleep(1)
]], { "run" })
    assert.truthy(out:find("no more events; t=1\nthe simulation ran out of events at t=1 while"
                           .. " tasks still wait (a deadlock?):\n  task 'waiter' (#2): waiting"
                           .. " on event since t=0\n", 1, true), out)
    assert.falsy(out:find("bg", 1, true), out)
  end)
end)
