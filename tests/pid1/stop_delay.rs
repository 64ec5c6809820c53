//! `--stop-delay` (issue 12): the first stopping signal (TERM, INT, QUIT, HUP after rewriting)
//! is held for the delay and then forwarded; a second one during the delay goes at once, after
//! the held one; other signals are never held. (How the delay counts toward `--kill-after` is
//! unit-tested in `src/shutdown.rs`; the Kubernetes budget in `tests/docker/examples.rs`.)

use std::time::{Duration, Instant};

use crate::harness::{DEADLINE, Mode, Run, status_field, wait_blocked, wait_until, with_sh};
use crate::support::modes;

/// Waits until rein has taken `sig` out of its signalfd: no longer pending for it.
fn consumed(pid: i32, sig: i32) {
    wait_until(&format!("rein read signal {sig}"), DEADLINE, || {
        ["ShdPnd", "SigPnd"].iter().all(|k| {
            status_field(pid, k)
                .and_then(|v| u64::from_str_radix(&v, 16).ok())
                .is_some_and(|m| m & (1 << (sig - 1)) == 0)
        })
    });
}

// A shell runs pending traps in signal-number order, so the test cannot see in which order
// rein forwarded INT and TERM (unit-tested in shutdown.rs), only that both arrived.
const TRAPS: &str = r#"
trap 'echo got-INT' INT
trap 'echo got-USR1' USR1
trap 'echo got-TERM; exit 4' TERM
echo ready
while :; do sleep 1000 & wait $!; done
"#;

#[test]
fn the_first_term_is_held_for_the_delay_then_forwarded() {
    let script = "trap 'echo got-TERM; exit 3' TERM; echo ready; sleep 1000 & wait";
    for mode in modes("the_first_term_is_held_for_the_delay_then_forwarded") {
        let mut run = Run::start(mode, &with_sh(&["--stop-delay", "700ms"], script));
        run.expect_line("ready", |l| l == "ready");
        let rein = run.rein_pid(mode);
        wait_blocked(rein, 15);
        let t0 = Instant::now();
        run.signal(rein, 15);
        run.expect_line("got-TERM", |l| l == "got-TERM");
        // rein cannot forward before the delay is over: a lower bound, never flaky.
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(700),
            "{mode:?}: after {took:?}"
        );
        assert_eq!(run.finish().code, Some(3), "{mode:?}");
    }
}

#[test]
fn a_second_stop_goes_at_once_and_other_signals_are_never_held() {
    for mode in modes("a_second_stop_goes_at_once_and_other_signals_are_never_held") {
        // An hour: the test can only finish if the second signal ends the delay.
        let mut run = Run::start(mode, &with_sh(&["--stop-delay", "1h"], TRAPS));
        run.expect_line("ready", |l| l == "ready");
        let rein = run.rein_pid(mode);
        wait_blocked(rein, 2);
        run.signal(rein, 2);
        consumed(rein, 2);
        // USR1 is not a stopping signal: it passes the held INT.
        run.signal(rein, 10);
        run.expect_line("got-USR1", |l| l == "got-USR1");
        // The second stopping signal: the held INT goes out, then the TERM.
        run.signal(rein, 15);
        run.expect_line("got-INT", |l| l == "got-INT");
        run.expect_line("got-TERM", |l| l == "got-TERM");
        assert_eq!(run.finish().code, Some(4), "{mode:?}");
    }
}

#[test]
fn a_signal_rewritten_into_term_is_held_and_a_dropped_one_is_not() {
    // USR2 becomes TERM (held); HUP is dropped (nothing to hold, so the delay stays unused).
    let script = "trap 'echo got-TERM; exit 5' TERM; echo ready; sleep 1000 & wait";
    let mut run = Run::start(
        Mode::Plain,
        &with_sh(
            &["--stop-delay", "400ms", "-r", "USR2:TERM", "-r", "HUP:drop"],
            script,
        ),
    );
    run.expect_line("ready", |l| l == "ready");
    let rein = run.pid() as i32;
    wait_blocked(rein, 12);
    run.signal(rein, 1);
    consumed(rein, 1);
    let t0 = Instant::now();
    run.signal(rein, 12);
    run.expect_line("got-TERM", |l| l == "got-TERM");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(400), "after {took:?}");
    assert_eq!(run.finish().code, Some(5));
}

#[test]
fn pause_mode_holds_its_stop_too() {
    for mode in modes("pause_mode_holds_its_stop_too") {
        let mut run = Run::start(mode, &["--pause", "--stop-delay", "500ms"]);
        let rein = run.rein_pid(mode);
        wait_blocked(rein, 15);
        let t0 = Instant::now();
        run.signal(rein, 15);
        let out = run.finish_within(DEADLINE);
        let took = t0.elapsed();
        assert_eq!(out.code, Some(0), "{mode:?}: {}", out.stderr);
        assert!(
            took >= Duration::from_millis(500),
            "{mode:?}: after {took:?}"
        );
    }
}

#[test]
fn the_environment_twin_works_and_a_delay_past_kill_after_is_refused() {
    let script = "trap 'echo got-TERM; exit 6' TERM; echo ready; sleep 1000 & wait";
    let mut cmd = crate::harness::command(Mode::Plain, &crate::harness::sh(script));
    cmd.env("REIN_STOP_DELAY", "300ms");
    let mut run = Run::spawn(cmd);
    run.expect_line("ready", |l| l == "ready");
    let rein = run.pid() as i32;
    wait_blocked(rein, 15);
    let t0 = Instant::now();
    run.signal(rein, 15);
    run.expect_line("got-TERM", |l| l == "got-TERM");
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(run.finish().code, Some(6));

    // A SIGKILL due before the held signal goes out would kill a program that never saw it.
    let out = crate::harness::run(
        Mode::Plain,
        &["--stop-delay", "5s", "--kill-after", "2s", "--", "true"],
    );
    assert_eq!(out.code, Some(125));
    assert!(out.stderr.contains("--stop-delay"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}
