-- wrk script for the benchmark harness: the method, body file and content type come from the environment
-- (WRK_METHOD, WRK_BODY), and done() prints one JSON line the harness parses.
local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY")
wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

-- No response() hook: defining one makes wrk hand every response to Lua, which slows the generator itself.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
