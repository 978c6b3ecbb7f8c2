-- The requests `deno task bench` sends through wrk (scripts/bench_load.ts
-- writes the file this reads and sets the environment):
--
--   BENCH_WRK_REQUESTS        a file with one request per line,
--                             "<Authorization value, or nothing>\t<JSON body>"
--   BENCH_WRK_CORRELATION_ID  the inin-correlation-id every request carries,
--                             as Genesys sends one on every call
--
-- Every request is a POST with Content-Type: application/json to the URL on
-- wrk's command line. With one line, wrk sends one request built once, with
-- no Lua per request (wrk treats a script without a request() function as
-- static). With more lines, request() cycles through them, each built once in
-- init() as wrk's SCRIPTING advises, so a token or a city changes on every
-- request for the price of one table lookup.
--
-- wrk decides static or not when the script loads, before init() runs, so the
-- file is read at load time (in each of wrk's Lua states).

local function read_lines(path)
  assert(path, "BENCH_WRK_REQUESTS is not set")
  local file = assert(io.open(path, "r"))
  local lines = {}
  for line in file:lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  file:close()
  assert(#lines > 0, path .. " holds no request")
  return lines
end

local lines = read_lines(os.getenv("BENCH_WRK_REQUESTS"))
local correlation_id = assert(os.getenv("BENCH_WRK_CORRELATION_ID"), "BENCH_WRK_CORRELATION_ID is not set")

local function split(line)
  local authorization, body = line:match("^([^\t]*)\t(.+)$")
  assert(body, "a line is not <authorization>\\t<body>")
  return authorization, body
end

-- Sets this request's headers into `headers` (wrk's own table, or a new one).
local function set_headers(headers, authorization)
  headers["Content-Type"] = "application/json"
  headers["inin-correlation-id"] = correlation_id
  if authorization ~= "" then headers["Authorization"] = authorization end
  return headers
end

wrk.method = "POST"

if #lines == 1 then
  local authorization, body = split(lines[1])
  set_headers(wrk.headers, authorization)
  wrk.body = body
else
  local requests = {}
  local last = 0

  function init(args)
    for i, line in ipairs(lines) do
      local authorization, body = split(line)
      -- wrk.init has already put Host (with the port) into wrk.headers.
      local headers = set_headers({ Host = wrk.headers["Host"] }, authorization)
      requests[i] = wrk.format("POST", nil, headers, body)
    end
  end

  function request()
    last = last % #requests + 1
    return requests[last]
  end
end
