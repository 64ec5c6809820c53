//! See mod.rs. A forwarded signal arrives once and alone: rein used to follow every TERM, INT,
//! QUIT and HUP (and its own TERM to leftovers) with a SIGCONT, so a program with a CONT
//! handler (a shell, an editor, a pager) saw a signal nobody sent. SIGCONT now goes only to a
//! target that is stopped at that moment (see `stopped.rs` for those).
//!
//! The programs are `probe signals LOG`: a child and a grandchild in one process group that
//! block every signal and log each one they receive (`ROLE SIGNO`), CONT included.

use std::ffi::OsString;

use crate::harness::{DEADLINE, Run, TempDir, command, probe, wait_until};
use crate::support::{counts, logged, modes};

const HUP: i32 = 1;
const INT: i32 = 2;
const QUIT: i32 = 3;
const USR1: i32 = 10;
const TERM: i32 = 15;
const CONT: i32 = 18;

/// Whether `pid` is blocked in poll(2) or ppoll(2), in the ABI of the rein under test (the
/// numbers differ per architecture, and an i686 rein on x86_64 uses the compat table).
fn in_poll(pid: i32) -> bool {
    crate::idle::in_poll_any(pid)
}

fn os<S: AsRef<std::ffi::OsStr>>(s: S) -> OsString {
    s.as_ref().to_os_string()
}

#[test]
fn a_forwarded_stop_signal_arrives_alone_without_a_cont() {
    for mode in modes("a_forwarded_stop_signal_arrives_alone_without_a_cont") {
        for single in [false, true] {
            let dir = TempDir::new("once");
            let log = dir.join("log");
            let mut args = vec![os("--")];
            if single {
                args.insert(0, os("--single-child"));
            }
            args.extend([os(probe()), os("signals"), os(&log)]);
            let mut run = Run::start(mode, &args);
            run.expect_line("ready", |l| l.starts_with("ready "));
            run.expect_line("ready", |l| l.starts_with("ready "));
            let rein = run.rein_pid(mode);
            let roles: &[&str] = if single {
                &["child"]
            } else {
                &["child", "grandchild"]
            };
            // USR1 last, as a fence: rein handles signals in order, so once USR1 is logged every
            // CONT sent on the spot is pending in the probes; one owed to a scan for stopped
            // group members is settled once rein waits with no deadline. The probes read
            // pending signals before they see stdin's EOF.
            for sig in [TERM, INT, QUIT, HUP, USR1] {
                run.signal(rein, sig);
                wait_until(
                    &format!("{mode:?}: {roles:?} logged {sig}"),
                    DEADLINE,
                    || roles.iter().all(|r| logged(&log, r, sig)),
                );
            }
            wait_until(&format!("{mode:?}: rein owes nothing"), DEADLINE, || {
                crate::idle::in_poll_without_timeout(rein)
            });
            let out = run.finish();
            assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
            let counts = counts(&log);
            for role in roles {
                assert_eq!(
                    counts.get(&(role.to_string(), CONT)),
                    None,
                    "{mode:?} single={single}: {role} got a SIGCONT nobody sent: {counts:?}"
                );
                for sig in [TERM, INT, QUIT, HUP, USR1] {
                    assert_eq!(
                        counts.get(&(role.to_string(), sig)),
                        Some(&1),
                        "{mode:?} single={single}: {role}, signal {sig}: {counts:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_sigterm_to_running_leftovers_arrives_alone_without_a_cont() {
    for mode in modes("the_sigterm_to_running_leftovers_arrives_alone_without_a_cont") {
        let dir = TempDir::new("once-leftovers");
        let log = dir.join("log");
        let ready = dir.join("ready");
        // The probes become leftovers: the main child starts them on its own stdin (fd 3,
        // since an asynchronous list gets /dev/null) and exits once both are ready.
        let script = r#"exec 3<&0
            "$PROBE" signals "$LOG" <&3 >"$READY" &
            until [ "$(grep -c ready "$READY" 2>/dev/null)" = 2 ]; do :; done
            exit 3"#;
        let mut cmd = command(mode, &["--grace", "60s", "--", "sh", "-c", script]);
        cmd.env("PROBE", probe())
            .env("LOG", &log)
            .env("READY", &ready);
        let run = Run::spawn(cmd);
        let rein = run.rein_pid(mode);
        // rein sends any CONT right after the TERM, before it next waits in poll: once both
        // probes have logged the TERM and rein is back in poll, every CONT is pending in them.
        wait_until(
            &format!("{mode:?}: the leftovers got SIGTERM and rein waits"),
            DEADLINE,
            || logged(&log, "child", TERM) && logged(&log, "grandchild", TERM) && in_poll(rein),
        );
        let out = run.finish();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        let counts = counts(&log);
        for role in ["child", "grandchild"] {
            assert_eq!(
                counts.get(&(role.to_string(), CONT)),
                None,
                "{mode:?}: leftover {role} got a SIGCONT nobody sent: {counts:?}"
            );
            assert_eq!(
                counts.get(&(role.to_string(), TERM)),
                Some(&1),
                "{mode:?}: {role}: {counts:?}"
            );
        }
    }
}
