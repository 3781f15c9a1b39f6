-- progress_spec.lua -- the progress line of `deshost` (host/src/cli/
-- progress.c): on a terminal (tmux) it appears for a long run, updates
-- itself on one line, and is erased at the end; --no-progress keeps it
-- off; --progress forces it into a pipe, one line a second.
local DESHOST = assert(os.getenv("DESHOST"), "set DESHOST to the deshost binary (ctest does)")

-- A model that never ends by itself: ended by Ctrl-C (status 130).
local FOREVER = "local des = require 'des'\n"
  .. "for i = 1, 3 do des.spawn(function() while true do des.sleep(1) end end) end\n"
  .. "while true do des.sleep(1) end\n"

local function tmpfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local function have_tmux()
  return os.execute("command -v tmux >/dev/null 2>&1") == true
end

-- Run deshost with flags on a model in a tmux pane; returns the
-- functions screen(), wait_for(text), keys(k) and close().
local function pane(flags, model)
  local name = "deshost_progress_" .. tostring(os.time()) .. tostring(math.random(1e6))
  local function tmux(args) return os.execute("tmux " .. args .. " >/dev/null 2>&1") end
  assert.is_true(tmux(string.format(
    "new-session -d -s %s -x 150 -y 20 '%s %s %s; echo EXITED $?; sleep 30'",
    name, DESHOST, flags, model)))
  local P = {}
  function P.screen()
    local p = io.popen("tmux capture-pane -p -t " .. name)
    local s = p:read("a")
    p:close()
    return s
  end
  function P.wait_for(pattern, plain)
    for _ = 1, 150 do
      local s = P.screen()
      if s:find(pattern, 1, plain) then return s end
      os.execute("sleep 0.1")
    end
    return nil
  end
  function P.keys(k) tmux("send-keys -t " .. name .. " " .. k) end
  function P.close() tmux("kill-session -t " .. name) end
  return P
end

describe("the progress line", function()
  it("appears on a terminal, updates on one line, and is erased at the end", function()
    if not have_tmux() then pending("tmux is not installed") return end
    local model = tmpfile(FOREVER)
    local p = pane("--until 1e9", model)
    local first = p.wait_for("events [%d.]+[kMG]?%s+[%d.]+[kMG]?/s%s+tasks 4")
    assert.is_truthy(first, "no progress line")
    assert.is_truthy(first:find("t=[%d.e+]+/1e%+09 %[%.+%]%s+0%%"), first)
    local ev1 = first:match("events (%S+)")
    -- it updates itself: the count changes, still on one line
    local later
    for _ = 1, 100 do
      later = p.screen()
      local ev2 = later:match("events (%S+)")
      if ev2 and ev2 ~= ev1 then break end
      os.execute("sleep 0.1")
    end
    assert.are_not.equal(ev1, later:match("events (%S+)"))
    local _, lines = later:gsub("events %S+", "")
    assert.are.equal(1, lines)
    p.keys("C-c")
    local final = p.wait_for("EXITED 130", true)
    p.close()
    os.remove(model)
    assert.is_truthy(final, "did not exit")
    assert.is_nil(final:find("events %S+%s+%S+/s"), final) -- erased
    assert.is_truthy(final:find("stopped by Ctrl-C", 1, true), final)
  end)

  it("stays off with --no-progress", function()
    if not have_tmux() then pending("tmux is not installed") return end
    local model = tmpfile(FOREVER)
    local p = pane("--no-progress", model)
    os.execute("sleep 2.5") -- a line would have come after one second
    local s = p.screen()
    p.keys("C-c")
    local final = p.wait_for("EXITED 130", true)
    p.close()
    os.remove(model)
    assert.is_nil(s:find("events", 1, true), s)
    assert.is_truthy(final)
  end)

  it("leaves a short run's output untouched", function()
    if not have_tmux() then pending("tmux is not installed") return end
    local model = tmpfile("local des = require 'des'\ndes.sleep(5)\nprint('done at', des.now())\n")
    local p = pane("", model)
    local final = p.wait_for("EXITED 0", true)
    p.close()
    os.remove(model)
    assert.is_truthy(final)
    assert.is_truthy(final:find("done at%s+5.0%s*\nEXITED 0"), final)
  end)

  it("goes into a pipe with --progress, one line a second", function()
    local model = tmpfile(FOREVER)
    local p = io.popen(string.format("timeout -s INT 3.5 %q --progress %q 2>&1", DESHOST, model))
    local out = p:read("a")
    p:close()
    os.remove(model)
    assert.is_truthy(out:find("deshost: t=%S+%s+events %S+%s+%S+/s%s+tasks 4\n"), out)
    assert.is_nil(out:find("\r", 1, true)) -- no terminal control in a pipe
    assert.is_nil(out:find("\27", 1, true))
  end)
end)
