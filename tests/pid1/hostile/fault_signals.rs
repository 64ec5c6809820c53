//! Signals a process sends that share a number with a fault (ABRT SEGV BUS FPE ILL TRAP SYS)
//! are forwarded like any other, whichever way they were sent (kill, sigqueue, tgkill: si_code
//! SI_USER, SI_QUEUE, SI_TKILL), and rein survives them. The main child still starts with
//! exactly the mask rein was started with, not with these blocked too.
//!
//! Reproduction on the old main: `rein sleep 30 & kill -SYS $!` exited 159 and left `sleep`
//! running without its init; as PID 1 the same signals were dropped.

use crate::harness::{
    DEADLINE, Mode, Run, alive, command_via, marked, namespaces_available, new_mark, probe, sh,
    wait_until,
};

const FAULTS: [(&str, i32); 7] = [
    ("ABRT", 6),
    ("SEGV", 11),
    ("BUS", 7),
    ("FPE", 8),
    ("ILL", 4),
    ("TRAP", 5),
    ("SYS", 31),
];

/// The mask rein is started with (USR1 blocked, through `probe wrap`): the child must get
/// exactly this.
const START_MASK: u64 = 1 << (10 - 1);

/// One role (`child` or `gc`): traps every fault signal and reports it, exits 0 on TERM. Its
/// `sleep` ignores the fault signals (an ignore survives exec), so the group-wide delivery
/// kills nothing and dumps no core.
const ROLE: &str = r#"
    role=$1
    for s in ABRT SEGV BUS FPE ILL TRAP SYS; do trap "echo $role got $s" $s; done
    trap 'kill $pid; exit 0' TERM
    (trap '' ABRT SEGV BUS FPE ILL TRAP SYS; exec sleep 1000) & pid=$!
    echo "ready $role $(grep SigBlk /proc/$pid/status | cut -f2)"
    while kill -0 $pid 2>/dev/null; do wait $pid; done"#;

/// The main child starts a grandchild in its own process group, then plays the child.
const MAIN: &str = r#"sh -c "$ROLE" sh gc & exec sh -c "$ROLE" sh child"#;

/// Kills every process of the run when the test ends, also after a failure (on the old main,
/// rein died and left the probes behind).
struct Cleanup((String, String));

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (k, v) = &self.0;
        for pid in marked(&format!("{k}={v}")) {
            crate::harness::kill(pid, 9);
        }
    }
}

/// Sends a signal one way: kill(2), sigqueue(3) or tgkill(2).
type Sender = fn(i32, i32) -> bool;

fn sigqueue(pid: i32, sig: i32) -> bool {
    let value = nix::libc::sigval {
        sival_ptr: std::ptr::null_mut(),
    };
    // SAFETY: sigqueue takes a pid, a signal number and a by-value union; no memory is shared.
    unsafe { nix::libc::sigqueue(pid, sig, value) == 0 }
}

fn tgkill(pid: i32, sig: i32) -> bool {
    // SAFETY: integer arguments only; rein is single-threaded, so its tid is its pid.
    unsafe { nix::libc::syscall(nix::libc::SYS_tgkill, pid, pid, sig) == 0 }
}

#[test]
fn fault_numbered_signals_a_process_sends_are_forwarded_once_and_rein_survives() {
    let mut modes = vec![];
    if namespaces_available("fault_numbered_signals_are_forwarded") {
        modes.push(Mode::Pid1);
    }
    modes.push(Mode::Plain);
    for mode in modes {
        let mark = new_mark("faults");
        let _cleanup = Cleanup(mark.clone());
        let wrapper = [
            probe().to_str().unwrap().to_string(),
            "wrap".into(),
            "10".into(),
            "-".into(),
            "--".into(),
        ];
        let mut args = vec!["--".to_string()];
        args.extend(sh(MAIN));
        let mut cmd = command_via(mode, &wrapper, &args);
        cmd.env("ROLE", ROLE).env(&mark.0, &mark.1);
        let mut run = Run::spawn(cmd);
        for _ in 0..2 {
            // Each role's sleep was forked before any signal and never changes its mask, so
            // it shows the mask the main child got from rein.
            let l = run.expect_line("ready", |l| l.starts_with("ready "));
            let mask = u64::from_str_radix(l.rsplit(' ').next().unwrap(), 16).ok();
            assert_eq!(
                mask,
                Some(START_MASK),
                "{mode:?}: {l}: the main child must get rein's original mask, no fault blocked"
            );
        }
        let rein = run.rein_pid(mode);
        let how: [(&str, Sender); 3] = [
            ("kill", crate::harness::kill),
            ("sigqueue", sigqueue),
            ("tgkill", tgkill),
        ];
        for (name, sig) in FAULTS {
            for (method, send) in how {
                assert!(send(rein, sig), "{method}({rein}, {name})");
                let mut need = vec![format!("child got {name}"), format!("gc got {name}")];
                while !need.is_empty() {
                    let l = run.expect_line(&format!("{need:?} after {method} ({mode:?})"), |l| {
                        need.iter().any(|n| n == l)
                    });
                    need.retain(|n| *n != l);
                }
                assert!(alive(rein), "{mode:?}: rein died of {method} {name}");
            }
        }
        run.signal(rein, 15);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        for (name, _) in FAULTS {
            for role in ["child", "gc"] {
                let line = format!("{role} got {name}");
                let n = text.lines().filter(|l| *l == line).count();
                assert_eq!(n, how.len(), "{mode:?}: {line:?} {n} times: {text}");
            }
        }
        wait_until("the run's processes are gone", DEADLINE, || {
            marked(&format!("{}={}", mark.0, mark.1)).is_empty()
        });
    }
}
