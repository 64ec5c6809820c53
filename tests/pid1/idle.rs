//! An idle rein sleeps in one `poll` with no timeout: over a few seconds with an idle child it
//! is not woken once (no timer, no periodic reaping; tini wakes every second).

use std::time::Duration;

use crate::harness::{DEADLINE, Mode, Run, namespaces_available, status_field, wait_until};

/// `voluntary_ctxt_switches + nonvoluntary_ctxt_switches` of `pid`: every wake-up counts.
fn wakeups(pid: i32) -> u64 {
    ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]
        .iter()
        .map(|k| status_field(pid, k).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Whether `pid` is blocked in poll(2) with an infinite timeout (`poll(fds, n, -1)`) or in
/// ppoll(2) with a NULL timeout, from `/proc/PID/syscall`. (Also used by adopt.rs and
/// stop_delay.rs: rein's timers have run out once it waits like this.)
pub(crate) fn in_poll_without_timeout(pid: i32) -> bool {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    let f: Vec<&str> = text.split_whitespace().collect();
    let arg = |i: usize| {
        f.get(i)
            .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
    };
    match f.first().copied() {
        // poll: the timeout is an int, -1 for none.
        Some("7") => arg(3).is_some_and(|t| t as u32 == u32::MAX),
        // ppoll: the timeout is a pointer, NULL for none.
        Some("271") => arg(3) == Some(0),
        _ => false,
    }
}

#[test]
fn an_idle_rein_is_never_woken() {
    let mut modes = vec![Mode::Plain];
    if namespaces_available("an_idle_rein_is_never_woken") {
        modes.push(Mode::Pid1);
    }
    // Both modes share one measuring window, so the test costs it once.
    let runs: Vec<(Mode, Run, i32)> = modes
        .into_iter()
        .map(|mode| {
            let run = Run::start(mode, &["--", "sleep", "1000"]);
            let rein = run.rein_pid(mode);
            wait_until(
                "rein is blocked in poll without a timeout",
                DEADLINE,
                || in_poll_without_timeout(rein),
            );
            (mode, run, rein)
        })
        .collect();
    let before: Vec<u64> = runs.iter().map(|(_, _, r)| wakeups(*r)).collect();
    // A measurement window, not synchronisation: nothing is awaited here, the test counts what
    // happens in rein while nothing should.
    #[allow(clippy::disallowed_methods)]
    std::thread::sleep(Duration::from_secs(3));
    for ((mode, run, rein), before) in runs.into_iter().zip(before) {
        let after = wakeups(rein);
        assert!(in_poll_without_timeout(rein), "{mode:?}");
        assert_eq!(
            after - before,
            0,
            "{mode:?}: rein woke {} times while idle",
            after - before
        );
        // Leave nothing behind: TERM reaches `sleep`, rein exits with its status.
        run.signal(rein, 15);
        assert_eq!(run.finish().code, Some(143), "{mode:?}");
    }
}
