//! Processes stopped by job control still end on a stop signal: a stopped process acts on
//! nothing but SIGKILL and SIGCONT, so rein follows SIGTERM (its own to leftovers, or a
//! forwarded TERM, INT, QUIT or HUP) with SIGCONT when the target is stopped at that moment,
//! and only then (`hostile/exactly_once.rs` checks that a running target gets no CONT). rein
//! learns the main child's stops from waitid(2) and reads everyone else's state in /proc.

use crate::harness::{
    DEADLINE, Mode, Run, children, namespaces_available, ns_command_without_proc, rein, run, state,
    wait_until,
};

/// The main child: traps TERM, then blocks in the `read` builtin on rein's stdin (which the
/// harness keeps open), so it forks nothing. A `sleep` loop would not do: dash starts `sleep`
/// with vfork, and a TSTP that stops the vfork child before its exec leaves the shell in an
/// uninterruptible vfork wait (state D) instead of stopped.
const MAIN_TRAPS_TERM: &str = "trap 'echo main-term; exit 7' TERM; echo ready; read x";

/// Waits until rein's main child itself (not merely some member of its group) is stopped. A
/// TERM that reaches the shell before its own stop would be taken by its trap and then sit
/// behind the stop, with nothing stopped yet for rein to wake: the test would race the kernel.
fn wait_until_main_child_stopped(rein: i32) {
    wait_until("the main child is stopped", DEADLINE, || {
        children(rein)
            .first()
            .is_some_and(|&c| state(c) == Some('T'))
    });
}

#[test]
fn a_stopped_leftover_gets_its_sigterm_without_waiting_for_the_grace() {
    if !namespaces_available("a_stopped_leftover_gets_its_sigterm_without_waiting_for_the_grace") {
        return;
    }
    for mode in [Mode::Pid1, Mode::Plain] {
        // The leftover installs its TERM trap, then stops itself; the main child exits only
        // once the leftover is in state T.
        let script = "exec 3>&1; \
             sh -c 'trap \"echo leftover-term >&3; exit 0\" TERM; kill -STOP $$; while :; do sleep 1; done' & \
             p=$!; until grep -q '^State:.*T' /proc/$p/status; do :; done; exit 5";
        let started = std::time::Instant::now();
        let out = run(mode, &["-v", "--grace", "60s", "--", "sh", "-c", script]);
        assert_eq!(out.code, Some(5), "{mode:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("leftover-term"),
            "{mode:?}: {out:?}"
        );
        assert!(out.stderr.contains("killed: 0"), "{mode:?}: {out:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{mode:?}: waited for the grace"
        );
    }
}

#[test]
fn a_stopped_main_child_acts_on_a_forwarded_sigterm() {
    if !namespaces_available("a_stopped_main_child_acts_on_a_forwarded_sigterm") {
        return;
    }
    for mode in [Mode::Pid1, Mode::Plain] {
        let mut r = Run::start(mode, &["--", "sh", "-c", MAIN_TRAPS_TERM]);
        r.expect_line("ready", |l| l == "ready");
        let rein = r.rein_pid(mode);
        // Stop the whole group as a terminal's Ctrl-Z would, then ask it to terminate.
        r.signal(rein, nix::libc::SIGTSTP);
        wait_until_main_child_stopped(rein);
        r.signal(rein, nix::libc::SIGTERM);
        r.expect_line("main-term", |l| l == "main-term");
        let out = r.finish();
        assert_eq!(out.code, Some(7), "{mode:?}: {out:?}");
    }
}

#[test]
fn a_stopped_member_of_the_main_childs_group_acts_on_a_forwarded_sigterm() {
    if !namespaces_available("a_stopped_member_of_the_main_childs_group_acts_on_a_forwarded") {
        return;
    }
    // The main child runs; a member of its process group has stopped itself. rein sees the
    // member's state in /proc and wakes the group.
    let script = r#"trap 'echo main-term; exit 7' TERM
        sh -c 'trap "echo member-term; exit 0" TERM; kill -STOP $$; while :; do sleep 1; done' &
        p=$!
        until grep -q '^State:.*T' /proc/$p/status; do :; done
        echo ready
        while :; do sleep 1; done"#;
    for mode in [Mode::Pid1, Mode::Plain] {
        let mut r = Run::start(mode, &["--", "sh", "-c", script]);
        r.expect_line("ready", |l| l == "ready");
        let rein = r.rein_pid(mode);
        r.signal(rein, nix::libc::SIGTERM);
        r.expect_line("member-term", |l| l == "member-term");
        let out = r.finish();
        assert_eq!(out.code, Some(7), "{mode:?}: {out:?}");
    }
}

#[test]
fn without_proc_a_stopped_main_child_still_acts_on_a_forwarded_sigterm() {
    if !namespaces_available("without_proc_a_stopped_main_child_still_acts_on_a_forwarded") {
        return;
    }
    // No procfs for rein's namespace: the main child's stop is known from waitid alone.
    let mut r = Run::spawn(ns_command_without_proc(&[
        rein(),
        "--",
        "sh",
        "-c",
        MAIN_TRAPS_TERM,
    ]));
    r.expect_line("ready", |l| l == "ready");
    let pid = r.rein_pid(Mode::Pid1);
    r.signal(pid, nix::libc::SIGTSTP);
    wait_until_main_child_stopped(pid);
    r.signal(pid, nix::libc::SIGTERM);
    r.expect_line("main-term", |l| l == "main-term");
    let out = r.finish();
    assert_eq!(out.code, Some(7), "{out:?}");
}
