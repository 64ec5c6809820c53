#!/usr/bin/env python3
"""Turns the raw samples of scripts/bench.sh into a Markdown report, an SVG chart, a JSON
summary, and the README's "Measured" table.

Usage:
  bench_report.py report --raw RAW.tsv --meta META.txt --md OUT.md --svg OUT.svg [--note TEXT] NAME=PATH...
  bench_report.py readme [--md docs/benchmarks.md] [--readme README.md]

`report` reads the samples (`metric<TAB>mode<TAB>init<TAB>value` rows, as written by bench/
(initbench) and bench.sh) and writes the report and the chart. The report ends with its figures
as JSON in an HTML comment; `readme` regenerates the table between the
`<!-- bench-table:begin -->` and `<!-- bench-table:end -->` markers of README.md from that alone,
so the README always shows the figures of the committed report.
Only the Python standard library is used, so a fresh machine needs nothing extra.
"""

import argparse
import json
import math
import os
import statistics
import struct
import sys
from collections import defaultdict

PEERS = ["tini", "tini-static", "dumb-init", "catatonit"]
INITS = ["rein"] + PEERS
MODES = (("plain", "plain process"), ("pid1", "PID 1"))
PLACEMENTS = (("root", "root cgroup", ""), ("cg", "own cpu cgroup", "_cg"))

# What "floor" means, per kind of figure (the report prints this as a legend).
FLOORS = {
    "floor-init": "`floor-init` (bench/src/bin/floor-init.rs): a static musl program that forks, "
                  "execs the command and loops in a blocking `wait()`, nothing else",
    "floor-exit": "`floor-exit`: a static musl program that only calls `_exit(0)` (the C "
                  "runtime's start-up every static init pays)",
    "direct": "no init: the driver signals the child directly",
    "child-pid1": "no init: TERM to the child itself (as PID 1 of its namespace in PID 1 mode)",
    "waitpid": "a parent that sends SIGTERM to its N children (oldest first; they form a process "
               "group of their own, as leftovers of a main child do) and reaps each with "
               "`waitpid(pid)`; the `waitpid(-1)` loop and the youngest-first order are in the "
               "leftovers table",
}

# Which figures each floor is for, as the legend names them.
FLOOR_FOR = {
    "floor-init": "start-up, idle wake-ups, memory, reaping",
    "floor-exit": "instructions, binary size",
    "direct": "signal latency and signals per second",
    "child-pid1": "shutdown",
    "waitpid": "leftovers",
}

