local des = package.loaded.des
local t = des.spawn(function() error({}) end)
pcall(t.join, t); t:cancel(); des.self():interrupt("x"); pcall(des.sleep, 0)
