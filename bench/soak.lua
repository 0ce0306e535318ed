-- bench/soak's trigger load: new items (distinct values) at a paced rate, to job `a` or `b` by turns
-- of `epoch` seconds, so bench/soak can cancel the idle job's items while the other takes the load.
-- Arguments after `--`: token, pause between a connection's requests (ms), epoch (s), segment label.
dofile((debug.getinfo(1, "S").source:sub(2):gsub("soak%.lua$", "report.lua")))

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local token, pause, epoch, label
local counter = 0

function init(args)
  token, pause, epoch, label = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
end

function delay()
  return pause
end

function request()
  counter = counter + 1
  local job = (math.floor(os.time() / epoch) % 2 == 0) and "a" or "b"
  return wrk.format("GET", string.format("/buildByToken/buildWithParameters?job=%s&token=%s&v=%s-%d-%d",
    job, token, label, id, counter))
end
