-- report_spec.lua -- `deshost --report` checked in a real browser: headless
-- Chromium opens each report file, and the test fails on any console
-- message (errors included), a script error, or a missing chart. It saves
-- a screenshot of the bank model's report next to the deshost binary
-- (report_bank.png). The pages: a model with resources, a store-less
-- classic, a failing model, and (from test_report) an experiment's rows
-- and a model that names its statistics with HTML and script text.
local h = require "helpers"
local DESHOST = h.deshost()
local SRC = os.getenv("DES_SOURCE_DIR") or "."
local BUILD = DESHOST:match("^(.*)/[^/]*$") or "."

local sh = h.capture

-- Open path in headless Chromium: its DOM after the scripts ran, and the
-- browser's log (console messages are its "CONSOLE" lines).
local function open(path, shot)
  local profile = sh("mktemp -d"):gsub("%s+$", "")
  local flags = "--headless --no-sandbox --disable-gpu --disable-background-networking "
    .. "--disable-component-update --disable-sync --no-first-run --user-data-dir=" .. profile
    .. " --window-size=1200,2400"
  -- not under the sanitized build's preload (a stock Chromium)
  local chromium = "env -u LD_PRELOAD -u ASAN_OPTIONS timeout 120 chromium "
  local log = os.tmpname()
  local dom = sh(string.format("%s %s --enable-logging=stderr --v=0 --dump-dom 'file://%s' 2>%s",
                               chromium, flags, path, log))
  local logged = h.slurp(log)
  os.remove(log)
  if shot then
    sh(string.format("%s %s --screenshot=%s 'file://%s' 2>/dev/null", chromium, flags, shot, path))
  end
  sh("rm -rf " .. profile)
  return dom, logged
end

-- The body's data-* attributes the page sets as it draws.
local function body_of(dom)
  local b = dom:match("<body[^>]*>") or ""
  return { charts = tonumber(b:match('data%-charts="(%d+)"')),
           errors = tonumber(b:match('data%-errors="(%d+)"')),
           done = b:match('data%-done="1"') ~= nil }
end

local function check_page(path, charts, shot)
  local dom, logged = open(path, shot)
  local consoled = {}
  for line in logged:gmatch("[^\n]*CONSOLE[^\n]*") do consoled[#consoled + 1] = line end
  assert.are.same({}, consoled) -- no console message at all
  local b = body_of(dom)
  assert.is_true(b.done, "the page's script did not finish")
  assert.are.equal(0, b.errors)
  assert.are.equal(charts, b.charts)
  assert.are.equal(charts, select(2, dom:gsub("<canvas", "")))
  return dom
end

describe("deshost --report", function()
  it("refuses a missing file name, and says when it cannot write", function()
    local _, out, rc
    out, rc = sh(string.format("%q --report 2>&1", DESHOST))
    assert.are.equal(2, rc)
    assert.is_truthy(out:find("--report needs a file name", 1, true), out)
    local clock = SRC .. "/scripts/models/clock.lua"
    _, rc = sh(string.format("%q --report= %s 2>&1", DESHOST, clock))
    assert.are.equal(2, rc)
    out, rc = sh(string.format("%q --report /nonexistent-dir/r.html %s 2>&1", DESHOST, clock))
    assert.are.equal(1, rc)
    local said = "deshost: --report: cannot write '/nonexistent-dir/r.html'"
    assert.is_truthy(out:find(said, 1, true), out)
    assert.is_truthy(out:find("client ticked 100 times", 1, true), out) -- the run itself went on
  end)

  it("writes the page without a browser: data inlined, no network", function()
    local path = os.tmpname()
    local _, rc = sh(string.format("%q --seed 9 --until 300 --report %q %s a b", DESHOST, path,
                                   SRC .. "/scripts/models/bank.lua"))
    assert.are.equal(0, rc)
    local page = h.slurp(path)
    os.remove(path)
    assert.is_truthy(page:find('"seed":"9"', 1, true))
    assert.is_truthy(page:find('"args":["a","b"]', 1, true))
    assert.is_truthy(page:find('"until":"300"', 1, true))
    assert.is_truthy(page:find('"time":300', 1, true))
    assert.is_truthy(page:find("uPlot v1.6.32", 1, true) or page:find("(v1.6.32)", 1, true))
    assert.is_nil(page:find("https?://[^\"]*%.js"))    -- no script from the network
    assert.is_nil(page:find("<script[^>]*src="))
    assert.is_nil(page:find("<link[^>]*href="))
  end)
end)

describe("the HTML report in Chromium", function()
  it("draws a model with resources, a store-less classic and a failed run", function()
    if not h.have("chromium") then pending("chromium is not installed") return end
    local bank = os.tmpname() .. ".html"
    local _, rc = sh(string.format("%q --report %q %s/scripts/models/bank.lua >/dev/null",
                                   DESHOST, bank, SRC))
    assert.are.equal(0, rc)
    -- 4 levels (tellers busy and queue, coffee, customers inside), 1 histogram
    local shot = BUILD .. "/report_bank.png"
    os.remove(shot)
    local dom = check_page(bank, 5, shot)
    for _, s in ipairs { "tellers.busy", "tellers.queue", "tellers.wait", "waiting time",
                         "customers inside", "container #1.level", "p90 = ", "events handled" } do
      assert.is_truthy(dom:find(s, 1, true), s)
    end
    local png = h.slurp(shot)
    assert.are.equal("\137PNG", png:sub(1, 4))
    assert.is_true(#png > 20000)
    os.remove(bank)

    local shop = os.tmpname() .. ".html"
    sh(string.format("%q --sandbox --report %q %s/scripts/models/machineshop.lua >/dev/null",
                     DESHOST, shop, SRC))
    check_page(shop, 3) -- repairman busy and queue, repairing; no histogram
    os.remove(shop)

    local model = h.tmpfile("local des = require 'des'\nlocal q = des.monitor.level('q')\n"
                            .. "for i = 1, 5 do q:set(i); des.sleep(1) end\n"
                            .. "error('the model broke')\n")
    local failed = os.tmpname() .. ".html"
    local _, frc = sh(string.format("%q --report %q %q 2>/dev/null", DESHOST, failed, model))
    assert.are.equal(1, frc)
    dom = check_page(failed, 1)
    assert.is_truthy(dom:find("the model broke", 1, true))
    os.remove(model)
    os.remove(failed)
  end)

  it("draws an experiment's rows and keeps a model's text out of the page's code", function()
    if not h.have("chromium") then pending("chromium is not installed") return end
    local dir = sh("mktemp -d"):gsub("%s+$", "")
    local _, rc = sh(string.format("%q %q", BUILD .. "/test_report", dir))
    assert.are.equal(0, rc)
    local dom = check_page(dir .. "/experiment.html", 2) -- two results
    assert.is_truthy(dom:find("utilisation", 1, true))
    assert.is_truthy(dom:find("sweep &lt;servers&gt;", 1, true))
    dom = check_page(dir .. "/hostile.html", 5) -- q, inf, <b>x</b> busy and queue; 1 histogram
    local shown = "&lt;/script&gt;&lt;script&gt;document.body.dataset.errors = 98"
    assert.is_truthy(dom:find(shown, 1, true))
    sh("rm -rf " .. dir)
  end)
end)
