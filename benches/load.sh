#!/usr/bin/env bash
# Load bench (issue 5, "Load"): on loopback, in one run, wrk against
#   (a) nginx answering GET /ping with a small JSON document itself (the upstream),
#   (b) nginx as a reverse proxy in front of (a), injecting `Authorization: Bearer …`,
#   (c) Waygate: POST /api/v1/actions/bench/ping through the release `waygate serve`
#       (tenant key auth, input validation, bearer injection, metrics, access log
#       line, request log batched into SQLite in a temporary data directory),
#   (d) Waygate as (c) on an action with an output schema: response validation
#       in `warn` mode (issue 18; decision 63) on every answer,
# then prints requests/s, p50, p99 and non-2xx responses of each, (c)/(b) and (d)/(c),
# and the CPU time each system under test spent per answered request during its
# measured run (from /proc: user + system time of every thread of the nginx processes,
# or of Waygate). Throughput on a shared machine moves with whatever else runs;
# CPU per request moves much less, so (b)'s and (c)'s are compared too.
# Target (issue 5): (c) ≥ 0.5× (b)'s throughput, every response 2xx, p99 ≤ 2× (b)'s;
# wanted: 1.0×. Issue 18: (d) ≥ 0.9× (c). Missing a target is reported, not an error: the script exits
# non-zero only when setting up fails or a response was not 2xx.
#
# Run with:   benches/load.sh
# Needs:      wrk, nginx (Debian: apt-get install wrk nginx-light), curl, jq, and a
#             release build: cargo build --release -p waygate-server
# Binary:     $WAYGATE_BIN, else ${CARGO_TARGET_DIR:-<repo>/target}/release/waygate
# Settings (environment, same wrk settings for all three runs):
#   LOAD_THREADS=2  LOAD_CONNECTIONS=32  LOAD_DURATION=15s  LOAD_WARMUP=3s
#   LOAD_UPSTREAM_WORKERS=1  LOAD_PROXY_WORKERS=<number of CPUs>
#   LOAD_KEEP=1 keeps the temporary directory (configs, logs, SQLite) for a look.
#   LOAD_PERF=FILE records a perf profile of Waygate during the measured run of (c),
#   with DWARF call graphs (release builds keep no frame pointers): build with
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only for function names and lines
#   (it costs Waygate some CPU: compare figures from runs without it).
#   RUST_LOG is passed to Waygate as is (unset: its default, info).
#
# Fairness, on a small machine where wrk, nginx and Waygate share the cores:
# - The upstream nginx runs 1 worker process: it is the same fixture behind (b) and
#   (c), so it costs both the same, and one worker leaves more CPU to the system
#   under test. (a) is measured with that same single worker.
# - The proxy nginx runs one worker process per CPU, because Waygate serves on one
#   single-threaded runtime per CPU: both may use every core, neither is capped at
#   one. The proxy keeps keep-alive connections to the upstream (as
#   Waygate's HTTP client pools them) and writes an access log (buffered), as
#   Waygate logs every call.
# - Each run gets a warm-up of LOAD_WARMUP with the same settings, not counted.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/benches/load"

threads="${LOAD_THREADS:-2}"
connections="${LOAD_CONNECTIONS:-32}"
duration="${LOAD_DURATION:-15s}"
warmup="${LOAD_WARMUP:-3s}"
upstream_workers="${LOAD_UPSTREAM_WORKERS:-1}"
proxy_workers="${LOAD_PROXY_WORKERS:-$(nproc)}"
waygate_bin="${WAYGATE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/waygate}"

bench=load.sh
# shellcheck source=benches/lib/common.sh
source "$root/benches/lib/common.sh"

