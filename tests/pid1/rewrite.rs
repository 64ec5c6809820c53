//! `--rewrite FROM:TO`: rein forwards FROM as TO (names or numbers), or not at all for `drop`.
//! The probe records every signal its child and grandchild receive in a file.

use crate::harness::{DEADLINE, Mode, Run, TempDir, probe, stat_field, wait_until};
use crate::support::modes;

/// rein with `opts` around `probe signals FILE`, both probe processes ready.
fn start(mode: Mode, opts: &[&str], dir: &TempDir) -> (Run, i32, Vec<i32>) {
    let file = dir.join("signals");
    let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
    args.extend([
        probe().display().to_string(),
        "signals".into(),
        file.display().to_string(),
    ]);
    let mut run = Run::start(mode, &args);
    let mut pids = Vec::new();
    for _ in 0..2 {
        let l = run.expect_line("ready", |l| l.starts_with("ready "));
        pids.push(l.rsplit(' ').next().unwrap().parse().unwrap());
    }
    let rein = run.rein_pid(mode);
    (run, rein, pids)
}

fn recorded(dir: &TempDir) -> String {
    std::fs::read_to_string(dir.join("signals")).unwrap_or_default()
}

fn wait_recorded(dir: &TempDir, lines: &[&str]) {
    wait_until(&format!("the probe records {lines:?}"), DEADLINE, || {
        let got = recorded(dir);
        lines.iter().all(|l| got.lines().any(|g| g == *l))
    });
}

#[test]
fn term_rewritten_to_quit_reaches_the_group_as_quit() {
    for mode in modes("term_rewritten_to_quit") {
        let dir = TempDir::new("rw-quit");
        let (mut run, rein, _) = start(mode, &["-r", "TERM:QUIT"], &dir);
        run.signal(rein, 15);
        wait_recorded(&dir, &["child 3", "grandchild 3"]);
        let out = run.finish_within(crate::harness::DEADLINE);
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert!(
            !recorded(&dir).contains(" 15"),
            "{mode:?}: {}",
            recorded(&dir)
        );
    }
}

#[test]
fn a_dropped_signal_is_never_forwarded_but_a_later_one_is() {
    for mode in modes("a_dropped_signal_is_never_forwarded") {
        let dir = TempDir::new("rw-drop");
        let (mut run, rein, _) = start(mode, &["--rewrite", "WINCH:drop"], &dir);
        run.signal(rein, 28);
        // The marker, PWR (30), is numbered above WINCH (28): had WINCH been forwarded, both
        // rein and the probe would have dequeued it first, so it would be in the file by now.
        run.signal(rein, 30);
        wait_recorded(&dir, &["child 30", "grandchild 30"]);
        let out = run.finish_within(crate::harness::DEADLINE);
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert_eq!(
            recorded(&dir)
                .lines()
                .filter(|l| l.ends_with(" 28"))
                .count(),
            0,
            "{mode:?}: {}",
            recorded(&dir)
        );
    }
}

#[test]
fn numeric_rewrites_and_zero_work_like_names() {
    let dir = TempDir::new("rw-num");
    let (mut run, rein, _) = start(Mode::Plain, &["-r", "10:12", "-r", "1:0"], &dir);
    run.signal(rein, 10);
    run.signal(rein, 1);
    run.signal(rein, 30);
    wait_recorded(&dir, &["child 12", "grandchild 12", "child 30"]);
    let out = run.finish_within(crate::harness::DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    let got = recorded(&dir);
    assert!(!got.contains(" 10\n") && !got.contains(" 1\n"), "{got}");
}

#[test]
fn tstp_rewritten_to_stop_stops_the_whole_group() {
    let dir = TempDir::new("rw-stop");
    let (mut run, rein, pids) = start(Mode::Plain, &["-r", "TSTP:STOP"], &dir);
    run.signal(rein, 20);
    wait_until("child and grandchild are stopped", DEADLINE, || {
        pids.iter()
            .all(|&p| stat_field(p, 3).as_deref() == Some("T"))
    });
    run.signal(rein, 18);
    wait_until("child and grandchild run again", DEADLINE, || {
        pids.iter()
            .all(|&p| stat_field(p, 3).as_deref() != Some("T"))
    });
    let out = run.finish_within(crate::harness::DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(!recorded(&dir).contains(" 20\n"), "{}", recorded(&dir));
}
