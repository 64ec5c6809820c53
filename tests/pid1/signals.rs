//! Signal forwarding: every catchable signal but CHLD and the faults reaches the main child's
//! process group exactly once (or only the child with `--single-child`), rein itself is never
//! stopped, and a signal that arrives while the child is being spawned is not lost.
//!
//! The main child is `probe signals LOG`: it and a grandchild in its group block every signal,
//! read them from a signalfd and append `ROLE SIGNO` to LOG, so each delivery is one line.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Instant;

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, children, command, deliverable, probe, sigbit, state, wait_until,
};
use crate::support::{count, counts, modes};

const CHLD: i32 = 17;
const CONT: i32 = 18;
const STOP: i32 = 19;
const TERM: i32 = 15;
const USR2: i32 = 12;
const WINCH: i32 = 28;

/// Every signal rein forwards: 1..=64 except KILL and STOP (uncatchable), CHLD (rein's own)
/// and the fault signals ILL TRAP ABRT BUS FPE SEGV SYS.
fn forwarded() -> Vec<i32> {
    (1..=64)
        .filter(|s| ![4, 5, 6, 7, 8, 9, 11, CHLD, STOP, 31].contains(s))
        .collect()
}

/// rein running `probe signals`, with the host pids of rein, the child and the grandchild.
struct Probed {
    run: Run,
    mode: Mode,
    rein: i32,
    child: i32,
    grandchild: i32,
    log: PathBuf,
    _dir: TempDir,
}

impl Probed {
    /// Starts `rein OPTIONS -- probe signals LOG` and waits until both probes are ready
    /// (their signals are blocked from then on).
    ///
    /// rein gets its own process group: a plain rein left in the test's group could sit in an
    /// orphaned group, where the kernel discards TSTP/TTIN/TTOU instead of stopping, which would
    /// make the "rein is never stopped" checks pass for the wrong reason.
    fn start(mode: Mode, options: &[&str], env: &[(&str, &str)]) -> Probed {
        let dir = TempDir::new("signals");
        let log = dir.join("log");
        let mut args: Vec<std::ffi::OsString> = options.iter().map(Into::into).collect();
        args.push("--".into());
        args.push(probe().into());
        args.push("signals".into());
        args.push(log.clone().into());
        let mut cmd = command(mode, &args);
        cmd.process_group(0).envs(env.iter().copied());
        let mut run = Run::spawn(cmd);
        run.expect_line("ready", |l| l.starts_with("ready "));
        run.expect_line("ready", |l| l.starts_with("ready "));
        let rein = run.rein_pid(mode);
        let child = *children(rein).first().expect("rein has its main child");
        let mut grandchild = None;
        wait_until("the grandchild is visible", DEADLINE, || {
            grandchild = children(child).first().copied();
            grandchild.is_some()
        });
        Probed {
            run,
            mode,
            rein,
            child,
            grandchild: grandchild.unwrap(),
            log,
            _dir: dir,
        }
    }

    /// Sends `sig` to `target` and waits until each of `roles` has logged it once more.
    fn send_and_wait(&self, target: i32, sig: i32, roles: &[&str]) {
        let before: Vec<usize> = roles.iter().map(|r| count(&self.log, r, sig)).collect();
        self.run.signal(target, sig);
        wait_until(
            &format!("{roles:?} logged signal {sig} ({:?})", self.mode),
            DEADLINE,
            || {
                roles
                    .iter()
                    .zip(&before)
                    .all(|(r, b)| count(&self.log, r, sig) > *b)
            },
        );
    }

    /// Ends the probes (stdin EOF) and checks that rein exits 0 with nothing on stderr.
    fn finish(self) -> HashMap<(String, i32), usize> {
        let out = self.run.finish();
        assert_eq!(out.code, Some(0), "{:?}: {out:?}", self.mode);
        assert_eq!(out.stderr, "", "{:?}", self.mode);
        counts(&self.log)
    }
}

