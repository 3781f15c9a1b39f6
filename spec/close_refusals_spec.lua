-- spec/close_refusals_spec.lua -- while the host closes its Lua state,
-- finalizers run once and what they create is never finalized: an event,
-- a composite, a timeout, a request, a wait queue or a scheduled call made
-- then would stay linked into objects that are freed (the sandbox fuzzer's
-- use-after-free in ev_gc), so each constructor refuses with a clear error.
local h = require "helpers"

describe("a finalizer that runs while the state closes", function()
  it("cannot make des objects that link into others", function()
    local cli = h.cli()
    local m = cli:model([[
local des = require "des"
local ev, res, st = des.event("pending"), des.resource(1), des.store()
local keep = { ev, res, st }
setmetatable({}, { __gc = function()
  for _, make in ipairs {
    function() return des.event("late") end,
    function() return des.any{ ev } end,
    function() return des.all{ ev } end,
    function() return des.timeout(1) end,
    function() return res:request() end,
    function() return st:get_request() end,
    function() return des.schedule(1, print) end,
  } do
    local ok, err = pcall(make)
    io.write(ok and "made\n" or (tostring(err):match("the Lua state is closing") and "refused\n"
                                   or ("other: " .. tostring(err) .. "\n")))
  end
  keep[#keep + 1] = ev
end })
]])
    local code, out, err = cli:run(m)
    cli.cleanup()
    assert.equal(0, code, err)
    local _, refused = out:gsub("refused\n", "")
    assert.equal(7, refused, out)
  end)
end)
