-- wrk script shared by the three runs of benches/load.sh.
--
-- WRK_POST_BODY set: each request is a POST with that JSON body (run c);
-- WRK_BEARER set: sent as `Authorization: Bearer …` (the tenant key of run c).
-- At the end, one machine-readable line for load.sh:
--   RESULT requests=… duration_us=… p50_us=… p99_us=… status_errors=…
--          connect_errors=… read_errors=… write_errors=… timeouts=…

local body = os.getenv("WRK_POST_BODY")
local bearer = os.getenv("WRK_BEARER")

if body ~= nil and body ~= "" then
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
end
if bearer ~= nil and bearer ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. bearer
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d " ..
        "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),
        e.status, e.connect, e.read, e.write, e.timeout))
end