need wrk "install it with: apt-get install -y wrk"
need nginx "install it with: apt-get install -y nginx-light"
need curl "install it with: apt-get install -y curl"
need jq "install it with: apt-get install -y jq"
[ -x "$waygate_bin" ] || die "no Waygate binary at $waygate_bin: build it with 'cargo build --release -p waygate-server' (CARGO_TARGET_DIR is honoured) or set WAYGATE_BIN"
for f in upstream.conf.template proxy.conf.template wrk.lua; do
    [ -f "$here/$f" ] || die "missing $here/$f"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/waygate-load.XXXXXX")"
pids=()

# Stops every process this script started (TERM, then KILL after 10 s), then
# removes the temporary directory unless LOAD_KEEP=1.
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local status=$? pid i
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for i in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            [ "$i" -eq 100 ] && kill -KILL "$pid" 2>/dev/null
            sleep 0.1
        done
        wait "$pid" 2>/dev/null || true
    done
    if [ "${LOAD_KEEP:-0}" = 1 ]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port on 127.0.0.1 nothing listens on (best effort: checked, not reserved).
free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found on 127.0.0.1"
}

# Waits until `url` answers (any HTTP status), or fails naming the process's log.
wait_http() {
    local url="$1" pid="$2" log="$3"
    for _ in $(seq 100); do
        if curl -s -o /dev/null --max-time 1 "$url"; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "process $pid exited before $url answered (log: $log)"; }
        sleep 0.1
    done
    cat "$log" >&2
    die "$url did not answer within 10 s"
}

declare -A nginx_master
# Writes an nginx config from a template and starts nginx in the foreground.
start_nginx() {
    local name="$1" port="$2" workers="$3" upstream_port="${4:-}"
    local conf="$tmp/$name.conf"
    mkdir -p "$tmp/$name-tmp"
    sed -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" \
        -e "s|@UPSTREAM_PORT@|$upstream_port|g" -e "s|@TOKEN@|$token|g" \
        "$here/$name.conf.template" >"$conf"
    nginx -t -q -p "$tmp" -e "$tmp/$name-error.log" -c "$conf" 2>"$tmp/$name.out" ||
        { cat "$tmp/$name.out" >&2; die "nginx rejected $conf"; }
    nginx -p "$tmp" -e "$tmp/$name-error.log" -c "$conf" >"$tmp/$name.out" 2>&1 &
    pids+=("$!")
    nginx_master[$name]="$!"
    wait_http "http://127.0.0.1:$port/" "$!" "$tmp/$name-error.log"
}

# Runs wrk on `url` (warm-up, then the measured run) with the shared Lua script;
# prints wrk's own report and stores the figures in the r_* arrays under `label`,
# with the CPU time the processes `pids…` (the system under test) used per
# request during the measured run.
declare -A r_rps r_p50 r_p99 r_non2xx r_sockerr r_requests r_cpu_us
run_wrk() {
    local label="$1" url="$2" out="$tmp/wrk-$1.txt" line cpu_before cpu_after
    shift 2
    local -a sut=("$@")
    if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
        wrk -t"$threads" -c"$connections" -d"$warmup" -s "$here/wrk.lua" "$url" >"$tmp/wrk-$label-warmup.txt" 2>&1 ||
            { cat "$tmp/wrk-$label-warmup.txt" >&2; die "wrk warm-up of ($label) failed"; }
    fi
    local perf_pid=""
    if [ "$label" = c ] && [ -n "${LOAD_PERF:-}" ]; then
        need perf "install it with: apt-get install -y linux-perf, or unset LOAD_PERF"
        perf record -F 499 --call-graph dwarf,16384 -p "$waygate_pid" -o "$LOAD_PERF" >"$tmp/perf.out" 2>&1 &
        perf_pid="$!"
        pids+=("$perf_pid")
    fi
    cpu_before="$(cpu_seconds "${sut[@]}")"
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$here/wrk.lua" "$url" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk run of ($label) failed"; }
    cpu_after="$(cpu_seconds "${sut[@]}")"
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
        echo "    perf profile of waygate during this run: $LOAD_PERF (perf report -i $LOAD_PERF)"
    fi
    grep -v '^RESULT ' "$out" | sed 's/^/    /'
    line="$(grep '^RESULT ' "$out")" || die "wrk printed no RESULT line for ($label): see $out"
    local requests duration_us p50 p99 status conn read write timeouts
    requests="$(field requests "$line")"
    duration_us="$(field duration_us "$line")"
    p50="$(field p50_us "$line")"
    p99="$(field p99_us "$line")"
    status="$(field status_errors "$line")"
    conn="$(field connect_errors "$line")"
    read="$(field read_errors "$line")"
    write="$(field write_errors "$line")"
    timeouts="$(field timeouts "$line")"
    r_requests[$label]="$requests"
    r_cpu_us[$label]="$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$requests" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / n; else print "n/a" }')"
    r_rps[$label]="$(awk -v n="$requests" -v us="$duration_us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"
    r_p50[$label]="$p50"
    r_p99[$label]="$p99"
    r_non2xx[$label]="$status"
    r_sockerr[$label]=$((conn + read + write + timeouts))
}

