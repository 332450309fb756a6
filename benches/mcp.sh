#!/usr/bin/env bash
# MCP figures (issue 15): tools/list for a 10,000-action tenant (direct and meta
# mode) and the overhead of tools/call over the plain gateway invoke, same run.
# Run with: benches/mcp.sh [debug|release]   (default release; builds it first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
profile="${1:-release}"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "$profile" = release ]; then
  cargo build -q --release -p waygate-server --manifest-path "$root/Cargo.toml"
else
  cargo build -q -p waygate-server --manifest-path "$root/Cargo.toml"
fi
python3 "$root/benches/mcp.py" "$target/$profile/waygate"
