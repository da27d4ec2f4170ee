-- wrk script: GET /api/v1/search for one user, cycling through the request paths listed one
-- a line in BENCH_PATHS_FILE (each thread from its own offset). Prints a JSON line when done.
local token = os.getenv("BENCH_TOKEN")
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
  if #line > 0 then
    paths[#paths + 1] = line
  end
end
local next_path = 1
thread_offset = 0  -- replaced per thread by setup()

function setup(thread)
  thread:set("thread_offset", math.random(1, 1e6))
end

function init(args)
  next_path = (thread_offset % #paths) + 1
end

function request()
  local path = paths[next_path]
  next_path = (next_path % #paths) + 1
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token}, nil)
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")  -- done(): the JSON line
