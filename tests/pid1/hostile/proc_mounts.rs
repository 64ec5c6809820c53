//! See mod.rs. rein finds the leftovers it must stop in `/proc`, and a process in the container
//! that may mount (root with CAP_SYS_ADMIN: a privileged container, a CI job run as root) can
//! change what that path shows. Before rein pinned its procfs (`proc.rs`), a tmpfs mounted
//! over `/proc`, or an empty file bind-mounted over rein's own `children` file, hid every
//! leftover: as a plain process rein sent them nothing, waited out the grace and exited,
//! leaving them running (seen: `setsid sleep 1000` still alive after rein exited 7 s later).
//!
//! Each test's leftover is `setsid sleep 1000` (a group and session of its own, so no signal
//! to the main child's group reaches it), the mount is made by the main child just before it
//! exits, in a mount namespace of the test's own (`unshare --mount`), and the grace is longer
//! than the harness's deadline: only a SIGTERM from rein lets it exit in time.

use crate::harness::{Mode, Run, TempDir, command_via};
use crate::support::{assert_terminated, long_grace_sh, modes};

/// A private mount namespace, so the test's mounts stay in it; rein is exec'd by `unshare`, so
/// as PID 1 it is still PID 1.
const PRIVATE_MOUNTS: [&str; 4] = ["unshare", "--mount", "--propagation", "private"];

/// Starts the leftover, prints its pid, then runs `$ATTACK` and exits 3.
const MAIN: &str = r#"setsid sleep 1000 & echo "leftover $!"
    eval "$ATTACK" && echo attacked
    exit 3"#;

/// Runs MAIN with `attack`; checks that rein terminated the leftover and exited with 3.
fn check(mode: Mode, attack: &str) {
    let dir = TempDir::new("procmount");
    let status = dir.join("status.json");
    let mut cmd = command_via(mode, &PRIVATE_MOUNTS, &long_grace_sh(&status, MAIN));
    cmd.env("ATTACK", attack).env("DIR", dir.join(""));
    let mut run = Run::spawn(cmd);
    let line = run.expect_line("leftover", |l| l.starts_with("leftover "));
    let leftover: i32 = line["leftover ".len()..].parse().unwrap();
    run.expect_line("attacked", |l| l == "attacked");
    // A leftover rein did not see would hold it for the 60 s grace, past the deadline.
    let out = run.finish();
    assert_eq!(out.code, Some(3), "{mode:?} {attack}: {out:?}");
    assert_terminated(&status, 1, &format!("{mode:?} {attack}"));
    if mode == Mode::Plain {
        // As PID 1 the kernel ends the namespace with rein; a plain rein's leftover would
        // live on. It was rein's child, so rein reaped it: its pid is free (or reused by
        // something that is not our sleep).
        let comm = std::fs::read_to_string(format!("/proc/{leftover}/comm")).unwrap_or_default();
        assert_ne!(
            comm.trim(),
            "sleep",
            "{mode:?} {attack}: the leftover still runs"
        );
    }
}

#[test]
fn a_tmpfs_mounted_over_proc_hides_no_leftover() {
    for mode in modes("a_tmpfs_mounted_over_proc_hides_no_leftover") {
        check(mode, "mount -t tmpfs none /proc");
    }
}

#[test]
fn a_file_mounted_over_reins_children_file_hides_no_leftover() {
    for mode in modes("a_file_mounted_over_reins_children_file_hides_no_leftover") {
        // $PPID is rein, by the pid this /proc shows it under.
        check(
            mode,
            r#": > "$DIR/empty" && mount --bind "$DIR/empty" "/proc/$PPID/task/$PPID/children""#,
        );
    }
}

#[test]
fn a_file_mounted_over_a_leftovers_stat_hides_it_not() {
    for mode in modes("a_file_mounted_over_a_leftovers_stat_hides_it_not") {
        // A stat line that calls the leftover a zombie of someone else's. (rein before the
        // pinning passed this one: it signals its own children by pid, reading no stat line;
        // this keeps it so, now that such a file reads as absent.)
        check(
            mode,
            r#"printf '%s\n' "$! (sleep) Z 99999 $! $! 0 -1 0" > "$DIR/stat" &&
               mount --bind "$DIR/stat" "/proc/$!/stat""#,
        );
    }
}
