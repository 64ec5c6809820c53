//! `docker stop` sends SIGTERM to the container's PID 1, waits `-t` seconds, then SIGKILLs.
//! A PID 1 without a SIGTERM handler never sees that SIGTERM (pid_namespaces(7)), and a shell
//! as PID 1 runs its trap only after its foreground command ends: both hang for the whole
//! timeout. Under rein the SIGTERM reaches the program's process group at once.
//!
//! Each case runs the same program with and without rein. Measured on the development machine
//! (engine 20.10, fuse-overlayfs): about 0.1 s with rein, about 2.2 s without (`-t 2`).
//!
//! With rein, the tests assert the exit status (the trap's 0, or 143 for death by SIGTERM,
//! never docker's SIGKILL 137) and that `docker stop` returned before its timeout, not a
//! fixed second: on a loaded machine the engine alone (client, daemon, runtime, overlay
//! teardown) has taken 1.5-1.9 s to stop a container whose program ended at once.

use std::time::Duration;

use crate::harness::{Container, docker, fixture, poll_until, say};

/// A script that cleans up on SIGTERM while a foreground command runs.
const TRAP_SCRIPT: &str =
    "trap 'echo trap: TERM; exit 0' TERM; echo ready; sleep 1000; echo sleep: ended";

/// Starts `command`, waits for `ready_line` in its logs (empty: just started), stops it with
/// `docker stop -t TIMEOUT`, and returns (elapsed, exit code, logs).
fn stop(what: &str, command: &[&str], timeout: &str) -> Option<(Duration, i32, String)> {
    let fx = fixture(what)?;
    let c = Container::start(fx, "stop", &[], command);
    if command.contains(&TRAP_SCRIPT) {
        c.wait_for_logs(&["ready"]);
    } else {
        // `sleep` prints nothing; wait until it is the process in the container.
        poll_until("sleep to start", || {
            let comms = c.exec(&["sh", "-c", "cat /proc/[0-9]*/comm 2>/dev/null; true"]);
            if comms.stdout.lines().any(|l| l == "sleep") {
                Ok(())
            } else {
                Err(comms.dump())
            }
        });
    }
    let r = docker(&["stop", "-t", timeout, &c.name]).ok();
    let (running, code) = c.state();
    assert!(!running);
    let logs = c.logs();
    say(&format!(
        "docker tests: measured: `docker stop -t {timeout}` of {command:?} took {:.3} s, exit code {code}",
        r.elapsed.as_secs_f64()
    ));
    Some((r.elapsed, code, logs))
}

#[test]
fn stop_with_rein_runs_the_trap_at_once() {
    let cmd = ["/rein", "--", "sh", "-c", TRAP_SCRIPT];
    let Some((elapsed, code, logs)) = stop("stop_with_rein_runs_the_trap_at_once", &cmd, "10")
    else {
        return;
    };
    assert_eq!(code, 0, "the trap exits 0; logs:\n{logs}");
    assert!(
        elapsed < Duration::from_secs(10),
        "docker waited out its timeout: {elapsed:?}; logs:\n{logs}"
    );
    assert!(
        logs.contains("trap: TERM"),
        "the trap did not run; logs:\n{logs}"
    );
}

#[test]
fn stop_without_rein_waits_for_the_foreground_command() {
    // The same script as PID 1: sh defers its trap until `sleep` ends, and `sleep` (not PID 1,
    // not signalled) never ends, so docker waits the timeout and SIGKILLs.
    let cmd = ["sh", "-c", TRAP_SCRIPT];
    let name = "stop_without_rein_waits_for_the_foreground_command";
    let Some((elapsed, code, logs)) = stop(name, &cmd, "2") else {
        return;
    };
    assert!(
        elapsed >= Duration::from_millis(1800),
        "took only {elapsed:?}; logs:\n{logs}"
    );
    assert_eq!(code, 137, "expected SIGKILL; logs:\n{logs}");
    assert!(!logs.contains("trap: TERM"), "the trap ran; logs:\n{logs}");
}

#[test]
fn stop_with_rein_ends_a_program_without_a_handler() {
    let cmd = ["/rein", "--", "sleep", "1000"];
    let name = "stop_with_rein_ends_a_program_without_a_handler";
    let Some((elapsed, code, logs)) = stop(name, &cmd, "10") else {
        return;
    };
    assert_eq!(code, 128 + 15, "expected death by SIGTERM; logs:\n{logs}");
    assert!(
        elapsed < Duration::from_secs(10),
        "docker waited out its timeout: {elapsed:?}; logs:\n{logs}"
    );
}

#[test]
fn stop_without_rein_hangs_a_program_without_a_handler() {
    // `sleep` as PID 1 installs no handler, so the kernel drops SIGTERM.
    let cmd = ["sleep", "1000"];
    let name = "stop_without_rein_hangs_a_program_without_a_handler";
    let Some((elapsed, code, logs)) = stop(name, &cmd, "2") else {
        return;
    };
    assert!(
        elapsed >= Duration::from_millis(1800),
        "took only {elapsed:?}; logs:\n{logs}"
    );
    assert_eq!(code, 137, "expected SIGKILL; logs:\n{logs}");
}

/// A program stopped by job control (`docker kill -s TSTP`) holds the SIGTERM that
/// `docker stop` makes rein forward, because a stopped process acts on no signal but SIGKILL
/// and SIGCONT; nothing sends SIGCONT, so docker waits its timeout and SIGKILLs (137).
/// systemd sends SIGCONT right after SIGTERM for this reason. Ignored until rein does too.
#[test]
fn stop_with_rein_ends_a_stopped_program() {
    let Some(fx) = fixture("stop_with_rein_ends_a_stopped_program") else {
        return;
    };
    let c = Container::start(
        fx,
        "stopped",
        &[],
        &["/rein", "--", "sh", "-c", TRAP_SCRIPT],
    );
    c.wait_for_logs(&["ready"]);
    docker(&["kill", "-s", "TSTP", &c.name]).ok();
    poll_until("the program to be stopped (state T)", || {
        let stat = c.exec(&["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null; true"]);
        if stat.stdout.lines().any(|l| l.contains("(sleep) T")) {
            Ok(())
        } else {
            Err(stat.dump())
        }
    });
    let r = docker(&["stop", "-t", "5", &c.name]).ok();
    let logs = c.logs();
    assert_eq!(c.state(), (false, 0), "the trap exits 0; logs:\n{logs}");
    assert!(
        r.elapsed < Duration::from_secs(5),
        "docker waited out its timeout: {:?}; logs:\n{logs}",
        r.elapsed
    );
}