BEGIN, END = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
DATA_BEGIN, DATA_END = "<!-- bench-data (read by `bench_report.py readme`)", "-->"


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def elf_static(path):
    """True if the ELF file has no PT_INTERP (no dynamic loader), as `file` would say."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP


def load(raw):
    data = defaultdict(list)
    with open(raw) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or parts[3] in ("", "nan"):
                continue
            metric, mode, init, value = parts
            data[(metric, mode, init)].append(float(value))
    return data


def row(key, label, unit, values, floor=None, floor_kind=None, lower=True, fmt="{:.0f}"):
    """One figure: a value per init, its floor, the unit, and which direction is better."""
    return {"key": key, "label": label, "unit": unit, "values": values, "floor": floor,
            "floor_kind": floor_kind, "lower": lower, "fmt": fmt}


def build_rows(data, meta):
    def stat(m, mode, i, f=statistics.median, scale=1.0):
        s = data.get((m, mode, i))
        return f(s) * scale if s else None

    def per_init(m, mode, scale=1.0, f=statistics.median, names=INITS):
        return {i: v for i in names if (v := stat(m, mode, i, f, scale)) is not None}

    p99 = lambda s: pct(s, 99)
    rows = []
    for mode, where in MODES:
        base = stat("startup_ns", mode, "none")
        vals = {}
        if base is not None:
            for i in INITS + ["floor-init"]:
                m = stat("startup_ns", mode, i)
                if m is not None:
                    vals[i] = (m - base) / 1000
        fl = vals.pop("floor-init", None)
        rows.append(row(f"startup_{mode}", f"start-up + tear-down overhead of `INIT -- true`, {where}",
                        "µs", vals, fl, "floor-init"))
    for mode, where in MODES:
        vals = per_init("instructions", mode, 1e-3)
        rows.append(row(f"instructions_{mode}", f"user-space instructions of `INIT -- true`, {where}",
                        "k instr", vals, stat("instructions", mode, "floor-exit", scale=1e-3),
                        "floor-exit", fmt="{:.1f}"))
    idle_secs = meta.get("idle_secs", "10")
    for mode, where in MODES:
        rows.append(row(f"idle_{mode}", f"idle wake-ups in {idle_secs} s, {where}", "wake-ups",
                        per_init("idle_ctxt", mode), stat("idle_ctxt", mode, "floor-init"),
                        "floor-init"))
    orphans = int(meta.get("orphans", "0") or 0)
    for metric, key, label, unit, scale, fmt in (
        ("reap_drain_ns", "reap_drain", "release → last one reaped", "ms", 1e-6, "{:.0f}"),
        ("reap_exit_ns", "reap_exit", "release → init exited", "ms", 1e-6, "{:.0f}"),
        ("reap_cpu_per_orphan_ns", "reap_cpu", "init CPU per reaped orphan", "µs", 1e-3, "{:.2f}"),
        ("reap_peak_zombies", "reap_peak", "peak unreaped zombies (sampled)", "zombies", 1, "{:.0f}"),
    ):
        rows.append(row(key, f"{orphans:,} orphans released at once: {label}, PID 1", unit,
                        per_init(metric, "pid1", scale), stat(metric, "pid1", "floor-init", scale=scale),
                        "floor-init", fmt=fmt))
    for place, pwhere, suffix in PLACEMENTS:
        m = f"siglat{suffix}_ns"
        for mode, where in MODES:
            for f, what in ((statistics.median, "median"), (p99, "p99")):
                rows.append(row(f"siglat_{place}_{what}_{mode}",
                                f"signal latency {what}, kill(init) → child's handler, {where}, {pwhere}",
                                "µs", per_init(m, mode, 1e-3, f), stat(m, mode, "none", f, 1e-3),
                                "direct", fmt="{:.1f}"))
    for place, pwhere, suffix in PLACEMENTS:
        m = f"sigrate{suffix}_per_s"
        for mode, where in MODES:
            rows.append(row(f"sigrate_{place}_{mode}", f"forwarded signals per second, {where}, {pwhere}",
                            "signals/s", per_init(m, mode), stat(m, mode, "none"), "direct", lower=False))
    for metric, label in (("rss_kb", "VmRSS"), ("hwm_kb", "VmHWM"), ("pss_kb", "Pss")):
        for mode, where in MODES:
            rows.append(row(f"{metric[:-3]}_{mode}", f"memory {label} with an idle child, {where}", "KiB",
                            per_init(metric, mode), stat(metric, mode, "floor-init"), "floor-init"))
    for mode, where in MODES:
        rows.append(row(f"shutdown_{mode}", f"shutdown: SIGTERM → init exited, {where}", "µs",
                        per_init("shutdown_ns", mode, 1e-3), stat("shutdown_ns", mode, "none", scale=1e-3),
                        "child-pid1"))
    for n in sizes_of(meta):
        for mode, where in MODES:
            m = f"leftovers_{n}_ns"
            names = INITS if mode == "pid1" else ["rein"]
            rows.append(row(f"leftovers_{n}_{mode}",
                            f"{n:,} leftovers that exit on TERM: main child exit → init exited, {where}",
                            "ms", per_init(m, mode, 1e-6, names=names),
                            stat(m, mode, "floor-waitpid", scale=1e-6), "waitpid", fmt="{:.0f}"))
    for n in sizes_of(meta, "hup_sizes"):
        vals = {i: v for i in INITS
                if (v := stat("hup_cpu_per_signal_ns", "pid1", f"{i}@{n}", scale=1e-3)) is not None}
        rows.append(row(f"hupflood_{n}",
                        f"SIGHUP flood with {n:,} other processes: init CPU per forwarded SIGHUP, PID 1",
                        "µs", vals, fmt="{:.1f}"))
    return rows


def sizes_of(meta, key="leftover_sizes"):
    return [int(s) for s in meta.get(key, "").split(",") if s]


def fmt_cell(r, v):
    return "–" if v is None else r["fmt"].format(v)


def best_peer(r):
    peers = [r["values"][p] for p in PEERS if r["values"].get(p) is not None]
    if not peers:
        return None
    return min(peers) if r["lower"] else max(peers)


def ratio(a, b):
    if a is None or b is None:
        return "–"
    if b == 0:
        return "0 = 0" if a == 0 else "∞"
    return f"{a / b:.2f}×"


def table(rows, sizes=None, floor_sizes=None, unit_col=True):
    """A Markdown table: floor, every init, rein ÷ best peer, rein ÷ floor."""
    head = ["figure"] + (["unit"] if unit_col else []) + ["floor"] + INITS + ["rein ÷ best peer", "rein ÷ floor"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + ("---|" if unit_col else "") + "---:|" * (len(head) - 1 - unit_col)]
    for r in rows:
        best = best_peer(r)
        label = r["label"] if unit_col else f"{r['label']} ({r['unit']})"
        cells = [label] + ([r["unit"]] if unit_col else []) + [fmt_cell(r, r["floor"])]
        for n in INITS:
            v = r["values"].get(n)
            text = fmt_cell(r, v)
            if v is not None and best is not None and ((r["lower"] and v <= best) or (not r["lower"] and v >= best)):
                text = f"**{text}**"
            cells.append(text)
        rein = r["values"].get("rein")
        cells += [ratio(rein, best), ratio(rein, r["floor"])]
        lines.append("| " + " | ".join(cells) + " |")
    if sizes:
        # Binary size: one value per init; against the smallest *static* peer, because a
        # dynamic binary needs a libc in the image as well.
        cells = ["binary size" + ("" if unit_col else " (KiB)")] + (["KiB"] if unit_col else []) + [
            f"{floor_sizes / 1024:.0f} (static)" if floor_sizes else "–"]
        for n in INITS:
            size, static = sizes[n]
            cells.append(f"{size / 1024:.0f} ({'static' if static else 'dynamic'})")
        static_peers = [sizes[p][0] for p in PEERS if p in sizes and sizes[p][1]]
        cells.append(ratio(sizes["rein"][0], min(static_peers) if static_peers else None) + " (static peers)")
        cells.append(ratio(sizes["rein"][0], floor_sizes))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def autogroup_table(data):
    """Signal latency of every init and the dumb-init -c control, in both placements."""
    names = ["none", "rein", "tini", "tini-static", "catatonit", "dumb-init", "dumb-init-c"]
    head = ["placement", "mode", "statistic"] + [("no init" if n == "none" else f"`{n}`") for n in names] + [
        "rein ÷ best same-session peer"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|" + "---:|" * (len(head) - 3)]
    for place, pwhere, suffix in PLACEMENTS:
        for mode, where in MODES:
            for what, f in (("median", statistics.median), ("p99", lambda s: pct(s, 99))):
                vals = {}
                for n in names:
                    s = data.get((f"siglat{suffix}_ns", mode, n))
                    vals[n] = f(s) / 1000 if s else None
                same = [vals[p] for p in ("tini", "tini-static", "catatonit") if vals.get(p) is not None]
                cells = [pwhere, where, f"{what} (µs)"] + ["–" if vals[n] is None else f"{vals[n]:.1f}" for n in names]
                cells.append(ratio(vals.get("rein"), min(same) if same else None))
                lines.append("| " + " | ".join(cells) + " |")
    split = []
    for mode, where in MODES:
        for n in names:
            s = data.get(("autogroup_split", mode, n))
            if s and max(s) > 0:
                split.append(f"`{n}` ({where})")
    note = ("Child in an autogroup other than its init's (from `/proc/PID/autogroup`, root placement): "
            + (", ".join(split) if split else "none") + ".")
    return "\n".join(lines) + "\n\n" + note


def autogroup_this_run(data, meta_lines):
    """One sentence on whether this run shows the effect, and the load it ran under."""
    med = lambda m, mode, i: statistics.median(data[(m, mode, i)]) / 1000 if data.get((m, mode, i)) else None
    load = next((l.split(": ", 1)[1] for l in meta_lines if l.startswith("load average")), "unknown")
    parts = []
    for mode, where in MODES:
        d, dc = med("siglat_ns", mode, "dumb-init"), med("siglat_ns", mode, "dumb-init-c")
        same = [v for p in ("tini", "catatonit", "rein") if (v := med("siglat_ns", mode, p)) is not None]
        cg = [v for p in ("dumb-init", "tini", "catatonit", "rein") if (v := med("siglat_cg_ns", mode, p)) is not None]
        if d is None or not same:
            continue
        parts.append(f"{where}: dumb-init {d:.1f} µs, `dumb-init -c` {dc:.1f} µs, tini/catatonit/rein "
                     f"{min(same):.1f}–{max(same):.1f} µs in the root cgroup; {min(cg):.1f}–{max(cg):.1f} µs "
                     f"for all four in their own cgroups")
    return ("**In this run** (load average " + load + "): " + "; ".join(parts) + "." if parts else "")


def leftovers_table(data, meta):
    head = ["leftovers", "mode", "rein", "floor: `waitpid(pid)` each", "floor: `waitpid(-1)` loop",
            "floor: `waitpid(pid)`, youngest signalled first", "rein ÷ floor",
            "peers as PID 1 (exit at once; the kernel SIGKILLs the rest)"]
    lines = ["| " + " | ".join(head) + " |", "|---:|---|---:|---:|---:|---:|---:|---|"]
    for n in sizes_of(meta):
        for mode, where in MODES:
            m = f"leftovers_{n}_ns"
            med = lambda i: statistics.median(data[(m, mode, i)]) / 1e6 if data.get((m, mode, i)) else None
            rein, fp = med("rein"), med("floor-waitpid")
            peers = ", ".join(f"{p} {med(p):.0f}" for p in PEERS if med(p) is not None) or "not run (they leave the processes running)"
            c = lambda v: "–" if v is None else f"{v:.0f} ms"
            lines.append(f"| {n:,} | {where} | {c(rein)} | {c(fp)} | {c(med('floor-wait-any'))} | "
                         f"{c(med('floor-waitpid-reversed'))} | {ratio(rein, fp)} | {peers} |")
    strays = {k: int(sum(v)) for k, v in data.items() if k[0].endswith("_strays")}
    note = ""
    if strays:
        note = "\n\nProcesses left behind after a run (killed by the driver): " + ", ".join(
            f"{k[2]} ({k[1]}, {k[0].split('_')[1]}): {v}" for k, v in strays.items())
    return "\n".join(lines) + note


def svg_chart(rows_by_key, sizes, floor_size, path):
    """Small multiples: one bar panel per headline figure, the floor as a grey bar."""
    wanted = ["startup_pid1", "instructions_pid1", "idle_pid1", "reap_drain", "reap_cpu",
              "siglat_cg_median_pid1", "siglat_root_median_pid1", "shutdown_pid1"]
    wanted += sorted((k for k in rows_by_key if k.startswith("leftovers_")), key=lambda k: (int(k.split("_")[1]), k))
    wanted += ["pss_pid1", "rss_pid1", "size"]
    panels = []
    for k in wanted:
        if k == "size":
            panels.append(row("size", "binary size", "KiB", {n: sizes[n][0] / 1024 for n in INITS},
                              floor_size / 1024 if floor_size else None, "floor-exit"))
        elif k in rows_by_key and rows_by_key[k]["values"]:
            panels.append(rows_by_key[k])
    colours = {"rein": "#d9480f", "tini": "#1c7ed6", "tini-static": "#74c0fc",
               "dumb-init": "#2f9e44", "catatonit": "#7048e8", "floor": "#adb5bd"}
    names = ["floor"] + INITS
    pw, ph, cols = 470, 62 + 20 * len(names), 2
    width = pw * cols + 20
    height = 60 + ph * math.ceil(len(panels) / cols)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="24" font-size="16" font-weight="bold">rein vs tini, tini-static, '
           'dumb-init, catatonit, and the floor (grey)</text>',
           '<text x="10" y="40" fill="#495057">medians; shorter is better unless marked ↑; '
           'the floor of each figure is explained in docs/benchmarks.md</text>']
    for k, r in enumerate(panels):
        x0 = 10 + (k % cols) * pw
        y0 = 54 + (k // cols) * ph
        title = short_label(r) + (" ↑" if not r["lower"] else "")
        out.append(f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">{esc(title)} ({esc(r["unit"])})</text>')
        rein = r["values"].get("rein")
        if r["key"] == "size":
            # As in the table: against the smallest static peer (a dynamic one needs a libc too).
            static = [r["values"][p] for p in PEERS if sizes.get(p, (0, False))[1]]
            best_text = f"smallest static peer {ratio(rein, min(static) if static else None)}"
        else:
            best_text = f"best peer {ratio(rein, best_peer(r))}"
        out.append(f'<text x="{x0}" y="{y0 + 30}" fill="#495057">rein ÷ {best_text}, '
                   f'rein ÷ floor {ratio(rein, r["floor"])}</text>')
        vals = dict(r["values"], floor=r["floor"])
        vmax = max([v for v in vals.values() if v is not None] + [1e-9])
        for j, n in enumerate(names):
            v = vals.get(n)
            y = y0 + 38 + j * 20
            out.append(f'<text x="{x0 + 80}" y="{y + 13}" text-anchor="end">{esc(n)}</text>')
            if v is None:
                out.append(f'<text x="{x0 + 90}" y="{y + 13}" fill="#868e96">–</text>')
                continue
            w = 0 if vmax <= 0 else (pw - 180) * v / vmax
            out.append(f'<rect x="{x0 + 86}" y="{y + 2}" width="{max(w, 1):.1f}" height="14" '
                       f'fill="{colours.get(n, "#888")}"/>')
            out.append(f'<text x="{x0 + 90 + w:.1f}" y="{y + 13}">{esc(fmt_cell(r, v))}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def short_label(r):
    text = r["label"].replace(" of `INIT -- true`", "").replace(", kill(init) → child's handler", "")
    text = text.replace(" that exit on TERM: main child exit → init exited", ": child exit → init exit")
    text = text.replace(" with an idle child", "").replace("orphans released at once: ", "orphans: ")
    return text.replace("`", "")


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


METHOD = """\
## Method

