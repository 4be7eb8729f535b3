#!/usr/bin/env bash
# make demo: start the embedded PostGIS, migrate, load the demo town, serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=.venv/bin/gis-service
$cli db start
[ -n "${DATABASE_URL:-}" ] || trap '$cli db stop >/dev/null' EXIT
$cli migrate
$cli load-demo --if-empty
echo "serving http://127.0.0.1:${PORT:-8000} (map at /, API docs at /docs); Ctrl-C stops"
if [ "${GIS_DEMO_LIVE:-1}" != "0" ]; then
  # a believable day keeps going while the demo runs (GIS_DEMO_LIVE=0: none)
  $cli simulate --url "http://127.0.0.1:${PORT:-8000}" &
  simulator=$!
  trap 'kill $simulator 2>/dev/null; wait $simulator 2>/dev/null; [ -n "${DATABASE_URL:-}" ] || $cli db stop >/dev/null' EXIT
fi
$cli serve --host 127.0.0.1 --port "${PORT:-8000}"
