#!/usr/bin/env python3
"""Shows, with the kernel's scheduler trace, where the child of an init is woken when the init
forwards a signal, and how long the hop takes: the evidence for the sched_autogroup section of
docs/benchmarks.md.

Usage (root, after scripts/bench.sh has built the helper):
  python3 bench/trace_autogroup.py [--signals N] NAME=ARGV... 

  e.g. python3 bench/trace_autogroup.py dumb-init='/usr/bin/dumb-init' \\
         dumb-init-c='/usr/bin/dumb-init -c' rein='target/x86_64-unknown-linux-musl/release/rein --'

Each init runs `initbench child-sig` as a plain process in the caller's cpu cgroup; the script
sends it SIGUSR1 N times, 1 ms apart, and records sched_wakeup and sched_switch for the init and
its child in a tracefs instance of its own (removed afterwards). For every signal it prints
nothing; at the end, per init: the child's autogroup vs the init's, how often the child was
woken on the CPU the init was running on, the median kill(init) -> handler latency, and that
hop in three parts: the init's wake-up until it runs, the init running until it wakes the child
(the init's own work: reading the signal, sending it on), the child's wake-up until it runs.
Only the standard library is used.
"""

import os
import re
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import time

TRACEFS = "/sys/kernel/tracing"
HELPER = "target/bench/release/initbench"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def autogroup(pid):
    try:
        return open(f"/proc/{pid}/autogroup").read().split()[0]
    except OSError:
        return "?"


def children(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def run_one(name, argv, n, inst):
    fifo = f"/tmp/trace-autogroup-{os.getpid()}-{name}.fifo"
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)
    proc = subprocess.Popen(argv + [os.path.abspath(HELPER), "child-sig", fifo, "1"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        ready = struct.unpack("=Q", os.read(fd, 8))[0]
        assert ready == 2**64 - 1, ready
        init = proc.pid
        child = children(init)[0]
        write(f"{inst}/set_event_pid", f"{init} {child}\n")
        write(f"{inst}/trace", "")
        write(f"{inst}/tracing_on", "1")
        lat = []
        for _ in range(n):
            t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            os.kill(init, signal.SIGUSR1)
            t1 = struct.unpack("=Q", os.read(fd, 8))[0]
            lat.append((t1 - t0) / 1000)
            time.sleep(0.001)
        write(f"{inst}/tracing_on", "0")
        trace = open(f"{inst}/trace").read()
        groups = (autogroup(init), autogroup(child))
    finally:
        proc.terminate()
        proc.wait()
        os.close(fd)
        os.unlink(fifo)
    # Where each task last ran, and for each wake-up of the child the CPU the init was on; and
    # the hop in three parts: the init's wake-up until it runs, the init running until it wakes
    # the child (rein's own work), the child's wake-up until it runs.
    on_cpu = {}
    same = cross = 0
    woke, ran = {}, {}
    parts = {"init wake→run": [], "init run→child wake": [], "child wake→run": []}
    for line in trace.splitlines():
        ts = re.search(r"\s(\d+\.\d+): ", line)
        t = float(ts.group(1)) * 1e6 if ts else None
        m = re.search(r"\[(\d+)\].*sched_switch: .*next_pid=(\d+)", line)
        if m:
            pid = int(m.group(2))
            on_cpu[pid] = int(m.group(1))
            if pid in woke and t is not None:
                ran[pid] = t
                parts["init wake→run" if pid == init else "child wake→run"].append(t - woke.pop(pid))
            continue
        m = re.search(r"sched_wakeup: .*pid=(\d+) .*target_cpu=(\d+)", line)
        if not m or t is None:
            continue
        pid = int(m.group(1))
        woke[pid] = t
        if pid == child and init in ran:
            parts["init run→child wake"].append(t - ran.pop(init))
        if pid == child and init in on_cpu:
            if int(m.group(2)) == on_cpu[init]:
                same += 1
            else:
                cross += 1
    med = {k: statistics.median(v) if v else float("nan") for k, v in parts.items()}
    return groups, same, cross, statistics.median(lat), med


def main():
    args = sys.argv[1:]
    n = 200
    if args[:1] == ["--signals"]:
        n, args = int(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    inst = f"{TRACEFS}/instances/initbench-{os.getpid()}"
    os.mkdir(inst)
    try:
        for ev in ("sched/sched_wakeup", "sched/sched_switch"):
            write(f"{inst}/events/{ev}/enable", "1")
        print(f"{'init':<12} {'init autogroup':<15} {'child autogroup':<18} "
              f"{'child woken on init CPU':>23} {'median µs':>9}   median µs of: init wake→run, "
              f"init run→child wake, child wake→run")
        for spec in args:
            name, cmd = spec.split("=", 1)
            (g_init, g_child), same, cross, med, part = run_one(name, shlex.split(cmd), n, inst)
            total = max(same + cross, 1)
            print(f"{name:<12} {g_init:<15} {g_child:<18} {same:>5} of {total:<5} ({100 * same / total:3.0f}%)"
                  f" {med:>9.1f}   " + ", ".join(f"{v:.1f}" for v in part.values()))
    finally:
        write(f"{inst}/tracing_on", "0")
        os.rmdir(inst)


if __name__ == "__main__":
    main()
