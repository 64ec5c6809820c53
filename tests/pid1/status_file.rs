//! `--status-file PATH`: one JSON object describing the run, replaced atomically, in a
//! directory rein opens before the child runs (attacks on it: `hostile/status_file.rs`).

use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, descendants, ns_members, probe, read_status, run, wait_until,
    with_sh,
};
use crate::support::modes;

const KEYS: [&str; 10] = [
    "exit_code",
    "signal",
    "reason",
    "child_exit_code",
    "runtime_ms",
    "orphans_reaped",
    "leftovers_terminated",
    "leftovers_killed",
    "adopted",
    "followed_pid",
];

/// Arguments after `--status-file`, rein's expected code, and expected fields.
type Case<'a> = (&'a [&'a str], i32, &'a [(&'a str, &'a str)]);

/// Runs rein with `--status-file` and `args`; returns its code and the file's fields.
fn status_of(mode: Mode, path: &Path, args: &[&str]) -> (Option<i32>, BTreeMap<String, String>) {
    let mut all = vec!["--status-file", path.to_str().unwrap()];
    all.extend(args);
    let out = run(mode, &all);
    let st = read_status(path);
    let keys: Vec<&str> = st.keys().map(String::as_str).collect();
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want, "{mode:?} {args:?}: {st:?}");
    assert!(st["runtime_ms"].parse::<u64>().is_ok(), "{st:?}");
    (out.code, st)
}

fn expect(st: &BTreeMap<String, String>, pairs: &[(&str, &str)], what: &str) {
    for (k, v) in pairs {
        assert_eq!(st[*k], *v, "{what}: {k} in {st:?}");
    }
}

#[test]
fn status_file_describes_exit_signal_timeout_and_exec_failure() {
    for mode in modes("status_file_describes_each_ending") {
        let dir = TempDir::new("status");
        let path = dir.join("s.json");
        let cases: [Case; 5] = [
            (
                &["sh", "-c", "exit 3"],
                3,
                &[
                    ("exit_code", "3"),
                    ("signal", "null"),
                    ("reason", "exited"),
                    ("child_exit_code", "3"),
                ],
            ),
            (
                &["sh", "-c", "kill -KILL $$"],
                137,
                &[
                    ("exit_code", "137"),
                    ("signal", "9"),
                    ("reason", "signalled"),
                    ("child_exit_code", "null"),
                ],
            ),
            (
                &["--timeout", "200ms", "sleep", "1000"],
                124,
                &[
                    ("exit_code", "124"),
                    ("signal", "15"),
                    ("reason", "timeout"),
                    ("child_exit_code", "null"),
                ],
            ),
            (
                &["rein-no-such-program"],
                127,
                &[
                    ("exit_code", "127"),
                    ("signal", "null"),
                    ("reason", "exec-failed"),
                    ("child_exit_code", "null"),
                ],
            ),
            (
                &["sh", "-c", "exit 127"],
                127,
                &[
                    ("exit_code", "127"),
                    ("signal", "null"),
                    ("reason", "exited"),
                    ("child_exit_code", "127"),
                ],
            ),
        ];
        for (args, code, pairs) in cases {
            let (got, st) = status_of(mode, &path, args);
            assert_eq!(got, Some(code), "{mode:?} {args:?}");
            expect(&st, pairs, &format!("{mode:?} {args:?}"));
        }
    }
}

