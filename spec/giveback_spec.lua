-- spec/giveback_spec.lua -- a blocking get granted at the instant its task
-- is interrupted gives its amount or item back (the interrupt wins); the
-- space it freed is held apart until the task resumes, so puts served
-- meanwhile never overfill the container or store (a fuzzer find).
local des = require "des"

describe("a blocking get given back", function()
  it("never overfills a container, and nothing is lost", function()
    local sim = des.new{}
    local c, levels, gotten, p2done = nil, {}, false, false
    sim:spawn(function()
      c = des.container(10, 0)
      local g = des.spawn(function() gotten = pcall(c.get, c, 5) end)
      des.sleep(1)
      des.spawn(function() c:put(10); p2done = true end) -- waits: no room for 10
      des.sleep(1)
      c:put(5)         -- grants g's get; the space is held until g resumes
      g:interrupt("x") -- if the interrupt wins, g gives its 5 back
      levels[1] = c.level
      des.sleep(1)
      levels[2] = c.level
    end)
    sim:run()
    for _, l in ipairs(levels) do assert.is_true(l <= c.capacity) end
    assert.equal(5 + (p2done and 10 or 0) - (gotten and 5 or 0), c.level)
  end)

  it("never overfills a store", function()
    local sim = des.new{}
    local st, counts = nil, {}
    sim:spawn(function()
      st = des.store(1)
      local g = des.spawn(function() pcall(st.get, st) end)
      des.sleep(1)
      des.spawn(function() st:put("b") end) -- waits: the store is full then
      des.sleep(1)
      st:put("a")      -- grants g's get; its place is held until g resumes
      g:interrupt("x") -- the interrupt wins: "a" goes back
      counts[1] = #st.items
      des.sleep(1)
      counts[2] = #st.items
    end)
    sim:run()
    assert.same({ 1, 1 }, counts)
    assert.equal("a", st.items[1])
  end)

  it("is claimed when the task resumes: the space is free again", function()
    local sim = des.new{}
    local c, got
    sim:spawn(function()
      c = des.container(10, 0)
      des.spawn(function() got = c:get(5) end)
      des.sleep(1)
      c:put(5)
      des.sleep(1)
      c:put(10) -- fits: the get was claimed
    end)
    sim:run()
    assert.is_true(got)
    assert.equal(10, c.level)
  end)
end)
