//! `--timeout`: the main child's group gets `--timeout-signal` (TERM), then SIGKILL after
//! `--kill-after` or else the grace; rein exits 124 and no process of the run survives.
//!
//! rein's clock starts when it spawns the child, so nothing here may depend on the child
//! reaching a point before the timeout fires: a loaded machine can take longer than any
//! timeout to start a shell. Each child therefore gets its signal state from a wrapper
//! *around* rein (`probe wrap`), which rein passes on: the stubborn child ignores TERM from its
//! first instruction, and the others start with the timeout signal blocked, so it waits,
//! pending, until they unblock it once set up. (A shell's `trap` is set too late, and a shell
//! loses a signal that arrives between its fork and exec.)

use std::time::{Duration, Instant};

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, command_via, kill, marked, new_mark, probe, read_status,
    wait_until,
};
use crate::support::modes;

/// `probe wrap BLOCK IGNORE --`: what rein is started through, and so what its child inherits.
fn wrapper(block: &str, ignore: &str) -> Vec<String> {
    [probe().to_str().unwrap(), "wrap", block, ignore, "--"]
        .map(String::from)
        .to_vec()
}

/// The command of one run: rein with `opts` through `wrap`, `child` as its main child, marked
/// so every process of the run can be found.
fn marked_command(
    mode: Mode,
    wrap: &[String],
    opts: &[&str],
    child: &[String],
) -> (std::process::Command, String) {
    let mut args: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
    args.push("--".into());
    args.extend_from_slice(child);
    let (k, v) = new_mark("timeout");
    let mut cmd = command_via(mode, wrap, &args);
    cmd.env(&k, &v);
    (cmd, format!("{k}={v}"))
}

/// The control for the "no process survived" check in [`timed`]: the same run without
/// `--timeout` is found by its mark, all `procs` processes of it (rein, its child and what the
/// child started; `unshare` too as PID 1), and is then killed from here.
///
/// The control cannot be made on the timed run itself: on a loaded machine its 1 s timeout
/// may have ended it before a scan of /proc gets to it, and `/proc/PID/environ` reads empty
/// while a process is inside execve (a child that execs right after `ready` is missed).
/// Waiting for the whole count, rather than looking once, rides out both.
fn the_mark_finds_the_run(mode: Mode, wrap: &[String], child: &[String], procs: usize) {
    let procs = procs + usize::from(mode == Mode::Pid1);
    let (cmd, mark) = marked_command(mode, wrap, &[], child);
    let mut run = Run::spawn(cmd);
    wait_until(
        &format!("{mode:?}: the mark finds all {procs} processes of {child:?}"),
        DEADLINE,
        || marked(&mark).len() >= procs,
    );
    // Everything of the run carries the mark (unshare's SIGKILL takes its namespace along):
    // kill until nothing marked is left, so a process caught inside an exec is not missed.
    wait_until("the control run is gone", DEADLINE, || {
        let left = marked(&mark);
        for &pid in &left {
            kill(pid, 9);
        }
        left.is_empty()
    });
    let _ = run.finish_within(DEADLINE);
}

/// Runs rein with `opts` around `child` through `wrap` and waits (with the deadline) for it to
/// end; asserts that no process of the run survived; returns the outcome, the status file and
/// how long rein ran. `procs` is as for [`the_mark_finds_the_run`], which runs first.
fn timed(
    mode: Mode,
    wrap: &[String],
    opts: &[&str],
    child: &[String],
    procs: usize,
) -> (
    crate::harness::Outcome,
    std::collections::BTreeMap<String, String>,
    Duration,
) {
    the_mark_finds_the_run(mode, wrap, child, procs);
    let dir = TempDir::new("timeout");
    let status = dir.join("status.json");
    let s = status.display().to_string();
    let mut all = opts.to_vec();
    all.extend(["--status-file", &s]);
    let (cmd, mark) = marked_command(mode, wrap, &all, child);
    let t0 = Instant::now();
    let mut run = Run::spawn(cmd);
    let out = run.finish_within(DEADLINE);
    let took = t0.elapsed();
    let left = marked(&mark);
    assert!(
        left.is_empty(),
        "{mode:?}: processes of the run survived: {left:?}"
    );
    (out, read_status(&status), took)
}

