#!/usr/bin/env bash
# Trains in headless Chromium (WebGPU; SwiftShader when there is no GPU), prints the page's
# report (accuracy, samples/s, adapter) and saves a picture of the page once training is
# done: web/screenshot.png. Builds the page first.
#
# Usage: web/screenshot.sh [EPOCHS [NET]]
#   EPOCHS  epochs to train (default 1)
#   NET     mlp (the seed network, default) or cnn
# Environment: PORT (default 8768) for the local server; SECONDS_LIMIT (default 600).
set -euo pipefail
cd "$(dirname "$0")"
epochs=${1:-1}
net=${2:-mlp}
port=${PORT:-8768}
build_log=$(mktemp)
if ! ./build.sh >"$build_log" 2>&1; then
  cat "$build_log" >&2
  exit 1
fi
rm -f "$build_log"
report=$(mktemp)
python3 serve.py --port "$port" --report-file "$report" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -f "$report"' EXIT
sleep 1
python3 screenshot.py "http://127.0.0.1:$port/?autorun=1&epochs=$epochs&net=$net&report=/report" \
  "$(pwd)/screenshot.png" "${SECONDS_LIMIT:-600}"
sleep 1
python3 - "$report" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
r = json.loads(lines[0]) if lines[0] else {"error": "the page sent no report"}
if "error" in r:
    sys.exit(f"report: error: {r['error']}")
print(f"report: test accuracy {r['test_accuracy']:.4f}, test loss {r['test_loss']:.4f}, "
      f"{r['samples_per_second']:.0f} samples/s over {r['epochs']} epoch(s), adapter {r['adapter']}")
PY
