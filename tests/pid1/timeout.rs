//! `--timeout`: the main child's group gets `--timeout-signal` (TERM), then SIGKILL after
//! `--kill-after` or else the grace; rein exits 124 and no process of the run survives.

use std::time::{Duration, Instant};

use crate::harness::{
    Mode, Run, TempDir, command, marked, namespaces_available, new_mark, read_status, with_sh,
};

fn modes(test: &str) -> Vec<Mode> {
    if namespaces_available(test) {
        vec![Mode::Pid1, Mode::Plain]
    } else {
        vec![Mode::Plain]
    }
}

/// Runs rein with `opts` around `script`, marked so every process of the run can be found;
/// returns the outcome, the status file and how long rein ran.
/// The timeouts are 3 s: the child must have set its traps (and printed `ready`), and the check
/// that the mark finds the run must have scanned `/proc`, before the timeout fires. With 1 s
/// that margin ran out under load (a scan took 0.5 s while the stress tests ran) and under
/// qemu-user, whose start-up comes on top.
fn timed(
    mode: Mode,
    opts: &[&str],
    script: &str,
) -> (
    crate::harness::Outcome,
    std::collections::BTreeMap<String, String>,
    Duration,
) {
    let dir = TempDir::new("timeout");
    let status = dir.join("status.json");
    let mut all = opts.to_vec();
    let s = status.display().to_string();
    all.extend(["--status-file", &s]);
    let (k, v) = new_mark("timeout");
    let mut cmd = command(mode, &with_sh(&all, script));
    cmd.env(&k, &v);
    let t0 = Instant::now();
    let mut run = Run::spawn(cmd);
    run.expect_line("ready", |l| l == "ready");
    let mark = format!("{k}={v}");
    // The check below can fail: while the run lives, its processes carry the mark.
    assert!(marked(&mark).len() >= 2, "{mode:?}: the mark finds the run");
    let out = run.finish_within(Duration::from_secs(12));
    let took = t0.elapsed();
    let left = marked(&mark);
    assert!(
        left.is_empty(),
        "{mode:?}: processes of the run survived: {left:?}"
    );
    (out, read_status(&status), took)
}

#[test]
fn timeout_exits_124_and_leaves_no_process_behind() {
    // A grandchild in the group, a setsid'd one outside it.
    const SCRIPT: &str = r#"
        sleep 1000 &
        setsid sh -c 'exec sleep 1000' &
        echo ready
        wait"#;
    for mode in modes("timeout_exits_124_and_leaves_no_process_behind") {
        let (out, st, took) = timed(mode, &["--timeout", "3s", "--grace", "20s"], SCRIPT);
        assert_eq!(out.code, Some(124), "{mode:?}: {out:?}");
        assert!(took < Duration::from_secs(10), "{mode:?}: {took:?}");
        assert_eq!(st["reason"], "timeout", "{mode:?}: {st:?}");
        assert_eq!(st["exit_code"], "124", "{mode:?}: {st:?}");
        assert_eq!(st["signal"], "15", "{mode:?}: {st:?}");
    }
}

#[test]
fn timeout_escalates_to_kill_after_kill_after_or_the_grace() {
    const STUBBORN: &str = r#"trap '' TERM; echo ready; exec sleep 1000"#;
    for mode in modes("timeout_escalates_to_kill") {
        for opts in [
            &["--timeout", "3s", "--kill-after", "300ms", "--grace", "1h"][..],
            &["--timeout", "3s", "--grace", "500ms"][..],
        ] {
            let (out, st, took) = timed(mode, opts, STUBBORN);
            assert_eq!(out.code, Some(124), "{mode:?} {opts:?}: {out:?}");
            assert_eq!(st["signal"], "9", "{mode:?} {opts:?}: {st:?}");
            assert!(
                took >= Duration::from_millis(3250),
                "{mode:?} {opts:?}: {took:?}"
            );
            assert!(
                took < Duration::from_secs(10),
                "{mode:?} {opts:?}: {took:?}"
            );
        }
    }
}

#[test]
fn timeout_signal_chooses_what_is_sent_first() {
    const SCRIPT: &str = r#"
        trap 'echo got INT; exit 0' INT
        trap 'echo got TERM; exit 0' TERM
        sleep 1000 & echo ready; wait"#;
    let (out, st, _) = timed(
        Mode::Plain,
        &["--timeout", "3s", "--timeout-signal", "INT"],
        SCRIPT,
    );
    assert_eq!(out.code, Some(124), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ready\ngot INT\n");
    assert_eq!(st["child_exit_code"], "0", "{st:?}");
}
