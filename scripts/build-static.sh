#!/usr/bin/env bash
# Builds rein as a static x86_64 musl binary in release mode, checks that it is statically
# linked, and prints its path and size.
#
# By default std is rebuilt from the toolchain's own sources with panic=immediate-abort.
# Stock std links its backtrace symbolizer (gimli, addr2line, libunwind, a demangler: about
# 140 KB) into every binary, even with panic=abort, and rein never prints a backtrace: it never
# panics by design, and a PID 1 that did would end the container either way. Measured with
# opt-level "z": 190,664 bytes this way, 533,144 with stock std (see README, "Measured").
# -Zbuild-std is unstable; RUSTC_BOOTSTRAP=1 lets the installed stable compiler accept it, so
# no other toolchain is fetched. --stock-std builds with the prebuilt std instead.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
mode=rebuilt-std
case "${1:-}" in
  "") ;;
  --stock-std) mode=stock-std ;;
  *) echo "usage: $0 [--stock-std]" >&2; exit 2 ;;
esac
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target" >&2
fi
# RUSTFLAGS replaces .cargo/config.toml's rustflags, so crt-static is repeated in both modes.
# pack-relative-relocs stores the static-PIE's ~520 pointer relocations as a DT_RELR bitmap,
# which musl's start-up code applies (since 1.2.4; binutils >= 2.38 writes it): 12 KB smaller
# and ~2,000 fewer instructions before main (callgrind, `rein -- true`). Still PIE, so ASLR is
# unchanged. It is set here, not in .cargo/config.toml, so that the benchmark's floor programs
# stay as they were: with almost no relocations, a bitmap costs them more than it saves.
static_flags="-Ctarget-feature=+crt-static -Clink-arg=-Wl,-z,pack-relative-relocs"
if [ "$mode" = rebuilt-std ]; then
  if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    rustup component add rust-src >&2
  fi
  RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort $static_flags" \
    cargo build --release --locked --target "$target" -Zbuild-std=std,panic_abort >&2
else
  RUSTFLAGS="$static_flags" cargo build --release --locked --target "$target" >&2
fi
bin="target/$target/release/rein"
# `file` says "static-pie linked" or "statically linked"; either way there is no interpreter.
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
echo "$bin $size bytes ($((size / 1024)) KiB), static, $mode"
