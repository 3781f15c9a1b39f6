-- spec/store_filter_spec.lua -- a filtered get takes a matching item that
-- is already in the store, even while another getter waits for something
-- else (issue 15 item 11, as SimPy's FilterStore).
local des = require "des"

local function is(x) return function(item) return item == x end end

describe("store filter", function()
  it("takes spam at once while a getter waits for eggs", function()
    local sim = des.new{}
    local log = {}
    sim:spawn(function()
      local st = des.store()
      st:put("spam")
      des.spawn(function()
        local item = st:get(is("eggs"))
        log[#log + 1] = "eggs getter got " .. item .. " at " .. des.now()
      end)
      des.sleep(1) -- the eggs getter now waits
      local item, err = st:get(is("spam"), 0)
      log[#log + 1] = tostring(item or err) .. " at " .. des.now()
      des.sleep(1)
      st:put("eggs")
    end)
    sim:run()
    assert.same({ "spam at 1.0", "eggs getter got eggs at 2.0" }, log)
  end)

  it("takes it also without a filter, and a plain getter behind a filtered one", function()
    local sim = des.new{}
    local got = {}
    sim:spawn(function()
      local st = des.store()
      st:put("a"); st:put("b")
      des.spawn(function() got.waiter = st:get(is("z")) end)
      des.sleep(1)
      got.plain = st:get()
      got.second = st:get(is("b"))
      assert.equal(0, #st)
      st:put("z")
    end)
    sim:run()
    assert.same({ waiter = "z", plain = "a", second = "b" }, got)
  end)

  it("still waits, in order, when no item matches", function()
    local sim = des.new{}
    local order = {}
    sim:spawn(function()
      local st = des.store()
      st:put("x")
      des.spawn(function() st:get(is("y")); order[#order + 1] = "first" end)
      des.spawn(function() st:get(is("y")); order[#order + 1] = "second" end)
      des.sleep(1)
      st:put("y"); st:put("y")
    end)
    sim:run()
    assert.same({ "first", "second" }, order)
  end)

  it("in a priority store takes the smallest matching key while others wait", function()
    local sim = des.new{}
    local got
    sim:spawn(function()
      local st = des.store(nil, { priority = true })
      st:put({ 5, "late" }); st:put({ 1, "soon" }); st:put({ 3, "mid" })
      des.spawn(function() st:get(function(it) return it[2] == "never" end) end)
      des.sleep(1)
      got = st:get(function(it) return it[1] > 1 end)[2]
    end)
    pcall(sim.run, sim) -- (the "never" getter is left waiting)
    assert.equal("mid", got)
  end)
end)