fn probe_mode(args: &[&str]) -> Vec<String> {
    let mut v = vec![probe().display().to_string()];
    v.extend(args.iter().map(|a| a.to_string()));
    v
}

#[test]
fn timeout_exits_124_and_leaves_no_process_behind() {
    // A leftover in the group, a setsid'd one outside it; TERM blocked until both exist.
    let tree = probe_mode(&["tree"]);
    for mode in modes("timeout_exits_124_and_leaves_no_process_behind") {
        let (out, st, _) = timed(
            mode,
            &wrapper("15", "-"),
            &["--timeout", "1s", "--grace", "1h"],
            &tree,
            4,
        );
        assert_eq!(out.code, Some(124), "{mode:?}: {out:?}");
        assert_eq!(st["reason"], "timeout", "{mode:?}: {st:?}");
        assert_eq!(st["exit_code"], "124", "{mode:?}: {st:?}");
        assert_eq!(st["signal"], "15", "{mode:?}: {st:?}");
        // TERM ended the leftovers (the timeout's, or rein's own once the child was gone): the
        // hour of grace was not waited out for a SIGKILL.
        assert_eq!(st["leftovers_killed"], "0", "{mode:?}: {st:?}");
    }
}

#[test]
fn timeout_escalates_to_kill_after_kill_after_or_the_grace() {
    // `sleep` with TERM ignored from the start, as rein passes an ignored signal on.
    let stubborn = ["sleep".to_string(), "1000".to_string()];
    for mode in modes("timeout_escalates_to_kill") {
        for opts in [
            &["--timeout", "1s", "--kill-after", "300ms", "--grace", "1h"][..],
            &["--timeout", "1s", "--grace", "500ms"][..],
        ] {
            // Within the deadline, so the hour of grace was not waited out.
            let (out, st, took) = timed(mode, &wrapper("-", "15"), opts, &stubborn, 2);
            assert_eq!(out.code, Some(124), "{mode:?} {opts:?}: {out:?}");
            assert_eq!(st["signal"], "9", "{mode:?} {opts:?}: {st:?}");
            assert!(
                took >= Duration::from_millis(1250),
                "{mode:?} {opts:?}: {took:?}"
            );
        }
    }
}

#[test]
fn timeout_signal_chooses_what_is_sent_first() {
    // The probe records each signal its two processes get; INT and TERM are blocked from the
    // start, so one that comes early is recorded all the same.
    let dir = TempDir::new("timeout-sig");
    let file = dir.join("signals");
    let child = probe_mode(&["signals", file.to_str().unwrap()]);
    let wrap = wrapper("2,15", "-");
    the_mark_finds_the_run(Mode::Plain, &wrap, &child, 3);
    let status = dir.join("status.json");
    let s = status.display().to_string();
    let opts = [
        "--timeout",
        "1s",
        "--timeout-signal",
        "INT",
        "--grace",
        "1h",
        "--status-file",
        &s,
    ];
    let (cmd, _) = marked_command(Mode::Plain, &wrap, &opts, &child);
    let mut run = Run::spawn(cmd);
    let recorded = || std::fs::read_to_string(&file).unwrap_or_default();
    wait_until("both probe processes record INT", DEADLINE, || {
        let got = recorded();
        ["child 2", "grandchild 2"]
            .iter()
            .all(|l| got.lines().any(|g| g == *l))
    });
    // Closing stdin ends the probe with 0.
    let out = run.finish_within(DEADLINE);
    assert_eq!(out.code, Some(124), "{out:?}");
    let st = read_status(&status);
    assert_eq!(st["child_exit_code"], "0", "{st:?}");
    assert_eq!(st["reason"], "timeout", "{st:?}");
    // rein follows a forwarded INT with CONT; nothing else was sent.
    let mut got: Vec<String> = recorded()
        .lines()
        .filter(|l| !l.ends_with(" 18"))
        .map(String::from)
        .collect();
    got.sort();
    assert_eq!(got, ["child 2", "grandchild 2"], "only INT was sent");
}
