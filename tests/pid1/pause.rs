//! `--pause`: no child; rein holds the PID namespace, reaps the orphans of processes that
//! joined it, and exits 0 on TERM or INT once the leftovers are gone.

use std::process::Command;
use std::time::Duration;

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, namespaces_available, ns_members, probe, read_status,
    wait_blocked, wait_until,
};

/// `nsenter` into rein's PID and mount namespaces, running `args`.
fn join(rein: i32, args: &[&str]) -> Run {
    let mut cmd = Command::new("nsenter");
    cmd.args(["--target", &rein.to_string(), "--pid", "--mount", "--"])
        .args(args);
    Run::spawn(cmd)
}

#[test]
fn pause_reaps_orphans_of_joined_processes_and_stops_on_term() {
    if !namespaces_available("pause_reaps_orphans_of_joined_processes") {
        return;
    }
    let dir = TempDir::new("pause");
    let status = dir.join("s.json");
    let s = status.display().to_string();
    let mut run = Run::start(Mode::Pid1, &["--pause", "-t", "30s", "--status-file", &s]);
    let rein = run.rein_pid(Mode::Pid1);
    wait_blocked(rein, 15);

    let p = probe().display().to_string();
    let mut orphans = join(rein, &[&p, "orphans", "3"]);
    orphans.expect_line("done", |l| l == "done 3");
    wait_until("no zombie is left in the namespace", DEADLINE, || {
        !ns_members(rein).iter().any(|p| p.state == 'Z')
    });
    assert_eq!(orphans.finish().code, Some(0));

    let sleeper = join(rein, &["sleep", "1000"]);
    wait_until("the sleeper has joined", DEADLINE, || {
        ns_members(rein).len() >= 2
    });
    // Only TERM and INT stop pause mode.
    run.signal(rein, 1);
    assert!(
        !run.exited_within(Duration::from_millis(300)),
        "HUP stopped pause mode"
    );
    // The grace is 30 s, so ending within the deadline does not show that the sleeper went
    // on SIGTERM; leftovers_killed 0 below does.
    run.signal(rein, 15);
    let out = run.finish_within(DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    // The sleeper was not rein's child, but it was in rein's namespace: stopped by TERM.
    drop(sleeper);
    let st = read_status(&status);
    for (k, v) in [
        ("exit_code", "0"),
        ("reason", "stopped"),
        ("signal", "null"),
        ("child_exit_code", "null"),
        ("orphans_reaped", "3"),
        ("leftovers_terminated", "1"),
        ("leftovers_killed", "0"),
    ] {
        assert_eq!(st[k], v, "{k} in {st:?}");
    }
}

#[test]
fn pause_exits_0_on_term_or_int_as_pid1_and_plain() {
    let mut modes = vec![Mode::Plain];
    if namespaces_available("pause_exits_0_on_term_or_int") {
        modes.push(Mode::Pid1);
    }
    for mode in modes {
        for sig in [15, 2] {
            let mut run = Run::start(mode, &["--pause"]);
            let rein = run.rein_pid(mode);
            wait_blocked(rein, sig);
            run.signal(rein, sig);
            let out = run.finish_within(DEADLINE);
            assert_eq!(out.code, Some(0), "{mode:?} signal {sig}: {out:?}");
        }
    }
}