#[test]
fn status_file_counts_orphans_and_leftovers() {
    for mode in modes("status_file_counts_orphans_and_leftovers") {
        let dir = TempDir::new("counts");
        let path = dir.join("s.json");
        let p = probe().display().to_string();
        let path_s = path.display().to_string();
        let mut run = Run::start(mode, &["--status-file", &path_s, &p, "orphans", "3"]);
        run.expect_line("done", |l| l == "done 3");
        // The orphans have closed their pipe, but may not have finished exiting: wait until
        // only rein and the probe are alive, so none of them counts as a leftover.
        let rein = run.rein_pid(mode);
        wait_until("the orphans are dead", DEADLINE, || {
            let live = match mode {
                Mode::Pid1 => ns_members(rein),
                Mode::Plain => descendants(rein),
            };
            live.iter().filter(|p| p.state != 'Z').count() == if mode == Mode::Pid1 { 2 } else { 1 }
        });
        assert_eq!(run.finish_within(Duration::from_secs(10)).code, Some(0));
        let st = read_status(&path);
        expect(
            &st,
            &[
                ("orphans_reaped", "3"),
                ("leftovers_terminated", "0"),
                ("leftovers_killed", "0"),
            ],
            &format!("{mode:?} orphans"),
        );
        // A TERM-ignoring leftover: terminated, then killed at the grace.
        let script = r#"sh -c 'trap "" TERM; echo ready; exec sleep 1000' & read x; exit 0"#;
        let path_s = path.display().to_string();
        let mut run = Run::start(
            mode,
            &with_sh(&["-t", "300ms", "--status-file", &path_s], script),
        );
        run.expect_line("ready", |l| l == "ready");
        let out = run.finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(0), "{out:?}");
        let st = read_status(&path);
        expect(
            &st,
            &[
                ("orphans_reaped", "1"),
                ("leftovers_terminated", "1"),
                ("leftovers_killed", "1"),
            ],
            &format!("{mode:?} leftover"),
        );
    }
}

#[test]
fn status_file_replaces_an_existing_file_atomically() {
    let dir = TempDir::new("atomic");
    let path = dir.join("s.json");
    std::fs::write(&path, "old contents that are longer than the new JSON object, much longer, really much longer than it, padding padding padding padding padding padding padding padding padding padding\n").unwrap();
    // A second name for the old file: an in-place rewrite would change what it shows.
    let old = dir.join("old-link");
    std::fs::hard_link(&path, &old).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let (code, st) = status_of(Mode::Plain, &path, &["sh", "-c", "exit 6"]);
    assert_eq!(code, Some(6));
    assert_eq!(st["exit_code"], "6");
    assert_ne!(
        std::fs::metadata(&path).unwrap().ino(),
        inode,
        "the status file was rewritten in place, not renamed over"
    );
    assert!(
        std::fs::read_to_string(&old)
            .unwrap()
            .starts_with("old contents")
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["old-link", "s.json"],
        "a temporary file was left behind"
    );
}

