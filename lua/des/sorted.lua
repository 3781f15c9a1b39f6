-- des.sorted -- iterate a table's keys in a reproducible order.
--
--   for name, machine in des.sorted(machines) do ... end
--
-- `pairs` visits keys in the order of the table's hash part. With deshost's
-- Lua (fixed string hash seed) that order repeats for string and number
-- keys from run to run of the same build, but it is not the order a reader
-- expects, and it changes when the table's history changes (a key removed
-- and added again). Keys that are tables, functions or userdata hash by
-- their memory address, which differs from run to run. des.sorted gives
-- numbers first in numeric order, then strings in byte order, then
-- booleans (false, true); any other key is an error that names it, since
-- no order of such keys repeats: keep those objects in an array instead.
local type, sort, error = type, table.sort, error
local next = next

local rank = { number = 1, string = 2, boolean = 3 }

local function before(a, b)
  local ra, rb = rank[type(a)], rank[type(b)]
  if ra ~= rb then return ra < rb end
  if ra == 3 then return b and not a end
  return a < b
end

return function(t)
  if type(t) ~= "table" then
    error("des.sorted: expected a table (got " .. type(t) .. ")", 2)
  end
  local keys, n = {}, 0
  for k in next, t do
    if not rank[type(k)] then
      error("des.sorted: a key is a " .. type(k) .. ": no order of such keys "
            .. "repeats from run to run; keep them in an array", 2)
    end
    n = n + 1
    keys[n] = k
  end
  sort(keys, before)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end
end
