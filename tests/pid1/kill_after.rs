//! `--kill-after`: once rein has forwarded a stopping signal (after rewriting), a main child
//! still running that long later gets SIGKILL; a child that obeys is never killed.

use std::time::{Duration, Instant};

use crate::harness::{DEADLINE, Mode, Run, with_sh};
use crate::support::modes;

/// Starts rein with `opts` around `script`, sends `sig` to rein once the script is ready, and
/// returns rein's exit code and how long it took from the signal.
fn stop(mode: Mode, opts: &[&str], script: &str, sig: i32) -> (Option<i32>, Duration) {
    let mut run = Run::start(mode, &with_sh(opts, script));
    run.expect_line("ready", |l| l == "ready");
    let pid = run.rein_pid(mode);
    let t0 = Instant::now();
    run.signal(pid, sig);
    let out = run.finish_within(DEADLINE);
    (out.code, t0.elapsed())
}

const IGNORES_TERM: &str = r#"trap '' TERM; sleep 1000 & echo ready; wait"#;
const OBEYS_TERM: &str = r#"trap 'exit 7' TERM; sleep 1000 & echo ready; wait"#;

#[test]
fn kill_after_kills_a_child_that_ignores_the_forwarded_term() {
    for mode in modes("kill_after_kills_a_child_that_ignores_term") {
        let (code, took) = stop(mode, &["-k", "300ms", "-t", "1h"], IGNORES_TERM, 15);
        assert_eq!(code, Some(137), "{mode:?}");
        // Ended within the deadline, so by --kill-after and not by the hour of grace.
        assert!(took >= Duration::from_millis(250), "{mode:?}: {took:?}");
    }
}

#[test]
fn kill_after_is_not_used_when_the_child_obeys() {
    for mode in modes("kill_after_is_not_used_when_the_child_obeys") {
        let (code, _) = stop(mode, &["-k", "300ms"], OBEYS_TERM, 15);
        assert_eq!(code, Some(7), "{mode:?}: the TERM handler's exit code");
    }
}

#[test]
fn kill_after_counts_a_signal_rewritten_into_term() {
    let (code, _) = stop(
        Mode::Plain,
        &["-k", "300ms", "-r", "USR1:TERM"],
        IGNORES_TERM,
        10,
    );
    assert_eq!(code, Some(137));
}
