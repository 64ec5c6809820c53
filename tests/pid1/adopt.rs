//! `--adopt` and `--pid-file` (issue 12): a main program that starts daemons and exits 0.
//!
//! Every main child here starts its daemons, then waits for a line on stdin, so that the test
//! can find it, let it exit, and know when rein has reaped it: from then on rein has decided
//! what to do with what it left. The daemons report each signal they get to a log file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, alive, command, descendants, marked, new_mark, read_status,
    state, wait_until,
};
use crate::idle::in_poll_without_timeout;
use crate::support::modes;

// Each helper below SIGKILLs its own `sleep` when it ends on TERM. The group's TERM reaches
// the sleep too, unless it lands between the shell's fork and the sleep's exec: the forked
// copy still has the shell's trap handler then, catches the TERM, and exec forgets it. (That
// sleep would rightly stay adopted, and rein with it.)

/// `daemon.sh NAME`: logs `NAME USR1` / `NAME TERM` per signal, exits 0 on TERM; its child
/// `sleep` (same group) ignores USR1.
const DAEMON: &str = r#"name=$1
trap 'echo "$name USR1" >> "$LOG"' USR1
trap 'echo "$name TERM" >> "$LOG"; kill -9 $child 2>/dev/null; exit 0' TERM
(trap '' USR1; exec sleep 1000) &
child=$!
echo "ready $name"
while :; do wait; done
"#;

/// `seven.sh NAME`: exits 7 on TERM (or when a line arrives on `$FIFO`, if set).
const SEVEN: &str = r#"trap 'kill -9 $child 2>/dev/null; exit 7' TERM
sleep 1000 &
child=$!
echo "ready $1"
if [ -n "$FIFO" ]; then read x < "$FIFO"; exit 7; fi
wait
"#;

/// `followed.sh`: logs `F USR1` per USR1, logs `F TERM` and exits 7 on TERM.
const FOLLOWED_SH: &str = r#"trap 'echo "F USR1" >> "$LOG"' USR1
trap 'echo "F TERM" >> "$LOG"; kill -9 $! 2>/dev/null; exit 7' TERM
echo "ready F"
while :; do sleep 1000 & wait $!; done
"#;

/// `ignore.sh NAME`: ignores TERM.
const IGNORE: &str = r#"trap '' TERM
echo "ready $1"
exec sleep 1000
"#;

/// The marker in every main child's command line, to find it among rein's descendants.
const MAIN_MARK: &str = "MAIN-OF-ADOPT-TEST";

