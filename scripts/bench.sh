#!/usr/bin/env bash
# Benchmarks rein against tini, tini-static, dumb-init and catatonit, and against the floor of
# each figure: the least any init could do (issues 5 and 11).
#
#   scripts/bench.sh           full run (about 10 minutes on 2 cores), writes docs/benchmarks.md,
#                              docs/benchmarks.svg and the table in README.md's "Measured"
#   scripts/bench.sh --quick   smoke run (under a minute, few iterations); writes its report to
#                              target/bench/quick/ and leaves docs/ and README.md alone
#
# BENCH_NOTE=TEXT adds a note at the top of the report. Every init runs in the same invocation,
# interleaved round by round, as a plain process and as PID 1 of a new PID namespace. It prints
# figures only: nothing here passes or fails on time.
# Needs root (unshare --pid) and installs the peers, valgrind and util-linux when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 [--quick]" >&2; exit 2; }
quick=0
case "$#:${1:-}" in
  0:) ;;
  1:--quick) quick=1 ;;
  *) usage ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "error: $0 needs root (PID namespaces via unshare, /proc of other users' processes)" >&2
  exit 1
fi

say() { printf '\n== %s\n' "$*" >&2; }

# --- Tools ------------------------------------------------------------------------------------
missing=()
for pair in tini:tini tini-static:tini dumb-init:dumb-init catatonit:catatonit \
  unshare:util-linux python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
if [ "${#missing[@]}" -ne 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  # shellcheck disable=SC2046 # one word per package
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq $(printf '%s\n' "${missing[@]}" | sort -u) >&2
fi

# --- Builds -----------------------------------------------------------------------------------
say "building rein (static), the measuring helper and the static floor programs"
scripts/build-static.sh >&2
rein=$PWD/target/x86_64-unknown-linux-musl/release/rein
cargo build --release --locked --quiet --manifest-path bench/Cargo.toml --target-dir target/bench --bin initbench >&2
helper=$PWD/target/bench/release/initbench
cargo build --release --locked --quiet --manifest-path bench/Cargo.toml --target-dir target/bench \
  --target x86_64-unknown-linux-musl --bin floor-init --bin floor-exit >&2
floor_init=$PWD/target/bench/x86_64-unknown-linux-musl/release/floor-init
floor_exit=$PWD/target/bench/x86_64-unknown-linux-musl/release/floor-exit

if [ "$quick" -eq 1 ]; then
  out=target/bench/quick
  startup_runs=30 idle_secs=2 sig_count=200 burst_rounds=1 burst=1000
  shutdown_runs=10 reap_rounds=1 orphans=2000 leftover_sizes=2000 leftover_rounds=1
  hup_sizes=1000 hup_count=3000
  docs_md=$out/benchmarks.md docs_svg=$out/benchmarks.svg
else
  out=target/bench/full
  startup_runs=300 idle_secs=10 sig_count=2000 burst_rounds=5 burst=5000
  shutdown_runs=100 reap_rounds=3 orphans=20000 leftover_sizes=2000,20000 leftover_rounds=3
  hup_sizes=1000,5000 hup_count=30000
  docs_md=docs/benchmarks.md docs_svg=docs/benchmarks.svg
fi
rm -rf "$out"
mkdir -p "$out" "$(dirname "$docs_md")"
work=$(mktemp -d /tmp/rein-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
raw=$out/raw.tsv
: >"$raw"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Order of the interleaving. The floors (`none`, `floor-init`, `floor-exit`, and the leftovers
# floors inside initbench) are added per metric where one exists.
inits=(
  "rein=$rein"
  "tini=$(command -v tini)"
  "tini-static=$(command -v tini-static)"
  "dumb-init=$(command -v dumb-init)"
  "catatonit=$(command -v catatonit)"
)
init_args=()
for i in "${inits[@]}"; do init_args+=(--init "$i"); done
run() { "$helper" "$@" --work "$work" >>"$raw"; }

# --- Measurements -----------------------------------------------------------------------------
say "1/8 start-up + tear-down: INIT -- true, $startup_runs runs each, interleaved"
run startup --init none=none --init "floor-init=$floor_init" "${init_args[@]}" --rounds "$startup_runs"

say "2/8 instructions per run of INIT -- true (valgrind callgrind, the init's own)"
container_env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
instructions() { # name path mode
  local name=$1 path=$2 mode=$3 args=(-- true)
  case "$name" in
    dumb-init) args=(true) ;;
    tini | tini-static) [ "$mode" = plain ] && args=(-s -- true) ;;
    floor-exit) args=() ;;
  esac
  local ns=()
  [ "$mode" = pid1 ] && ns=(unshare --pid --fork --mount-proc)
  local d=$work/cg-$name-$mode
  mkdir -p "$d"
  # Without --trace-children valgrind runs `true` natively; the init's own file is the one of
  # the first process (valgrind's pid, or 1 inside the namespace). perf's instructions:u
  # would be cheaper but needs a hardware counter, which this class of VM does not expose.
  # The environment is the one Docker gives a container (PATH, HOSTNAME, HOME): an init's
  # start-up cost grows with its environment, which should not depend on who runs this.
  "${ns[@]}" env -i "$container_env" HOSTNAME=bench HOME=/root \
    valgrind --tool=callgrind --callgrind-out-file="$d/cg.%p" \
    "$path" "${args[@]}" >/dev/null 2>"$d/log" &
  local vp=$!
  wait "$vp"
  local f=$d/cg.$vp
  [ "$mode" = pid1 ] && f=$d/cg.1
  printf 'instructions\t%s\t%s\t%s\n' "$mode" "$name" "$(awk '/^totals:/ { print $2; exit }' "$f")" >>"$raw"
}
for mode in plain pid1; do
  for i in "floor-exit=$floor_exit" "${inits[@]}"; do instructions "${i%%=*}" "${i#*=}" "$mode"; done
