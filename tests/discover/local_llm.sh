#!/usr/bin/env bash
# Discovery with a real LLM (issue 16 acceptance): two OpenSearch pages served
# by ../shared/tools/docsite.py, read by `waygate discover` through the
# OpenAI-compatible provider against a real small model (Qwen2.5-Coder-0.5B on
# llama.cpp, ../shared/tools/local-llm), offline. Asserts key facts only: a
# 0.5B model gets methods and paths right, not every detail.
# Usage: local_llm.sh WAYGATE_BIN LLM_DIR (LLM_DIR made by local-llm/setup.sh)
set -euo pipefail
bin="$1"; llm_dir="$2"
here="$(cd "$(dirname "$0")" && pwd)"
shared="$(cd "$here/../../../shared" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

docs="$shared/fixtures/docs/opensearch/docs-2024-12/_api-reference"
mkdir -p "$work/site/_api-reference/document-apis" "$work/site/_api-reference/cat"
cp "$docs/document-apis/delete-document.md" "$work/site/_api-reference/document-apis/"
cp "$docs/cat/cat-health.md" "$work/site/_api-reference/cat/"
site_port="$(free_port)"; llm_port="$(free_port)"
python3 "$shared/tools/docsite.py" "$work/site" "$site_port" > /dev/null 2>&1 & pids+=($!)
# PASSIVE: the model keeps its speed beside other work on the machine (its README).
OMP_WAIT_POLICY=PASSIVE "$llm_dir/venv/bin/python" "$shared/tools/local-llm/serve.py" \
  "$llm_dir/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf" --port "$llm_port" --threads 2 \
  --alias qwen2.5-coder-0.5b > "$work/llm.log" 2>&1 & pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "127.0.0.1:$llm_port/health" > /dev/null && curl -sf "127.0.0.1:$site_port/" > /dev/null && break
  sleep 0.2
done

site="http://127.0.0.1:$site_port/_api-reference"
"$bin" discover --specific --json --allow-private-networks \
  --llm-provider openai --llm-base-url "http://127.0.0.1:$llm_port/v1" --llm-model qwen2.5-coder-0.5b \
  "$site/document-apis/delete-document.html" "$site/cat/cat-health.html" \
  > "$work/draft.json" 2> "$work/progress.txt" \
  || { cat "$work/progress.txt"; tail -20 "$work/llm.log"; exit 1; }

python3 - "$work/draft.json" "$work/progress.txt" <<'PY'
import json, sys
draft = json.load(open(sys.argv[1]))
progress = open(sys.argv[2]).read()
actions = {(a["method"], a["path"]): a for a in draft["actions"]}
def fail(message):
    sys.exit(f"FAIL: {message}\nactions: {sorted(actions)}\nprogress:\n{progress}")
delete = actions.get(("DELETE", "/{index}/_doc/{id}")) or fail("DELETE /{index}/_doc/{id} not found")
health = actions.get(("GET", "/_cat/health")) or fail("GET /_cat/health not found")
names = {p["name"] for p in delete.get("parameters", [])}
{"index", "id"} <= names or fail(f"path parameters of the delete: {names}")
by_llm = [k for k, a in actions.items() if "llm" in a.get("metadata", {}).get("extractedBy", "")]
by_llm or fail("no action confirmed or added by the model: did the LLM step run?")
"heuristics used for this part" not in progress or fail("a request to the model failed")
print(f"local LLM discovery: {len(actions)} actions, {len(by_llm)} with the model's agreement")
PY
