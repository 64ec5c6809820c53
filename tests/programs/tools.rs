//! What every program test needs besides the PID-1 harness: the program's path (or a loud
//! skip), the host pid of a process known by its pid inside rein's namespace, and a scratch
//! directory an unprivileged user can write.

use std::path::{Path, PathBuf};

use crate::harness::{self, Mode, Run};

/// Whether `REIN_REQUIRE_TOOLS=1` (CI): a missing program is then a failure, not a skip.
pub fn required() -> bool {
    std::env::var_os("REIN_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

/// Skips `test` loudly (or fails under `REIN_REQUIRE_TOOLS=1`) because `what` cannot run.
pub fn skip(test: &str, what: &str, why: &str) {
    assert!(
        !required(),
        "{test}: REIN_REQUIRE_TOOLS=1 but {what} cannot run: {why}"
    );
    eprintln!("SKIPPED (no {what}): {test}: {why}");
}

/// The first of `candidates` that is an executable file, or `None` after skipping loudly.
pub fn find(test: &str, what: &str, candidates: &[&str], install: &str) -> Option<PathBuf> {
    let found = candidates.iter().map(PathBuf::from).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    });
    if found.is_none() {
        skip(
            test,
            what,
            &format!("none of {candidates:?} exists ({install})"),
        );
    }
    found
}

/// Whether rein can run as PID 1 here (else the harness has said why).
pub fn namespaces(test: &str) -> bool {
    harness::namespaces_available(test)
}

/// The host pid of the process that is `ns_pid` inside the PID namespace of `rein` (host
/// pid), from the last field of `NSpid:` in /proc/PID/status.
pub fn host_pid(rein: i32, ns_pid: i32) -> Option<i32> {
    harness::ns_members(rein)
        .into_iter()
        .map(|p| p.pid)
        .find(|&p| {
            harness::status_field(p, "NSpid")
                .and_then(|f| f.split_whitespace().last()?.parse::<i32>().ok())
                == Some(ns_pid)
        })
}

/// Starts rein as PID 1 with `args` and its host pid, waiting until rein blocks SIGTERM (so a
/// TERM sent from here is rein's to forward, never dropped by a namespace init on its way).
pub fn start_pid1(args: &[String]) -> (Run, i32) {
    let run = Run::start(Mode::Pid1, args);
    let pid = run.rein_pid(Mode::Pid1);
    harness::wait_blocked(pid, nix::libc::SIGTERM);
    (run, pid)
}

/// Makes `dir` (and everything below) owned by `user`, for a program that runs as that user.
pub fn chown(dir: &Path, user: &str) {
    let st = std::process::Command::new("chown")
        .args(["-R", user])
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success(), "chown -R {user} {}", dir.display());
}

/// `args` as owned strings, for `Run::start`.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Waits for a stdout line containing `marker` and returns every line up to it (the harness
/// hands over only the matching line, and a program's start-up lines matter too).
pub fn lines_until(run: &mut Run, marker: &str) -> String {
    let seen = std::cell::RefCell::new(String::new());
    run.expect_line(marker, |l| {
        let mut s = seen.borrow_mut();
        s.push_str(l);
        s.push('\n');
        l.contains(marker)
    });
    seen.into_inner()
}
