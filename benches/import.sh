#!/usr/bin/env bash
# Times the OpenAPI importer against Node's @apidevtools/swagger-parser `dereference`
# on the largest fixtures (Slack, DigitalOcean multi-file, Twilio), in one run.
#
# Run with: benches/import.sh            (extra arguments go to `cargo bench`)
# Needs node and npm; swagger-parser is installed once into $WAYGATE_BENCH_CACHE
# (default ~/.cache/waygate-bench).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${WAYGATE_BENCH_CACHE:-$HOME/.cache/waygate-bench}"
mkdir -p "$cache"

if [ ! -d "$cache/node_modules/@apidevtools/swagger-parser" ]; then
    echo "installing @apidevtools/swagger-parser into $cache" >&2
    npm install --silent --no-audit --no-fund --prefix "$cache" @apidevtools/swagger-parser >&2
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
cd "$root"
exec cargo bench -p waygate-core --bench import "$@"
