//! Job control through rein in an interactive shell (issue 12): a real `bash -i` on a
//! pseudo-terminal runs `rein -- cat`. Ctrl-Z gives the prompt back with the job shown stopped,
//! `fg` makes cat echo again, Ctrl-D ends it with status 0; the same through `bg` (cat then
//! reads the terminal from the background and is stopped on terminal input, and `jobs -l`
//! shows rein's job stopped by that same signal) and `fg`; and `rein -- cat &` then `fg`. As PID 1
//! nothing changes: rein cannot be stopped, so the shell never sees a stop.

use std::process::Command;
use std::time::Duration;

use crate::harness::{
    DEADLINE, descendants, namespaces_available, ns_words, rein, state, wait_until,
};
use crate::tty::{TtyRun, pgrp, tpgid};

/// An interactive bash on a fresh pty, reporting job changes at once (`set -b`), at a prompt.
fn bash(test: &str) -> Option<TtyRun> {
    if Command::new("bash").args(["-c", "true"]).status().is_err() {
        eprintln!("SKIPPED (no bash): {test}");
        return None;
    }
    let mut c = Command::new("bash");
    c.args(["--norc", "--noprofile", "-i"]);
    let mut t = TtyRun::start(c);
    t.wait_output("$ ");
    t.type_in(b"set -b\n");
    wait_count(&t, "$ ", 2);
    Some(t)
}

fn count(t: &TtyRun, needle: &str) -> usize {
    t.text().matches(needle).count()
}

fn wait_count(t: &TtyRun, needle: &str, n: usize) {
    let deadline = std::time::Instant::now() + DEADLINE;
    wait_until(
        &format!("the terminal shows {needle:?} {n} times"),
        DEADLINE + Duration::from_secs(1),
        || {
            let ok = count(t, needle) >= n;
            assert!(
                ok || std::time::Instant::now() < deadline,
                "the terminal never showed {needle:?} {n} times:\n{}",
                t.text()
            );
            ok
        },
    );
}

/// The process named `comm` below `root` (other than those in `not`), once it exists.
fn find(root: i32, comm: &str, not: &[i32]) -> i32 {
    let mut found = None;
    wait_until(&format!("{comm} runs below {root}"), DEADLINE, || {
        found = descendants(root).into_iter().map(|p| p.pid).find(|p| {
            !not.contains(p)
                && std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == comm)
        });
        found.is_some()
    });
    found.unwrap()
}

fn wait_state(pid: i32, what: &str, ok: impl Fn(Option<char>) -> bool) {
    wait_until(&format!("pid {pid} is {what}"), DEADLINE, || ok(state(pid)));
}

fn stopped(s: Option<char>) -> bool {
    s == Some('T')
}

fn running(s: Option<char>) -> bool {
    matches!(s, Some('S' | 'R'))
}

fn gone(s: Option<char>) -> bool {
    s.is_none_or(|c| c == 'Z')
}

/// Types `word`, waits for cat to echo it (the terminal's echo plus cat's copy).
fn echoes(t: &mut TtyRun, word: &str) {
    t.type_in(format!("{word}\n").as_bytes());
    wait_count(t, word, 2);
}

/// Processes to SIGKILL when a test ends, passed or failed: killing the shell alone would
/// leave a stopped rein and cat behind. Only a pid that still runs rein or cat is killed.
#[derive(Default)]
struct Cleanup(Vec<i32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for &p in &self.0 {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            if matches!(comm.trim(), "rein" | "cat") {
                crate::harness::kill(p, 9);
            }
        }
    }
}

/// Starts `rein -- cat` (with `suffix`, e.g. ` &`), returns (rein, cat).
fn start_cat(t: &mut TtyRun, suffix: &str, not: &[i32], cleanup: &mut Cleanup) -> (i32, i32) {
    t.type_in(format!("{} -- cat{suffix}\n", rein()).as_bytes());
    let r = find(t.pid, "rein", not);
    cleanup.0.push(r);
    let c = find(r, "cat", not);
    cleanup.0.push(c);
    (r, c)
}

/// cat back in the foreground: running, owning the terminal, echoing `word`.
fn back_in_front(t: &mut TtyRun, r: i32, c: i32, word: &str) {
    wait_state(r, "running again", running);
    wait_state(c, "running again", running);
    echoes(t, word);
    assert_eq!(tpgid(c), pgrp(c), "cat owns the terminal again");
}

/// Ctrl-D: cat reads EOF and exits 0, and so does rein.
fn end_with_ctrl_d(t: &mut TtyRun, r: i32, tag: &str) {
    t.type_in(b"\x04");
    wait_state(r, "gone", gone);
    // The typed line reads `echo TAG=$?`, so only the shell's answer shows `TAG=0`.
    t.type_in(format!("echo {tag}=$?\n").as_bytes());
    t.wait_output(&format!("{tag}=0"));
}