/// A scratch directory with the helper scripts, a log, a status file and a marker.
struct Setup {
    dir: TempDir,
    mark: (String, String),
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let dir = TempDir::new(tag);
        for (name, text) in [
            ("daemon.sh", DAEMON),
            ("seven.sh", SEVEN),
            ("ignore.sh", IGNORE),
            ("followed.sh", FOLLOWED_SH),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Setup {
            dir,
            mark: new_mark(tag),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn status(&self) -> BTreeMap<String, String> {
        read_status(&self.path("status.json"))
    }

    /// The log's lines, sorted.
    fn log(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_to_string(self.path("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    /// Starts rein with `opts` around `sh -c MAIN`, where MAIN is `body` followed by a read of
    /// one stdin line and `exit 0`; waits for every `ready NAME` in `readies`, then lets the
    /// main child exit and waits until rein has reaped it. Returns the run and rein's pid.
    fn start(
        &self,
        mode: Mode,
        opts: &[&str],
        body: &str,
        readies: &[&str],
        env: &[(&str, &str)],
    ) -> (Run, i32) {
        let main = format!("# {MAIN_MARK}\n{body}\nread _\nexit 0\n");
        let mut run = self.spawn(mode, opts, &main, env);
        let mut left: Vec<String> = readies.iter().map(|r| format!("ready {r}")).collect();
        while !left.is_empty() {
            let line = run.expect_line("a ready line", |l| left.iter().any(|w| w == l));
            left.retain(|w| *w != line);
        }
        let rein = run.rein_pid(mode);
        let mut main_pid = None;
        wait_until("the main child waits on stdin", DEADLINE, || {
            main_pid = descendants(rein)
                .into_iter()
                .map(|p| p.pid)
                .find(|&p| cmdline_has(p, MAIN_MARK));
            main_pid.is_some()
        });
        let main_pid = main_pid.unwrap();
        run.write_stdin(b"go\n");
        // Gone from /proc only once reaped (a zombie would still be there).
        wait_until("rein reaped the main child", DEADLINE, || {
            state(main_pid).is_none()
        });
        (run, rein)
    }

    /// Starts rein with `opts` around `sh -c MAIN`, with the scratch directory, log and marker
    /// in the environment.
    fn spawn(&self, mode: Mode, opts: &[&str], main: &str, env: &[(&str, &str)]) -> Run {
        let status = self.path("status.json");
        let mut args: Vec<&str> = vec!["--status-file", status.to_str().unwrap()];
        args.extend(opts);
        args.extend(["--", "sh", "-c", main]);
        let mut cmd = command(mode, &args);
        cmd.env("DIR", &self.dir.0)
            .env("LOG", self.path("log"))
            .env(&self.mark.0, &self.mark.1)
            .envs(env.iter().copied());
        Run::spawn(cmd)
    }

    /// Nothing of the run is left anywhere.
    fn nothing_left(&self, mode: Mode) {
        let mark = format!("{}={}", self.mark.0, self.mark.1);
        wait_until(
            &format!("{mode:?}: no process of the run is left"),
            DEADLINE,
            || marked(&mark).is_empty(),
        );
    }
}

/// Writes a line into `fifo` once its reader has it open (a blocking open would hang the test
/// forever if the reader never came).
fn release(fifo: &Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut writer = None;
    wait_until("the daemon opened its FIFO", DEADLINE, || {
        writer = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(fifo)
            .ok();
        writer.is_some()
    });
    writer.unwrap().write_all(b"go\n").unwrap();
}

fn cmdline_has(pid: i32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

fn wait_log(s: &Setup, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
    want.sort();
    wait_until(&format!("the log holds {want:?}"), DEADLINE, || {
        s.log() == want
    });
}

/// Two daemons: A stays in the main child's (now leaderless) group, B has its own session.
const TWO_DAEMONS: &str = r#"sh "$DIR/daemon.sh" A &
setsid sh "$DIR/daemon.sh" B &"#;

#[test]
fn adopted_daemons_keep_rein_running_and_get_each_signal_once() {
    for mode in modes("adopted_daemons_keep_rein_running_and_get_each_signal_once") {
        let s = Setup::new("adopt");
        let (mut run, rein) = s.start(mode, &["--adopt"], TWO_DAEMONS, &["A", "B"], &[]);
        // The main child exited 0; rein stays and forwards to both groups.
        assert!(!run.exited_within(Duration::ZERO), "{mode:?}: rein left");
        run.signal(rein, 10);
        wait_log(&s, &["A USR1", "B USR1"]);
        assert!(alive(rein), "{mode:?}");
        run.signal(rein, 15);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {}", out.stderr);
        // Exactly once each: a second copy of a signal would show as a second line.
        assert_eq!(
            s.log(),
            ["A TERM", "A USR1", "B TERM", "B USR1"],
            "{mode:?}"
        );
        s.nothing_left(mode);
        let st = s.status();
        assert_eq!(st["adopted"], "true", "{st:?}");
        assert_eq!(st["followed_pid"], "null", "{st:?}");
        assert_eq!(st["exit_code"], "0", "{st:?}");
        assert_eq!(st["child_exit_code"], "0", "{st:?}");
    }
}

#[test]
fn without_adopt_the_daemons_are_stopped_when_the_main_child_exits() {
    for mode in modes("without_adopt_the_daemons_are_stopped_when_the_main_child_exits") {
        let s = Setup::new("no-adopt");
        let (run, _) = s.start(mode, &[], TWO_DAEMONS, &["A", "B"], &[]);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {}", out.stderr);
        assert_eq!(s.log(), ["A TERM", "B TERM"], "{mode:?}: as leftovers");
        assert_eq!(s.status()["adopted"], "false");
        s.nothing_left(mode);
    }
}

#[test]
fn a_main_child_that_fails_ends_the_run_as_without_adopt() {
    let s = Setup::new("adopt-fail");
    let main = format!("# {MAIN_MARK}\nsh \"$DIR/daemon.sh\" A &\nread _\nexit 3\n");
    let mut cmd = command(Mode::Plain, &["--adopt", "--", "sh", "-c", &main]);
    cmd.env("DIR", &s.dir.0).env("LOG", s.path("log"));
    let mut run = Run::spawn(cmd);
    run.expect_line("ready A", |l| l == "ready A");
    run.write_stdin(b"go\n");
    let out = run.finish();
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert_eq!(s.log(), ["A TERM"], "stopped as a leftover");
}

#[test]
fn kill_after_and_timeout_apply_to_adopted_processes() {
    for mode in modes("kill_after_and_timeout_apply_to_adopted_processes") {
        // A daemon that ignores TERM is killed --kill-after after the forwarded TERM: 137.
        let s = Setup::new("adopt-kill");
        let (run, rein) = s.start(
            mode,
            &["--adopt", "-k", "300ms", "-t", "1h"],
            r#"sh "$DIR/ignore.sh" I &"#,
            &["I"],
            &[],
        );
        let t0 = Instant::now();
        run.signal(rein, 15);
        let out = run.finish();
        assert_eq!(out.code, Some(137), "{mode:?}: {}", out.stderr);
        assert!(t0.elapsed() >= Duration::from_millis(300), "{mode:?}");
        s.nothing_left(mode);

        // --timeout counts from rein's start, sends TERM to the adopted daemon: 124. The main
        // child exits at once rather than waiting for the test (as `start` has it do): the
        // test's own round trips are then not raced against the timeout, only the daemon's
        // start-up is (seen: under a load average of 2,000, `start` took longer than 5 s and
        // the timeout hit the main child instead).
        let s = Setup::new("adopt-timeout");
        let mut run = s.spawn(
            mode,
            &["--adopt", "-T", "5s"],
            r#"sh "$DIR/daemon.sh" A & exit 0"#,
            &[],
        );
        run.expect_line("the daemon's ready line", |l| l == "ready A");
        let out = run.finish();
        assert_eq!(out.code, Some(124), "{mode:?}: {}", out.stderr);
        assert_eq!(s.log(), ["A TERM"], "{mode:?}");
        s.nothing_left(mode);
    }
}

/// The followed daemon double-forks (the subshell exits, so it is re-parented to rein) and is
/// named in the pid file by its starter; another daemon runs beside it.
const FOLLOWED: &str = r#"(sh "$DIR/seven.sh" F & echo $! > "$PF")
sh "$DIR/daemon.sh" other &"#;

#[test]
fn pid_file_daemon_is_followed_and_its_exit_code_is_reins() {
    for mode in modes("pid_file_daemon_is_followed_and_its_exit_code_is_reins") {
        let s = Setup::new("pidfile");
        let pf = s.path("d.pid");
        let fifo = s.path("go");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let pf_arg = pf.to_str().unwrap().to_string();
        let (run, _) = s.start(
            mode,
            &["--adopt", "--pid-file", &pf_arg],
            FOLLOWED,
            &["F", "other"],
            &[("PF", &pf_arg), ("FIFO", fifo.to_str().unwrap())],
        );
        // The followed daemon exits 7 by itself; the other one is stopped with the grace.
        release(&fifo);
        let out = run.finish();
        assert_eq!(out.code, Some(7), "{mode:?}: {}", out.stderr);
        assert_eq!(s.log(), ["other TERM"], "{mode:?}");
        s.nothing_left(mode);
        let st = s.status();
        let followed = std::fs::read_to_string(&pf).unwrap();
        assert_eq!(st["followed_pid"], followed.trim(), "{mode:?}: {st:?}");
        assert_eq!(st["adopted"], "true", "{st:?}");
        assert_eq!(st["child_exit_code"], "7", "{st:?}");
        assert_eq!(st["reason"], "exited", "{st:?}");
        assert_ne!(st["leftovers_terminated"], "0", "{st:?}");
    }
}

#[test]
fn signals_go_to_the_followed_daemon_only_and_exit_mapping_applies() {
    // Once followed, the daemon is the main process: USR1 reaches it, not the other adopted
    // daemon (which would log it before its TERM: a shell runs traps in signal order).
    let s = Setup::new("pidfile-term");
    let pf = s.path("d.pid");
    let pf_arg = pf.to_str().unwrap().to_string();
    let (run, rein) = s.start(
        Mode::Plain,
        &["--adopt", "--pid-file", &pf_arg, "--exit-zero", "7"],
        r#"(sh "$DIR/followed.sh" & echo $! > "$PF")
sh "$DIR/daemon.sh" other &"#,
        &["F", "other"],
        &[("PF", &pf_arg)],
    );
    run.signal(rein, 10);
    wait_log(&s, &["F USR1"]);
    run.signal(rein, 15);
    let out = run.finish();
    assert_eq!(out.code, Some(0), "7 mapped to 0: {}", out.stderr);
    assert_eq!(s.log(), ["F TERM", "F USR1", "other TERM"]);
    let st = s.status();
    assert_eq!(st["child_exit_code"], "7", "{st:?}");
    assert_ne!(st["followed_pid"], "null", "{st:?}");
    s.nothing_left(Mode::Plain);
}

/// A process outside rein's tree, killed and reaped when the test ends, passed or failed.
struct Stranger(std::process::Child);

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs one hostile pid-file case: the main child starts `seven.sh X` (which exits 7 on TERM)
/// and `plant` arranges the pid file. rein must not follow it (TERM then ends the run with 0,
/// not 7), must not hang on it, and must leave `stranger` alone. Returns rein's stderr.
/// `readies`: the daemons `plant` starts besides X, each awaited before rein gets its TERM. A
/// `seven.sh` not yet ready could be between `sleep 1000 &` and `child=$!` when the forwarded
/// TERM arrives; its trap then kills no sleep, which lives on and keeps an adopting rein
/// running (seen under load: rein still running at the deadline, "ready Y" never printed).
fn hostile(
    mode: Mode,
    tag: &str,
    plant: &str,
    readies: &[&str],
    before: impl FnOnce(&Path),
) -> String {
    let s = Setup::new(tag);
    let pf = s.path("d.pid");
    before(&pf);
    let stranger = Stranger(
        std::process::Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stranger_pid = stranger.0.id().to_string();
    let pf_arg = pf.to_str().unwrap().to_string();
    let body = format!("(sh \"$DIR/seven.sh\" X &)\n{plant}");
    let readies: Vec<&str> = ["X"].iter().chain(readies).copied().collect();
    let (run, rein) = s.start(
        mode,
        &["--adopt", "--pid-file", &pf_arg],
        &body,
        &readies,
        &[("PF", &pf_arg), ("STRANGER", &stranger_pid)],
    );
    run.signal(rein, 15);
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{tag} {mode:?}: {}", out.stderr);
    let st = s.status();
    assert_eq!(st["followed_pid"], "null", "{tag}: {st:?}");
    assert_eq!(st["adopted"], "true", "{tag}: {st:?}");
    assert!(alive(stranger.0.id() as i32), "{tag}: the stranger was hit");
    s.nothing_left(mode);
    out.stderr
}

#[test]
fn hostile_pid_files_are_never_followed_and_never_block_rein() {
    for mode in modes("hostile_pid_files_are_never_followed_and_never_block_rein") {
        // A FIFO with no writer: opening it for reading without O_NONBLOCK would block forever.
        hostile(mode, "fifo", "", &[], |pf| {
            nix::unistd::mkfifo(pf, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        });
        // A symbolic link to a file that names the real daemon.
        hostile(
            mode,
            "symlink",
            r#"(sh "$DIR/seven.sh" Y & echo $! > "$DIR/real")
ln -s "$DIR/real" "$PF""#,
            &["Y"],
            |_| {},
        );
        // The real daemon's pid, padded past the size limit.
        hostile(
            mode,
            "oversized",
            r#"(sh "$DIR/seven.sh" Y & printf '%s%40s\n' $! '' > "$PF")"#,
            &["Y"],
            |_| {},
        );
        // Bytes that are not a pid, including a terminal escape.
        let err = hostile(
            mode,
            "garbage",
            r#"printf '\033[2J7x\n' > "$PF""#,
            &[],
            |_| {},
        );
        assert!(!err.contains('\x1b'), "raw escape in rein's log: {err:?}");
        assert!(err.contains("\\x1b[2J7x"), "{err}");
    }
    // A process outside rein's tree (only a plain rein can see one by its pid).
    hostile(
        Mode::Plain,
        "stranger",
        r#"echo "$STRANGER" > "$PF""#,
        &[],
        |_| {},
    );
}

#[test]
fn a_descendant_whose_parent_lives_is_waited_for_then_not_followed() {
    // The middle shell stays alive as the daemon's parent, so the daemon never becomes rein's
    // child: rein waits the documented time for that, then keeps the plain --adopt behaviour
    // (and its timer is gone: it waits in poll without a timeout again).
    let s = Setup::new("pidfile-grandchild");
    let pf = s.path("d.pid");
    let pf_arg = pf.to_str().unwrap().to_string();
    let (run, rein) = s.start(
        Mode::Plain,
        &["--adopt", "--pid-file", &pf_arg],
        r#"sh -c 'sh "$DIR/seven.sh" G & echo $! > "$PF"; wait' &"#,
        &["G"],
        &[("PF", &pf_arg)],
    );
    let t0 = Instant::now();
    wait_until("rein gave up on the pid file", DEADLINE, || {
        in_poll_without_timeout(rein)
    });
    assert!(t0.elapsed() >= Duration::from_secs(9), "{:?}", t0.elapsed());
    run.signal(rein, 15);
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("not its child"), "{}", out.stderr);
    assert_eq!(s.status()["followed_pid"], "null");
}
