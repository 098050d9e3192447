#!/usr/bin/env bash
# Trains in headless Chromium (WebGPU; SwiftShader when there is no GPU) and saves a
# picture of the page once training is done: web/screenshot.png. Builds the page first.
# Usage: web/screenshot.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")"
./build.sh >/dev/null
port=${PORT:-8768}
python3 -m http.server "$port" --bind 127.0.0.1 -d dist >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
sleep 1
python3 screenshot.py "http://127.0.0.1:$port/?autorun=1&epochs=${1:-1}" "$(pwd)/screenshot.png"
