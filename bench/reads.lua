-- bench/soak's readers: a console (whole and progressive), the root's and a job's JSON, in turns.
-- Arguments after `--`: the Authorization header value, pause between requests (ms).
dofile((debug.getinfo(1, "S").source:sub(2):gsub("reads%.lua$", "report.lua")))

local paths = {
  "/job/reader/1/consoleText",
  "/job/reader/1/logText/progressiveText?start=0",
  "/api/json",
  "/job/a/api/json?tree=name,color,nextBuildNumber",
}
local pause
local n = 0

function init(args)
  wrk.headers["Authorization"] = args[1]
  pause = tonumber(args[2])
end

function delay()
  return pause
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
