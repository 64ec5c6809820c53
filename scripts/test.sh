#!/usr/bin/env bash
# Runs rein's whole test suite: unit tests, the PID-1 integration tests (real binary in a
# fresh PID namespace and as a plain process), the Docker engine tests and the property tests.
# Arguments go to `cargo test`. REIN_REQUIRE_NS=1 / REIN_REQUIRE_DOCKER=1 turn a loud skip
# (no PID namespace, no engine) into a failure; .ci/run sets both.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Docker tests build the static binary (musl target, rust-src) and need a static busybox;
# both are installed on first use. unshare comes with util-linux.
exec cargo test --locked "$@"
