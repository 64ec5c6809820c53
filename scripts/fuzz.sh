#!/usr/bin/env bash
# Runs the parser property tests (tests/fuzz_parsers.rs) for longer than `cargo test` does:
# CASES cases per property (default 200000), optimised but with overflow checks and debug
# assertions still on, stopped after SECONDS seconds at most (default 1800). Prints each
# property's count and the total number of cases that ran.
#
# It stands in for `cargo fuzz`, which needs a nightly toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 2 ] || [[ "${1:-}" == -* ]]; then
  echo "usage: $0 [CASES [SECONDS]]" >&2
  exit 2
fi
cases=${1:-200000}
limit=${2:-1800}
case "$cases$limit" in
  *[!0-9]*) echo "usage: $0 [CASES [SECONDS]] (numbers)" >&2; exit 2 ;;
esac
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A target dir of its own, so the optimised build does not evict the normal debug one.
export CARGO_TARGET_DIR=target/fuzz CARGO_PROFILE_DEV_OPT_LEVEL=3
cargo build --locked --test fuzz_parsers >&2
start=$(date +%s)
status=0
PROPTEST_CASES=$cases timeout --signal=INT "$limit" \
  cargo test --locked --test fuzz_parsers -- --nocapture --test-threads=2 2>&1 | tee "$log" || status=$?
end=$(date +%s)
echo "----"
grep '^fuzz: ' "$log" | sort || true
total=$(awk '/^fuzz: / { n += $(NF-1) } END { print n + 0 }' "$log")
echo "fuzz: $total cases in $((end - start))s (PROPTEST_CASES=$cases), exit status $status"
exit "$status"
