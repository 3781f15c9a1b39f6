-- progress_spec.lua -- the progress line of `deshost` (host/src/cli/
-- progress.c): on a terminal (tmux) it appears for a long run, updates
-- itself on one line, and is erased at the end; --no-progress keeps it
-- off; --progress forces it into a pipe, one line a second.
local h = require "helpers"

-- A model that never ends by itself: ended by Ctrl-C (status 130).
local FOREVER = "local des = require 'des'\n"
  .. "for i = 1, 3 do des.spawn(function() while true do des.sleep(1) end end) end\n"
  .. "while true do des.sleep(1) end\n"

-- Run deshost with flags on a model in a tmux pane (see helpers.tmux).
local function pane(flags, model)
  return h.tmux(("%s %s %s; echo EXITED $?; sleep 30"):format(h.q(h.deshost()), flags, h.q(model)),
                150, 20, 150)
end

describe("the progress line", function()
  it("appears on a terminal, updates on one line, and is erased at the end", function()
    if not h.have("tmux") then pending("tmux is not installed") return end
    local model = h.tmpfile(FOREVER)
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
    if not h.have("tmux") then pending("tmux is not installed") return end
    local model = h.tmpfile(FOREVER)
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
    if not h.have("tmux") then pending("tmux is not installed") return end
    local model = h.tmpfile("local des = require 'des'\ndes.sleep(5)\n"
                            .. "print('done at', des.now())\n")
    local p = pane("", model)
    local final = p.wait_for("EXITED 0", true)
    p.close()
    os.remove(model)
    assert.is_truthy(final)
    assert.is_truthy(final:find("done at%s+5.0%s*\nEXITED 0"), final)
  end)

  it("goes into a pipe with --progress, one line a second", function()
    local model = h.tmpfile(FOREVER)
    local out = h.capture(("timeout -s INT 3.5 %s --progress %s 2>&1"):format(h.q(h.deshost()),
                                                                              h.q(model)))
    os.remove(model)
    assert.is_truthy(out:find("deshost: t=%S+%s+events %S+%s+%S+/s%s+tasks 4\n"), out)
    assert.is_nil(out:find("\r", 1, true)) -- no terminal control in a pipe
    assert.is_nil(out:find("\27", 1, true))
  end)
end)
