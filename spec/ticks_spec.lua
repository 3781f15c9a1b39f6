-- spec/ticks_spec.lua -- DESIGN "Positive durations advance time": any dt > 0
-- waits at least one tick, in every function that takes a duration, however
-- coarse the resolution (core/dtime.c; its C test is host/tests/test_dtime.c).
local des = require "des"

-- Run fn as a task of a simulation at resolution `res`; returns the
-- simulated time fn's wait took, in ticks.
local function ticks_waited(res, fn)
  local sim = des.new{ resolution = res }
  local waited
  sim:spawn(function()
    local t0 = des.now()
    fn()
    waited = math.floor((des.now() - t0) * res + 0.5)
  end)
  sim:run()
  return waited
end

local TINY = { 1e-9, 1e-12, 4e-4, 1e-300, 5e-324 }

describe("a positive duration is at least one tick", function()
  for _, dt in ipairs(TINY) do
    it(("at resolution 1000, for dt = %g"):format(dt), function()
      assert.equal(1, ticks_waited(1000, function() des.sleep(dt) end))
      assert.equal(1, ticks_waited(1000, function() des.timeout(dt):wait() end))
      assert.equal(1, ticks_waited(1000, function()
        local r = des.resource(1)
        local _ <close> = r:acquire()
        assert.is_nil(r:acquire(nil, dt)) -- times out, one tick later
      end))
      assert.equal(1, ticks_waited(1000, function()
        assert.is_nil(des.store():get(nil, dt))
      end))
      assert.equal(1, ticks_waited(1000, function()
        local st = des.store(1)
        st:put("x")
        assert.is_nil(st:put("y", dt))
      end))
      assert.equal(1, ticks_waited(1000, function()
        assert.is_nil(des.container(10, 0):get(5, dt))
      end))
      assert.equal(1, ticks_waited(1000, function()
        assert.is_nil(des.container(10, 10):put(5, dt))
      end))
      assert.equal(1, ticks_waited(1000, function()
        des.any{ des.event(), des.timeout(dt) }:wait()
      end))
    end)
  end

  it("at resolution 1 (whole units), 0.4 is one tick, 1.4 one, 1.6 two", function()
    assert.equal(1, ticks_waited(1, function() des.sleep(0.4) end))
    assert.equal(1, ticks_waited(1, function() des.sleep(1.4) end))
    assert.equal(2, ticks_waited(1, function() des.sleep(1.6) end))
  end)

  it("zero stays zero", function()
    assert.equal(0, ticks_waited(1000, function() des.sleep(0) end))
    assert.equal(0, ticks_waited(1000, function() des.sleep(-0.0) end))
    assert.equal(0, ticks_waited(1000, function() des.timeout(0):wait() end))
  end)

  it("a remaining-work loop over tiny steps ends (it would spin at 0 ticks)", function()
    local sim = des.new{ resolution = 1000 }
    local steps = 0
    sim:spawn(function()
      local remaining = 0.01
      while remaining > 0 do
        local t0 = des.now()
        des.sleep(math.min(remaining, 1e-7))
        remaining = remaining - (des.now() - t0)
        steps = steps + 1
        assert(steps < 100, "no progress")
      end
    end)
    sim:run()
    assert.equal(10, steps)
  end)
end)
