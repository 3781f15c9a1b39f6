-- request_lifetime_spec.lua -- how long a resource keeps its requests
-- (its anchor table, lres.h): a held request stays alive whatever the
-- model drops; a released one is let go at once, in batches larger than
-- the anchor slots ever used; every way of releasing, with the model still
-- holding the old request while a new one takes its slot.
local des = require "des"

local MANY = 64

-- Run fn as the main task of a fresh simulation.
local function sim_run(fn)
  local sim = des.new{}
  sim:spawn(fn)
  sim:run()
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function full_gc()
  collectgarbage()
  collectgarbage()
end

local anchored = require("helpers").anchored

describe("request lifetime", function()
  it("keeps a held request the model dropped, with its server", function()
    local weak = setmetatable({}, { __mode = "k" })
    local res
    sim_run(function()
      res = des.resource(3)
      weak[res:acquire()] = "acquired"
      weak[res:request()] = "requested"
      des.spawn(function() weak[res:acquire()] = "waited" end)
      des.sleep(0) -- the task takes the third server
      weak[res:request()] = "queued"
      des.sleep(1)
      full_gc()
      assert.are.equal(4, #anchored(res))
    end)
    full_gc()
    assert.are.equal(4, count(weak))
    assert.are.equal(3, res.count)
    assert.are.equal(1, res.queued)
  end)

  it("lets every released request go at once, and its resource", function()
    local weak = setmetatable({}, { __mode = "k" })
    local res
    local function batch(n, tag)
      local reqs = {}
      for i = 1, n do
        reqs[i] = res:request()
        weak[reqs[i]] = tag
      end
      for i = 1, n do reqs[i]:release() end
    end
    local function tagged(tag)
      local n = 0
      for _, v in pairs(weak) do if v == tag then n = n + 1 end end
      return n
    end
    sim_run(function()
      res = des.resource(1)
      batch(200, "first") -- slots 1..200
      full_gc()
      assert.are.equal(0, tagged("first"))
      batch(300, "second") -- reuses every free slot, and more
      full_gc()
      assert.are.equal(0, tagged("second"))
      assert.are.equal(0, #anchored(res))
      assert.are.equal(0, res.count)
      assert.are.equal(0, res.queued)
    end)
    res = nil -- luacheck: ignore (the resource goes, and its requests)
    full_gc()
    assert.are.equal(0, count(weak))
  end)

  -- Take every free server of res; returns a function that frees them.
  local function hold_all(res)
    local held = {}
    while res.count < res.capacity do held[#held + 1] = res:acquire() end
    return function() for _, h in ipairs(held) do h:release() end end
  end

  -- Each way a request ends, then a new one in its slot while the model
  -- still holds the old: the old stays released and inert, the new works.
  local ways = {
    ["req:release()"] = function(res)
      local r = res:acquire()
      r:release()
      return r
    end,
    ["res:release(req)"] = function(res)
      local r = res:acquire()
      res:release(r)
      return r
    end,
    ["<close>"] = function(res)
      local keep
      do
        local r <close> = res:acquire()
        keep = r
      end
      return keep
    end,
    ["a queued request withdrawn"] = function(res)
      local free = hold_all(res)
      local r = res:request()
      r:release()
      free()
      return r
    end,
    ["an acquire timed out"] = function(res)
      local free = hold_all(res)
      local r, err = res:acquire(nil, 1)
      assert.is_nil(r)
      assert.are.equal("timed out", err)
      free()
      return nil
    end,
    ["a waiting task cancelled"] = function(res)
      local free = hold_all(res)
      local t = des.spawn(function() local _r <close> = res:acquire() end)
      des.sleep(0)
      local r = res.queue[1]
      t:cancel()
      free()
      return r
    end,
    ["a holder preempted"] = function(res)
      local free = hold_all(res)
      free()
      local r
      local ok
      des.spawn(function()
        local held = {}
        ok = pcall(function()
          while res.count < res.capacity do held[#held + 1] = res:acquire(5) end
          r = held[#held]
          des.sleep(10)
        end)
        for _, h in ipairs(held) do h:release() end
      end)
      des.sleep(0)
      local mine = res:acquire(0) -- preempts the most recent holder: r
      des.sleep(0)
      mine:release()
      assert.is_false(ok)
      assert.is_true(r.preempted)
      return r
    end,
  }
  for name, finish in pairs(ways) do
    for _, capacity in ipairs({ 1, MANY + 10 }) do
      it(("ends a request by %s, capacity %d, its slot reused"):format(name, capacity), function()
        local res
        local olds = {}
        sim_run(function()
          res = des.resource(capacity, { preemptive = true })
          -- fill slots up to above MANY once: many free slots to reuse
          local many = {}
          for i = 1, MANY + 20 do many[i] = res:request() end
          for i = #many, 1, -1 do many[i]:release() end
          for i = 1, 3 * MANY do
            local old = finish(res)
            if old then olds[#olds + 1] = old end
            local new <close> = res:acquire()
            assert.is_true(new.granted)
            if old then
              assert.is_true(old.released)
              old:release() -- a second release does nothing
              assert.are_not.equal(old, new)
            end
            assert.are.equal(1, res.count)
            if i % 7 == 0 then collectgarbage("step") end
          end
          des.sleep(20)
        end)
        full_gc()
        assert.are.equal(0, res.count)
        assert.are.equal(0, res.queued)
        for _, old in ipairs(olds) do
          assert.is_true(old.released)
          assert.is_false(old.queued)
        end
        assert.are.equal(0, #anchored(res))
      end)
    end
  end
end)
