#!/usr/bin/env bash
# Builds rein as a static x86_64 musl binary in release mode, checks that it is statically
# linked, and prints its path and size.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
if [ "$#" -ne 0 ]; then
  echo "usage: $0" >&2
  exit 2
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target" >&2
fi
cargo build --release --locked --target "$target" >&2
bin="target/$target/release/rein"
# `file` says "static-pie linked" or "statically linked"; either way no interpreter.
if command -v file >/dev/null 2>&1; then
  desc=$(file -b "$bin")
  case "$desc" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "error: $bin is not static: $desc" >&2; exit 1 ;;
  esac
elif readelf -l "$bin" 2>/dev/null | grep -q INTERP; then
  echo "error: $bin has an ELF interpreter (dynamically linked)" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "$bin $size bytes ($((size / 1024)) KiB), static"
