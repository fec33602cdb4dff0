-- wrk script for the benchmark harness: the method, body file and content type come from the environment
-- (WRK_METHOD, WRK_BODY), and done() prints one JSON line the harness parses.
local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY")
wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
  -- The v2 binary tensor data extension: the length of the JSON header in front of the binary tensors.
  local header_length = os.getenv("WRK_HEADER_LENGTH")
  if header_length and header_length ~= "" then
    wrk.headers["Inference-Header-Content-Length"] = header_length
  end
end

-- No response() hook: defining one makes wrk hand every response to Lua, which slows the generator itself.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
