//! The main child starts with exactly the signal mask and ignored set rein was started with:
//! empty when rein starts clean, and what a wrapper set up (`probe wrap`) otherwise, real-time
//! signals included, although rein itself blocks almost everything.

use std::process::Command;

use crate::harness::{Mode, Outcome, Run, command_via, probe, status_mask};
use crate::support::{modes, printed_masks};

fn mask(sigs: &[i32]) -> u64 {
    sigs.iter().fold(0, |m, s| m | (1u64 << (s - 1)))
}

/// `SigBlk` and `SigIgn` as the child printed them (`grep Sig /proc/self/status`).
fn child_masks(mode: Mode, out: &Outcome) -> (u64, u64) {
    assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
    printed_masks(&out.stdout)
}

const GREP: [&str; 4] = ["--", "grep", "Sig", "/proc/self/status"];

fn wrapper(block: &[i32], ignore: &[i32]) -> Vec<String> {
    let list = |s: &[i32]| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    vec![
        probe().to_str().unwrap().to_string(),
        "wrap".into(),
        list(block),
        list(ignore),
        "--".into(),
    ]
}

#[test]
fn a_clean_start_gives_the_child_an_empty_mask_and_no_ignored_signals() {
    // `probe wrap - -` resets everything first, so the check does not rest on the harness
    // (which resets dispositions too, see `harness::default_signals`).
    for mode in modes("a_clean_start_gives_the_child_an_empty_mask_and_no_ignored_signals") {
        let out = Run::spawn(command_via(mode, &wrapper(&[], &[]), &GREP)).finish();
        assert_eq!(child_masks(mode, &out), (0, 0), "{mode:?}");
    }
}

#[test]
fn the_child_gets_the_mask_and_ignored_set_rein_was_started_with() {
    // Blocked: USR1, ALRM, WINCH and the real-time 35 and 50. Ignored: HUP, PIPE (which std
    // resets to default in every child it spawns), TSTP and the real-time 40.
    let block = [10, 14, 28, 35, 50];
    let ignore = [1, 13, 20, 40];
    let wrap = wrapper(&block, &ignore);
    for mode in modes("the_child_gets_the_mask_and_ignored_set_rein_was_started_with") {
        let out = Run::spawn(command_via(mode, &wrap, &GREP)).finish();
        assert_eq!(
            child_masks(mode, &out),
            (mask(&block), mask(&ignore)),
            "{mode:?}: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // Control: the wrapper around grep alone shows that state, so the check above compares with
    // what the wrapper really produced.
    let mut direct = std::process::Command::new(&wrap[0]);
    direct.args(&wrap[1..]).args(&GREP[1..]);
    let out = Run::spawn(direct).finish();
    assert_eq!(
        child_masks(Mode::Plain, &out),
        (mask(&block), mask(&ignore))
    );
}

/// Whatever rein got, the child gets: started by the harness, rein's own `SigIgn` while it
/// runs equals the child's.
#[test]
fn the_child_ignores_exactly_what_rein_ignores_whoever_started_it() {
    let script = [
        "--",
        "sh",
        "-c",
        "grep Sig /proc/self/status; read x; exit 0",
    ];
    for mode in modes("the_child_ignores_exactly_what_rein_ignores_whoever_started_it") {
        let mut r = Run::start(mode, &script);
        r.expect_line("SigCgt", |l| l.starts_with("SigCgt:"));
        let rein_ign = status_mask(r.rein_pid(mode), "SigIgn").unwrap();
        let out = r.finish();
        let (blk, ign) = child_masks(mode, &out);
        assert_eq!((blk, ign), (0, rein_ign), "{mode:?}");
    }
}

/// A caller that ignores SIGCHLD (a shell's `trap '' CHLD`, a daemon manager's leftover
/// disposition) must not make the kernel reap rein's children behind its back: rein would never
/// see the main child's exit, lose its status and wait forever. rein takes SIGCHLD back to its
/// default for itself, and hands the child the ignored SIGCHLD it would have had without rein.
#[test]
fn an_sa_nocldwait_caller_cannot_pass_it_on_and_rein_keeps_the_status() {
    let probe = probe();
    let probe = probe.to_str().unwrap();
    let wrap = [probe, "wrap", "-", "nocldwait", "--"];
    // The kernel clears every action's flags at execve (only SIG_IGN survives it), so a caller's
    // SA_NOCLDWAIT never reaches rein: what the wrapper set is gone in the program it runs.
    let seen = Command::new(wrap[0])
        .args(&wrap[1..])
        .args([probe, "sigflags", "17"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&seen.stdout),
        "handler default flags 0x0\n",
        "{seen:?}"
    );
    for mode in modes("an_sa_nocldwait_caller_cannot_pass_it_on_and_rein_keeps_the_status") {
        let out = Run::spawn(command_via(mode, &wrap, &["--", "sh", "-c", "exit 3"])).finish();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
    }
}

#[test]
fn an_inherited_ignored_sigchld_neither_hangs_rein_nor_loses_the_status() {
    let wrap = wrapper(&[], &[17]);
    for mode in modes("an_inherited_ignored_sigchld_neither_hangs_rein_nor_loses_the_status") {
        // The status: a shell that exits 3 (before the fix rein never saw it and hung).
        let exit3 = ["--", "sh", "-c", "exit 3"];
        let out = Run::spawn(command_via(mode, &wrap, &exit3)).finish();
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        // The child's disposition: grep, not a shell (dash resets SIGCHLD for itself).
        let out = Run::spawn(command_via(mode, &wrap, &GREP)).finish();
        assert_eq!(child_masks(mode, &out).1, mask(&[17]), "{mode:?}: SigIgn");
    }
}
