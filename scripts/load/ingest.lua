-- wrk script for POST /api/cdrs: every request posts a batch of BATCH (1000)
-- new CDRs (call ids unique per thread and run), with the bearer token from
-- RATEDECK_TOKEN. Nine calls in ten go out to a rated destination, one in ten
-- is between extensions. Prints batches/s and CDRs/s at the end.

local threads = {}
local batch = tonumber(os.getenv("BATCH") or "1000")

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  counter = 0
  prefix = string.format("ingest-%d-%d-", os.time(), thread_id)
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("RATEDECK_TOKEN"),
  }
end

function request()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    local direction = "OUTBOUND_CALL"
    local callee = string.format("%d%07d", 1 + counter % 9, (counter * 7919) % 10000000)
    if counter % 10 == 9 then
      direction = "EXTENSION_CALL"
      callee = "102"
    end
    local hour = counter % 24
    parts[i] = string.format(
      '{"call_id":"%s%d","caller":"101","callee":"%s","direction":"%s",' ..
      '"started_at":"2026-01-01T%02d:00:00Z","answered_at":"2026-01-01T%02d:00:02Z",' ..
      '"ended_at":"2026-01-01T%02d:01:40Z","duration":%d,"status_code":200,"trunk":"carrier-a"}',
      prefix, counter, callee, direction, hour, hour, hour, 30 + counter % 300)
  end
  return wrk.format("POST", "/api/cdrs", headers, "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local failed = summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "ingest: %d batches of %d in %.1f s = %.0f CDRs/s; batch latency p50 %.1f ms, p99 %.1f ms; %d failed (non-2xx %d)\n",
    summary.requests, batch, seconds, summary.requests * batch / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    failed, summary.errors.status))
end
