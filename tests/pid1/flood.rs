//! Floods from inside the container. Anyone there can send rein TERM, INT, QUIT or HUP, and
//! stop and continue any process, as often as it likes and without forking. rein must keep
//! doing its job under such a flood: forward every kind of signal, reap every zombie, and
//! follow a stopping signal with SIGCONT exactly when a member of the main child's group is
//! stopped (once, not once per signal).
//!
//! What a flood costs rein (CPU per forwarded stopping signal with many processes present) is
//! a benchmark figure (`initbench hupflood`), not something these tests time.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::harness::{
    DEADLINE, Mode, Run, TempDir, children, command, kill, namespaces_available, probe, state,
    wait_until,
};

const HUP: i32 = 1;
const KILL: i32 = 9;
const USR1: i32 = 10;
const CONT: i32 = 18;
const STOP: i32 = 19;

fn modes(test: &str) -> Vec<Mode> {
    if namespaces_available(test) {
        vec![Mode::Pid1, Mode::Plain]
    } else {
        vec![Mode::Plain]
    }
}

/// How many times each `(role, signo)` line appears in the probe's log (`probe signals`).
fn counts(log: &Path) -> HashMap<(String, i32), usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = HashMap::new();
    // Only whole lines: the probes may be appending one while this reads.
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    for line in whole.lines() {
        let (role, sig) = line.split_once(' ').expect("ROLE SIGNO");
        *out.entry((role.to_string(), sig.parse().unwrap()))
            .or_insert(0) += 1;
    }
    out
}

fn count(log: &Path, role: &str, sig: i32) -> usize {
    counts(log)
        .get(&(role.to_string(), sig))
        .copied()
        .unwrap_or(0)
}

/// Whether `pid` waits for a signal with nothing scheduled: blocked in poll(2) with an
/// infinite timeout, ppoll(2) without one, or a read(2) of its signalfd. rein arms a timeout
/// while it owes anything (a grace, an owed scan for stopped members), so this is the fence
/// after which it sends nothing more on its own.
fn idle_without_deadline(pid: i32) -> bool {
    // In the ABI of the rein under test: the numbers differ per architecture, and an i686
    // rein on x86_64 uses the compat table.
    crate::idle::in_poll_without_timeout(pid)
}

/// The command line of `pid`, its words joined by spaces.
fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Whether `pid` runs the probe (a shell forked for `sleep` still shows the shell's script).
fn is_probe(pid: i32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == probe())
}

