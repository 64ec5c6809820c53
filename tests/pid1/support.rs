//! Test plumbing shared by the behaviour files: which modes a test runs in, loud skips for
//! what a machine lacks, the signal log `probe signals` writes, cleanup of a process that
//! outlives a failed test, the private mount namespace with test accounts, and the checks
//! several files make the same way. One place each, so the files state only what they test.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{
    DEADLINE, Mode, Outcome, Run, TempDir, alive, kill, namespaces_available, read_status,
    wait_until,
};

/// The modes this machine can run: PID 1 only where namespaces work.
pub fn modes(test: &str) -> Vec<Mode> {
    if namespaces_available(test) {
        vec![Mode::Pid1, Mode::Plain]
    } else {
        vec![Mode::Plain]
    }
}

/// Returns `ok`; when it is false, says loudly that `test` is skipped (`SKIPPED (label)`,
/// because this `why`), or panics instead when `REIN_REQUIRE_NS=1`, as CI sets it.
pub fn skip_unless(test: &str, ok: bool, label: &str, why: &str) -> bool {
    if !ok {
        if std::env::var("REIN_REQUIRE_NS").as_deref() == Ok("1") {
            panic!("{test}: REIN_REQUIRE_NS=1 but this {why}");
        }
        eprintln!("SKIPPED ({label}): {test}: {why}");
    }
    ok
}

/// Whether the test runs as root (see [`skip_unless`]); `why` says what it needs root for.
pub fn root(test: &str, why: &str) -> bool {
    skip_unless(test, nix::unistd::geteuid().is_root(), "not root", why)
}

/// `SigBlk` and `SigIgn` as a process printed them (`grep Sig /proc/self/status`).
pub fn printed_masks(out: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(out);
    let field = |key: &str| {
        let v = text
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"));
        u64::from_str_radix(v.trim(), 16).unwrap()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

/// How many times each `(role, signo)` line appears in the log of `probe signals`.
pub fn counts(log: &Path) -> HashMap<(String, i32), usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        let (role, sig) = line.split_once(' ').expect("ROLE SIGNO");
        *out.entry((role.to_string(), sig.parse().unwrap()))
            .or_insert(0) += 1;
    }
    out
}

/// How many times `role` logged `sig`.
pub fn count(log: &Path, role: &str, sig: i32) -> usize {
    counts(log)
        .get(&(role.to_string(), sig))
        .copied()
        .unwrap_or(0)
}

/// Whether `role` logged `sig` at all.
pub fn logged(log: &Path, role: &str, sig: i32) -> bool {
    count(log, role, sig) > 0
}

/// Kills `pid` (SIGKILL) when dropped, if it is still alive: a rein (or leftover) that is not
/// the harness's own child, so that a failed test does not leave it behind.
pub struct KillOnDrop(pub i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if alive(self.0) {
            kill(self.0, 9);
        }
    }
}

/// Waits until rein (`rein_pid`), whose parent was just killed or which was told to stop
/// (`what` says which), has exited and written its status file; returns that file.
pub fn stopped_with_status(rein_pid: i32, status: &Path, what: &str) -> BTreeMap<String, String> {
    wait_until(what, DEADLINE, || !alive(rein_pid));
    wait_until("rein wrote its status file", DEADLINE, || status.exists());
    read_status(status)
}

/// Asserts that rein refused to start (`what` names the case): exit 125, one line on stderr
/// that starts with `rein: ` and contains `needle`, and the child (which would have created
/// `marker`) never ran.
pub fn assert_refused(out: &Outcome, what: &str, needle: &str, marker: &Path) {
    assert_eq!(out.code, Some(125), "{what}: {out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{what}: {out:?}");
    assert!(
        out.stderr.starts_with("rein: ") && out.stderr.contains(needle),
        "{what}: {out:?}"
    );
    assert!(!marker.exists(), "{what}: the child ran");
}

/// Root is needed to create the mount namespace of [`with_accounts`] and to change to an
/// arbitrary uid.
pub fn root_namespaces(test: &str) -> bool {
    let ok = nix::unistd::geteuid().is_root()
        && Command::new("unshare")
            .args(["--mount", "--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success());
    skip_unless(
        test,
        ok,
        "not root",
        "needs root and unshare --mount --pid (to switch to a test user)",
    )
}

/// Runs `argv` (a command line that execs rein, directly or through a wrapper such as
/// `setpriv` or `probe execenv`) in a private mount namespace where `passwd` and `group` are
/// /etc's: as PID 1 of a new PID namespace, or as a plain process. Waits for it to end. The
/// host's files are never touched.
pub fn with_accounts<S: AsRef<OsStr>>(
    mode: Mode,
    passwd: &[u8],
    group: &[u8],
    argv: &[S],
) -> Outcome {
    let dir = TempDir::new("accounts");
    std::fs::write(dir.join("passwd"), passwd).unwrap();
    std::fs::write(dir.join("group"), group).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.arg("--mount");
    if mode == Mode::Pid1 {
        cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"]);
    }
    cmd.args([
        "sh",
        "-c",
        r#"mount --bind "$DIR/passwd" /etc/passwd && mount --bind "$DIR/group" /etc/group && exec "$@""#,
        "sh",
    ])
    .args(argv)
    .env("DIR", &dir.0);
    Run::spawn(cmd).finish_within(Duration::from_secs(20))
}

/// A directory any test user can write its marker file into; the marker says the child ran.
pub fn marker_dir() -> TempDir {
    let dir = TempDir::new("user");
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    dir
}

/// The words after `key` on the first line of `out` that starts with it.
pub fn field<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let line = out
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"));
    line[key.len()..].split_whitespace().collect()
}

/// rein's arguments for a hostile leftover test: a grace longer than the harness's deadline (so
/// a leftover rein missed makes the run time out), the status file, and `sh -c SCRIPT`.
pub fn long_grace_sh(status: &Path, script: &str) -> Vec<String> {
    let status = status.display().to_string();
    [
        "--grace",
        "60s",
        "--status-file",
        &status,
        "--",
        "sh",
        "-c",
        script,
    ]
    .map(String::from)
    .to_vec()
}

/// Checks the status file says rein terminated exactly `n` leftovers and killed none.
pub fn assert_terminated(status: &Path, n: usize, what: &str) {
    let st = read_status(status);
    assert_eq!(st["leftovers_terminated"], n.to_string(), "{what}: {st:?}");
    assert_eq!(st["leftovers_killed"], "0", "{what}: {st:?}");
}