`scripts/bench.sh` builds rein with `scripts/build-static.sh`, a measuring helper, `initbench`
(`bench/`, its own Cargo workspace, only `libc`; one module per figure in `bench/src/metric/`, one
per supervised program in `bench/src/helper/`), and two static musl floor programs
(`bench/src/bin/`). It runs every init in one invocation, interleaved round by round (rein, tini,
tini-static, dumb-init, catatonit, the floor, rein, ...), so drift on the machine hits all of them
alike. Each init is run the way a runtime would run it: `rein -- CMD`, `tini -- CMD` (`tini -s --
CMD` as a plain process, so it reaps like the others), `tini-static` likewise, `dumb-init CMD`,
`catatonit -- CMD`; "PID 1" means `unshare --pid --fork --mount-proc INIT ...`. Timestamps are
CLOCK_MONOTONIC, the same clock in every process, so the driver and the supervised program compare
directly. The script prints figures only; nothing in it passes or fails on time.

1. **Start-up + tear-down**: wall time from spawn to reaped of `INIT -- true`, minus the median of
   `true` alone (plain) or of `unshare --pid --fork --mount-proc true` (PID 1), so the cost of the
   fork, the namespace and the /proc mount is subtracted on both sides. **Instructions** are the
   init's own, one run of `INIT -- true` under `valgrind --tool=callgrind` without
   `--trace-children` (the init's own instructions, including its dynamic loader if it has one;
   not those of `true`). They do not vary from run to run the way time does.
