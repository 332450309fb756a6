#!/usr/bin/env bash
# Hostile-names bench (issue 13, "Memory does not grow with attacker-chosen
# names"): the release `waygate serve` in a temporary data directory gets
# HOSTILE_REQUESTS invocations that each name a fresh random integration,
# action or connection that does not exist (wrk + benches/hostile/names.lua),
# while /healthz is timed once every HOSTILE_HEALTH_EVERY seconds. Prints RSS
# (VmRSS from /proc/PID/status) before, at its highest during, right after and
# HOSTILE_SETTLE seconds after the load, the /healthz latencies during the load,
# and how /metrics grew.
# Target (issue 13): RSS after ≤ RSS before + 50 MB for 1,000,000 requests;
# every answer 404. The script exits non-zero when setting up fails, an answer
# was not 404, or the RSS target is missed.
#
# Run with:   benches/hostile.sh
# Needs:      wrk (apt-get install -y wrk), curl, jq, and a release build:
#             cargo build --release -p waygate-server
# Binary:     $WAYGATE_BIN, else ${CARGO_TARGET_DIR:-<repo>/target}/release/waygate
# Settings (environment):
#   HOSTILE_REQUESTS=1000000  HOSTILE_THREADS=2  HOSTILE_CONNECTIONS=32
#   HOSTILE_HEALTH_EVERY=0.2  HOSTILE_SETTLE=10  HOSTILE_LIMIT_MB=50
#   HOSTILE_RUN=10s: one wrk run's length (runs repeat until all are sent)
#   HOSTILE_DISTINCT=N: names drawn from N per kind instead of fresh ones: a
#   control run, the same work per request (request log included) without new
#   names, to tell growth by names from growth by request logging.
#   HOSTILE_KEEP=1 keeps the temporary directory (logs, SQLite) for a look.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
script="$root/benches/hostile/names.lua"

requests="${HOSTILE_REQUESTS:-1000000}"
threads="${HOSTILE_THREADS:-2}"
connections="${HOSTILE_CONNECTIONS:-32}"
health_every="${HOSTILE_HEALTH_EVERY:-0.2}"
chunk="${HOSTILE_RUN:-10s}"
settle="${HOSTILE_SETTLE:-10}"
limit_mb="${HOSTILE_LIMIT_MB:-50}"
waygate_bin="${WAYGATE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/waygate}"

bench=hostile.sh
# shellcheck source=benches/lib/common.sh
source "$root/benches/lib/common.sh"

need wrk "install it with: apt-get install -y wrk"
need curl "install it with: apt-get install -y curl"
need jq "install it with: apt-get install -y jq"
[ -x "$waygate_bin" ] || die "no Waygate binary at $waygate_bin: build it with 'cargo build --release -p waygate-server' (CARGO_TARGET_DIR is honoured) or set WAYGATE_BIN"
[ -f "$script" ] || die "missing $script"
[[ "$requests" =~ ^[0-9]+$ ]] && [ "$requests" -ge "$threads" ] ||
    die "HOSTILE_REQUESTS must be a whole number of at least HOSTILE_THREADS ($threads)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/waygate-hostile.XXXXXX")"
pids=()

# Stops every process this script started, then removes the temporary directory
# unless HOSTILE_KEEP=1.
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${HOSTILE_KEEP:-0}" = 1 ]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Resident memory of `pid` in kB.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

admin_key="admin-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

start_waygate "$waygate_bin" RUST_LOG="${RUST_LOG:-warn}"

# One tenant with one real integration: the unknown actions and connections are
# guessed on it (its upstream is never called).
tenant_key="$(api POST /api/v1/tenants "$admin_key" '{"name":"hostile"}' | jq -r .apiKey)"
[[ "$tenant_key" == wg_live_* ]] || die "no tenant API key in the answer"
api POST /api/v1/integrations "$tenant_key" '{"slug": "real", "name": "Real",
    "baseUrl": "https://api.example.com",
    "actions": [{"slug": "ping", "method": "GET", "path": "/ping"}]}' >/dev/null

# Warm the process up with a few thousand of the same calls, so that "before" is
# the gateway at work, not a process that has not touched its code paths yet.
HOSTILE_PER_THREAD=1000 HOSTILE_BEARER="$tenant_key" \
    wrk -t"$threads" -c"$connections" -d3s -s "$script" "$waygate_url" >"$tmp/wrk-warmup.txt" 2>&1 ||
    { cat "$tmp/wrk-warmup.txt" >&2; die "wrk warm-up failed"; }
sleep 1
metrics_before="$(curl -fsS -H "Authorization: Bearer $admin_key" "$waygate_url/metrics" | wc -l)"
rss_before="$(rss_kb "$waygate_pid")"

# /healthz latency and peak RSS, sampled until the load ends.
(
    while [ ! -e "$tmp/load.done" ]; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 "$waygate_url/healthz" >>"$tmp/healthz.txt" || true
        rss_kb "$waygate_pid" >>"$tmp/rss.txt" || true
        sleep "$health_every"
    done
) &
pids+=("$!")