#[test]
fn a_status_path_rein_cannot_use_fails_before_the_child_runs() {
    let dir = TempDir::new("unusable");
    let marker = dir.join("ran");
    std::fs::create_dir(dir.join("real")).unwrap();
    std::os::unix::fs::symlink("real", dir.join("link")).unwrap();
    let link = dir.join("link").join("s.json");
    let no_name = format!("{}/", dir.0.display());
    let cases = [
        (
            "/rein-missing-dir/s.json",
            "/rein-missing-dir: No such file or directory",
        ),
        ("/etc/passwd/s.json", "'/etc/passwd' is not a directory"),
        // The directory is opened without following a symlink at its last component.
        (link.to_str().unwrap(), "is a symbolic link"),
        (&no_name, "names no file"),
    ];
    for (path, why) in cases {
        let mut cmd = crate::harness::command(
            Mode::Plain,
            &with_sh(&["--status-file", path], r#"touch "$MARKER""#),
        );
        cmd.env("MARKER", &marker);
        let out = Run::spawn(cmd).finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(125), "{path}: {out:?}");
        assert!(
            !marker.exists(),
            "{path}: the child ran although rein failed"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{path}: {out:?}");
        assert!(
            out.stderr
                .starts_with(&format!("rein: cannot write status file '{path}': "))
                && out.stderr.contains(why),
            "{path}: {out:?}"
        );
    }
}

#[test]
fn rein_holds_the_status_directory_open_and_the_child_never_sees_it() {
    // Inherited descriptors on 3 and 5 put the status directory on 4, between the two ranges
    // rein closes after the spawn; the child keeps 3 and 5 but gets no descriptor of rein's.
    for mode in modes("rein_holds_the_status_directory_open") {
        let dir = TempDir::new("held");
        let path = dir.join("s.json");
        let inherited = dir.join("inherited");
        std::fs::write(&inherited, "x").unwrap();
        let file = std::fs::File::open(&inherited).unwrap();
        let raw = file.as_raw_fd();
        let script = r#"for f in /proc/$$/fd/*; do echo "child: $(readlink "$f")"; done
                        echo ready; read x; exit 9"#;
        let mut cmd = crate::harness::command(
            mode,
            &with_sh(&["--status-file", path.to_str().unwrap(), "--"], script),
        );
        let hook = move || {
            for target in [3, 5] {
                // dup2 onto itself would keep the close-on-exec flag, so a file that landed on
                // 3 or 5 itself has the flag cleared instead.
                let ok = if raw == target {
                    // SAFETY: fcntl is async-signal-safe and `raw` is open in the forked child.
                    unsafe { nix::libc::fcntl(raw, nix::libc::F_SETFD, 0) == 0 }
                } else {
                    // SAFETY: dup2 is async-signal-safe; `raw` is open in the forked child
                    // (close-on-exec acts only at exec) and the copy has no such flag.
                    unsafe { nix::libc::dup2(raw, target) == target }
                };
                if !ok {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        };
        // SAFETY: the hook makes async-signal-safe calls only and allocates nothing on success.
        unsafe { cmd.pre_exec(hook) };
        let mut run = Run::spawn(cmd);
        run.expect_line("ready", |l| l == "ready");
        drop(file);
        let rein = run.rein_pid(mode);
        let held = || -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{rein}/fd"))
                .unwrap()
                .flatten()
                .filter_map(|e| {
                    let fd: i32 = e.file_name().to_str()?.parse().ok()?;
                    let target = std::fs::read_link(e.path()).ok()?;
                    (fd > 2).then(|| target.to_string_lossy().into_owned())
                })
                .collect();
            v.sort();
            v
        };
        // rein opens its signalfd right after letting go of what it inherited.
        wait_until("rein has opened its signalfd", DEADLINE, || {
            held().iter().any(|t| t == "anon_inode:[signalfd]")
        });
        let mut want = [
            dir.0.display().to_string(),
            "/proc".to_string(),
            "anon_inode:[signalfd]".to_string(),
        ];
        want.sort();
        assert_eq!(held(), want, "{mode:?}: rein's descriptors above 2");
        let out = run.finish();
        assert_eq!(out.code, Some(9), "{mode:?}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let seen: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("child: "))
            .collect();
        assert_eq!(
            seen.iter()
                .filter(|t| **t == inherited.to_str().unwrap())
                .count(),
            2,
            "{mode:?}: the child keeps its inherited 3 and 5: {seen:?}"
        );
        assert!(
            !seen.contains(&dir.0.to_str().unwrap()),
            "{mode:?}: {seen:?}"
        );
        assert_eq!(read_status(&path)["exit_code"], "9", "{mode:?}");
    }
}

#[test]
fn verbose_prints_the_exit_summary_and_quiet_prints_nothing() {
    let out = run(Mode::Plain, &["-v", "sh", "-c", "exit 3"]);
    assert_eq!(out.code, Some(3));
    let summary: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("exiting 3 (exited)"))
        .collect();
    assert_eq!(summary.len(), 1, "{out:?}");
    for needle in [
        " INFO: ",
        "main child exited with 3",
        "orphans reaped: 0",
        "leftovers terminated: 0, killed: 0",
    ] {
        assert!(summary[0].contains(needle), "{needle}: {out:?}");
    }
    assert_eq!(run(Mode::Plain, &["sh", "-c", "exit 3"]).stderr, "");
}

#[test]
fn a_relative_status_path_is_relative_to_reins_starting_directory() {
    // rein changes to / once the child runs (so it pins no mount); the status file must still
    // land where the caller meant, next to where rein was started.
    for mode in modes("a_relative_status_path") {
        let dir = TempDir::new("relative");
        let mut cmd =
            crate::harness::command(mode, &["--status-file", "s.json", "sh", "-c", "exit 8"]);
        cmd.current_dir(&dir.0);
        let out = Run::spawn(cmd).finish_within(Duration::from_secs(10));
        assert_eq!(out.code, Some(8), "{mode:?}: {out:?}");
        assert_eq!(
            read_status(&dir.join("s.json"))["exit_code"],
            "8",
            "{mode:?}"
        );
    }
}
