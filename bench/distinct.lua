-- Case (c): every request carries a parameter value no other request of the run carries, so none
-- folds and each answer is a new queue item. Arguments after `--`: the request path without `v`,
-- and a run label that keeps the warm-up's values apart from the measured run's.
dofile((debug.getinfo(1, "S").source:sub(2):gsub("distinct%.lua$", "report.lua")))

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local base, label
local counter = 0

function init(args)
  base = args[1]
  label = args[2] or "run"
end

function request()
  counter = counter + 1
  return wrk.format("GET", string.format("%s&v=%s-%d-%d", base, label, id, counter))
end
