//! See mod.rs. A shutdown that cannot finish must still end: rein used to re-scan every 20 ms,
//! forever, for a leftover that survived SIGKILL, and at `-v` logged a line for every round in
//! which a fork loop had made new processes.
//!
//! A leftover that survives SIGKILL, made deterministically: rein runs without CAP_KILL (it is
//! dropped from the bounding set, so rein's permitted set lacks it), and the leftover runs as
//! another uid, so every kill(2) rein makes at it fails with EPERM. (Other ways tried and why
//! not: a ptrace-stopped process and a vfork parent waiting for a stopped child are both still
//! killable by SIGKILL; uninterruptible sleeps that last need FUSE, NFS or a cgroup-v1 freezer,
//! none of which every CI machine has.)

use crate::harness::{Mode, Run, command_via};
use crate::support::{KillOnDrop, skip_unless};

/// rein without CAP_KILL: it can signal its own uid (root) but nobody else.
const NO_CAP_KILL: &[&str] = &["setpriv", "--bounding-set=-kill"];

/// Runs `$@` as uid/gid 2000 with no supplementary groups, on none of rein's descriptors: in
/// plain mode the survivor outlives rein, and holding rein's stdout or stderr open it would
/// keep the harness waiting for their EOF.
const AS_2000: &str = "</dev/null >/dev/null 2>&1 setpriv --reuid 2000 --regid 2000 --clear-groups";

/// Waits until the process `$p` has become uid 2000 (until then it is root, and rein's
/// SIGKILL would reach it), then prints `ready $p`.
const READY_AS_2000: &str =
    "until grep -q '^Uid:[[:space:]]*2000' /proc/$p/status; do :; done; echo ready $p";

/// The modes, where this test can make a process rein cannot signal: it needs root (to switch
/// to uid 2000) and a setpriv that can drop a capability from the bounding set.
fn modes(test: &str) -> Vec<Mode> {
    let ok = nix::unistd::geteuid().is_root()
        && std::process::Command::new("setpriv")
            .args(["--bounding-set=-kill", "true"])
            .status()
            .is_ok_and(|s| s.success());
    let why = "needs root and util-linux setpriv to make a process rein cannot signal";
    if !skip_unless(test, ok, "not root or no setpriv", why) {
        return Vec::new();
    }
    crate::support::modes(test)
}

/// Starts `rein ARGS` without CAP_KILL (rein stays PID 1 in PID-1 mode: setpriv execs it).
fn start(mode: Mode, args: &[&str]) -> Run {
    Run::spawn(command_via(mode, NO_CAP_KILL, args))
}

/// The survivor's pid from the `ready PID` line, and its cleanup: in plain mode the survivor
/// outlives rein (as PID 1 the kernel kills it with the namespace), and the test, which keeps
/// CAP_KILL, kills it when it is done, passed or failed.
fn survivor(run: &mut Run, mode: Mode) -> (i32, Option<KillOnDrop>) {
    let line = run.expect_line("ready PID", |l| l.starts_with("ready "));
    let pid: i32 = line["ready ".len()..].parse().unwrap();
    (pid, (mode == Mode::Plain).then_some(KillOnDrop(pid)))
}

#[test]
fn a_leftover_that_survives_sigkill_does_not_keep_rein_from_exiting() {
    for mode in modes("a_leftover_that_survives_sigkill_does_not_keep_rein_from_exiting") {
        let script = format!("{AS_2000} sleep 1000 & p=$!; {READY_AS_2000}; read x; exit 3");
        let mut run = start(mode, &["--grace", "0", "--", "sh", "-c", &script]);
        let (pid, _cleanup) = survivor(&mut run, mode);
        // Without the bound, rein waits for the survivor forever: past the harness deadline.
        let out = run.finish();
        assert_eq!(
            out.code,
            Some(3),
            "{mode:?}: the main child's status: {out:?}"
        );
        let survivors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.contains("survived SIGKILL"))
            .collect();
        assert_eq!(survivors.len(), 1, "{mode:?}: {out:?}");
        assert!(
            survivors[0].contains(&format!("{pid} (sleep)")),
            "{mode:?}: the survivor is not named: {out:?}"
        );
    }
}

#[test]
fn a_fork_loop_that_survives_sigkill_logs_a_bounded_number_of_lines() {
    // The survivor forks a short-lived child over and over, so every scan finds new pids.
    for mode in modes("a_fork_loop_that_survives_sigkill_logs_a_bounded_number_of_lines") {
        let script = format!(
            "{AS_2000} sh -c 'while :; do /bin/true; done' & p=$!; {READY_AS_2000}; read x; exit 3"
        );
        let mut run = start(mode, &["-v", "--grace", "0", "--", "sh", "-c", &script]);
        let _cleanup = survivor(&mut run, mode);
        let out = run.finish();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        let lines = out.stderr.lines().count();
        eprintln!("{mode:?}: a fork loop that survives SIGKILL: {lines} log lines at -v");
        assert!(
            lines <= 12,
            "{mode:?}: {lines} lines for one unending shutdown: {out:?}"
        );
    }
}
