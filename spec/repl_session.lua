-- repl_session.lua -- helper of the REPL specs: run `deshost -i` on a
-- model with scripted input lines (through a pipe) and return its output.
local h = require "helpers"

-- session(model_src, lines [, flags]) --> everything deshost printed
-- (stdout and stderr); flags are extra options such as "--sandbox".
return function(model_src, lines, flags)
  local model = h.tmpfile(model_src)
  local input = h.tmpfile(table.concat(lines, "\n") .. "\n")
  local out = h.capture(("%s %s -i %s < %s 2>&1"):format(h.q(h.deshost()), flags or "",
                                                          h.q(model), h.q(input)))
  os.remove(model)
  os.remove(input)
  return out
end