#[test]
fn every_forwarded_signal_reaches_child_and_grandchild_exactly_once() {
    let test = "every_forwarded_signal_reaches_child_and_grandchild_exactly_once";
    let all = forwarded();
    assert_eq!(all.len(), 54, "64 minus KILL STOP CHLD and 7 faults");
    let all = deliverable(test, &all);
    for mode in modes(test) {
        let p = Probed::start(mode, &[], &[]);
        for &sig in &all {
            p.send_and_wait(p.rein, sig, &["child", "grandchild"]);
        }
        let counts = p.finish();
        for &sig in &all {
            for role in ["child", "grandchild"] {
                let got = counts.get(&(role.to_string(), sig)).copied();
                // CONT included: rein adds one only for a stopped target (hostile/exactly_once.rs).
                assert_eq!(
                    got,
                    Some(1),
                    "{mode:?}: {role} got signal {sig} not exactly once: {counts:?}"
                );
            }
        }
        assert_eq!(
            counts.len(),
            2 * all.len(),
            "{mode:?}: extra lines {counts:?}"
        );
    }
}

#[test]
fn sigchld_is_not_forwarded() {
    for mode in modes("sigchld_is_not_forwarded") {
        let p = Probed::start(mode, &[], &[]);
        p.run.signal(p.rein, CHLD);
        // rein handles signals in the order it dequeues them, lowest number first, and so does
        // the probe: had CHLD (17) been forwarded, it would be logged before WINCH (28).
        p.send_and_wait(p.rein, WINCH, &["child", "grandchild"]);
        let counts = p.finish();
        for role in ["child", "grandchild"] {
            assert_eq!(
                counts.get(&(role.to_string(), CHLD)),
                None,
                "{mode:?}: {counts:?}"
            );
            assert_eq!(counts.get(&(role.to_string(), WINCH)), Some(&1), "{mode:?}");
        }
    }
}

/// With `-c`, each signal reaches the child; the grandchild is then sent a marker (64) directly.
/// The kernel dequeues lower-numbered signals first, so had the tested signal also reached the
/// grandchild, it would be logged before the marker: once the marker is logged, the tested
/// signal's absence is final.
fn single_child_check(mode: Mode, options: &[&str], env: &[(&str, &str)], sigs: &[i32]) {
    const MARKER: i32 = 64;
    let p = Probed::start(mode, options, env);
    for (i, &sig) in sigs.iter().enumerate() {
        p.send_and_wait(p.rein, sig, &["child"]);
        p.send_and_wait(p.grandchild, MARKER, &["grandchild"]);
        assert_eq!(count(&p.log, "grandchild", MARKER), i + 1);
        assert_eq!(
            count(&p.log, "grandchild", sig),
            0,
            "{mode:?} {options:?} {env:?}: signal {sig} reached the grandchild"
        );
    }
    let counts = p.finish();
    for &sig in sigs {
        let got = counts.get(&("child".to_string(), sig)).copied();
        assert_eq!(got, Some(1), "{mode:?}: {sig}");
    }
    assert_eq!(counts.get(&("child".to_string(), MARKER)), None, "{mode:?}");
    // Exactly the signals sent: no SIGCONT after HUP INT QUIT TERM to a running child.
    assert_eq!(counts.len(), sigs.len() + 1, "{mode:?}: {counts:?}");
}

#[test]
fn single_child_reaches_the_child_but_not_the_grandchild() {
    let test = "single_child_reaches_the_child_but_not_the_grandchild";
    let sigs: Vec<i32> = forwarded().into_iter().filter(|&s| s != 64).collect();
    let sigs = deliverable(test, &sigs);
    let twin_sigs = deliverable(test, &[1, 2, 10, TERM, 34, 50]);
    for mode in modes(test) {
        single_child_check(mode, &["--single-child"], &[], &sigs);
        single_child_check(mode, &[], &[("REIN_SINGLE_CHILD", "1")], &twin_sigs);
    }
}

