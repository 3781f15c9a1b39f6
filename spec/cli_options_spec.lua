-- spec/cli_options_spec.lua -- the command line as lua(1) and GNU
-- getopt_long users expect it: --name=value, a model on standard input,
-- -i without a model, and every example of --help runs.
local h = require "helpers"
local contains = h.contains

local cli
setup(function() cli = h.cli() end)
teardown(function() cli:cleanup() end)

describe("deshost options", function()
  it("take --name=value as well as --name value", function()
    local m = cli:model("local des = require 'des'\ndes.sleep(10)\nprint('late')\n")
    local code, out = cli:run("--until=5", "--seed=3", "--max-steps=100000", "--mem-limit=64M", m)
    assert.equal(0, code)
    assert.equal("", out)
    code = cli:run("--until=", m)
    assert.equal(2, code)
    local _, _, err = cli:run("--trace=1", m)
    contains(err, "option '--trace=1' takes no value")
  end)

  it("refuse a time that is not finite with the usage status", function()
    local m = cli:model("local des = require 'des'\n")
    for _, t in ipairs{"inf", "-1", "nan", "1e999", "x"} do
      local code, _, err = cli:run("--until", t, m)
      assert.equal(2, code)
      contains(err, "--until needs a finite time >= 0")
    end
  end)

  it("read the model from standard input for '-'", function()
    local m = cli:model("local des = require 'des'\ndes.sleep(2)\n"
                        .. "print('stdin', des.now(), arg[1])\n")
    local code, out = cli:run_in(m, "-", "x1")
    assert.equal(0, code)
    assert.equal("stdin\t2.0\tx1\n", out)
  end)

  it("open the prompt with -i and no model, after the -e chunks", function()
    local input = cli:model("print(x + 1)\n", "input.txt")
    local code, out = cli:run_in(input, "-i", "-e", "x = 41")
    assert.equal(0, code)
    contains(out, "42")
  end)

  it("show examples in --help that run", function()
    local _, help = cli:run("--help")
    local src = os.getenv("DES_SOURCE_DIR") or "."
    local n = 0
    for line in help:gmatch("[^\n]+") do
      local args = line:match("^  deshost (.+)$")
      if args then
        n = n + 1
        local words = {}
        for w in args:gmatch("'[^']*'") do words[#words + 1] = w:sub(2, -2) end
        args = args:gsub("'[^']*'", "")
        local list = {}
        for w in args:gmatch("%S+") do
          if w:match("^scripts/") then w = src .. "/" .. w end
          list[#list + 1] = w
        end
        -- put the quoted words back after their option (-e 'chunk')
        for i, w in ipairs(list) do
          if w == "-e" then table.insert(list, i + 1, table.remove(words, 1)) end
        end
        local code, _, err = cli:run(table.unpack(list))
        assert(code == 0, line .. " exited with " .. code .. ": " .. err)
      end
    end
    assert(n >= 5, "expected the help to show examples")
  end)
end)
