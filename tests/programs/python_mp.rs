//! Python's multiprocessing under rein as PID 1, the case rein started from: a parent with
//! worker processes (plain and `daemon=True`), `tests/programs/fixtures/mp_workers.py`.
//!
//! (a) SIGTERM to rein (`docker stop`) reaches every worker and the parent (rein signals the
//!     whole process group), the parent's handler joins them and exits with its own code,
//!     which rein reports; nobody was left for rein to stop.
//! (b) The parent is SIGKILLed (as an OOM kill does): its workers are orphans of rein, which
//!     sends them SIGTERM (their handlers run), SIGKILLs the one that ignores it after the
//!     grace, and exits 137, the parent's death.
//! (c) A worker is SIGKILLed: the parent notices, stops the others and exits 4; rein reports 4.

use std::path::{Path, PathBuf};

use crate::harness::{self, Run, TempDir};
use crate::tools;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/programs/fixtures/mp_workers.py"
);

fn python(test: &str) -> Option<PathBuf> {
    if !tools::namespaces(test) {
        return None;
    }
    tools::find(
        test,
        "python3",
        &["/usr/bin/python3"],
        "Debian: apt-get install python3",
    )
}

/// Starts the script in `mode` under rein (`rein_options` first); returns the run, rein's host
/// pid, and the pids (inside rein's namespace) of the parent and the three workers.
fn start(python: &Path, mode: &str, rein_options: &[&str]) -> (Run, i32, i32, Vec<i32>) {
    let mut args = tools::strings(rein_options);
    args.extend(tools::strings(&[
        "--",
        &python.to_string_lossy(),
        SCRIPT,
        mode,
    ]));
    let (mut run, rein) = tools::start_pid1(&args);
    let line = run.expect_line("parent ... ready", |l| {
        l.starts_with("parent ") && l.contains("ready")
    });
    let numbers: Vec<i32> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 4, "{line}");
    (run, rein, numbers[0], numbers[1..].to_vec())
}

#[test]
fn python_mp_term_reaches_every_worker_and_the_parents_code_is_reported() {
    let test = "python_mp_term_reaches_every_worker_and_the_parents_code_is_reported";
    let Some(py) = python(test) else {
        return;
    };
    let dir = TempDir::new("mp-term");
    let status = dir.join("status.json");
    let (run, rein, _, _) = start(&py, "term", &["--status-file", &status.to_string_lossy()]);
    run.signal(rein, nix::libc::SIGTERM);
    let out = run.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.code,
        Some(3),
        "the parent's own code:\n{stdout}\n{}",
        out.stderr
    );
    for i in 0..3 {
        assert_eq!(
            stdout.matches(&format!("worker {i}: TERM")).count(),
            1,
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("parent: TERM") && stdout.contains("parent: workers joined"),
        "{stdout}"
    );
    let s = harness::read_status(&status);
    // The parent waited for its workers itself: no orphan, nothing left for rein to stop.
    assert_eq!(s["orphans_reaped"], "0", "{s:?}");
    assert_eq!(s["leftovers_terminated"], "0", "{s:?}");
}

#[test]
fn python_mp_killed_parent_leaves_workers_that_rein_stops() {
    let test = "python_mp_killed_parent_leaves_workers_that_rein_stops";
    let Some(py) = python(test) else {
        return;
    };
    let dir = TempDir::new("mp-kill");
    let status = dir.join("status.json");
    let (run, rein, parent, workers) = start(
        &py,
        "kill",
        &["--grace", "2s", "--status-file", &status.to_string_lossy()],
    );
    let hosts: Vec<i32> = workers
        .iter()
        .map(|&w| tools::host_pid(rein, w).expect("a worker's host pid"))
        .collect();
    run.signal(tools::host_pid(rein, parent).unwrap(), nix::libc::SIGKILL);
    let out = run.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.code,
        Some(137),
        "the parent's death:\n{stdout}\n{}",
        out.stderr
    );
    // The two workers with a handler ran it: they got rein's SIGTERM, not the kernel's KILL.
    for i in 0..2 {
        assert!(stdout.contains(&format!("worker {i}: TERM")), "{stdout}");
    }
    let s = harness::read_status(&status);
    assert_eq!(s["leftovers_terminated"], "3", "{s:?}");
    assert_eq!(
        s["leftovers_killed"], "1",
        "the one that ignores TERM: {s:?}"
    );
    for pid in hosts {
        assert!(!harness::alive(pid), "worker {pid} survived");
    }
}

#[test]
fn python_mp_killed_worker_is_noticed_and_the_parents_code_is_reported() {
    let test = "python_mp_killed_worker_is_noticed_and_the_parents_code_is_reported";
    let Some(py) = python(test) else {
        return;
    };
    let (mut run, rein, _, workers) = start(&py, "worker", &[]);
    run.signal(
        tools::host_pid(rein, workers[0]).unwrap(),
        nix::libc::SIGKILL,
    );
    run.expect_line("the parent notices", |l| {
        l == "parent: worker 0 died with exit code -9"
    });
    let out = run.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.code,
        Some(4),
        "the parent's own code:\n{stdout}\n{}",
        out.stderr
    );
    assert!(stdout.contains("parent: workers joined"), "{stdout}");
}
