//! The grace period: when the main child exits, every remaining process gets SIGTERM, then
//! SIGKILL when the grace runs out; rein reaps them all and only then exits with the main
//! child's status. As PID 1 "every remaining process" is the namespace; as a plain process it
//! is every descendant, including setsid'd and double-forked ones.

use std::time::{Duration, Instant};

use crate::harness::{Mode, Run, TempDir, alive, command, read_status, sh, stat_field};
use crate::support::modes;

/// The main child: start `$LEFTOVER` in the background, exit 3 when stdin closes.
const MAIN: &str = r#"sh -c "$LEFTOVER" & read x; exit 3"#;

/// Traps TERM and takes a moment in the handler before writing `$OUT`. Its `sleep 1000` gets
/// the SIGTERM too, so "ready" waits until that `sleep` has exec'd: until then it is a forked
/// copy of this shell, whose handler for the trapped TERM would swallow the signal (exec then
/// resets it), and the `sleep` would survive until the grace ran out.
const OBEYS: &str = r#"trap 'sleep 0.3; echo done > "$OUT"; exit 0' TERM
    s=$(readlink -f "$(command -v sleep)")
    sleep 1000 & p=$!
    until [ "$(readlink /proc/$p/exe)" = "$s" ]; do :; done
    echo ready $$; wait"#;

/// Ignores TERM.
const IGNORES: &str = r#"trap '' TERM; echo ready $$; exec sleep 1000"#;

/// Starts rein with `opts` around MAIN and `leftover`; returns the run, the leftover's pid as
/// it printed it, and the status file path.
fn start(mode: Mode, opts: &[&str], leftover: &str, dir: &TempDir) -> (Run, i32) {
    let status = dir.join("status.json");
    let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
    args.extend(["--status-file".into(), status.display().to_string()]);
    args.extend(sh(MAIN));
    let mut cmd = command(mode, &args);
    cmd.env("LEFTOVER", leftover).env("OUT", dir.join("out"));
    let mut run = Run::spawn(cmd);
    let line = run.expect_line("ready PID", |l| l.starts_with("ready "));
    let pid = line["ready ".len()..].parse().unwrap();
    (run, pid)
}

#[test]
fn a_leftover_that_traps_term_finishes_its_handler_and_rein_exits_promptly() {
    for mode in modes("a_leftover_that_traps_term_finishes_its_handler") {
        let dir = TempDir::new("obeys");
        let (mut run, _) = start(mode, &["--grace", "30s"], OBEYS, &dir);
        let t0 = Instant::now();
        let out = run.finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(3), "{mode:?}: main child's status: {out:?}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{mode:?}: rein waited for the 30 s grace although the leftover had exited"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("out")).ok().as_deref(),
            Some("done\n"),
            "{mode:?}: the TERM handler did not get to finish: {out:?}"
        );
        let st = read_status(&dir.join("status.json"));
        assert_eq!(st["leftovers_killed"], "0", "{mode:?}: {st:?}");
        assert_ne!(st["leftovers_terminated"], "0", "{mode:?}: {st:?}");
    }
}

#[test]
fn a_leftover_that_ignores_term_is_killed_when_the_grace_runs_out() {
    for mode in modes("a_leftover_that_ignores_term_is_killed") {
        let dir = TempDir::new("ignores");
        let (mut run, pid) = start(mode, &["--grace", "2s"], IGNORES, &dir);
        let t0 = Instant::now();
        run.close_stdin();
        assert!(
            !run.exited_within(Duration::from_millis(1500)),
            "{mode:?}: rein exited before the grace ran out"
        );
        let out = run.finish_within(Duration::from_secs(12));
        let took = t0.elapsed();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        assert!(
            took >= Duration::from_millis(1900),
            "{mode:?}: exited after {took:?}"
        );
        let st = read_status(&dir.join("status.json"));
        assert_eq!(st["leftovers_terminated"], "1", "{mode:?}: {st:?}");
        assert_eq!(st["leftovers_killed"], "1", "{mode:?}: {st:?}");
        if mode == Mode::Plain {
            assert!(!alive(pid), "the TERM-ignoring leftover {pid} survived");
        }
    }
}

#[test]
fn zero_grace_kills_at_once_without_running_term_handlers() {
    for mode in modes("zero_grace_kills_at_once") {
        let dir = TempDir::new("zero");
        let (mut run, _) = start(mode, &["--grace", "0"], OBEYS, &dir);
        let out = run.finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        assert!(
            !dir.join("out").exists(),
            "{mode:?}: --grace 0 sent TERM first"
        );
        let st = read_status(&dir.join("status.json"));
        assert_eq!(st["leftovers_terminated"], "0", "{mode:?}: {st:?}");
        assert_ne!(st["leftovers_killed"], "0", "{mode:?}: {st:?}");
    }
}

#[test]
fn with_no_leftovers_rein_exits_at_once_despite_a_long_grace() {
    for mode in modes("with_no_leftovers_rein_exits_at_once") {
        let t0 = Instant::now();
        let mut run = Run::start(mode, &crate::harness::with_sh(&["-t", "30s"], "exit 4"));
        let out = run.finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(4), "{mode:?}: {out:?}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{mode:?}");
    }
}

#[test]
fn setsid_and_double_forked_descendants_are_found_and_stopped_in_subreaper_mode() {
    // Three escapes from the main child's process group: a setsid'd child, a double-forked
    // orphan, and a setsid'd double-forked shell that has a child of its own.
    const ESCAPES: &str = r#"
        setsid sh -c 'echo ready $$; exec sleep 1000' &
        (sh -c 'echo ready $$; exec sleep 1000' &)
        (setsid sh -c 'sleep 1000 & echo ready $!; wait' &)
        read x
        exit 5"#;
    let dir = TempDir::new("escapes");
    let status = dir.join("status.json");
    let mut args = vec![
        "-t".to_string(),
        "30s".into(),
        "--status-file".into(),
        status.display().to_string(),
    ];
    args.extend(sh(ESCAPES));
    let mut run = Run::start(Mode::Plain, &args);
    let rein_session = stat_field(run.pid() as i32, 6).unwrap();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let l = run.expect_line("ready PID", |l| l.starts_with("ready "));
        pids.push(l["ready ".len()..].parse::<i32>().unwrap());
    }
    let other_sessions = pids
        .iter()
        .filter(|&&p| stat_field(p, 6).is_some_and(|s| s != rein_session))
        .count();
    assert_eq!(
        other_sessions, 2,
        "the fixture's setsid did not take effect"
    );
    let t0 = Instant::now();
    let out = run.finish_within(Duration::from_secs(10));
    assert_eq!(out.code, Some(5), "{out:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "rein waited for the grace: some leftover got no SIGTERM"
    );
    for p in pids {
        assert!(!alive(p), "leftover {p} survived rein");
    }
    let st = read_status(&status);
    // sleep, sleep, setsid'd sh and its sleep.
    assert_eq!(st["leftovers_terminated"], "4", "{st:?}");
    assert_eq!(st["leftovers_killed"], "0", "{st:?}");
}
