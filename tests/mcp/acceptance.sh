#!/usr/bin/env bash
# Acceptance of the MCP server and tool exports with real clients (issue 15):
# the Python `mcp` SDK, the `openai` and `anthropic` packages (tests/mcp/clients.py)
# and the MCP Inspector's CLI, against the real `waygate` binary.
#
# Usage: tests/mcp/acceptance.sh WAYGATE_BIN PYTHON INSPECTOR_BIN LANGCHAIN_PYTHON
# (PYTHON has mcp 2.x, openai and anthropic; LANGCHAIN_PYTHON has
# langchain-mcp-adapters, which needs mcp 1.x, hence its own environment.)
set -euo pipefail

bin="$1"; python="$2"; inspector="$3"; langchain_python="$4"
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../../../shared/fixtures/openapi"
work="$(mktemp -d)"
admin="acceptance-operator-key-0123456789abcdef"
cleanup() { kill "${server_pid:-0}" "${upstream_pid:-0}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# A petstore upstream that answers the calls.
"$python" - > "$work/upstream.port" <<'PY' &
import http.server, json, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/pets/"):
            body = {"id": 7, "name": self.path.split("/")[2]}
        else:
            body = [{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}]
        data = json.dumps(body).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
with socketserver.TCPServer(("127.0.0.1", 0), H) as s:
    print(s.server_address[1], flush=True); sys.stdout.close(); s.serve_forever()
PY
upstream_pid=$!
for _ in $(seq 50); do [ -s "$work/upstream.port" ] && break; sleep 0.1; done
upstream="http://127.0.0.1:$(cat "$work/upstream.port")"

export WAYGATE_ALLOW_PRIVATE_NETWORKS=1 WAYGATE_TENANT_RATE_LIMIT=0 WAYGATE_ADMIN_KEY="$admin"
"$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" > "$work/serve.out" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^waygate listening on //p' "$work/serve.out")"
tenant_json() { curl -sf -X POST "$url/api/v1/tenants" -H "Authorization: Bearer $admin" -H 'content-type: application/json' -d "{\"name\":\"$1\"}"; }
owner="$(tenant_json agents)"; other="$(tenant_json other)"
tenant="$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["tenant"]["id"])' "$owner")"
key="$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["apiKey"])' "$owner")"
other_key="$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["apiKey"])' "$other")"

# The vendor fixtures (multi-file specs: imported by the CLI), and the petstore.
for spec in slack/slack_web_openapi_v2.json twilio/twilio_api_v2010.yaml \
    digitalocean/specification/DigitalOcean-public.v2.yaml; do
  "$bin" import "$fixtures/$spec" --tenant "$tenant" --data-dir "$work/data" > /dev/null
done
slugs="$(curl -sf "$url/api/v1/integrations?limit=50" -H "Authorization: Bearer $key" \
  | "$python" -c 'import json,sys; print(",".join(i["slug"] for i in json.load(sys.stdin)["data"]))')"
"$python" -c 'import json,sys; print(json.dumps({"openapi": open(sys.argv[1]).read(), "slug": "pets", "baseUrl": sys.argv[2]}))' \
  "$fixtures/oai-examples/examples/v3.0/petstore.yaml" "$upstream" \
  | curl -sf -X POST "$url/api/v1/integrations/import" -H "Authorization: Bearer $key" -H 'content-type: application/json' -d @- > /dev/null

WG_URL="$url" WG_KEY="$key" WG_OTHER_KEY="$other_key" WG_BIN="$bin" WG_DATA_DIR="$work/data" \
WG_TENANT="$tenant" WG_FIXTURE_INTEGRATIONS="$slugs" \
WG_PETSTORE="$fixtures/oai-examples/examples/v3.0/petstore.yaml" \
  "$python" "$here/clients.py"

# The MCP Inspector's CLI (2.x) over stdio and HTTP, in both protocol eras: list
# (all pages, and its --strict schema-portability check on the Slack, Twilio and
# DigitalOcean imports), a call, an error result, an unknown tool.
stdio=(-e WAYGATE_ALLOW_PRIVATE_NETWORKS=1 -e RUST_LOG=warn "$bin" mcp --tenant "$tenant" --data-dir "$work/data")
http=("$url/mcp" --header "Authorization: Bearer $key")
total="$(curl -sf "$url/api/v1/tools?format=mcp" -H "Authorization: Bearer $key" \
  | "$python" -c 'import json,sys; print(len(json.load(sys.stdin)["tools"]))')"
for era in legacy modern; do
  for target in stdio http; do
    if [ "$target" = stdio ]; then args=("${stdio[@]}"); else args=("${http[@]}"); fi
    run() { "$inspector" --cli "${args[@]}" --protocol-era "$era" "$@"; }
    run --method tools/list --strict > "$work/list.json" 2> "$work/strict.log" \
      || { echo "FAIL: Inspector --strict ($target, $era):"; tail -20 "$work/strict.log"; exit 1; }
    "$python" - "$work/list.json" "$total" <<'PY'
import json, sys
tools = json.load(open(sys.argv[1]))["tools"]
assert len(tools) == int(sys.argv[2]), f"{len(tools)} of {sys.argv[2]} tools listed"
assert len({t["name"] for t in tools}) == len(tools)
PY
    run --method tools/call --tool-name pets__showPetById --tool-arg petId=Rex > "$work/call.json"
    grep -q '"name": "Rex"' "$work/call.json"
    run --method tools/call --tool-name pets__showPetById > "$work/error.json" 2>&1 || true
    grep -q '"isError": true' "$work/error.json" || { echo "FAIL: no isError ($target, $era)"; cat "$work/error.json"; exit 1; }
    if run --method tools/call --tool-name pets__nope > "$work/unknown.json" 2>&1; then
      echo "FAIL: the Inspector accepted an unknown tool ($target, $era)"; exit 1
    fi
    grep -Eqi "unknown tool|not found" "$work/unknown.json"
    echo "MCP Inspector CLI over $target ($era): $total tools, --strict clean, call, isError, unknown tool"
  done
done
WG_URL="$url" WG_KEY="$key" WG_TOOL_COUNT="$total" "$langchain_python" "$here/langchain.py"
echo "MCP acceptance passed"
