//! See mod.rs. A process's name in `/proc/PID/stat` is whatever it chose: the first 15 bytes of
//! the file it executed or of `prctl(PR_SET_NAME)`, any bytes but NUL. rein used to read stat
//! lines as UTF-8, so `aaaaaaaaaaaaaaé` (cut in the middle of the é) made its process
//! invisible: it never got its SIGTERM, and rein waited for it forever.
//!
//! Each leftover here is `sleep`, executed through a symlink with a hostile name (exec names the
//! process after the path it was given), and it ends on SIGTERM. The grace is longer than the
//! harness's deadline, so only a SIGTERM lets rein exit in time.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::harness::{Mode, Run, TempDir, command};
use crate::support::{assert_terminated, long_grace_sh, modes};

/// Names a UTF-8 reader cannot read: an é cut at 15 bytes, bytes that are never UTF-8.
const NOT_UTF8: &[&[u8]] = &[b"aaaaaaaaaaaaaa\xc3\xa9", b"\xff\xfe\xfd", b"\xc3"];

/// Names that fool a reader splitting at the first `)` or at whitespace, or reading by line.
const AWKWARD: &[&[u8]] = &[b"x) Z 1 1 (y", b"a\nb) c", b") (", b"12 (3) S 4", b" "];

/// The main child: start every link in `$LINKS` as `sleep 1000`, wait until each has exec'd
/// (so the TERM does not land in the shell's fork-exec window), then exit 3 at stdin EOF.
const MAIN: &str = r#"sleep=$(readlink -f "$(command -v sleep)")
    pids=
    for f in "$LINKS"/*; do "$f" 1000 & pids="$pids $!"; done
    for p in $pids; do until [ "$(readlink /proc/$p/exe)" = "$sleep" ]; do :; done; done
    echo ready
    read x
    exit 3"#;

/// Runs MAIN with one leftover per name; checks that each got SIGTERM and rein exited with the
/// main child's status.
fn check(mode: Mode, names: &[&[u8]]) {
    let dir = TempDir::new("names");
    let links = dir.join("links");
    std::fs::create_dir(&links).unwrap();
    let sleep = which("sleep");
    for name in names {
        std::os::unix::fs::symlink(&sleep, links.join(OsStr::from_bytes(name))).unwrap();
    }
    let status = dir.join("status.json");
    let mut cmd = command(mode, &long_grace_sh(&status, MAIN));
    cmd.env("LINKS", &links);
    let mut run = Run::spawn(cmd);
    run.expect_line("ready", |l| l == "ready");
    // A leftover that got no SIGTERM would hold rein for the 60 s grace, past the deadline.
    let out = run.finish();
    assert_eq!(out.code, Some(3), "{mode:?} {names:?}: {out:?}");
    assert_terminated(&status, names.len(), &format!("{mode:?} {names:?}"));
}

/// The first executable `name` on PATH.
fn which(name: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}

#[test]
fn a_leftover_whose_name_is_not_utf8_gets_sigterm_and_rein_exits() {
    for mode in modes("a_leftover_whose_name_is_not_utf8_gets_sigterm_and_rein_exits") {
        // Only unreadable names in a run: a readable leftover beside them would make rein
        // see "someone is left" and reach the others through kill(-1) by accident.
        check(mode, NOT_UTF8);
    }
}

#[test]
fn leftovers_with_parentheses_spaces_and_newlines_in_their_names_are_all_found() {
    for mode in modes("leftovers_with_parentheses_spaces_and_newlines_in_their_names") {
        let mut names = AWKWARD.to_vec();
        names.push(NOT_UTF8[0]);
        check(mode, &names);
    }
}

#[test]
fn a_process_that_renames_itself_to_any_bytes_gets_sigterm() {
    // Writing /proc/PID/comm sets the same name as prctl(PR_SET_NAME), from a shell. The
    // leftover then blocks reading a FIFO it holds open itself (no EOF ever), so only a
    // signal ends it.
    const RENAMES: &str = r#"mkfifo "$DIR/fifo"
        sh -c 'printf "aaaaaaaaaaaaaa\303\251" > /proc/$$/comm; echo renamed; read x <> "$DIR/fifo"' &
        read x
        exit 3"#;
    for mode in modes("a_process_that_renames_itself_to_any_bytes_gets_sigterm") {
        let dir = TempDir::new("rename");
        let status = dir.join("status.json");
        let mut cmd = command(mode, &long_grace_sh(&status, RENAMES));
        cmd.env("DIR", &dir.0);
        let mut run = Run::spawn(cmd);
        run.expect_line("renamed", |l| l == "renamed");
        let out = run.finish();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        assert_terminated(&status, 1, &format!("{mode:?}"));
    }
}
