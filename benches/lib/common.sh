# Shared by the load scripts in benches/ (sourced, not run): failing with a
# message, checking tools, calling the gateway's API, and starting
# `waygate serve` in the script's temporary directory.
#
# The sourcing script sets, before calling these: `bench` (its name, for
# messages), `tmp` (its temporary directory) and `pids` (an array of the
# processes it stops on exit).

die() {
    echo "$bench: $*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# api METHOD PATH KEY [JSON]: the answer's body on a 2xx, else the script dies.
api() {
    local method="$1" path="$2" key="$3" body="${4:-}" code
    local args=(-sS -o "$tmp/api-answer.json" -w '%{http_code}' -X "$method"
        -H "Authorization: Bearer $key" "$waygate_url$path")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    code="$(curl "${args[@]}")" || die "$method $path: curl failed"
    case "$code" in
        2??) cat "$tmp/api-answer.json" ;;
        *) cat "$tmp/api-answer.json" >&2; echo >&2; die "$method $path answered $code" ;;
    esac
}

# start_waygate BINARY [VAR=VALUE…]: `waygate serve` on a free loopback port
# with its data in $tmp and the operator key $admin_key, plus the variables
# given; sets waygate_pid and waygate_url once it listens.
start_waygate() {
    local binary="$1"
    shift
    env WAYGATE_ADDR=127.0.0.1:0 \
        WAYGATE_DATA_DIR="$tmp/waygate-data" \
        WAYGATE_ADMIN_KEY="$admin_key" \
        WAYGATE_TENANT_RATE_LIMIT=0 \
        "$@" \
        "$binary" serve >"$tmp/waygate.out" 2>"$tmp/waygate.err" &
    waygate_pid="$!"
    pids+=("$waygate_pid")
    waygate_url=""
    for _ in $(seq 300); do
        waygate_url="$(sed -n 's/^waygate listening on \(http:[^ ]*\)$/\1/p' "$tmp/waygate.out")"
        [ -n "$waygate_url" ] && return 0
        kill -0 "$waygate_pid" 2>/dev/null || { cat "$tmp/waygate.err" >&2; die "waygate serve exited at start"; }
        sleep 0.1
    done
    cat "$tmp/waygate.err" >&2
    die "waygate serve did not print its address within 30 s"
}
