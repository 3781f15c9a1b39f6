-- des.waitlist -- what resources, stores and containers share about their
-- waiters: removing one from a queue, checking a timeout argument, and the
-- result of a wait that timed out.
local waitlist = {}

-- The second result of a blocking call that gave up: `nil, "timed out"`.
waitlist.TIMED_OUT = "timed out"

-- Remove x from the array list, keeping the order; true if it was there.
function waitlist.remove(list, x)
  for i = 1, #list do
    if list[i] == x then
      table.remove(list, i)
      return true
    end
  end
  return false
end

-- Refuse a timeout that is not nil or a number >= 0, blaming the caller of
-- the function `fname` (level 3: the user's code).
function waitlist.check_timeout(fname, timeout)
  if timeout ~= nil and (type(timeout) ~= "number" or timeout < 0 or timeout ~= timeout) then
    error(fname .. ": timeout must be a number >= 0 (got " .. tostring(timeout) .. ")", 3)
  end
end

return waitlist
