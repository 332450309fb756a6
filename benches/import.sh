#!/usr/bin/env bash
# Times the OpenAPI importer against Node's @apidevtools/swagger-parser `dereference`
# on GitHub's REST description and the largest fixtures (Slack, DigitalOcean
# multi-file, Twilio), in one run.
#
# Run with: benches/import.sh            (extra arguments go to `cargo bench`)
# Needs node and npm; swagger-parser and GitHub's description (the plain OpenAPI
# 3.0 `api.github.com.json` of the npm package @octokit/openapi, never committed)
# are fetched once into $WAYGATE_BENCH_CACHE (default ~/.cache/waygate-bench).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WAYGATE_BENCH_CACHE:-$HOME/.cache/waygate-bench}"
mkdir -p "$cache"

if [ ! -d "$cache/node_modules/@apidevtools/swagger-parser" ]; then
    echo "installing @apidevtools/swagger-parser into $cache" >&2
    npm install --silent --no-audit --no-fund --prefix "$cache" @apidevtools/swagger-parser >&2
fi

# GitHub's description, pinned so that figures stay comparable between runs.
octokit_version=23.0.2
github="$cache/github-api.github.com-$octokit_version.json"
if [ ! -f "$github" ]; then
    echo "fetching @octokit/openapi@$octokit_version into $cache" >&2
    tarball="$(cd "$cache" && npm pack --silent "@octokit/openapi@$octokit_version")"
    tar -xzf "$cache/$tarball" -C "$cache" package/generated/api.github.com.json
    mv "$cache/package/generated/api.github.com.json" "$github"
    rm -rf "$cache/package" "${cache:?}/$tarball"
fi

# Prints the median milliseconds of `dereference` over RUNS runs, after two warm-ups.
script="$cache/swagger-parser-time.js"
cat > "$script" <<'JS'
const SwaggerParser = require("@apidevtools/swagger-parser");
const [file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg) || 10;
(async () => {
  for (let i = 0; i < 2; i++) await SwaggerParser.dereference(file);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await SwaggerParser.dereference(file);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(times[Math.floor(times.length / 2)].toFixed(3));
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
JS

export NODE_PATH="$cache/node_modules"
export WAYGATE_SWAGGER_PARSER_SCRIPT="$script"
export WAYGATE_GITHUB_SPEC="$github"
cd "$root"
exec cargo bench -p waygate-core --bench import "$@"