#[test]
fn ctrl_z_stops_the_job_and_fg_or_bg_then_fg_resume_it() {
    let Some(mut t) = bash("ctrl_z_stops_the_job_and_fg_or_bg_then_fg_resume_it") else {
        return;
    };

    // Ctrl-Z, jobs, fg.
    let mut cleanup = Cleanup::default();
    let (r, c) = start_cat(&mut t, "", &[], &mut cleanup);
    echoes(&mut t, "one");
    t.type_in(b"\x1a");
    wait_state(c, "stopped", stopped);
    wait_state(r, "stopped with its child", stopped);
    t.wait_output("Stopped");
    t.type_in(b"jobs\n");
    wait_count(&t, "Stopped", 2);
    t.type_in(b"fg\n");
    back_in_front(&mut t, r, c, "two");
    end_with_ctrl_d(&mut t, r, "st1");

    // Ctrl-Z, bg (cat reads the terminal from the background: stopped on tty input), fg.
    let (r2, c2) = start_cat(&mut t, "", &[r, c], &mut cleanup);
    echoes(&mut t, "three");
    // bash reports each stop (`set -b`) on its own time, after rein is already stopped: the
    // count is taken before Ctrl-Z and the report of this stop awaited, or that late report
    // would pass for the one after `bg`.
    let before = count(&t, "Stopped");
    t.type_in(b"\x1a");
    wait_state(c2, "stopped", stopped);
    wait_state(r2, "stopped with its child", stopped);
    wait_count(&t, "Stopped", before + 1);
    // After `bg` bash reports the job stopped again, and `jobs -l` names the signal rein
    // stopped with: the terminal's SIGTTIN, passed through.
    t.type_in(b"bg\n");
    wait_count(&t, "Stopped", before + 2);
    assert!(stopped(state(r2)) && stopped(state(c2)), "{}", t.text());
    t.type_in(b"jobs -l\n");
    t.wait_output("Stopped (tty input)");
    t.type_in(b"fg\n");
    back_in_front(&mut t, r2, c2, "four");
    end_with_ctrl_d(&mut t, r2, "st2");

    t.type_in(b"exit 0\n");
    assert_eq!(t.exit_code(), Some(0), "{}", t.text());
}

#[test]
fn started_in_the_background_fg_still_hands_over_the_terminal() {
    let Some(mut t) = bash("started_in_the_background_fg_still_hands_over_the_terminal") else {
        return;
    };
    // The shell keeps the terminal; cat reads it from the background and is stopped on input.
    let mut cleanup = Cleanup::default();
    let (r, c) = start_cat(&mut t, " &", &[], &mut cleanup);
    wait_state(c, "stopped on terminal input", stopped);
    wait_state(r, "stopped with its child", stopped);
    t.wait_output("Stopped");
    t.type_in(b"jobs -l\n");
    t.wait_output("Stopped (tty input)");
    assert_eq!(tpgid(t.pid), pgrp(t.pid), "the shell kept the terminal");
    t.type_in(b"fg\n");
    back_in_front(&mut t, r, c, "five");
    end_with_ctrl_d(&mut t, r, "st3");
    t.type_in(b"exit 0\n");
    assert_eq!(t.exit_code(), Some(0), "{}", t.text());
}

#[test]
fn as_pid1_a_stopped_child_does_not_stop_rein() {
    if !namespaces_available("as_pid1_a_stopped_child_does_not_stop_rein") {
        return;
    }
    let Some(mut t) = bash("as_pid1_a_stopped_child_does_not_stop_rein") else {
        return;
    };
    let words = ns_words().join(" ");
    t.type_in(format!("{words} {} -- cat\n", rein()).as_bytes());
    let r = find(t.pid, "rein", &[]);
    let c = find(r, "cat", &[]);
    let _cleanup = Cleanup(vec![r, c]);
    echoes(&mut t, "six");
    t.type_in(b"\x1a");
    wait_state(c, "stopped", stopped);
    // PID 1 is never stopped: TERM still reaches cat (with CONT) and ends the run.
    assert!(running(state(r)), "rein: {:?}", state(r));
    crate::harness::kill(r, 15);
    wait_state(r, "gone", gone);
    t.type_in(b"echo st4=$?\n");
    t.wait_output("st4=143");
    assert!(!t.text().contains("Stopped"), "{}", t.text());
    t.type_in(b"exit 0\n");
    assert_eq!(t.exit_code(), Some(0), "{}", t.text());
}
