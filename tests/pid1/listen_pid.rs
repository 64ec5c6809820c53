//! Socket activation: a `LISTEN_PID` naming rein is rewritten to the main child's own pid;
//! any other value passes through unchanged.

use std::process::Command;

use crate::harness::{Mode, Run, namespaces_available, rein};

/// Prints the child's own pid and the LISTEN_PID it sees.
const SHOW: &str = r#"echo "$$ $LISTEN_PID""#;

fn pair(stdout: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(stdout);
    let (a, b) = text.trim_end().split_once(' ').expect("two words");
    (a.to_string(), b.to_string())
}

#[test]
fn listen_pid_naming_rein_as_pid1_becomes_the_childs_pid() {
    if !namespaces_available("listen_pid_naming_rein_as_pid1") {
        return;
    }
    let mut cmd = crate::harness::command(Mode::Pid1, &["sh", "-c", SHOW]);
    cmd.env("LISTEN_PID", "1").env("LISTEN_FDS", "1");
    let out = Run::spawn(cmd).finish();
    assert_eq!(out.code, Some(0), "{out:?}");
    let (me, seen) = pair(&out.stdout);
    assert_ne!(me, "1");
    assert_eq!(seen, me, "{out:?}");
}

#[test]
fn listen_pid_naming_rein_as_plain_process_becomes_the_childs_pid() {
    // `exec` keeps the shell's pid, so LISTEN_PID=$$ names rein.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"LISTEN_PID=$$ exec "$REIN" -- sh -c "$SHOW""#])
        .env("REIN", rein())
        .env("SHOW", SHOW);
    let run = Run::spawn(cmd);
    let rein_pid = run.pid().to_string();
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{out:?}");
    let (me, seen) = pair(&out.stdout);
    assert_ne!(me, rein_pid);
    assert_eq!(seen, me, "{out:?}");
}

#[test]
fn any_other_listen_pid_passes_through_unchanged() {
    let mut modes = vec![Mode::Plain];
    if namespaces_available("any_other_listen_pid_passes_through") {
        modes.push(Mode::Pid1);
    }
    for mode in modes {
        for value in ["12345", "2", "", "1x"] {
            let mut cmd = crate::harness::command(mode, &["sh", "-c", SHOW]);
            cmd.env("LISTEN_PID", value);
            let out = Run::spawn(cmd).finish();
            assert_eq!(out.code, Some(0), "{out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            let seen = text.trim_end().split_once(' ').map_or("", |(_, b)| b);
            assert_eq!(seen, value, "{mode:?}: {out:?}");
        }
    }
}