cat <<EOF
Waygate hostile-names bench: $requests invocations with random unknown names${HOSTILE_DISTINCT:+ (control: from $HOSTILE_DISTINCT names)}
  wrk -t$threads -c$connections in runs of $chunk, $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)
  waygate: $waygate_bin (pid $waygate_pid), temporary directory: $tmp
EOF
# wrk runs for a duration (a thread that stops early does not end the run), so
# the load is a series of short runs, each capped at what is left to send.
sent=0 not_found=0 other=0 socket_errors=0 busy_us=0 p99_us=0 runs=0
field() { awk -v key="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' <<<"$line"; }
while [ "$sent" -lt "$requests" ]; do
    left=$((requests - sent))
    HOSTILE_PER_THREAD=$(((left + threads - 1) / threads)) HOSTILE_BEARER="$tenant_key" \
        wrk -t"$threads" -c"$connections" -d"$chunk" --latency -s "$script" "$waygate_url" >"$tmp/wrk.txt" 2>&1 ||
        { cat "$tmp/wrk.txt" >&2; die "wrk failed"; }
    line="$(grep '^RESULT ' "$tmp/wrk.txt")" || { cat "$tmp/wrk.txt" >&2; die "wrk printed no RESULT line"; }
    [ "$(field requests)" -gt 0 ] || die "a wrk run completed no request: see $tmp/wrk.txt"
    sent=$((sent + $(field requests)))
    not_found=$((not_found + $(field not_found)))
    other=$((other + $(field other)))
    socket_errors=$((socket_errors + $(field socket_errors)))
    busy_us=$((busy_us + $(field duration_us)))
    if [ "$(field p99_us)" -gt "$p99_us" ]; then p99_us="$(field p99_us)"; fi
    runs=$((runs + 1))
    echo "  run $runs: $sent responses so far, RSS $(mb "$(rss_kb "$waygate_pid")")"
done
touch "$tmp/load.done"
rss_after="$(rss_kb "$waygate_pid")"
sleep "$settle"
rss_settled="$(rss_kb "$waygate_pid")"
rss_peak="$(sort -n "$tmp/rss.txt" | tail -1)"
metrics_after="$(curl -fsS -H "Authorization: Bearer $admin_key" "$waygate_url/metrics")"
metrics_lines="$(wc -l <<<"$metrics_after")"
guessed_series="$(grep -c '"g[0-9a-f]\{16\}"' <<<"$metrics_after" || true)"
seconds="$(awk -v us="$busy_us" 'BEGIN { printf "%.1f", us / 1e6 }')"
rps="$(awk -v n="$sent" -v us="$busy_us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"

# /healthz: count, failures, p50, p99, max (ms).
read -r h_count h_failed h_p50 h_p99 h_max < <(awk '{ print $2 * 1000 }' "$tmp/healthz.txt" |
    sort -n | awk -v failed="$(awk '$1 != "200"' "$tmp/healthz.txt" | wc -l)" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "0", failed, "n/a", "n/a", "n/a"; exit }
            p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
            printf "%d %d %.1f %.1f %.1f\n", NR, failed, p50, p99, v[NR]
        }')

grown_kb=$((rss_settled - rss_before))
cat <<EOF

Load: $sent responses in $seconds s of load ($rps/s) in $runs runs, worst p99 of a run $(awk -v us="$p99_us" 'BEGIN { printf "%.2f", us / 1000 }') ms; 404: $not_found, other: $other, socket errors: $socket_errors
RSS: before $(mb "$rss_before"), peak during $(mb "$rss_peak"), right after $(mb "$rss_after"), ${settle} s later $(mb "$rss_settled") (grown $(mb "$grown_kb"))
  of which now: $(awk '/^Rss(Anon|File|Shmem):/ { printf "%s %.1f MB  ", $1, $2 / 1024 }' "/proc/$waygate_pid/status"); request log in SQLite: $(du -sh "$tmp/waygate-data" | cut -f1)
/healthz during the load: $h_count probes, $h_failed failed, p50 $h_p50 ms, p99 $h_p99 ms, max $h_max ms
/metrics: $metrics_before lines before, $metrics_lines after; series naming a guessed name: $guessed_series
EOF

failed=0
if [ "$other" != 0 ] || [ "$socket_errors" != 0 ]; then
    echo "hostile.sh: $other answers were not 404, $socket_errors socket errors" >&2
    failed=1
fi
if [ "$guessed_series" != 0 ]; then
    echo "hostile.sh: /metrics names $guessed_series guessed names" >&2
    failed=1
fi
if [ "$grown_kb" -gt $((limit_mb * 1024)) ]; then
    echo "Target (RSS within $limit_mb MB of before): MISSED"
    failed=1
else
    echo "Target (RSS within $limit_mb MB of before): met"
fi
exit "$failed"
