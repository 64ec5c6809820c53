#!/usr/bin/env bash
# Runs the whole test suite RUNS times back to back (default 10) while the machine is loaded,
# to find flaky tests: every failure is a bug to fix at its cause, never a retry.
#
# The load is stress-ng (CPU, memory and fork workers on every core) when it is installed,
# otherwise one busy shell loop per core. Each run's output goes to target/soak/run-N.log;
# the summary line counts passed and failed runs and names the failing tests.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
case "$runs" in
  '' | *[!0-9]*) echo "usage: $0 [RUNS]" >&2; exit 2 ;;
esac
shift || true
out=target/soak
mkdir -p "$out"
cores=$(nproc)
loaders=()
stop_load() {
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_load EXIT
if command -v stress-ng >/dev/null 2>&1; then
  stress-ng --cpu "$cores" --fork 1 --vm 1 --vm-bytes 256M --quiet &
  loaders+=($!)
  load="stress-ng --cpu $cores --fork 1 --vm 1"
else
  for _ in $(seq "$cores"); do
    (while :; do :; done) &
    loaders+=($!)
  done
  load="$cores busy loops"
fi
# Build once before loading the clock, so every run measures the tests, not the compiler.
cargo test --locked --no-run "$@" >/dev/null 2>&1
pass=0
fail=0
failed_tests=()
for i in $(seq "$runs"); do
  log="$out/run-$i.log"
  start=$(date +%s)
  if scripts/test.sh "$@" >"$log" 2>&1; then
    pass=$((pass + 1))
    echo "run $i: ok ($(($(date +%s) - start)) s)"
  else
    fail=$((fail + 1))
    names=$(grep -E '^    [a-z_:]+$|^test .* FAILED$' "$log" | sed 's/^ *//; s/^test //; s/ \.\.\. FAILED$//' | sort -u | tr '\n' ' ')
    failed_tests+=("run $i: $names")
    echo "run $i: FAILED ($(($(date +%s) - start)) s): $names (log: $log)"
  fi
done
echo "load: $load"
for f in "${failed_tests[@]}"; do echo "$f"; done
echo "soak: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
