#!/usr/bin/env python3
"""Turns the raw samples of scripts/bench.sh into tables, a Markdown report and an SVG chart.

Usage: bench_report.py --raw RAW.tsv --meta META.txt --md OUT.md --svg OUT.svg NAME=PATH...

RAW.tsv rows are `metric<TAB>mode<TAB>init<TAB>value`, as written by bench/ (initbench) and
bench.sh. Only the Python standard library is used, so a fresh machine needs nothing extra.
"""

import argparse
import math
import os
import statistics
import struct
from collections import defaultdict

PEERS = ["tini", "tini-static", "dumb-init", "catatonit"]


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


class Row:
    """One metric row: a value per init, the unit, and which direction is better."""

    def __init__(self, label, unit, values, lower_is_better=True, fmt="{:.0f}", note=""):
        self.label, self.unit, self.values = label, unit, values
        self.lower, self.fmt, self.note = lower_is_better, fmt, note


def build_rows(data, inits, meta):
    med = lambda m, mode, i: (statistics.median(data[(m, mode, i)]) if data.get((m, mode, i)) else None)
    names = ["none"] + inits
    rows = []
    idle_secs = meta.get("idle_secs", "10")
    for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
        base = med("startup_ns", mode, "none")
        vals = {}
        for i in names:
            m = med("startup_ns", mode, i)
            if m is not None and base is not None:
                vals[i] = (m - base) / 1000 if i != "none" else m / 1000
        rows.append(Row(f"start-up + tear-down overhead, {where}", "µs", vals, fmt="{:.0f}",
                        note="median; `none` column = the baseline itself (`true`"
                        + (" under `unshare`)" if mode == "pid1" else ")")))
    for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
        vals = {i: med("instructions", mode, i) for i in inits}
        rows.append(Row(f"instructions per run, {where}", "k instr",
                        {k: v / 1000 for k, v in vals.items() if v is not None}, fmt="{:.0f}"))
    for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
        vals = {i: med("idle_ctxt", mode, i) for i in inits}
        rows.append(Row(f"idle wake-ups in {idle_secs} s, {where}", "ctx switches",
                        {k: v for k, v in vals.items() if v is not None}))
    for metric, label, unit, scale, fmt in (
        ("reap_drain_ns", "reaping: release → last orphan reaped", "ms", 1e-6, "{:.0f}"),
        ("reap_exit_ns", "reaping: release → init exited", "ms", 1e-6, "{:.0f}"),
        ("reap_peak_zombies", "reaping: peak zombies (sampled)", "zombies", 1, "{:.0f}"),
    ):
        vals = {i: med(metric, "pid1", i) for i in inits}
        rows.append(Row(f"{label}, PID 1", unit,
                        {k: v * scale for k, v in vals.items() if v is not None}, fmt=fmt))
    for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
        for p, what in ((50, "median"), (99, "p99")):
            vals = {}
            for i in names:
                s = data.get(("siglat_ns", mode, i))
                if s:
                    vals[i] = pct(s, p) / 1000
            rows.append(Row(f"signal latency {what}, {where}", "µs", vals, fmt="{:.1f}"))
        vals = {i: med("sigrate_per_s", mode, i) for i in names}
        rows.append(Row(f"forwarded signals per second, {where}", "signals/s",
                        {k: v for k, v in vals.items() if v is not None}, lower_is_better=False))
    for metric, label in (("rss_kb", "VmRSS"), ("hwm_kb", "VmHWM"), ("pss_kb", "Pss")):
        for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
            vals = {i: med(metric, mode, i) for i in inits}
            rows.append(Row(f"memory {label}, {where}", "KiB",
                            {k: v for k, v in vals.items() if v is not None}))
    for mode, where in (("plain", "plain process"), ("pid1", "PID 1")):
        vals = {i: med("shutdown_ns", mode, i) for i in names}
        rows.append(Row(f"shutdown: SIGTERM → exited, {where}", "µs",
                        {k: v / 1000 for k, v in vals.items() if v is not None}))
    return rows


def cell(row, v):
    return "–" if v is None else row.fmt.format(v)