#[test]
fn job_control_signals_never_stop_rein() {
    for mode in modes("job_control_signals_never_stop_rein") {
        let p = Probed::start(mode, &[], &[]);
        for sig in [20, 21, 22] {
            p.send_and_wait(p.rein, sig, &["child", "grandchild"]);
            assert_ne!(state(p.rein), Some('T'), "{mode:?}: rein stopped by {sig}");
            // Still forwarding afterwards.
            p.send_and_wait(p.rein, USR2, &["child", "grandchild"]);
            assert_ne!(state(p.rein), Some('T'), "{mode:?}: rein stopped by {sig}");
        }
        // Control: the state check does see a stopped rein (SIGSTOP cannot be blocked).
        p.run.signal(p.rein, STOP);
        wait_until("rein shows state T after SIGSTOP", DEADLINE, || {
            state(p.rein) == Some('T')
        });
        // CONT resumes rein and, being a forwarded signal, reaches the group too.
        p.send_and_wait(p.rein, CONT, &["child", "grandchild"]);
        assert_ne!(state(p.rein), Some('T'));
        let counts = p.finish();
        for sig in [20, 21, 22] {
            assert_eq!(
                counts.get(&("child".to_string(), sig)),
                Some(&1),
                "{mode:?}"
            );
        }
    }
}

/// Spins (no sleep: the window is a few milliseconds) until the process runs rein's image and
/// has blocked what rein blocks. The image check matters as PID 1: `unshare` blocks INT and
/// TERM around its fork, so its child shows TERM blocked before it has exec'd rein.
fn wait_for_blocked_term(rein: i32) {
    let deadline = Instant::now() + DEADLINE;
    let wanted = sigbit(TERM) | sigbit(10) | sigbit(64);
    while !crate::harness::is_rein(rein)
        || crate::harness::blocked_mask(rein).is_none_or(|m| m & wanted != wanted)
    {
        assert!(Instant::now() < deadline, "rein never blocked SIGTERM");
    }
}

/// Whether rein's main child has not exec'd yet: rein has no child, or the child still runs
/// rein's image.
fn spawn_in_progress(rein: i32) -> bool {
    match children(rein).first() {
        None => true,
        Some(c) => {
            std::fs::read_link(format!("/proc/{c}/exe")).ok()
                == std::fs::read_link(format!("/proc/{rein}/exe")).ok()
        }
    }
}

/// A SIGTERM sent while rein is still spawning its child (signals already blocked, child not
/// yet exec'd) stays pending in rein and is forwarded once the child is in its group: rein
/// exits 143 promptly. Without that guarantee, a plain rein would die of the TERM itself, and
/// PID 1 would hold it while `sleep 100` runs on (the deadline below).
///
/// To widen the window, PATH holds thousands of missing directories before the real ones, so
/// rein's PATH search (in the child, before exec) takes a while. Each run records whether the
/// TERM really landed inside the window; at least one must, or the test proves nothing.
#[test]
fn a_signal_sent_during_the_spawn_is_forwarded_after_exec() {
    let mut path = "/rein-no-such-dir:".repeat(5_000);
    path.push_str(&std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()));
    for mode in modes("a_signal_sent_during_the_spawn_is_forwarded_after_exec") {
        let mut early = 0;
        for _ in 0..10 {
            let mut cmd = command(mode, &["sleep", "100"]);
            cmd.env("PATH", &path);
            let mut run = Run::spawn(cmd);
            let rein = run.rein_pid(mode);
            wait_for_blocked_term(rein);
            run.signal(rein, TERM);
            if spawn_in_progress(rein) {
                early += 1;
            }
            let out = run.finish_within(crate::harness::DEADLINE);
            assert_eq!(out.code, Some(143), "{mode:?}: {out:?}");
        }
        assert!(
            early > 0,
            "{mode:?}: no TERM landed during the spawn in 10 runs"
        );
        eprintln!("{mode:?}: {early}/10 TERMs arrived while the child was being spawned");
    }
}
