-- wrk script of benches/hostile.sh: every request names something that does not
-- exist, a fresh random name each time (or one of HOSTILE_DISTINCT), in turn
--   POST /api/v1/actions/<random>/ping               (unknown integration)
--   POST /api/v1/actions/real/<random>               (unknown action)
--   POST /api/v1/actions/real/ping {"connection": <random>}  (unknown connection)
-- Each thread stops after HOSTILE_PER_THREAD responses. At the end one line:
--   RESULT requests=… duration_us=… p50_us=… p99_us=… not_found=… other=…

local per_thread = tonumber(os.getenv("HOSTILE_PER_THREAD") or "100000")
local bearer = os.getenv("HOSTILE_BEARER")
local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    math.randomseed(os.time() * 1000 + id)
    n = 0
    sent = 0
    not_found = 0
    other = 0
end

-- HOSTILE_DISTINCT > 0: names from a pool of that many (the control run:
-- the same work per request without ever-new names).
local distinct = tonumber(os.getenv("HOSTILE_DISTINCT") or "0")

local function name()
    if distinct > 0 then
        return string.format("g%016x", math.random(1, distinct))
    end
    return string.format("g%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (bearer or ""),
}

function request()
    sent = sent + 1
    local kind = sent % 3
    if kind == 0 then
        return wrk.format("POST", "/api/v1/actions/" .. name() .. "/ping", headers, '{"input":{}}')
    elseif kind == 1 then
        return wrk.format("POST", "/api/v1/actions/real/" .. name(), headers, '{"input":{}}')
    end
    return wrk.format("POST", "/api/v1/actions/real/ping", headers,
        '{"input":{},"connection":"' .. name() .. '"}')
end

function response(status, headers, body)
    n = n + 1
    if status == 404 then
        not_found = not_found + 1
    else
        other = other + 1
    end
    if n >= per_thread then
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local nf, ot = 0, 0
    for _, t in ipairs(threads) do
        nf = nf + t:get("not_found")
        ot = ot + t:get("other")
    end
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d not_found=%d other=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        nf, ot, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