def table(rows, inits, sizes):
    names = ["none"] + inits
    head = ["metric", "unit"] + [("no init" if n == "none" else n) for n in names] + [
        "rein ÷ tini", "rein ÷ best peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.label, r.unit]
        peers = [r.values[p] for p in PEERS if r.values.get(p) is not None]
        best = (min(peers) if r.lower else max(peers)) if peers else None
        for n in names:
            v = r.values.get(n)
            text = cell(r, v)
            if n != "none" and v is not None and best is not None and (
                    (r.lower and v <= best) or (not r.lower and v >= best)):
                text = f"**{text}**"
            cells.append(text)
        rein, tini = r.values.get("rein"), r.values.get("tini")
        cells.append(ratio(rein, tini))
        cells.append(ratio(rein, best))
        lines.append("| " + " | ".join(cells) + " |")
    # Binary size: not a timing, one value per init.
    cells = ["binary size (static?)", "KiB", "–"]
    for n in inits:
        size, static = sizes[n]
        cells.append(f"{size / 1024:.0f} ({'static' if static else 'dynamic'})")
    # Against the smallest *static* peer: a dynamic binary needs a libc in the image as well.
    peer_sizes = [sizes[p][0] for p in PEERS if p in sizes and sizes[p][1]]
    cells.append(ratio(sizes["rein"][0], sizes.get("tini", (None,))[0]))
    cells.append(ratio(sizes["rein"][0], min(peer_sizes) if peer_sizes else None) + " (static peers)")
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio(a, b):
    if a is None or b is None:
        return "–"
    if b == 0:
        return "0 = 0" if a == 0 else "∞"
    return f"{a / b:.2f}×"


def svg_chart(rows, inits, sizes, path):
    """Small multiples: one horizontal bar panel per headline metric, PID 1 where it applies."""
    wanted = [
        ("start-up + tear-down overhead, PID 1", None),
        ("instructions per run, PID 1", None),
        (next(r.label for r in rows if r.label.startswith("idle wake-ups") and "PID 1" in r.label), None),
        ("reaping: release → last orphan reaped, PID 1", None),
        ("signal latency median, PID 1", None),
        ("forwarded signals per second, PID 1", None),
        ("memory Pss, PID 1", None),
        ("memory VmRSS, PID 1", None),
        ("shutdown: SIGTERM → exited, PID 1", None),
        ("binary size", None),
    ]
    by_label = {r.label: r for r in rows}
    panels = []
    for label, _ in wanted:
        if label == "binary size":
            panels.append(Row("binary size", "KiB", {n: sizes[n][0] / 1024 for n in inits}))
        elif label in by_label:
            panels.append(by_label[label])
    colours = {"rein": "#d9480f", "tini": "#1c7ed6", "tini-static": "#74c0fc",
               "dumb-init": "#2f9e44", "catatonit": "#7048e8"}
    pw, ph, cols = 440, 40 + 22 * len(inits), 2
    width = pw * cols + 20
    height = 50 + ph * math.ceil(len(panels) / cols)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="24" font-size="16" font-weight="bold">rein vs tini, tini-static, '
           f'dumb-init, catatonit (medians; shorter is better unless marked ↑)</text>']
    for k, r in enumerate(panels):
        x0 = 10 + (k % cols) * pw
        y0 = 44 + (k // cols) * ph
        title = r.label + (" ↑" if not r.lower else "")
        out.append(f'<text x="{x0}" y="{y0 + 14}" font-weight="bold">{esc(title)} ({esc(r.unit)})</text>')
        vmax = max([v for v in r.values.values() if v is not None] + [1e-9])
        for j, n in enumerate(inits):
            v = r.values.get(n)
            y = y0 + 24 + j * 22
            out.append(f'<text x="{x0 + 80}" y="{y + 13}" text-anchor="end">{esc(n)}</text>')
            if v is None:
                continue
            w = 0 if vmax <= 0 else (pw - 170) * v / vmax
            out.append(f'<rect x="{x0 + 86}" y="{y + 2}" width="{max(w, 1):.1f}" height="15" '
                       f'fill="{colours.get(n, "#888")}"/>')
            out.append(f'<text x="{x0 + 90 + w:.1f}" y="{y + 14}">{esc(cell(r, v))}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


METHOD = """\
## Method

`scripts/bench.sh` builds rein with `scripts/build-static.sh` and a measuring helper,
`initbench` (`bench/`, its own Cargo workspace, only `libc`), then runs every init in one
invocation, interleaved round by round (rein, tini, tini-static, dumb-init, catatonit, rein, ...),
so drift on the machine hits all of them alike. Each init is run the way a runtime would run it:
`rein -- CMD`, `tini -- CMD` (`tini -s -- CMD` as a plain process, so it reaps like the others),
`tini-static` likewise, `dumb-init CMD`, `catatonit -- CMD`; "PID 1" means
`unshare --pid --fork --mount-proc INIT ...`. Timestamps are CLOCK_MONOTONIC, which is the same
clock in every process, so the driver and the supervised program can be compared directly.
The script prints figures only; nothing in it passes or fails on time.

1. **Start-up + tear-down**: wall time from spawn to reaped of `INIT -- true`, minus the median of
   `true` alone (plain) or of `unshare --pid --fork --mount-proc true` (PID 1), so the cost of the
   fork, the namespace and /proc mount is subtracted on both sides. **Instructions** are the init's
   own, one run of `INIT -- true`: `perf stat --no-inherit -e instructions:u` where the CPU exposes
   the counter, otherwise `valgrind --tool=callgrind` without `--trace-children` (the init's own
   instructions, including its dynamic loader if it has one; not those of `true`). They do not vary
   from run to run the way time does.
2. **Idle wake-ups**: voluntary + involuntary context switches of the init
   (`/proc/PID/status`) while its child sleeps in `pause()`; all inits run at the same time.
3. **Reaping** (PID 1 only: as a plain process dumb-init is no subreaper, so the orphans would go
   elsewhere): the child double-forks N orphans (each intermediate clones the orphan and exits;
   the orphan calls `setsid` and blocks on a pipe), then closes the pipe so that all of them exit
   at once, and watches with `kill(pid, 0)` until every one has been reaped. "release → last
   reaped" is the time from the release until the last orphan was reaped; "release → init
   exited" adds the child's exit and the init's own exit. The peak number of zombies is estimated
   every ~0.2 ms from the state in `/proc/PID/stat` of 128 orphans evenly spread over all N.
   The orphans share the child's memory (CLONE_VM, no exec) so that creating and tearing down
   page tables, which costs ~0.3 ms a process on this VM, does not swamp what the init does.
4. **Signal forwarding**: the driver timestamps `kill(init, SIGUSR1)`; the child's handler
   timestamps receipt and reports it through a FIFO; one signal in flight at a time, every init
   in turn. "No init" sends to the child directly. **Signals per second**: a burst of real-time
   signals (`SIGRTMIN+2`, which queue rather than merge) sent as fast as `kill` allows, until the
   child has handled the last; a lost signal would show as a time-out (none so far).
5. **Memory**: VmRSS and VmHWM from `/proc/PID/status`, Pss from `/proc/PID/smaps_rollup`, of the
   init with an idle child. Dynamically linked inits share libc pages, which lowers their Pss.
6. **Binary size**: file size; static means no ELF interpreter (PT_INTERP).
7. **Shutdown**: from `kill(init, SIGTERM)` until the init has exited (a pidfd of the init turns
   readable); the child exits on TERM. "No init" sends TERM to the child itself.

Bold marks the best figure among the inits; "rein ÷ best peer" below 1 (or above 1 for signals per
second) means rein is ahead.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("inits", nargs="+", help="NAME=PATH")
    a = ap.parse_args()
    paths = dict(i.split("=", 1) for i in a.inits)
    inits = list(paths)
    meta_lines = open(a.meta).read().splitlines()
    meta = {}
    for l in meta_lines:
        if l.startswith("params:"):
            meta.update(kv.split("=", 1) for kv in l.split()[1:])
    data = load(a.raw)
    sizes = {n: (os.path.getsize(p), elf_static(p)) for n, p in paths.items()}
    rows = build_rows(data, inits, meta)
    tab = table(rows, inits, sizes)
    lost = {k: v for k, v in data.items() if k[0] == "signals_lost" and any(v)}
    print()
    print(tab)
    if lost:
        print("\nsignals lost (time-outs):", {f"{k[2]} ({k[1]})": int(sum(v)) for k, v in lost.items()})
    svg_chart(rows, inits, sizes, a.svg)
    md = ["# Benchmarks: rein against tini, dumb-init and catatonit", "",
          f"![chart]({os.path.basename(a.svg)})", "",
          "Generated by `scripts/bench.sh` (reproduce: `sudo scripts/bench.sh`, about 5 minutes on "
          "2 cores; `--quick` for a smoke run). Medians unless stated.", "",
          "```", *meta_lines, "```", "", tab, ""]
    if lost:
        md += ["Signals lost (time-outs): " + ", ".join(
            f"{k[2]} ({k[1]}): {int(sum(v))}" for k, v in lost.items()), ""]
    md += [METHOD]
    with open(a.md, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