2. **Idle wake-ups**: voluntary + involuntary context switches of the init (`/proc/PID/status`)
   while its child sleeps in `pause()`; all inits run at the same time. **Memory**: VmRSS and VmHWM
   from `/proc/PID/status`, Pss from `/proc/PID/smaps_rollup`, of the same idle inits.
   Dynamically linked inits share libc pages, which lowers their Pss. A static init's VmRSS is
   mostly its own file: on a fault the kernel also maps the cached pages around the faulting one
   (fault-around, 64 KiB), so a cached static binary counts nearly all of its code and read-only
   data, whether it runs them or not. rein's 272 KiB (`RssAnon` and `RssFile` in
   `/proc/PID/status`, x86_64, plain process) are 44 KiB anonymous (stack, heap, writable data)
   and 228 KiB of the binary's page cache, shared by every process that runs it; the 186 KiB
   binary of before this phase showed 44 and 180. So the RSS that grew over the phase (224 to
   272 KiB) is the binary that grew (190,664 to 244,016 bytes), not memory rein allocates.
3. **Reaping** (PID 1 only: as a plain process dumb-init is no subreaper): the child double-forks N
   orphans (each intermediate clones the orphan and exits; the orphan calls `setsid` and blocks on
   a pipe), then closes the pipe so that all of them exit at once, and watches with `kill(pid, 0)`
   until every one has been reaped. "release → last one reaped" ends when the last orphan is gone;
   "release → init exited" adds the child's exit and the init's own. **Init CPU per orphan** is the
   init's run time (first field of `/proc/1/schedstat`, the scheduler's own sum, read by the child)
   between the release and the last reap, divided by N. The peak number of zombies is estimated
   every ~0.2 ms from the state of 128 orphans evenly spread over all N. The orphans share the
   child's memory (CLONE_VM, no exec) so that creating and tearing down page tables, which costs
   ~0.3 ms a process on this VM, does not swamp what the init does.
