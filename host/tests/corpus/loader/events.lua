local des = package.loaded.des
local e = des.event("e")
local t = des.spawn(function() return des.any{e, des.timeout(2)}:wait() end)
des.sleep(1); e:succeed(1); t:join()
