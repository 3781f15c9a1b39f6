-- des.waitlist -- what stores and containers share about their waiters
-- (who queue in C, des._waitq): checking a timeout argument, and the
-- result of a wait that timed out.
local waitlist = {}

-- The second result of a blocking call that gave up: `nil, "timed out"`.
waitlist.TIMED_OUT = "timed out"

-- Refuse a timeout that is not nil or a number >= 0, blaming the caller of
-- the function `fname` (level 3: the user's code).
function waitlist.check_timeout(fname, timeout)
  if timeout ~= nil and (type(timeout) ~= "number" or timeout < 0 or timeout ~= timeout) then
    error(fname .. ": timeout must be a number >= 0 (got " .. tostring(timeout) .. ")", 3)
  end
end

return waitlist