/// Sends signals from a thread of the test until dropped; counts what it sent.
struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flood {
    /// Sends each `(pid, sig)` of `round` in turn, round after round.
    fn start(round: Vec<(i32, i32)>) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (s, n) = (stop.clone(), sent.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                for &(pid, sig) in &round {
                    kill(pid, sig);
                }
                n.fetch_add(1, Ordering::Relaxed);
            }
        });
        Flood {
            stop,
            sent,
            thread: Some(thread),
        }
    }

    /// Ends the flood; returns how many rounds went out.
    fn end(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Processes other than the main child's group present in the namespace (or below rein): each
/// in a session of its own, so a forwarded signal does not reach them, but a scan of /proc for
/// stopped members of the group would read every one.
const BYSTANDERS: usize = 300;

/// The attack on the SIGCONT rule: a stopping signal is followed by SIGCONT when a member of
/// the main child's group is stopped, which only /proc can tell, one file per process. A HUP
/// flood with hundreds of processes present must not stop rein from forwarding (HUP itself and
/// any other signal), and a member stopped during the flood is woken exactly once.
#[test]
fn a_hup_flood_with_many_processes_forwards_and_wakes_a_stopped_member_exactly_once() {
    for mode in modes("a_hup_flood_with_many_processes_forwards_and_wakes_a_stopped_member") {
        let dir = TempDir::new("hupflood");
        let log = dir.join("log");
        let script = format!(
            r#"i=0; while [ $i -lt {BYSTANDERS} ]; do setsid sleep 1000 & i=$((i+1)); done
            exec "$PROBE" signals "$LOG""#
        );
        let mut cmd = command(mode, &["--grace", "10s", "--", "sh", "-c", &script]);
        cmd.env("PROBE", probe()).env("LOG", &log);
        let mut run = Run::spawn(cmd);
        run.expect_line("ready", |l| l.starts_with("ready "));
        run.expect_line("ready", |l| l.starts_with("ready "));
        let rein = run.rein_pid(mode);
        let main = children(rein)[0];
        let grandchild = *children(main)
            .iter()
            .find(|&&c| is_probe(c))
            .expect("the probe's grandchild");

        let flood = Flood::start(vec![(rein, HUP)]);
        wait_until(
            &format!("{mode:?}: HUP is forwarded during the flood"),
            DEADLINE,
            || count(&log, "child", HUP) > 0 && count(&log, "grandchild", HUP) > 0,
        );
        run.signal(rein, USR1);
        wait_until(
            &format!("{mode:?}: USR1 is forwarded during the flood"),
            DEADLINE,
            || count(&log, "child", USR1) == 1 && count(&log, "grandchild", USR1) == 1,
        );
        assert_eq!(
            count(&log, "child", CONT),
            0,
            "{mode:?}: a CONT with nobody stopped"
        );
        assert_eq!(
            count(&log, "grandchild", CONT),
            0,
            "{mode:?}: a CONT with nobody stopped"
        );

        // A member of the group is stopped (by anyone): the next HUPs must wake it.
        assert!(kill(grandchild, STOP));
        wait_until(
            &format!("{mode:?}: the stopped member is woken"),
            DEADLINE,
            || count(&log, "grandchild", CONT) >= 1 && state(grandchild) != Some('T'),
        );
        // And everything still moves: a second USR1 gets through while the flood goes on.
        run.signal(rein, USR1);
        wait_until(
            &format!("{mode:?}: USR1 after the wake-up"),
            DEADLINE,
            || count(&log, "child", USR1) == 2 && count(&log, "grandchild", USR1) == 2,
        );
        let rounds = flood.end();
        wait_until(
            &format!("{mode:?}: rein waits with nothing owed"),
            DEADLINE,
            || idle_without_deadline(rein),
        );
        let forwarded = count(&log, "child", HUP);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        let c = counts(&log);
        for role in ["child", "grandchild"] {
            assert_eq!(
                c.get(&(role.to_string(), CONT)),
                Some(&1),
                "{mode:?}: {role} must get exactly one SIGCONT for one stop: {c:?}"
            );
        }
        crate::harness::say(&format!(
            "hup flood ({mode:?}, {BYSTANDERS} bystanders): {rounds} HUPs sent, {forwarded} forwarded"
        ));
    }
}

/// Stop and continue reports are not exits: a STOP/CONT flood on an orphan (rein's child), a
/// grandchild and the main child itself must not keep rein from reaping other zombies or from
/// forwarding signals, and must not make it send a CONT of its own.
#[test]
fn a_stop_cont_flood_does_not_hold_up_reaping_or_forwarding() {
    for mode in modes("a_stop_cont_flood_does_not_hold_up_reaping_or_forwarding") {
        let dir = TempDir::new("stopflood");
        let log = dir.join("log");
        // One orphan to flood (`sleep 1000`), five to kill during the flood (`sleep 1001`).
        let script = r#"( sleep 1000 & )
            i=0; while [ $i -lt 5 ]; do ( sleep 1001 & ); i=$((i+1)); done
            exec "$PROBE" signals "$LOG""#;
        let mut cmd = command(mode, &["--", "sh", "-c", script]);
        cmd.env("PROBE", probe()).env("LOG", &log);
        let mut run = Run::spawn(cmd);
        run.expect_line("ready", |l| l.starts_with("ready "));
        run.expect_line("ready", |l| l.starts_with("ready "));
        let rein = run.rein_pid(mode);
        let sleeps = |arg: &str| -> Vec<i32> {
            children(rein)
                .into_iter()
                .filter(|&c| cmdline(c).trim_end() == format!("sleep {arg}"))
                .collect()
        };
        wait_until(
            &format!("{mode:?}: the orphans run sleep"),
            DEADLINE,
            || sleeps("1000").len() == 1 && sleeps("1001").len() == 5,
        );
        let orphan = sleeps("1000")[0];
        let victims = sleeps("1001");
        let main = *children(rein)
            .iter()
            .find(|&&c| is_probe(c))
            .expect("the main child");
        let grandchild = children(main)[0];

        let targets = [orphan, grandchild, main];
        let round: Vec<(i32, i32)> = targets
            .iter()
            .map(|&t| (t, STOP))
            .chain(targets.iter().map(|&t| (t, CONT)))
            .collect();
        let flood = Flood::start(round);
        wait_until(
            &format!("{mode:?}: the flood stops the main child"),
            DEADLINE,
            || state(main) == Some('T') || count(&log, "child", CONT) > 0,
        );
        for &v in &victims {
            assert!(kill(v, KILL));
        }
        wait_until(
            &format!("{mode:?}: the killed orphans are reaped during the flood"),
            DEADLINE,
            || victims.iter().all(|&v| state(v).is_none()),
        );
        run.signal(rein, USR1);
        wait_until(
            &format!("{mode:?}: USR1 is forwarded during the flood"),
            DEADLINE,
            || count(&log, "child", USR1) == 1 && count(&log, "grandchild", USR1) == 1,
        );
        let rounds = flood.end();
        for t in targets {
            kill(t, CONT);
        }
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        crate::harness::say(&format!("stop/cont flood ({mode:?}): {rounds} rounds"));
    }
}