# CPU seconds (user + system, every thread) the processes given have used so far.
clock_ticks="$(getconf CLK_TCK)"
cpu_seconds() {
    local pid stat ticks=0
    local -a f
    for pid in "$@"; do
        stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
        # After the command name (which may hold spaces) come fields 3 onwards:
        # utime and stime, fields 14 and 15, are the 12th and 13th of the rest.
        read -ra f <<<"${stat##*) }"
        ticks=$((ticks + f[11] + f[12]))
    done
    awk -v t="$ticks" -v hz="$clock_ticks" 'BEGIN { printf "%.2f", t / hz }'
}

# The nginx started as `pid` (its master) and its worker processes.
nginx_pids() {
    echo "$1"
    pgrep -P "$1" || true
}

field() {
    awk -v key="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' <<<"$2"
}

# Sum of a Prometheus counter over the series whose labels contain every `k="v"` given.
prom_sum() {
    local metrics="$1" name="$2"
    shift 2
    awk -v name="$name" -v want="$*" '
        BEGIN { n = split(want, w, " ") }
        index($0, name "{") == 1 || $1 == name {
            ok = 1
            for (i = 1; i <= n; i++) if (index($1, w[i]) == 0) ok = 0
            if (ok) sum += $NF
        }
        END { printf "%.0f\n", sum }' <<<"$metrics"
}

# One API call to Waygate: fails with the answer's body unless the status is 2xx.
# Random token for the bench's upstream credential, and the operator key.
token="bench-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin_key="admin-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cat <<EOF
Waygate load bench: wrk -t$threads -c$connections -d$duration --latency (warm-up $warmup each)
  nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), upstream workers $upstream_workers, proxy workers $proxy_workers; $(nproc) CPUs
  load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)
  waygate: $waygate_bin
  temporary directory: $tmp
EOF

# (a) the upstream
upstream_port="$(free_port)"
start_nginx upstream "$upstream_port" "$upstream_workers"
upstream_url="http://127.0.0.1:$upstream_port/ping"
answer="$(curl -fsS "$upstream_url")" || die "GET $upstream_url failed"
[ "$(jq -r .ok <<<"$answer")" = true ] || die "unexpected upstream answer: $answer"
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$upstream_url")"
[ "$code" = 401 ] || die "the upstream accepted a wrong bearer token (answered $code)"

# (b) the proxy
proxy_port="$(free_port)"
start_nginx proxy "$proxy_port" "$proxy_workers" "$upstream_port"
proxy_url="http://127.0.0.1:$proxy_port/ping"
answer="$(curl -fsS "$proxy_url")" || die "GET $proxy_url failed"
[ "$(jq -r .auth <<<"$answer")" = bearer ] || die "the proxy did not inject the token: $answer"

# (c) Waygate, bootstrapped through its API
start_waygate "$waygate_bin" WAYGATE_ALLOW_PRIVATE_NETWORKS=1

