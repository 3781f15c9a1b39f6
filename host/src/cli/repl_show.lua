-- repl_show.lua -- how `show` at the prompt of `deshost -i` prints a
-- value: a monitor its report, a resource, store or container its state
-- and the report of each of its statistics, a table its fields. Part of
-- the CLI only, like repl.lua.
local _, _, std = ...
-- repl_std.lua's copies of the standard functions (not the model's); the
-- model's tables are walked with next, so that no __pairs of theirs runs
local string, table, math = std.string, std.table, std.math
local pcall, next, ipairs, type = std.pcall, std.next, std.ipairs, std.type
local tostring = std.text -- the model's values: protected

local show = {}

-- Print a value, one level of fields deep for tables.
local function show_fields(say, name, v)
  say(name .. " = " .. tostring(v))
  local keys = {}
  for k in next, v do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do say(string.format("  %s = %s", tostring(k), tostring(v[k]))) end
end

-- The fields of a statistics report in reading order, then the rest.
local REPORT_ORDER = { "kind", "count", "mean", "sd", "variance", "min", "max", "value",
                       "duration" }

-- A value of a report on one line: a table as {k=v, ...} (sorted, nested
-- tables as {...}, at most 8 entries).
local function inline(v)
  if type(v) ~= "table" then
    return math.type(v) == "float" and string.format("%.6g", v) or tostring(v)
  end
  local keys = {}
  for k in next, v do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and type(a) ~= "table" and type(a) ~= "userdata" then return a < b end
    return type(a) < type(b)
  end)
  local parts = {}
  for i, k in ipairs(keys) do
    if i > 8 then parts[#parts + 1] = "..."; break end
    local x = v[k]
    parts[#parts + 1] = string.format("[%s]=%s", inline(k),
                                      type(x) == "table" and "{...}" or inline(x))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- One statistics report (monitor:report()) as "name: kind, count=..".
local function format_report(r)
  local parts, seen = {}, { name = true }
  for _, k in ipairs(REPORT_ORDER) do
    seen[k] = true
    local v = r[k]
    if v ~= nil then
      parts[#parts + 1] = k == "kind" and tostring(v)
                          or string.format("%s=%s", k, math.type(v) == "float"
                                           and string.format("%.6g", v) or tostring(v))
    end
  end
  local rest = {}
  for k, v in next, r do
    if not seen[k] and type(k) == "string" then
      rest[#rest + 1] = k .. "=" .. inline(v)
    end
  end
  table.sort(rest)
  table.move(rest, 1, #rest, #parts + 1, parts)
  return table.concat(parts, ", ")
end

-- A field of a value, or nil when reading it raises (userdata without it).
local function field(v, k)
  local ok, f = pcall(function() return v[k] end)
  return ok and f or nil
end

-- show.value(say, name, v): print v through say(line): a monitor its
-- report, a resource, store or container its state and the report of each
-- of its statistics, a table its fields.
function show.value(say, name, v)
  local t = type(v)
  if t ~= "table" and t ~= "userdata" then return say(name .. " = " .. tostring(v)) end
  local report, stats = field(v, "report"), field(v, "stats")
  if type(report) == "function" then
    local ok, r = pcall(report, v)
    if ok and type(r) == "table" then
      return say(string.format("%s = %s '%s': %s", name, r.kind or "monitor",
                                    tostring(r.name), format_report(r)))
    end
  end
  if type(stats) == "table" then
    say(name .. " = " .. tostring(v))
    local keys = {}
    for k in next, stats do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local f = field(stats[k], "report")
      local ok, r = pcall(f, stats[k])
      if ok and type(r) == "table" then
        say(string.format("  %s (%s): %s", tostring(k), tostring(r.name), format_report(r)))
      end
    end
    return
  end
  if t == "table" then return show_fields(say, name, v) end
  say(name .. " = " .. tostring(v))
end

return show
