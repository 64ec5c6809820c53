//! Reaping: orphans re-parented to rein never stay zombies, as PID 1 (checked over the whole PID
//! namespace) and as a subreaper (checked over rein's descendants); one SIGCHLD standing for
//! many exits still reaps them all; and the main child's status survives a storm of orphans
//! exiting with it. A negative control shows that the zombie check does find zombies under a
//! PID 1 that never reaps.

use crate::harness::{
    DEADLINE, Mode, Proc, Run, children, descendants, namespaces_available, ns_command, probe,
    same_namespace, wait_until,
};
use crate::support::modes;

/// What rein is responsible for: as PID 1 everything in its PID namespace but itself, as a
/// subreaper everything below it.
fn watched(mode: Mode, rein: i32) -> Vec<Proc> {
    match mode {
        Mode::Pid1 => same_namespace(rein)
            .into_iter()
            .filter(|p| p.pid != rein)
            .collect(),
        Mode::Plain => descendants(rein),
    }
}

fn zombies(procs: &[Proc]) -> usize {
    procs.iter().filter(|p| p.state == 'Z').count()
}

/// Waits until one process is left in rein's care, alive and rein's own child: the main child,
/// which waits for stdin EOF. Every orphan is gone, and no zombie is left.
fn wait_until_only_main_child_left(mode: Mode, rein: i32) {
    wait_until(
        &format!("{mode:?}: only the main child is left, and no zombie"),
        DEADLINE,
        || {
            let left = watched(mode, rein);
            left.len() == 1 && left[0].ppid == rein && zombies(&left) == 0
        },
    );
}

fn orphans_reaped(stderr: &str) -> u64 {
    let tail = stderr
        .split("orphans reaped: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    tail[..tail.find(',').unwrap()].parse().unwrap()
}

#[test]
fn two_thousand_double_forked_orphans_leave_no_zombie() {
    let p = probe().to_str().unwrap();
    for mode in modes("two_thousand_double_forked_orphans_leave_no_zombie") {
        let mut run = Run::start(mode, &["-v", "--", p, "orphans", "2000"]);
        run.expect_line("done", |l| l == "done 2000");
        let rein = run.rein_pid(mode);
        wait_until_only_main_child_left(mode, rein);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert_eq!(
            orphans_reaped(&out.stderr),
            2000,
            "{mode:?}: {}",
            out.stderr
        );
    }
}

/// The same kind of orphans under a PID 1 that never reaps (`sh` exec'ing `sleep`): zombies
/// pile up and the check used above sees them.
#[test]
fn negative_control_zombies_are_found_under_a_pid1_that_never_reaps() {
    if !namespaces_available("negative_control_zombies_are_found_under_a_pid1_that_never_reaps") {
        return;
    }
    let script = format!(
        "{} orphans 200 </dev/null & exec sleep 60",
        probe().display()
    );
    let run = Run::spawn(ns_command(&["sh", "-c", &script]));
    let pid1 = run.rein_pid(Mode::Pid1);
    let mut found = 0;
    wait_until("200 zombies in the namespace", DEADLINE, || {
        found = zombies(&watched(Mode::Pid1, pid1));
        found >= 200
    });
    assert!(found >= 200);
    // Dropping the run kills unshare, and --kill-child takes the namespace with it.
}

/// 50 orphans blocked on one pipe exit at the same instant when it closes. Their SIGCHLDs
/// coalesce (rein's trace shows fewer SIGCHLDs received than orphans reaped, checked over all
/// runs), and one reaping pass per SIGCHLD still collects every one of them.
#[test]
fn orphans_exiting_at_the_same_instant_are_all_reaped() {
    let p = probe().to_str().unwrap();
    let mut received_total = 0;
    let mut reaped_total = 0;
    for mode in modes("orphans_exiting_at_the_same_instant_are_all_reaped") {
        let mut run = Run::start(mode, &["-vvv", "--", p, "burst", "50"]);
        run.expect_line("armed", |l| l == "armed 50");
        let rein = run.rein_pid(mode);
        // All 50 are rein's children now (re-parented), plus the main child.
        wait_until("the orphans are re-parented to rein", DEADLINE, || {
            children(rein).len() == 51
        });
        run.write_stdin(b"go\n");
        run.expect_line("released", |l| l == "released");
        wait_until_only_main_child_left(mode, rein);
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert_eq!(orphans_reaped(&out.stderr), 50, "{mode:?}");
        let reaped = out.stderr.matches(": reaped pid ").count();
        assert_eq!(reaped, 50, "{mode:?}: {}", out.stderr);
        received_total += out.stderr.matches("received SIGCHLD").count();
        reaped_total += reaped;
    }
    assert!(
        received_total < reaped_total,
        "no SIGCHLD coalesced: {received_total} received for {reaped_total} reaped"
    );
}

/// The main child exits at the same instant as 300 orphans: its status is never lost.
#[test]
fn the_main_childs_status_survives_orphans_exiting_with_it() {
    let p = probe().to_str().unwrap();
    for mode in modes("the_main_childs_status_survives_orphans_exiting_with_it") {
        for code in [0, 42, 255, 7, 1] {
            let out = crate::harness::run(mode, &["--", p, "burst", "300", &code.to_string()]);
            assert_eq!(out.code, Some(code), "{mode:?}: {out:?}");
            assert_eq!(out.stderr, "", "{mode:?}");
        }
    }
}
