-- spec/sandbox_spec.lua -- what a model run with `deshost --sandbox` can and
-- cannot do (docs/bad-inputs.md, "Sandbox and limits"): the exact set of
-- globals, no way to open, stat or probe a path (require, package, load,
-- the monitor's export), and load with the sandbox's globals.
--
-- The binary comes from the DESHOST environment variable (ctest sets it).
local h = require "helpers"
local contains, exists = h.contains, h.exists

local cli -- its dir is the models' working directory
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

-- Run `text` as a model under --sandbox (with limits) in cli.dir; returns
-- the exit status, stdout and stderr.
local function sandboxed(text)
  cli:model(text)
  return cli:run("--sandbox", "--mem-limit", "64M", "--max-steps", "100000000", "model.lua")
end

-- Run a model that must end well; returns its stdout.
local function ok_model(text)
  local code, out, err = sandboxed(text)
  assert.equal(0, code, err)
  return out
end

describe("the sandbox's globals", function()
  it("are exactly the allow-list", function()
    local out = ok_model([[
local ks = {}
for k in pairs(_G) do ks[#ks + 1] = k end
table.sort(ks)
print(table.concat(ks, " "))
local pk = {}
for k in pairs(package) do pk[#pk + 1] = k end
table.sort(pk)
print(table.concat(pk, " "))
]])
    assert.equal("_G _VERSION arg assert collectgarbage coroutine error getmetatable ipairs"
                 .. " load math next package pairs pcall print rawequal rawget rawlen rawset"
                 .. " require select setmetatable string table tonumber tostring type utf8 warn"
                 .. " xpcall\nloaded preload\n", out)
  end)

  it("have no io, os, debug, dofile, loadfile, nor any path of package", function()
    local out = ok_model([[
print(io, os, debug, dofile, loadfile)
print(package.path, package.cpath, package.searchpath, package.loadlib, package.searchers,
      package.config)
print(package.loaded.package == package, package.loaded.io, package.loaded.os,
      package.loaded.debug)
]])
    assert.equal("nil\tnil\tnil\tnil\tnil\n" .. "nil\tnil\tnil\tnil\tnil\tnil\n"
                 .. "true\tnil\tnil\tnil\n", out)
  end)
end)

describe("require in the sandbox", function()
  it("finds the des library and nothing on disk, whatever package says", function()
    cli:model("print('LOADED FROM DISK') return {}", "evil.lua")
    os.execute("mkdir -p " .. h.q(cli.dir .. "/des"))
    cli:model("print('LOADED FROM DISK') return {}", "des/evil.lua")
    local out = ok_model([[
local des = require "des"
assert(require "des.store" and require "des.monitor" and des.container)
package.path, package.cpath = "./?.lua;./?/init.lua", "./?.so"
package.searchers = { function() error("searcher called") end }
package.searchpath = function() error("searchpath called") end
for _, name in ipairs{ "evil", "des.evil", "./evil.lua", "/etc/passwd", "../" .. "x",
                       "lfs", "socket.core", ("x"):rep(5000) } do
  local ok, err = pcall(require, name)
  assert(not ok, name)
  assert(err:find("not found: a sandboxed model has no file access", 1, true), err)
end
package = nil -- the real tables stay in use
assert(require "des" == des)
print("done")
]])
    assert.equal("done\n", out)
  end)

  it("runs a model's own preload loaders (text it already holds)", function()
    local out = ok_model([[
package.preload.mine = function(name, where) return { name = name, where = where } end
local m = require "mine"
print(m.name, m.where, require "mine" == m, package.loaded.mine == m)
package.preload.none = function() end
print(require "none")
]])
    assert.equal("mine\t:preload:\ttrue\ttrue\ntrue\t:preload:\n", out)
  end)
end)

describe("load in the sandbox", function()
  it("gives chunks the sandbox's globals by default, as stock Lua", function()
    local out = ok_model([[
print(load("return print")() == print)
print(load("x = 5")(), x)
local env = { y = 7 }
print(load("return y", "=c", "t", env)())
print(pcall(load("return print", "=c", "t", nil)))
local parts, i = { "return ", "1 + ", "2" }, 0
print(load(function() i = i + 1 return parts[i] end)())
]])
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal("true", lines[1])
    assert.equal("nil\t5", lines[2])
    assert.equal("7", lines[3])
    contains(lines[4], "false") -- an explicit nil env: no globals, as stock
    assert.equal("3", lines[5])
  end)

  it("refuses binary chunks, whichever mode is asked for and however they come", function()
    local out = ok_model([[
local bin = string.dump(function() return 1 end)
print(load(bin))
print(load(bin, "=b", "b"))
print(load(bin, "=b", "bt"))
local sent = false
print(load(function() if sent then return nil end sent = true return bin end))
print(load("return 1", "=t", "b"))
]])
    local n = 0
    for l in out:gmatch("[^\n]+") do
      n = n + 1
      contains(l, "nil")
      assert.truthy(l:find("binary", 1, true) or l:find("text chunks only", 1, true), l)
    end
    assert.equal(5, n)
  end)
end)

describe("the monitor's export in the sandbox", function()
  it("fails with a clear error for a path and writes nothing", function()
    local code, _, err = sandboxed([[
local des = require "des"
local m = des.monitor("w")
m:observe(1)
assert(des.monitor.csv{m}:find("w", 1, true))
assert(des.monitor.json{m}:find("w", 1, true))
local ok, e = pcall(des.monitor.json, {m}, "out.json")
assert(not ok and e:find("json: no file access in the sandbox", 1, true), e)
des.monitor.csv({m}, "out.csv")
]])
    assert.equal(1, code)
    contains(err, "csv: no file access in the sandbox", "out.csv", "model.lua:8")
    assert.is_false(exists(cli.dir .. "/out.csv"))
    assert.is_false(exists(cli.dir .. "/out.json"))
  end)
end)

describe("collectgarbage in the sandbox", function()
  it("a stopped collector does not get a model past the memory limit", function()
    local code, _, err = sandboxed([[
collectgarbage("stop")
collectgarbage("incremental", 10, 1000)
local t = {}
while true do t[#t + 1] = ("x"):rep(1000) .. #t end
]])
    assert.equal(1, code)
    contains(err, "not enough memory", "memory limit")
  end)
end)

describe("what the CLI keeps to itself", function()
  it("the REPL's commands are not a module a model can require", function()
    local out = ok_model([[
local ok, err = pcall(require, "des.repl")
print(ok, err:find("not found", 1, true) ~= nil)
print(pcall(require, "repl"))
print(require("des").repl)
]])
    contains(out, "false\ttrue\nfalse\t", "\nnil\n")
  end)

  it("the deadlock report reads the tasks from C, whatever the model did to its globals", function()
    local code, out, err = sandboxed([[
local des = require "des"
des.spawn{name = "stuck", function() des.event("never"):wait() end}
des.spawn{name = "d", daemon = true, function() des.event():wait() end}
des.sleep(2.5)
require, table, string, tostring, pairs = nil, nil, nil, nil, nil
setmetatable(_G, { __index = function() error("global read") end })
print("main done")
]])
    assert.equal(0, code, err)
    assert.equal("main done\n", out)
    contains(err, "ran out of events at t=2.5",
             "task 'stuck' (#2): waiting on event 'never' since t=0.0")
    assert.falsy(err:find("'d'", 1, true))
  end)
end)

describe("des.so for a stock lua5.4", function()
  it("does not carry the REPL", function()
    local ok, err = pcall(require, "des.repl")
    assert.is_false(ok)
    contains(err, "not found")
  end)
end)
