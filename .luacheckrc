std = "lua54"
max_line_length = 100
files["spec"] = { std = "+busted" }
-- to-be-closed variables that only hold a resource until the scope ends
ignore = { "211/_.*" }
