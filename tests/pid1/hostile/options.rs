//! Option combinations that cannot apply are refused with one line and 125 before anything
//! runs, whether they come from flags or from `REIN_*` variables; the one that has a meaning
//! of its own (`--pause --pdeathsig SIG`: a pause holder stops when its parent dies) does it.
//!
//! Reproductions on the old main: `rein --pause --timeout 1s` ran forever, `--pdeathsig KILL`
//! killed rein and orphaned the child, `--pdeathsig STOP` stopped rein, and
//! `rein -P --pdeathsig HUP` ignored its parent's death.

use std::process::Command;

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, command, namespaces_available, rein, wait_until, with_sh,
};
use crate::support::{KillOnDrop, assert_refused, stopped_with_status};

/// Flags, variables, and a word the one line of refusal must contain.
type Row = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    &'static str,
);

const REFUSED: &[Row] = &[
    (&["--pause", "--timeout", "1s"], &[], "--timeout"),
    (&["--pdeathsig", "KILL"], &[], "KILL"),
    (&["--pdeathsig", "9"], &[], "KILL"),
    (&["-p", "SIGSTOP"], &[], "STOP"),
    (&["-p", "CHLD"], &[], "CHLD"),
    (&[], &[("REIN_PDEATHSIG", "KILL")], "REIN_PDEATHSIG"),
    (&["-P", "-c"], &[], "--single-child"),
    (&["-P", "-k", "1s"], &[], "--kill-after"),
    (&["-P", "--timeout-signal", "INT"], &[], "--timeout-signal"),
    (&["-P", "-r", "USR1:USR2"], &[], "--rewrite"),
    (&["-P", "-e", "3"], &[], "--exit-zero"),
    (&["-P", "--exit-zero-on-stop"], &[], "--exit-zero-on-stop"),
    (&["-P", "-u", "0"], &[], "--user"),
    (
        &[],
        &[("REIN_PAUSE", "1"), ("REIN_TIMEOUT", "1s")],
        "REIN_TIMEOUT=1s",
    ),
    (&["-P"], &[("REIN_USER", "0")], "REIN_USER=0"),
    (&["--timeout-signal", "INT"], &[], "--timeout"),
    (
        &[],
        &[("REIN_TIMEOUT_SIGNAL", "INT")],
        "REIN_TIMEOUT_SIGNAL",
    ),
    (&["-T", "0"], &[], "--timeout"),
    (&["-p", "TERM", "-r", "TERM:drop"], &[], "--rewrite"),
    (&["-p", "HUP"], &[("REIN_REWRITE", "HUP:0")], "REIN_REWRITE"),
];

#[test]
fn combinations_that_cannot_apply_are_refused_with_one_line_and_125() {
    let dir = TempDir::new("refused");
    let marker = dir.join("ran");
    for (flags, vars, needle) in REFUSED {
        // Pause rows carry no PROGRAM (that alone would be refused); the others have one that
        // leaves a mark if it ever runs.
        let pause = flags.contains(&"-P")
            || flags.contains(&"--pause")
            || vars.iter().any(|(k, _)| *k == "REIN_PAUSE");
        let args: Vec<String> = if pause {
            flags.iter().map(|f| f.to_string()).collect()
        } else {
            with_sh(flags, r#"touch "$MARKER""#)
        };
        let mut cmd = command(Mode::Plain, &args);
        cmd.env("MARKER", &marker).envs(vars.iter().copied());
        let out = Run::spawn(cmd).finish_within(DEADLINE);
        let what = format!("{flags:?} {vars:?}");
        assert_refused(&out, &what, needle, &marker);
    }
}

/// Starts `sh -c 'rein --pause ARGS --status-file S & echo rein $!; wait'`, kills that parent
/// shell (or, with `hup_instead`, sends HUP to rein itself) and checks that rein stops: exit 0,
/// reason `stopped`.
fn pause_holder_stops(args: &str, hup_instead: bool) {
    let dir = TempDir::new("pause-pdeath");
    let status = dir.join("s.json");
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        r#""$REIN" --pause $ARGS --status-file "$STATUS" & echo rein $!; wait"#,
    ])
    .env("REIN", rein())
    .env("ARGS", args)
    .env("STATUS", &status);
    let mut run = Run::spawn(cmd);
    let l = run.expect_line("rein PID", |l| l.starts_with("rein "));
    let rein_pid: i32 = l["rein ".len()..].parse().unwrap();
    let _guard = KillOnDrop(rein_pid);
    wait_settled(rein_pid);
    if hup_instead {
        run.signal(rein_pid, 1);
    } else {
        run.signal(run.pid() as i32, 9);
    }
    let st = stopped_with_status(
        rein_pid,
        &status,
        &format!(
            "rein --pause {args} stops ({})",
            if hup_instead { "HUP" } else { "parent died" }
        ),
    );
    assert_eq!(
        (st["exit_code"].as_str(), st["reason"].as_str()),
        ("0", "stopped"),
        "{args}"
    );
}

/// Waits until rein has armed everything: it changes to `/` only after the parent-death signal
/// is set. (Its blocked mask comes earlier; as PID 1, `unshare --kill-child`'s SIGKILL would
/// still be the parent-death signal then.)
fn wait_settled(pid: i32) {
    wait_until(
        &format!("rein (pid {pid}) has changed to /"),
        DEADLINE,
        || {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|c| c == std::path::Path::new("/"))
                && crate::harness::is_rein(pid)
        },
    );
}

#[test]
fn a_pause_holder_stops_when_its_parent_dies_whatever_the_signal() {
    for sig in ["HUP", "USR1", "RTMIN+3"] {
        pause_holder_stops(&format!("--pdeathsig {sig}"), false);
    }
    // The parent-death signal carries no mark of its own (SI_USER, like kill(2)), so in pause
    // mode SIG stops rein whoever sends it: documented, and tested here.
    pause_holder_stops("-p HUP", true);
}

#[test]
fn as_pid1_a_pause_holder_stops_when_the_process_outside_dies() {
    if !namespaces_available("as_pid1_a_pause_holder_stops_when_the_process_outside_dies") {
        return;
    }
    let dir = TempDir::new("pause-pdeath1");
    let status = dir.join("s.json");
    let s = status.display().to_string();
    let run = Run::spawn(command(
        Mode::Pid1,
        &["--pause", "-p", "HUP", "--status-file", &s],
    ));
    let rein_pid = run.rein_pid(Mode::Pid1);
    wait_settled(rein_pid);
    // unshare is rein's parent.
    run.signal(run.pid() as i32, 9);
    let st = stopped_with_status(rein_pid, &status, "rein exits after its parent died");
    assert_eq!(
        (st["exit_code"].as_str(), st["reason"].as_str()),
        ("0", "stopped")
    );
}