tenant_key="$(api POST /api/v1/tenants "$admin_key" '{"name":"bench"}' | jq -r .apiKey)"
[[ "$tenant_key" == wg_live_* ]] || die "no tenant API key in the answer"
definition="$(jq -cn --arg url "http://127.0.0.1:$upstream_port" '{
    slug: "bench", name: "Bench", baseUrl: $url, auth: {type: "bearer"},
    actions: [{slug: "ping", method: "GET", path: "/ping", inputSchema: {type: "object"}},
      {slug: "ping_checked", method: "GET", path: "/ping", inputSchema: {type: "object"},
       validation: "warn", outputSchema: {type: "object", required: ["ok", "auth"],
         properties: {ok: {type: "boolean"}, n: {type: "integer"}, auth: {type: "string"}}}}]}')"
api POST /api/v1/integrations "$tenant_key" "$definition" >/dev/null
api POST /api/v1/integrations/bench/connections "$tenant_key" \
    "$(jq -cn --arg t "$token" '{credential: {type: "bearer", token: $t}}')" >/dev/null
answer="$(api POST /api/v1/actions/bench/ping "$tenant_key" '{"input":{}}')"
[ "$(jq -r .data.auth <<<"$answer")" = bearer ] || die "Waygate's call did not reach the upstream with the token: $answer"
answer="$(api POST /api/v1/actions/bench/ping_checked "$tenant_key" '{"input":{}}')"
[ "$(jq -r .meta.validation.valid <<<"$answer")" = true ] || die "(d)'s answer was not validated: $answer"

echo
echo "(a) nginx upstream: GET $upstream_url"
mapfile -t sut < <(nginx_pids "${nginx_master[upstream]}")
run_wrk a "$upstream_url" "${sut[@]}"
echo
echo "(b) nginx reverse proxy (bearer injected): GET $proxy_url"
mapfile -t sut < <(nginx_pids "${nginx_master[proxy]}")
run_wrk b "$proxy_url" "${sut[@]}"
echo
echo "(c) Waygate: POST $waygate_url/api/v1/actions/bench/ping"
export WRK_POST_BODY='{"input":{}}' WRK_BEARER="$tenant_key"
before="$(curl -fsS -H "Authorization: Bearer $admin_key" "$waygate_url/metrics")" || die "GET /metrics failed"
# The warm-up is inside run_wrk, so count from before it: every POST since is wrk's.
run_wrk c "$waygate_url/api/v1/actions/bench/ping" "$waygate_pid"

# Waygate's own count of what it answered (warm-up and measured run together), and
# the request log: wait for the batching writer to drain its queue.
for _ in $(seq 100); do
    after="$(curl -fsS -H "Authorization: Bearer $admin_key" "$waygate_url/metrics")" || die "GET /metrics failed"
    [ "$(prom_sum "$after" waygate_log_queue_depth)" = 0 ] && break
    sleep 0.1
done
post_2xx=$(($(prom_sum "$after" waygate_http_requests_total 'method="POST"' 'status="2xx"') -
    $(prom_sum "$before" waygate_http_requests_total 'method="POST"' 'status="2xx"')))
post_all=$(($(prom_sum "$after" waygate_http_requests_total 'method="POST"') -
    $(prom_sum "$before" waygate_http_requests_total 'method="POST"')))
server_non2xx=$((post_all - post_2xx))
invocation_errors=$(($(prom_sum "$after" waygate_invocations_total 'outcome="error"') -
    $(prom_sum "$before" waygate_invocations_total 'outcome="error"')))
logs_written=$(($(prom_sum "$after" waygate_log_entries_written_total) -
    $(prom_sum "$before" waygate_log_entries_written_total)))
logs_dropped=$(($(prom_sum "$after" waygate_log_entries_dropped_total) -
    $(prom_sum "$before" waygate_log_entries_dropped_total)))
echo
echo "(d) Waygate, response validated (warn): POST $waygate_url/api/v1/actions/bench/ping_checked"
run_wrk d "$waygate_url/api/v1/actions/bench/ping_checked" "$waygate_pid"
unset WRK_POST_BODY WRK_BEARER

