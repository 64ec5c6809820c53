#!/usr/bin/env bash
# Runs the PID-1 suite (tests/pid1) against rein built for each architecture: natively where
# the kernel runs it (x86_64, i686), under qemu-user through binfmt_misc elsewhere. Prints, per
# architecture, the tests passed and failed and every part skipped under emulation, with the
# emulator's reason; fails if any suite fails.
#
#   scripts/test-arch.sh [--dist DIR] [--jobs N] [NAME...]   # NAME: aarch64 armv7 ...; default all
#
# --dist DIR tests the binaries of a release (DIR/rein-VERSION-NAME, scripts/release.sh);
# without it each is built with scripts/build-static.sh. --jobs N runs N suites at a time
# (default 1); each suite's log is kept under target/test-arch/.
#
# qemu-user must be 8 or newer (7.2, bookworm's, returns EINVAL for PR_SET_CHILD_SUBREAPER),
# so on bookworm it comes from bookworm-backports, added to apt's sources if missing. Its
# binfmt_misc entries are registered here from qemu-user-binfmt's /usr/lib/binfmt.d files:
# CI machines and containers run no systemd-binfmt. The entries have the F flag (the kernel
# opens the emulator when the entry is registered), so they also serve containers that have
# no emulator in their file system, such as `docker run --platform linux/arm64`.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

usage() {
  echo "usage: $0 [--dist DIR] [--jobs N] [NAME...]" >&2
  exit 2
}

dist=
jobs=1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) [ $# -ge 2 ] || usage; dist=$2; shift 2 ;;
    --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    -*) usage ;;
    *) names+=("$1"); shift ;;
  esac
done
table=$(scripts/build-static.sh --targets)
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(awk '{print $1}' <<<"$table")
fi
version=$(awk -F'"' '/^\[package\]/ {p = 1} p && /^version *=/ {print $2; exit}' Cargo.toml)

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@" >&2
}

# The major version of a qemu-user binary, 0 if it does not run.
qemu_major() {
  "$1" --version 2>/dev/null | awk '/version/ {split($3, v, "."); print v[1]; exit}' | grep . ||
    echo 0
}

# Installs qemu-user (>= 8) and its binfmt definitions, once.
install_qemu() {
  local q=$1 suite=() codename
  [ "$(qemu_major "$(command -v "qemu-$q" || echo none)")" -ge 8 ] &&
    [ -e "/usr/lib/binfmt.d/qemu-$q.conf" ] && return 0
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ]; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "adding bookworm-backports to apt's sources (qemu-user 10)" >&2
      printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
        'Suites: bookworm-backports' 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        >/etc/apt/sources.list.d/bookworm-backports.sources
    fi
    apt_get update
    suite=(-t bookworm-backports)
  fi
  echo "installing qemu-user qemu-user-binfmt ${suite[*]}" >&2
  apt_get install --no-install-recommends "${suite[@]}" qemu-user qemu-user-binfmt ||
    { apt_get update && apt_get install --no-install-recommends "${suite[@]}" qemu-user qemu-user-binfmt; }
  if [ "$(qemu_major "qemu-$q")" -lt 8 ]; then
    echo "error: qemu-$q is $(qemu-"$q" --version | head -n 1); rein's tests need qemu 8 or newer" >&2
    exit 1
  fi
}

# Makes sure binfmt_misc runs this architecture's binaries with qemu >= 8 (F flag).
register_binfmt() {
  local q=$1 dir=/proc/sys/fs/binfmt_misc entry interp
  entry=$dir/qemu-$q
  if ! mountpoint -q "$dir"; then
    mount -t binfmt_misc binfmt_misc "$dir"
  fi
  if [ -e "$entry" ]; then
    interp=$(awk '$1 == "interpreter" {print $2}' "$entry")
    if grep -qx enabled "$entry" && grep -q '^flags:.*F' "$entry" &&
      [ "$(qemu_major "$interp")" -ge 8 ]; then
      return 0
    fi
    echo "replacing binfmt_misc entry qemu-$q ($interp, $(grep '^flags' "$entry"))" >&2
    echo -1 >"$entry"
  fi
  # The definition file is one `:name:type:offset:magic:mask:interpreter:flags` line.
  grep -v '^#' "/usr/lib/binfmt.d/qemu-$q.conf" >"$dir/register"
}

