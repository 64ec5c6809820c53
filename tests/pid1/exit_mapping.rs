//! `--exit-zero CODE` and `--exit-zero-on-stop`: which child endings rein reports as 0.

use crate::harness::{Mode, Run, run, with_sh};
use crate::support::modes;

/// rein's code when rein is sent `sig` once `script` is ready.
fn stopped(mode: Mode, opts: &[&str], script: &str, sig: i32) -> Option<i32> {
    let mut run = Run::start(mode, &with_sh(opts, script));
    run.expect_line("ready", |l| l == "ready");
    let pid = run.rein_pid(mode);
    run.signal(pid, sig);
    run.finish_within(crate::harness::DEADLINE).code
}

/// Dies of the signal itself.
const DIES: &str = "echo ready; exec sleep 1000";
/// Catches TERM and exits 143 (128 + 15), as many runtimes do.
const EXITS_143: &str = "trap 'exit 143' TERM; sleep 1000 & echo ready; wait";

#[test]
fn exit_zero_maps_only_the_listed_codes() {
    for mode in modes("exit_zero_maps_only_the_listed_codes") {
        for (opts, script, want) in [
            (&["--exit-zero", "143"][..], "exit 143", 0),
            (&["-e", "143"], "exit 142", 142),
            (&["-e", "143"], "kill -TERM $$", 0),
            (&["-e", "3", "-e", "4"], "exit 4", 0),
            (&["-e", "3", "-e", "4"], "exit 5", 5),
        ] {
            let out = run(mode, &with_sh(opts, script));
            assert_eq!(out.code, Some(want), "{mode:?} {opts:?} {script}: {out:?}");
        }
    }
}

#[test]
fn exit_zero_on_stop_masks_a_stop_rein_forwarded() {
    for mode in modes("exit_zero_on_stop_masks_a_stop_rein_forwarded") {
        let on = &["--exit-zero-on-stop"][..];
        assert_eq!(
            stopped(mode, on, DIES, 15),
            Some(0),
            "{mode:?}: died of TERM"
        );
        assert_eq!(
            stopped(mode, on, EXITS_143, 15),
            Some(0),
            "{mode:?}: exit 143"
        );
        assert_eq!(stopped(mode, on, DIES, 2), Some(0), "{mode:?}: died of INT");
        // Controls: without the flag the same ends keep their codes.
        assert_eq!(stopped(mode, &[], DIES, 15), Some(143), "{mode:?}");
        assert_eq!(stopped(mode, &[], EXITS_143, 15), Some(143), "{mode:?}");
        // A stop that was rewritten: what rein forwarded (QUIT) counts, not what it got.
        assert_eq!(
            stopped(mode, &["--exit-zero-on-stop", "-r", "TERM:QUIT"], DIES, 15),
            Some(0),
            "{mode:?}: died of the forwarded QUIT"
        );
    }
}

#[test]
fn exit_zero_on_stop_does_not_mask_a_child_ending_so_on_its_own() {
    for mode in modes("exit_zero_on_stop_does_not_mask_a_crash") {
        for (script, want) in [
            ("exit 143", 143),
            ("kill -TERM $$", 143),
            ("kill -INT $$", 130),
        ] {
            let out = run(mode, &with_sh(&["--exit-zero-on-stop"], script));
            assert_eq!(out.code, Some(want), "{mode:?} {script}: {out:?}");
        }
        // rein forwarded TERM, but the child then died of something else.
        let died_of_other = "trap 'kill -USR1 $$' TERM; sleep 1000 & echo ready; wait";
        assert_eq!(
            stopped(mode, &["--exit-zero-on-stop"], died_of_other, 15),
            Some(138),
            "{mode:?}"
        );
    }
}
