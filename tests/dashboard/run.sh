#!/usr/bin/env bash
# Dashboard acceptance (issue 17) in a real browser: Playwright (playwright-core)
# driving Debian's Chromium against a running `waygate serve`, axe-core on
# every page in light and dark, screenshots under the output directory.
#
# Usage: tests/dashboard/run.sh WAYGATE_BIN NODE_MODULES [OUT_DIR]
#   NODE_MODULES holds playwright-core and axe-core (npm install --prefix …).
#   WAYGATE_OAUTH_MOCK_MODULES: the node_modules holding oauth2-mock-server for
#   the OAuth2 round trip (default: CI's npm cache, installed there if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
modules="$2"
out="${3:-${CARGO_TARGET_DIR:-$here/../../target}/dashboard-acceptance}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
oauth_modules="${WAYGATE_OAUTH_MOCK_MODULES:-$HOME/.cache/waygate-ci/npm/node_modules}"
if [ ! -d "$oauth_modules/oauth2-mock-server" ]; then
  mkdir -p "$(dirname "$oauth_modules")"
  npm install --no-audit --no-fund --prefix "$(dirname "$oauth_modules")" oauth2-mock-server@8
fi
mkdir -p "$out"
rm -f "$out"/*.png
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

admin="dashboard-acceptance-operator-key-0123456789"
WAYGATE_ADMIN_KEY="$admin" WAYGATE_ALLOW_PRIVATE_NETWORKS=1 WAYGATE_TENANT_RATE_LIMIT=0 \
  "$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  if grep -q "waygate listening on" "$work/stdout" 2>/dev/null; then break; fi
  sleep 0.1
done
url="$(sed -n 's/^waygate listening on //p' "$work/stdout" | head -1)"
if [ -z "$url" ]; then
  echo "waygate did not start:"; cat "$work/server.log"; exit 1
fi

fixtures="$here/../../../shared/fixtures/openapi"
NODE_PATH="$modules" WAYGATE_URL="$url" WAYGATE_ADMIN_KEY="$admin" CHROMIUM="$chromium" \
  PETSTORE="$fixtures/oai-examples/examples/v2.0/json/petstore-expanded.json" \
  SLACK="$fixtures/slack/slack_web_openapi_v2_without_examples.json" \
  DOCSITE="$here/../../../shared/tools/docsite.py" \
  DOCS="$here/../../../shared/fixtures/docs/opensearch/docs-2024-12" \
  OAUTH_MOCK_MODULES="$oauth_modules" OUT="$out" node "$here/acceptance.mjs" || { echo "--- server log (tail)"; tail -40 "$work/server.log"; exit 1; }
