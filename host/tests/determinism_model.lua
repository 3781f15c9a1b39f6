-- determinism_model.lua -- a randomized model for the determinism test:
-- many tasks with random delays from des.rng, events, any/all, cancels
-- and interrupts; it prints every handled event (the trace) and a result.
-- DES_SHUFFLE=<seed> turns tie shuffling on.
local des = require "des"

local sim = des.default()
sim:trace(function(line) print(line) end)
local shuffle = os.getenv("DES_SHUFFLE")
if shuffle then sim:shuffle_ties(math.tointeger(tonumber(shuffle))) end

local rng = des.rng("determinism")
local signals = {}
for i = 1, 20 do signals[i] = des.event("signal " .. i) end
local workers, total = {}, 0

for i = 1, 60 do
  workers[i] = des.spawn{name = "w" .. i, function()
    for _ = 1, 100 do
      local r = rng:random()
      local ok = pcall(function() -- interrupts are caught and counted
        if r < 0.5 then
          des.sleep(rng:integer(0, 3)) -- many ties
        elseif r < 0.7 then
          local ev = signals[rng:integer(1, #signals)]
          des.any{ev, des.timeout(rng:exponential(2))}:wait()
        elseif r < 0.8 then
          des.sleep(rng:uniform(0, 5))
        else
          local s = signals[rng:integer(1, #signals)]
          if not s.triggered then s:succeed(i) end
        end
      end)
      total = total + (ok and 1 or 100)
    end
  end}
end
des.spawn{name = "chaos", function()
  for _ = 1, 40 do
    des.sleep(rng:exponential(1))
    local w = workers[rng:integer(1, #workers)]
    if rng:bernoulli(0.3) then w:cancel() else w:interrupt("poke") end
  end
end}
des.sleep(1000)
print("total", total)
