-- repl_session.lua -- helper of the REPL specs: run `deshost -i` on a
-- model with scripted input lines (through a pipe) and return its output.
local DESHOST = assert(os.getenv("DESHOST"), "set DESHOST to the deshost binary (ctest does)")

-- Write text to a new temporary file; returns its path.
local function tmpfile(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- session(model_src, lines [, flags]) --> everything deshost printed
-- (stdout and stderr); flags are extra options such as "--sandbox".
return function(model_src, lines, flags)
  local model = tmpfile(model_src)
  local input = tmpfile(table.concat(lines, "\n") .. "\n")
  local p = assert(io.popen(string.format("%q %s -i %q < %q 2>&1", DESHOST, flags or "", model,
                                          input)))
  local out = p:read("a")
  p:close()
  os.remove(model)
  os.remove(input)
  return out
end