4. **Signal forwarding**: the driver timestamps `kill(init, SIGUSR1)`; the child's handler
   timestamps receipt and reports it through a FIFO; one signal in flight at a time, every init in
   turn, 0.1 ms apart. Every init runs twice at once: in the driver's cpu cgroup (the root one) and
   in a cpu cgroup of its own, created for it and removed afterwards (cgroup v2 where its
   hierarchy has the cpu controller, otherwise the v1 cpu hierarchy, as here), which is where a
   container runtime puts a container. **Signals per second**: a burst of real-time signals
   (`SIGRTMIN+2`, which queue rather than merge) sent as fast as `kill` allows, until the child has
   handled the last; a lost signal would show as a time-out.
5. **Shutdown**: from `kill(init, SIGTERM)` until the init has exited (a pidfd of the init turns
   readable); the child exits in its TERM handler.
6. **Leftovers**: the main child starts N processes that sleep until SIGTERM ends them (default
   action), timestamps, and exits; measured until the init has exited. rein runs with
   `--grace 10m`, so the figure is its TERM path, never the SIGKILL fallback. As PID 1 the init's
   pidfd turns readable only once the namespace is empty, so the peers' figures (they exit at once
   and the kernel SIGKILLs the rest) are comparable as "all gone"; as plain processes the peers
   would leave the N processes running, so they are not run. The driver is a subreaper while it
   measures this and kills whatever a run leaves behind (reported if any).
