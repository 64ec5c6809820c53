//! Orphans inside a container are re-parented to its PID 1, which must reap them. The program
//! leaves five short-lived orphans (each a double-forked subshell that marks a file in /tmp
//! and exits), then `exec`s `sleep`, which reaps nothing.
//!
//! Under rein (PID 1) the orphans vanish once done. The negative control runs the same program
//! as PID 1 itself: after the `exec`, PID 1 is `sleep`, so the orphans stay zombies, which
//! shows that the zombie check below can fail.

use crate::harness::{Container, Snapshot, fixture, poll_until};

const ORPHANS: usize = 5;
const SCRIPT: &str = "for i in 1 2 3 4 5; do ( (sleep 0.2; : > /tmp/orphan-$i.done) & ); done; \
                      echo spawned; exec sleep 1000";

/// Waits until every orphan has marked its file and `done(snapshot)` holds.
fn wait_for(c: &Container, what: &str, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    c.wait_for_logs(&["spawned"]);
    poll_until(what, || {
        let s = Snapshot::take(c);
        if s.count_files(".done") == ORPHANS && done(&s) {
            Ok(s)
        } else {
            Err(s.describe())
        }
    })
}

#[test]
fn orphans_are_reaped_under_rein() {
    let Some(fx) = fixture("orphans_are_reaped_under_rein") else {
        return;
    };
    let c = Container::start(fx, "reap", &[], &["/rein", "--", "sh", "-c", SCRIPT]);
    let s = wait_for(&c, "the orphans to finish and no zombie to remain", |s| {
        s.zombies().is_empty()
    });
    assert_eq!(
        s.procs.iter().find(|p| p.pid == 1).map(|p| p.comm.as_str()),
        Some("rein")
    );
}

#[test]
fn negative_control_orphans_stay_zombies_without_rein() {
    let Some(fx) = fixture("negative_control_orphans_stay_zombies_without_rein") else {
        return;
    };
    let c = Container::start(fx, "noreap", &[], &["sh", "-c", SCRIPT]);
    let s = wait_for(&c, "the orphans to finish as zombies", |s| {
        s.zombies().len() >= ORPHANS
    });
    assert_eq!(
        s.procs.iter().find(|p| p.pid == 1).map(|p| p.comm.as_str()),
        Some("sleep"),
        "{}",
        s.describe()
    );
}
