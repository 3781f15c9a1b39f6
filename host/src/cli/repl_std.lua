-- repl_std.lua -- the standard functions the REPL's chunks use, copied
-- when the session opens, before the model's main chunk runs: a model that
-- later replaces string.format, table.sort, pcall or tostring (the string,
-- table and math tables are shared with it) can neither break the session
-- nor make it run the model's code. Part of the CLI only, like repl.lua.
local next, pcall, tostring, type = next, pcall, tostring, type

-- A shallow copy of a library table.
local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

-- tostring(v), protected: a __tostring that raises, yields or returns no
-- string gives a description instead. For every value the session prints.
local function text(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return "(a " .. type(v) .. " value whose __tostring failed)"
end

return {
  text = text,
  string = copy(string), table = copy(table), math = copy(math),
  load = load, pcall = pcall, xpcall = xpcall, select = select, next = next,
  setmetatable = setmetatable, tostring = tostring, tonumber = tonumber, type = type,
  ipairs = ipairs, traceback = debug and debug.traceback,
  globals = _ENV,
}