7. **Binary size**: file size; static means no ELF interpreter (PT_INTERP).

Bold marks the best figure among the inits; "rein ÷ best peer" below 1 (above 1 for signals per
second) means rein is ahead, "rein ÷ floor" says how far rein is from the least any init could do.
"""

LEFTOVERS = """\
Why the order of signalling matters (the `youngest signalled first` column): when a child exits
while its parent is in another process group of the same session, as leftovers re-parented to an
init are, the kernel checks whether the child's process group becomes orphaned (POSIX job
control). That check walks the group's members from the youngest and skips every zombie, so when
the youngest die first, every exit walks past all the zombies before it: stopping N processes
costs O(N²) in the kernel, with the tasklist lock held. Signalled oldest first, each walk stops at
once. `waitpid(-1)` itself is not the problem: it finds the oldest zombie first, so the
`waitpid(-1)` loop is as fast as `waitpid(pid)` when the oldest die first.

""" 

HOP = """\
## Where the signal hop and the shutdown go (issue 11, traced)

Traced with ftrace (sched_switch, sched_wakeup, sched_process_exit, the system calls and user page
faults) over 20 interleaved rounds each, rein against catatonit, on this VM while quiet.

- **Forwarding one signal**: rein makes `read` (of its signalfd), `kill(-pgid)` and `getpgid`,
  then blocks in `read` again; catatonit makes `read` and `kill(pid)`. rein spends about 1 µs more
  of user code before the kill and 1 µs after it. The `getpgid` (0.25 µs) is how rein notices a
  child that left its own process group (then it falls back to the pid); asked before the kill, it
  would race with that move, and no kernel event tells it. With `--single-child` (a `kill(pid)`,
  as catatonit and tini do) the remaining gap was about 1 µs, within the run-to-run noise.
  Everything else in the figure is the two wake-ups and where the scheduler puts them: when init
  and child end up on different vCPUs every init measures 43–70 µs, when they share one 16–20 µs,
  and the per-run medians jump between the two. So rein's median in its own cpu cgroup comes out
  between 0.93× and 1.06× the best peer's, and its p99 between 0.86× and 1.19×, depending on the
  run; what is left to cut is the `getpgid`, which would give up following a child that moved.
