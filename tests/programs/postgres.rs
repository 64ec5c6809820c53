//! PostgreSQL under rein as PID 1, the server running as an unprivileged user through rein's
//! `--user` (the postmaster refuses to run as root). A data directory made with `initdb` in a
//! temporary directory; no TCP (`listen_addresses` empty), only a unix socket in that directory.
//!
//! On SIGTERM the postmaster does a *smart* shutdown: it writes a shutdown checkpoint and logs
//! that the system is shut down, and the next start finds a cleanly shut down cluster (no crash
//! recovery). With `--rewrite TERM:INT` the same TERM becomes a *fast* shutdown. The negative
//! control SIGKILLs the postmaster (as an OOM kill would): the next start must run crash
//! recovery, which shows the "no recovery" check can fail.

use std::path::{Path, PathBuf};

use crate::harness::{self, Mode, TempDir};
use crate::tools;

const READY: &str = "database system is ready to accept connections";
const SHUT_DOWN: &str = "database system is shut down";
const CLEAN_START: &str = "database system was shut down at";
const RECOVERY: &str = "automatic recovery in progress";

/// PostgreSQL's programs and the unprivileged user to run them as.
struct Postgres {
    bin: PathBuf,
    user: String,
}

impl Postgres {
    fn find(test: &str) -> Option<Self> {
        if !tools::namespaces(test) {
            return None;
        }
        // Debian installs each major version under /usr/lib/postgresql/N/bin.
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
            .unwrap_or_default();
        versions.sort();
        let candidates: Vec<String> = versions
            .iter()
            .rev()
            .map(|b| b.join("postgres").to_string_lossy().into_owned())
            .collect();
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let postgres = tools::find(
            test,
            "postgresql",
            &refs,
            "Debian: apt-get install postgresql",
        )?;
        let bin = postgres.parent().unwrap().to_path_buf();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let user = ["postgres", "nobody"]
            .into_iter()
            .find(|u| passwd.lines().any(|l| l.starts_with(&format!("{u}:"))))
            .unwrap_or("nobody")
            .to_owned();
        Some(Postgres { bin, user })
    }

    /// `initdb` into `dir/data` as the user, through rein (a plain process here).
    fn initdb(&self, dir: &Path) -> PathBuf {
        tools::chown(dir, &self.user);
        let data = dir.join("data");
        let out = harness::run(
            Mode::Plain,
            &[
                "--user",
                &self.user,
                "--",
                &self.bin.join("initdb").to_string_lossy(),
                "--no-sync",
                "-A",
                "trust",
                "-D",
                &data.to_string_lossy(),
            ],
        );
        assert_eq!(out.code, Some(0), "initdb failed:\n{}", out.stderr);
        data
    }

    /// Starts the server under rein as PID 1 (`rein_options` first) and waits until it is
    /// ready; its log arrives on stdout (`2>&1`), so the harness can wait on its lines.
    fn start(&self, dir: &Path, rein_options: &[&str]) -> (harness::Run, i32, String) {
        let mut args = tools::strings(rein_options);
        args.extend(tools::strings(&["--user", &self.user, "--", "sh", "-c"]));
        args.push("exec \"$0\" \"$@\" 2>&1".into());
        args.push(self.bin.join("postgres").to_string_lossy().into_owned());
        args.extend(tools::strings(&[
            "-D",
            &dir.join("data").to_string_lossy(),
            "-k",
            &dir.to_string_lossy(),
            "-c",
            "listen_addresses=",
            "-c",
            "fsync=off",
        ]));
        let (mut run, rein) = tools::start_pid1(&args);
        let log = tools::lines_until(&mut run, READY);
        (run, rein, log)
    }
}

#[test]
fn postgres_term_shuts_down_cleanly_and_term_int_fast() {
    let test = "postgres_term_shuts_down_cleanly_and_term_int_fast";
    let Some(pg) = Postgres::find(test) else {
        return;
    };
    let dir = TempDir::new("postgres");
    pg.initdb(&dir.0);

    // Smart shutdown on the plain TERM.
    let (run, rein, _) = pg.start(&dir.0, &[]);
    let sent = std::time::Instant::now();
    run.signal(rein, nix::libc::SIGTERM);
    let out = run.finish();
    eprintln!(
        "programs: measured: PostgreSQL smart shutdown (TERM) to rein's exit: {:.3} s",
        sent.elapsed().as_secs_f64()
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.code, Some(0), "log:\n{log}\nstderr:\n{}", out.stderr);
    assert!(log.contains("received smart shutdown request"), "{log}");

    // The next start finds a clean cluster; TERM:INT makes this stop a fast one.
    let (run, rein, log) = pg.start(&dir.0, &["--rewrite", "TERM:INT"]);
    assert!(log.contains(CLEAN_START), "not a clean start:\n{log}");
    assert!(
        !log.contains(RECOVERY),
        "crash recovery after a TERM:\n{log}"
    );
    let sent = std::time::Instant::now();
    run.signal(rein, nix::libc::SIGTERM);
    let out = run.finish();
    eprintln!(
        "programs: measured: PostgreSQL fast shutdown (TERM:INT) to rein's exit: {:.3} s",
        sent.elapsed().as_secs_f64()
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.code, Some(0), "log:\n{log}\nstderr:\n{}", out.stderr);
    assert!(log.contains("received fast shutdown request"), "{log}");

    let (run, rein, log) = pg.start(&dir.0, &[]);
    assert!(
        log.contains(CLEAN_START) && !log.contains(RECOVERY),
        "{log}"
    );
    run.signal(rein, nix::libc::SIGTERM);
    assert_eq!(run.finish().code, Some(0));
}

#[test]
fn postgres_negative_control_a_killed_postmaster_needs_recovery() {
    let test = "postgres_negative_control_a_killed_postmaster_needs_recovery";
    let Some(pg) = Postgres::find(test) else {
        return;
    };
    let dir = TempDir::new("postgres-kill");
    pg.initdb(&dir.0);
    let (run, rein, _) = pg.start(&dir.0, &[]);
    // rein's main child (pid 2 in its namespace) is the postmaster (sh exec'd it).
    let postmaster = tools::host_pid(rein, 2).expect("the postmaster's host pid");
    run.signal(postmaster, nix::libc::SIGKILL);
    let out = run.finish();
    assert_eq!(out.code, Some(137), "stderr:\n{}", out.stderr);
    let (run, rein, log) = pg.start(&dir.0, &[]);
    assert!(
        log.contains(RECOVERY),
        "no crash recovery after SIGKILL:\n{log}"
    );
    run.signal(rein, nix::libc::SIGTERM);
    assert_eq!(run.finish().code, Some(0));
}
