//! `--pdeathsig SIG`: when rein's parent dies, rein acts as if SIG had arrived: it forwards it
//! (after rewriting) and, once the child has exited, exits itself.

use std::process::Command;

use crate::harness::{Mode, Run, TempDir, command, namespaces_available, rein, sh};
use crate::support::{KillOnDrop, stopped_with_status};

/// Reports which signal it got, then exits 5. (Not INT or QUIT: rein runs as a background job
/// of `sh` here, which starts it with those ignored, and a shell cannot trap what it inherited
/// as ignored.)
const CHILD: &str = r#"
    trap 'echo got TERM; exit 5' TERM
    trap 'echo got HUP; exit 5' HUP
    trap 'echo got USR1; exit 5' USR1
    sleep 1000 & echo ready; wait"#;

/// Runs `sh -c 'rein OPTS -- sh -c CHILD & echo rein $!; wait'` (with `env` added), kills that
/// parent shell, and returns the line the child printed and rein's status file.
fn orphan_rein(
    opts: &[&str],
    env: &[(&str, &str)],
) -> (String, std::collections::BTreeMap<String, String>) {
    let dir = TempDir::new("pdeath");
    let status = dir.join("s.json");
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        r#""$REIN" $OPTS --status-file "$STATUS" -- sh -c "$CHILD" & echo rein $!; wait"#,
    ])
    .env("REIN", rein())
    .env("OPTS", opts.join(" "))
    .env("STATUS", &status)
    .env("CHILD", CHILD)
    .envs(env.iter().copied());
    let mut run = Run::spawn(cmd);
    // The shell's `echo rein $!` and the child's `echo ready` race: take them in either order
    // (a line that matches neither is skipped, so waiting for one, then the other, can lose the
    // second one).
    let (mut rein_pid, mut ready) = (None, false);
    let mut guard = None;
    while rein_pid.is_none() || !ready {
        let l = run.expect_line("rein PID or ready", |l| {
            l.starts_with("rein ") || l == "ready"
        });
        match l.strip_prefix("rein ") {
            Some(pid) => {
                let pid: i32 = pid.parse().unwrap();
                guard = Some(KillOnDrop(pid));
                rein_pid = Some(pid);
            }
            None => ready = true,
        }
    }
    let (rein_pid, _guard) = (rein_pid.unwrap(), guard);
    run.signal(run.pid() as i32, 9);
    let got = run.expect_line("got SIG", |l| l.starts_with("got "));
    let st = stopped_with_status(rein_pid, &status, "rein exits after its parent died");
    (got, st)
}

#[test]
fn when_the_parent_dies_the_child_gets_the_signal_and_rein_exits() {
    let (got, st) = orphan_rein(&["-p", "TERM"], &[]);
    assert_eq!(got, "got TERM");
    assert_eq!(st["exit_code"], "5", "{st:?}");
}

#[test]
fn pdeathsig_is_rewritten_like_a_received_signal() {
    let (got, _) = orphan_rein(&["--pdeathsig", "TERM", "-r", "TERM:USR1"], &[]);
    assert_eq!(got, "got USR1");
}

#[test]
fn pdeathsig_reads_its_variable_and_a_flag_wins() {
    let (got, _) = orphan_rein(&[], &[("REIN_PDEATHSIG", "HUP")]);
    assert_eq!(got, "got HUP", "REIN_PDEATHSIG alone");
    let (got, _) = orphan_rein(&["-p", "TERM"], &[("REIN_PDEATHSIG", "HUP")]);
    assert_eq!(got, "got TERM", "the flag wins");
}

#[test]
fn as_pid1_the_death_of_the_process_outside_the_namespace_counts() {
    if !namespaces_available("as_pid1_the_death_of_the_parent_counts") {
        return;
    }
    let dir = TempDir::new("pdeath1");
    let status = dir.join("s.json");
    let s = status.display().to_string();
    let mut args = vec!["-p".to_string(), "TERM".into(), "--status-file".into(), s];
    args.extend(sh(CHILD));
    let mut run = Run::spawn(command(Mode::Pid1, &args));
    run.expect_line("ready", |l| l == "ready");
    let rein_pid = run.rein_pid(Mode::Pid1);
    // unshare is rein's parent.
    run.signal(run.pid() as i32, 9);
    let got = run.expect_line("got SIG", |l| l.starts_with("got "));
    assert_eq!(got, "got TERM");
    let st = stopped_with_status(rein_pid, &status, "rein exits after its parent died");
    assert_eq!(st["exit_code"], "5");
}

#[test]
fn pause_mode_stops_when_its_parent_dies_with_pdeathsig_term() {
    let dir = TempDir::new("pdeath-pause");
    let status = dir.join("s.json");
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        r#""$REIN" --pause -p TERM --status-file "$STATUS" & echo rein $!; wait"#,
    ])
    .env("REIN", rein())
    .env("STATUS", &status);
    let mut run = Run::spawn(cmd);
    let l = run.expect_line("rein PID", |l| l.starts_with("rein "));
    let rein_pid: i32 = l["rein ".len()..].parse().unwrap();
    // Kills the orphaned rein if the test fails before it exited by itself.
    let _guard = KillOnDrop(rein_pid);
    crate::harness::wait_blocked(rein_pid, 15);
    run.signal(run.pid() as i32, 9);
    let st = stopped_with_status(rein_pid, &status, "rein exits after its parent died");
    assert_eq!(
        (st["exit_code"].as_str(), st["reason"].as_str()),
        ("0", "stopped")
    );
}