- **Shutdown** (SIGTERM to the init until it has exited): before issue 11 rein made 28 system
  calls after the SIGCHLD, and the `poll` it waited in with a deadline took 18 µs to sleep and
  18 µs to wake (each exact timer re-arm is a VM exit here). Now rein blocks in `read` unless a
  deadline runs, has a 4 ms timer slack, and its exit path is `read`, `wait4`, `wait4` (ECHILD),
  `exit_group`, plus one `kill(-1, 0)` as PID 1 (is anyone else in the namespace?); catatonit's is
  `read`, `wait4`, `wait4`, `exit_group`. `kill(-1, 0)` walks every process of the host: about
  3 µs on a quiet one, 355 µs with 17,000 processes.

"""

AUTOGROUP = """\
## Why dumb-init forwards faster in the root cgroup: sched_autogroup

dumb-init starts its child in a new session (`setsid`); tini, catatonit and rein keep it in their
own session (its own process group), so that job control and the terminal keep working. With
`kernel.sched_autogroup_enabled=1` (the default of most distribution kernels, and this one), the
kernel gives every new session of a task in the **root** cpu cgroup an *autogroup*: a scheduling
entity of its own, as if the session had a cgroup. When the init (on one CPU) sends the signal, the
woken child is then placed by the scheduler differently: in its own autogroup it is woken on the
init's CPU, which is about to go idle, while in the init's group it is sent to the other, halted
vCPU, and a wake-up across vCPUs costs the sender time in `kill()` plus time before the woken task
runs (an inter-processor interrupt and a halted vCPU being resumed by the hypervisor). That needs
an idle CPU: on a busy machine both CPUs run something, the child is woken on the init's CPU
whatever its group (`bench/trace_autogroup.py` shows the wake-up CPU of every forwarded signal
from the scheduler's trace), and the difference disappears. Three checks, in the table above:

- `/proc/PID/autogroup` of dumb-init and its child differ (listed under the table), for no other
  init;
- `dumb-init -c` keeps the child in dumb-init's session, and then measures like tini, catatonit
  and rein;
- inside a cpu cgroup of their own (any cgroup other than the root one; the kernel applies
  autogroup only to tasks of the root task group) every init measures the same, dumb-init
  included. That is the placement a container runtime uses, so it is what users of rein in a
  container see.

On this VM while it was otherwise quiet (a `--quick` run on 2026-12-01 at load average 3, 200
signals per init), the medians were: root cgroup, dumb-init 23.0 µs (plain) and 23.6 µs (PID 1)
against 34–36 µs for tini, tini-static, catatonit, rein and `dumb-init -c`; in their own cgroups,
30–33 µs for all of them, dumb-init included. Issue 11's independent harness saw the same shape
(dumb-init 18.7 µs against 47–49 µs in the root cgroup, 46.8–49.0 µs for all in their own cgroups).

{this_run}

So the gap in the root cgroup is a scheduling artefact, not less work in dumb-init, and rein keeps
the child in its own session on purpose: moving it to a new session would break the terminal and
job-control behaviour (`docker run -it`, `sh -i` under rein) for a figure that only a bare host's
root cgroup shows. Autogroup also never applies under systemd services or inside containers.
"""


def report(a):
    paths = dict(i.split("=", 1) for i in a.inits)
    meta_lines = open(a.meta).read().splitlines()
    meta = {}
    for l in meta_lines:
        if l.startswith("params:"):
            meta.update(kv.split("=", 1) for kv in l.split()[1:])
    data = load(a.raw)
    sizes = {n: (os.path.getsize(p), elf_static(p)) for n, p in paths.items() if n in INITS}
    floor_size = os.path.getsize(paths["floor-exit"]) if "floor-exit" in paths else None
    rows = build_rows(data, meta)
    tab = table(rows, sizes, floor_size)
    lost = {k: int(sum(v)) for k, v in data.items() if k[0].startswith("signals") and k[0].endswith("lost") and any(v)}
    print()
    print(tab)
    if lost:
        print("\nsignals lost (time-outs):", lost)
    by_key = {r["key"]: r for r in rows}
    svg_chart(by_key, sizes, floor_size, a.svg)
    summary = json.dumps({"meta": meta_lines, "rows": rows,
                          "sizes": {n: list(v) for n, v in sizes.items()}, "floor_size": floor_size},
                         ensure_ascii=False)
    # `>` escaped, so that no `-->` can end the comment early.
    summary = summary.replace(">", "\\u003e")
    md = ["# Benchmarks: rein against tini, dumb-init and catatonit", ""]
    if a.note:
        md += [f"> **Note.** {a.note}", ""]
    md += [f"![chart]({os.path.basename(a.svg)})", "",
           "Generated by `scripts/bench.sh` (reproduce: `sudo scripts/bench.sh`, about 10 minutes on "
           "2 cores; `--quick` for a smoke run). Medians unless stated; the floor of each figure is "
           "explained below the table.", "",
           "```", *meta_lines, "```", "", tab, "",
           "Floors:", ""]
    used = []
    for r in rows:
        if r["floor_kind"] and r["floor_kind"] not in used:
            used.append(r["floor_kind"])
    md += [f"- **{FLOOR_FOR[k]}**: {FLOORS[k]}." for k in used] + [""]
    if lost:
        md += ["Signals lost (time-outs): " + ", ".join(f"{k[2]} ({k[1]}, {k[0]}): {v}" for k, v in lost.items()), ""]
    md += ["## Signal latency by placement", "", autogroup_table(data), "",
           "## Leftovers", "", leftovers_table(data, meta), "", LEFTOVERS, HOP,
           AUTOGROUP.replace("{this_run}", autogroup_this_run(data, meta_lines)), METHOD,
           f"{DATA_BEGIN}\n{summary}\n{DATA_END}", ""]
    with open(a.md, "w") as f:
        f.write("\n".join(md))


# The README's table: the headline figures, in this order.
README_ROWS = ["startup_pid1", "startup_plain", "instructions_pid1", "idle_pid1",
               "siglat_cg_median_pid1", "siglat_cg_p99_pid1", "siglat_root_median_pid1",
               "shutdown_pid1", "reap_drain", "reap_cpu", "reap_peak", "leftovers_*_pid1",
               "leftovers_*_plain", "hupflood_*", "rss_pid1", "pss_pid1"]


def readme_table(summary):
    by_key = {r["key"]: r for r in summary["rows"]}
    rows = []
    for k in README_ROWS:
        if "*" in k:
            pre, post = k.split("*")
            rows += sorted((r for key, r in by_key.items() if key.startswith(pre) and key.endswith(post)),
                           key=lambda r: int(r["key"].split("_")[1]))
        elif k in by_key:
            rows.append(by_key[k])
    sizes = {n: tuple(v) for n, v in summary["sizes"].items()}
    return table(rows, sizes, summary.get("floor_size"), unit_col=False)


def readme(a):
    md = open(a.md).read()
    if DATA_BEGIN not in md:
        sys.exit(f"{a.md}: no figures found (was it written by `bench_report.py report`?)")
    summary = json.loads(md.split(DATA_BEGIN, 1)[1].split(DATA_END, 1)[0])
    text = open(a.readme).read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{a.readme}: no {BEGIN} ... {END} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    date = next((l.split(": ", 1)[1] for l in summary["meta"] if l.startswith("date:")), "?")
    rev = next((l.split(": ", 1)[1] for l in summary["meta"] if l.startswith("rein:")), "?")
    block = (f"{BEGIN}\n<!-- generated by `python3 scripts/bench_report.py readme`; edit the script, "
             f"not this table -->\n{readme_table(summary)}\n\nrun of {date}, rein {rev}; every figure "
             f"and the floors: [docs/benchmarks.md](docs/benchmarks.md)\n{END}")
    with open(a.readme, "w") as f:
        f.write(head + block + tail)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--raw", required=True)
    r.add_argument("--meta", required=True)
    r.add_argument("--md", required=True)
    r.add_argument("--svg", required=True)
    r.add_argument("--note", default="")
    r.add_argument("inits", nargs="+", help="NAME=PATH")
    m = sub.add_parser("readme")
    m.add_argument("--md", default="docs/benchmarks.md")
    m.add_argument("--readme", default="README.md")
    a = ap.parse_args()
    report(a) if a.cmd == "report" else readme(a)


if __name__ == "__main__":
    main()