logged_errors="$(api GET '/api/v1/logs?status=error&limit=1000' "$tenant_key" |
    jq -r '(.data | length | tostring) + (if .pagination.hasMore then "+" else "" end)')"

ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "n/a" }'; }

echo
echo "Results (wrk -t$threads -c$connections -d$duration, after a $warmup warm-up; measured in this run)"
printf '%-34s %12s %11s %11s %9s %10s %10s\n' run requests/s p50 p99 non-2xx sock-errors "CPU µs/req"
for label in a b c d; do
    case "$label" in
        a) name="(a) nginx upstream, direct" ;;
        b) name="(b) nginx proxy + bearer" ;;
        c) name="(c) Waygate action, full pipeline" ;;
        d) name="(d) (c) + response validation" ;;
    esac
    printf '%-34s %12s %11s %11s %9s %10s %10s\n' "$name" "${r_rps[$label]}" \
        "$(ms "${r_p50[$label]}")" "$(ms "${r_p99[$label]}")" "${r_non2xx[$label]}" "${r_sockerr[$label]}" "${r_cpu_us[$label]}"
done
tput_ratio="$(ratio "${r_rps[c]}" "${r_rps[b]}")"
p99_ratio="$(ratio "${r_p99[c]}" "${r_p99[b]}")"
validated_ratio="$(ratio "${r_rps[d]}" "${r_rps[c]}")"
echo
echo "(c)/(b): throughput ${tput_ratio}x, p99 ${p99_ratio}x; (d)/(c): throughput ${validated_ratio}x"
echo "CPU per request: (b) nginx proxy ${r_cpu_us[b]} µs, (c) Waygate ${r_cpu_us[c]} µs, (b)/(c) $(ratio "${r_cpu_us[b]}" "${r_cpu_us[c]}")x"
echo "Waygate's counters over warm-up + run of (c): POST answered $post_all, 2xx $post_2xx, non-2xx $server_non2xx; invocation errors $invocation_errors"
echo "  (wrk counted ${r_requests[c]} completed responses in the measured run)"
echo "Request log (SQLite): $logs_written entries written, $logs_dropped dropped in that time; error entries in the log: $logged_errors"

all_2xx=yes
[ "${r_non2xx[c]}" = 0 ] && [ "${r_sockerr[c]}" = 0 ] && [ "${r_non2xx[d]}" = 0 ] && [ "$server_non2xx" = 0 ] &&
    [ "$invocation_errors" = 0 ] && [ "$logged_errors" = 0 ] || all_2xx=no
verdict() { awk -v r="$1" -v min="$2" -v max="$3" 'BEGIN { if (r == "n/a") print "n/a"; else if ((min != "" && r + 0 >= min + 0) || (max != "" && r + 0 <= max + 0)) print "met"; else print "MISSED" }'; }
echo
echo "Target (issue 5): throughput >= 0.5x (b): $(verdict "$tput_ratio" 0.5 '') | every response 2xx: $all_2xx | p99 <= 2x (b): $(verdict "$p99_ratio" '' 2.0)"
echo "Wanted: throughput >= 1.0x (b): $(verdict "$tput_ratio" 1.0 '')"
echo "Target (issue 18): response validation costs <= 10%, (d) >= 0.9x (c): $(verdict "$validated_ratio" 0.9 '')"

failed=0
for label in a b c d; do
    if [ "${r_non2xx[$label]}" != 0 ]; then
        echo "load.sh: ($label) had ${r_non2xx[$label]} non-2xx responses" >&2
        failed=1
    fi
done
if [ "$server_non2xx" != 0 ] || [ "$invocation_errors" != 0 ]; then
    echo "load.sh: Waygate answered $server_non2xx non-2xx responses ($invocation_errors invocation errors)" >&2
    failed=1
fi
exit "$failed"