done

say "3/8 idle wake-ups over ${idle_secs} s and memory, all inits at once with an idle child"
run idle --init "floor-init=$floor_init" "${init_args[@]}" --secs "$idle_secs"

say "4/8 reaping: $orphans orphans exiting at once, as PID 1, $reap_rounds round(s)"
run reap --init "floor-init=$floor_init" "${init_args[@]}" --orphans "$orphans" --rounds "$reap_rounds"

say "5/8 signal forwarding, root cgroup and a cpu cgroup per init: $sig_count x SIGUSR1 latency, $burst_rounds burst(s) of $burst real-time signals"
run signals --init none=none "${init_args[@]}" --init "dumb-init-c=$(command -v dumb-init)" \
  --placements root,cgroup --count "$sig_count" --rounds "$burst_rounds" --burst "$burst"

say "6/8 shutdown: SIGTERM to the init until it has exited, $shutdown_runs runs each"
run shutdown --init none=none "${init_args[@]}" --rounds "$shutdown_runs"

say "7/8 leftovers: main child exit -> init exit with $leftover_sizes processes left behind, $leftover_rounds round(s)"
run leftovers "${init_args[@]}" --sizes "$leftover_sizes" --rounds "$leftover_rounds"

say "7b/8 stopping-signal flood: init CPU per forwarded SIGHUP with $hup_sizes other processes, $hup_count signals, PID 1"
run hupflood "${init_args[@]}" --sizes "$hup_sizes" --count "$hup_count" --rounds 1

# --- Report -----------------------------------------------------------------------------------
say "8/8 binary sizes, and the report"
meta=$out/meta.txt
{
  echo "date: $(date -u +%Y-%m-%d)"
  echo "kernel: $(uname -sr)"
  echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) ($(nproc) cores)"
  # Changes to the files this script writes do not make the measured tree dirty.
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain -- . ':!docs/benchmarks.md' ':!docs/benchmarks.svg' ':!README.md' 2>/dev/null)" ]; then
    rev=$rev-dirty
  fi
  echo "rein: $rev"
  for p in tini dumb-init catatonit; do
    echo "$p: $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo unknown)"
  done
  echo "instructions: valgrind --tool=callgrind, environment PATH HOSTNAME HOME as Docker sets them"
  echo "signals: $("$helper" cgroup-info); kernel.sched_autogroup_enabled=$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo '?')"
  echo "load average (1, 5, 15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "mode: $([ "$quick" -eq 1 ] && echo quick || echo full)"
  echo "params: startup_runs=$startup_runs idle_secs=$idle_secs sig_count=$sig_count burst_rounds=$burst_rounds burst=$burst shutdown_runs=$shutdown_runs reap_rounds=$reap_rounds orphans=$orphans leftover_sizes=$leftover_sizes leftover_rounds=$leftover_rounds hup_sizes=$hup_sizes hup_count=$hup_count"
} >"$meta"
PYTHONDONTWRITEBYTECODE=1 python3 scripts/bench_report.py report --raw "$raw" --meta "$meta" \
  --md "$docs_md" --svg "$docs_svg" --note "${BENCH_NOTE:-}" \
  "${inits[@]}" "floor-exit=$floor_exit"
if [ "$quick" -eq 0 ]; then
  # The README's "Measured" table comes from the report just written.
  PYTHONDONTWRITEBYTECODE=1 python3 scripts/bench_report.py readme --md "$docs_md" --readme README.md
fi
echo "raw samples: $raw; report: $docs_md; chart: $docs_svg" >&2
