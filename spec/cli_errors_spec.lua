-- cli_errors_spec.lua -- the CLI's error reports say what helps (issue 16,
-- items 10 and 11): a model that cannot be opened or does not compile ends
-- without a traceback of nothing, and an unhandled preemption names who
-- preempted, when and on what.
local h = require "helpers"

-- Run deshost with args (a shell fragment) and optional stdin text;
-- returns the output (stdout and stderr) and the exit status.
local function run(args, stdin)
  local input = h.tmpfile(stdin or "")
  local out, status = h.capture(("%s %s < %s 2>&1"):format(h.q(h.deshost()), args, h.q(input)))
  os.remove(input)
  return out, status
end

describe("deshost: errors before the model runs", function()
  it("a file that cannot be opened: one line, exit 1", function()
    for _, flags in ipairs{ "", "--sandbox", "-i", "--until 3" } do
      local out, status = run(flags .. " /nonexistent/nope.lua")
      assert.are.equal("deshost: cannot open /nonexistent/nope.lua: No such file or directory\n",
                       out)
      assert.are.equal(1, status)
    end
  end)

  it("a syntax error: the message only, from a file, stdin and -i", function()
    local path = h.tmpfile("local x = = 1\n")
    for _, args in ipairs{ "%q", "--sandbox %q", "-i %q" } do
      local out, status = run(args:format(path))
      assert.are.equal("deshost: " .. path .. ":1: unexpected symbol near '='\n", out)
      assert.are.equal(1, status)
    end
    os.remove(path)
    local out, status = run("-", "local x = = 1\n")
    assert.are.equal("deshost: stdin:1: unexpected symbol near '='\n", out)
    assert.are.equal(1, status)
  end)

  it("still gives a traceback for errors while the model runs", function()
    local path = h.tmpfile("error('at run time')\n")
    local out, status = run(string.format("%q", path))
    os.remove(path)
    assert.truthy(out:find("stack traceback:", 1, true), out)
    assert.are.equal(1, status)
  end)
end)

describe("deshost: an unhandled preemption", function()
  local PREEMPT = [[
local des = require "des"
local pr = des.resource(1, { preemptive = true, name = "machine" })
des.spawn{name = "low", function()
  local _r <close> = pr:acquire(5)
  des.sleep(10)
end}
des.spawn{name = "high", function()
  des.sleep(2.5)
  local _r <close> = pr:acquire(1)
  des.sleep(1)
end}
%s
]]

  it("names who preempted the task, when, and on what", function()
    local path = h.tmpfile(PREEMPT:format(""))
    local out, status = run(string.format("%q", path))
    os.remove(path)
    assert.truthy(out:find("task 'low' (#2) failed at t=2.5: interrupted: preempted by task"
                           .. " 'high' (#3) at t=2.5 from resource 'machine' (held since t=0.0)",
                           1, true), out)
    assert.falsy(out:find("table: 0x", 1, true), out)
    assert.are.equal(1, status)
  end)

  it("keeps the cause's fields, and a model cannot change how it prints", function()
    local path = h.tmpfile([[
local des = require "des"
local pr = des.resource(1, { preemptive = true })
local low = des.spawn(function()
  local _r <close> = pr:acquire(5)
  local ok, err = pcall(des.sleep, 10)
  local c = err.cause
  print(ok, c.kind, c.by.id, c.usage_since, c.time, c.resource == pr)
  print(pcall(setmetatable, c, {}))
  print(getmetatable(c))
  print(tostring(c))
end)
des.spawn(function() des.sleep(1); local _r <close> = pr:acquire(1) end)
low:join()
]])
    local out = run(string.format("%q", path))
    os.remove(path)
    assert.truthy(out:find("false\tpreempted\t3\t0.0\t1.0\ttrue\n", 1, true), out)
    assert.truthy(out:find("false\tcannot change a protected metatable\n", 1, true), out)
    assert.truthy(out:find("des.Preempted\n", 1, true), out)
    assert.truthy(out:find("preempted by task #3 at t=1.0 (held since t=0.0)\n", 1, true), out)
  end)
end)
