local des = package.loaded.des
for i = 1, 3 do des.spawn(function() des.sleep(i) end) end
des.sleep(1)
