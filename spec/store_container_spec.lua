-- store_container_spec.lua -- des.store and des.container: blocking at the
-- edges, order, filters, priority, timeouts, abandoned waiters.
local des = require "des"
local run_task = require("helpers").run_task

describe("des.store", function()
  it("blocks put when full and get when empty, FIFO", function()
    local log = {}
    run_task(function()
      local st = des.store(2)
      des.spawn(function()
        for i = 1, 4 do st:put(i); log[#log + 1] = ("put%d@%g"):format(i, des.now()) end
      end)
      des.spawn(function()
        for _ = 1, 4 do des.sleep(1); log[#log + 1] = ("get%d@%g"):format(st:get(), des.now()) end
      end)
    end)
    assert.are.same({ "put1@0", "put2@0", "get1@1", "put3@1", "get2@2", "put4@2",
                      "get3@3", "get4@4" }, log)
  end)

  it("gets the first item matching a filter", function()
    run_task(function()
      local st = des.store()
      for _, v in ipairs{ 1, 8, 3, 9 } do st:put(v) end
      assert.are.equal(8, st:get(function(x) return x > 5 end))
      assert.are.equal(1, st:get())
    end)
  end)

  it("hands out the smallest key first when it is a priority store", function()
    run_task(function()
      local pq = des.store(nil, { priority = true })
      pq:put{ 3, "c" }
      pq:put{ 1, "a" }
      pq:put{ 2, "b" }
      assert.are.equal("a", pq:get()[2])
      assert.are.equal("b", pq:get()[2])
      assert.has_error(function() pq:put("no key") end)
    end)
  end)

  it("times out and never takes an item later", function()
    run_task(function()
      local st = des.store()
      local item, err = st:get(nil, 2)
      assert.is_nil(item)
      assert.are.equal("timed out", err)
      st:put("x")
      assert.are.equal(1, #st)
      assert.are.equal("x", st:get())
    end)
  end)

  it("gives an item back when its getter is cancelled before resuming", function()
    run_task(function()
      local st = des.store()
      local w = des.spawn(function() return st:get() end)
      des.sleep(1)
      st:put("x") -- handed to w, which has not run yet
      w:cancel()
      assert.are.equal(1, #st)
      assert.are.equal("x", st:get())
    end)
  end)
end)

describe("des.container", function()
  it("blocks gets and puts until they fit, in order", function()
    local log = {}
    run_task(function()
      local tank = des.container(100, 50)
      des.spawn(function() tank:get(80); log[#log + 1] = "got80@" .. des.now() end)
      des.spawn(function() tank:get(10); log[#log + 1] = "got10@" .. des.now() end)
      des.sleep(1)
      tank:put(40)
      assert.are.equal(0, tank.level)
    end)
    assert.are.same({ "got80@1.0", "got10@1.0" }, log)
  end)

  it("times out, and gives back an amount its task never got", function()
    run_task(function()
      local tank = des.container(10, 0)
      local ok, err = tank:get(5, 1)
      assert.is_nil(ok)
      assert.are.equal("timed out", err)
      local w = des.spawn(function() return tank:get(5) end)
      des.sleep(1)
      tank:put(5) -- granted to w, which has not run yet
      w:cancel()
      assert.are.equal(5, tank.level)
    end)
  end)

  it("refuses bad amounts and levels", function()
    assert.has_error(function() des.container(0) end)
    assert.has_error(function() des.container(10, 11) end)
    run_task(function()
      local tank = des.container(10, 5)
      assert.has_error(function() tank:get(-1) end)
      assert.has_error(function() tank:put(11) end)
      assert.has_error(function() tank:get(0 / 0) end)
    end)
  end)
end)
