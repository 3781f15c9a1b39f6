-- spec/container_exact_spec.lua -- unbounded containers and exact levels
-- (issue 15 items 8 and 9).
local des = require "des"
local h = require "helpers"

-- Run body as the only task of a new simulation to its end.
local function run(body)
  local sim = des.new{}
  local t = sim:spawn(body)
  sim:run()
  return t:join()
end

describe("des.container", function()
  it("takes math.huge as its capacity: puts never wait", function()
    local level = run(function()
      local c = des.container(math.huge)
      assert.equal(math.huge, c.capacity)
      for _ = 1, 100 do assert(c:put(1e6)) end
      return c.level
    end)
    assert.equal(1e8, level)
  end)

  it("adds up ten put(0.1) to exactly 1, so get(1) succeeds at once", function()
    local got, level, at = run(function()
      local c = des.container(1, 0)
      for _ = 1, 10 do c:put(0.1) end
      assert.equal(1, c.level)
      local ok = c:get(1, 5)
      return ok, c.level, des.now()
    end)
    assert.is_true(got)
    assert.equal(0, level)
    assert.equal(0, at)
  end)

  it("does not drift over 1000 fills and drains of odd amounts", function()
    local level = run(function()
      local c = des.container(10, 0)
      for _ = 1, 1000 do
        for _ = 1, 7 do c:put(1.3) end
        for _ = 1, 7 do c:get(1.3) end
        c:put(0.1); c:put(0.2); c:get(0.3)
      end
      return c.level
    end)
    assert.equal(0, level)
  end)

  it("fills to its capacity exactly from small puts, and the next one waits", function()
    local timed_out = run(function()
      local c = des.container(0.3, 0)
      c:put(0.1); c:put(0.1); c:put(0.1)
      assert.equal(0.3, c.level)
      local ok, err = c:put(0.1, 1)
      return ok == nil and err
    end)
    assert.equal("timed out", timed_out)
  end)

  it("refuses bad capacities, levels and amounts with clear messages", function()
    h.contains(h.err_of(des.container, 0), "capacity must be a number > 0")
    h.contains(h.err_of(des.container, 0 / 0), "capacity")
    h.contains(h.err_of(des.container, 10, 11), "initial level")
    h.contains(h.err_of(des.container, math.huge, math.huge), "initial level")
    h.contains(h.err_of(des.container, 1e300), "past the range")
    h.contains(h.err_of(des.container, 10, 0, { resolution = 0 }), "resolution")
    run(function()
      local c = des.container(math.huge)
      h.contains(h.err_of(c.put, c, math.huge), "amount must be > 0, finite")
      h.contains(h.err_of(c.put, c, 1e300), "past the container's range")
    end)
  end)

  it("rounds an amount below its resolution up to one step, never to zero", function()
    local level = run(function()
      local c = des.container(1, 0, { resolution = 1000 })
      c:put(1e-9)
      return c.level
    end)
    assert.equal(0.001, level)
  end)
end)
