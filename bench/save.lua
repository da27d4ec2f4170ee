-- wrk script: POST /api/v1/memories with a fresh Idempotency-Key and content per request,
-- spread over the bench users' tokens. Prints a JSON line of results when done.
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local path = os.getenv("BENCH_PATH") or "/api/v1/memories"
local method = os.getenv("BENCH_METHOD") or "POST"
local counter = 0
thread_tag = "0"  -- replaced per thread by setup()

function setup(thread)
  thread:set("thread_tag", tostring(math.random(1, 1e9)))
end

function init(args)
  math.randomseed(os.time() + tonumber(thread_tag or 0))
end

function request()
  counter = counter + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json",
  }
  if method == "POST" then
    local id = thread_tag .. "-" .. counter .. "-" .. math.random(1, 1e9)
    headers["Idempotency-Key"] = "bench-" .. id
    local body = '{"content":"benchmark memory ' .. id .. ' about databases and search","tags":["bench"]}'
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format(method, path, headers, nil)
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")  -- done(): the JSON line
