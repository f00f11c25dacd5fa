-- wrk script for POST /api/charging/authorize: every request authorises a
-- new call (a call id unique per thread and run), with a bearer token of
-- RATEDECK_TOKENS (space-separated; the requests take them in turn).
-- Prints req/s, p50 and p99 at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  counter = 0
  prefix = string.format("load-%d-%d-", os.time(), thread_id)
  headers = {}
  for token in string.gmatch(os.getenv("RATEDECK_TOKENS") or "", "%S+") do
    table.insert(headers, {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    })
  end
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"call_id":"%s%d","caller":"101","callee":"44207%07d"}',
    prefix, counter, counter % 10000000)
  -- Each thread starts at its own token, so that the threads spread too.
  local h = headers[((counter + thread_id) % #headers) + 1]
  return wrk.format("POST", "/api/charging/authorize", h, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local failed = summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "authorise: %d requests in %.1f s = %.0f req/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d failed (non-2xx %d)\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, failed, summary.errors.status))
end