# The binary under test for a name: from the release, or built now.
binary() {
  local name=$1
  if [ -n "$dist" ]; then
    echo "$dist/rein-$version-$name"
  else
    scripts/build-static.sh --target "$name" | tail -n 1 | awk '{print $1}'
  fi
}

logs=target/test-arch
rm -rf "$logs"
mkdir -p "$logs"
bins=()
for name in "${names[@]}"; do
  row=$(awk -v n="$name" '$1 == n' <<<"$table")
  [ -n "$row" ] || { echo "error: unknown target '$name'" >&2; usage; }
  qemu=$(awk '{print $8}' <<<"$row")
  if [ "$qemu" != - ]; then
    install_qemu "$qemu"
    register_binfmt "$qemu"
  fi
  bin=$(binary "$name")
  [ -x "$bin" ] || { echo "error: no binary $bin for $name" >&2; exit 1; }
  # Tested under the name `rein`: the kernel names a process after the file it runs, and the
  # job-control tests find rein by that name (a release's rein-VERSION-NAME would not match).
  mkdir -p "$logs/bin/$name"
  cp "$bin" "$logs/bin/$name/rein"
  bins+=("$PWD/$logs/bin/$name/rein")
done

# Build the suite and its helpers once, so that concurrent runs only run.
cargo test --locked --test pid1 --no-run >&2
cargo build --locked --examples >&2

run_one() {
  local name=$1 bin=$2 start=$SECONDS rc=0
  REIN_BIN=$bin cargo test --locked --test pid1 >"$logs/$name.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$logs/$name.rc"
}

running=0
for i in "${!names[@]}"; do
  echo "== pid1 suite: ${names[$i]} (${bins[$i]})" >&2
  run_one "${names[$i]}" "${bins[$i]}" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

fail=0
printf '%-8s %-17s %6s %6s %6s %6s  %s\n' arch run passed failed skips time result
for name in "${names[@]}"; do
  log=$logs/$name.log
  read -r rc secs <"$logs/$name.rc"
  row=$(awk -v n="$name" '$1 == n' <<<"$table")
  qemu=$(awk '{print $8}' <<<"$row")
  how=native
  [ "$qemu" = - ] || how="qemu-$qemu $(qemu_major "qemu-$qemu")"
  passed=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
  failed=$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$log" | tail -n 1)
  skips=$(grep -c '^SKIPPED' "$log" || true)
  result=ok
  if [ "$rc" != 0 ]; then
    result="FAILED (rc $rc, log $log)"
    fail=1
  fi
  # A skip natively would be a bug of the harness: skip_under_emulation never skips there.
  if [ "$qemu" = - ] && [ "$skips" != 0 ]; then
    result="FAILED (skips without emulation)"
    fail=1
  fi
  printf '%-8s %-17s %6s %6s %6s %5ss  %s\n' "$name" "$how" "${passed:-?}" "${failed:-?}" \
    "$skips" "$secs" "$result"
done
# The skips, each distinct list once, with the architectures that share it.
for name in "${names[@]}"; do
  grep '^SKIPPED' "$logs/$name.log" | sed 's/^SKIPPED ([^)]*): //' | sort >"$logs/$name.skips" || true
done
for name in "${names[@]}"; do
  [ -s "$logs/$name.skips" ] || continue
  same=()
  for other in "${names[@]}"; do
    if cmp -s "$logs/$name.skips" "$logs/$other.skips"; then same+=("$other"); fi
  done
  [ "${same[0]}" = "$name" ] || continue
  tests=$(sed 's/[,:].*//' "$logs/$name.skips" | sort -u | wc -l)
  echo "-- skipped under emulation on ${same[*]}: $(wc -l <"$logs/$name.skips") parts of $tests tests"
  sed 's/^/   /' "$logs/$name.skips"
done
for name in "${names[@]}"; do
  if grep -q '^test .* FAILED$' "$logs/$name.log"; then
    echo "-- $name: failures (log: $logs/$name.log)"
    grep '^test .* FAILED$' "$logs/$name.log" | sed 's/^/   /'
    # What each failed test printed (cargo's "failures:" section), so that a CI log that keeps
    # only this script's output still shows why.
    echo "-- $name: what the failed tests printed (last 200 lines)"
    sed -n '/^failures:$/,/^test result:/p' "$logs/$name.log" | tail -n 200 | sed 's/^/   /'
  fi
done
exit $fail
