//! Logging: stderr only, nothing at the default level on a normal run, `-v` for the child's pid
//! and status, `-vv` for every forwarded signal and reaped pid, `REIN_LOG` overriding both
//! (`debug` equals `-vv`, `off` silences even warnings). stdout carries only the child's output.

use std::process::Command;

use crate::harness::{
    DEADLINE, Mode, Outcome, Run, children, command, namespaces_available, ns_words, probe, rein,
    wait_until,
};
use crate::support::modes;

#[test]
fn the_default_level_prints_nothing_on_a_normal_run() {
    for mode in modes("the_default_level_prints_nothing_on_a_normal_run") {
        // A child that prints, leaves an orphan behind and exits non-zero: all normal.
        let out = crate::harness::run(mode, &["--", "sh", "-c", "echo out; (sleep 0 &); exit 4"]);
        assert_eq!(out.code, Some(4), "{mode:?}: {out:?}");
        assert_eq!(out.stdout, b"out\n", "{mode:?}");
        assert_eq!(out.stderr, "", "{mode:?}");
    }
}

#[test]
fn verbose_prints_the_child_pid_and_exit_status_at_info() {
    for mode in modes("verbose_prints_the_child_pid_and_exit_status_at_info") {
        let out = crate::harness::run(mode, &["-v", "--", "sh", "-c", "echo $$; exit 3"]);
        assert_eq!(out.code, Some(3), "{mode:?}: {out:?}");
        let stdout = String::from_utf8(out.stdout.clone()).unwrap();
        let pid: u32 = stdout
            .trim()
            .parse()
            .expect("stdout is only the child's pid");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("rein[") && l.contains("] INFO: ")),
            "{mode:?}: only info lines at -v: {lines:?}"
        );
        for needle in [
            format!("INFO: main child started: pid {pid}"),
            format!("INFO: main child {pid} exited with 3"),
            "INFO: main child exited with 3; exiting 3".to_string(),
        ] {
            assert!(
                out.stderr.contains(&needle),
                "{mode:?}: no '{needle}' in {lines:?}"
            );
        }
    }
}

/// `rein OPTIONS -- probe orphans 3` with `env`: three orphans reaped, then USR1 forwarded,
/// which kills the probe (138).
fn debug_scenario(mode: Mode, options: &[&str], env: &[(&str, &str)]) -> Outcome {
    let p = probe().to_str().unwrap();
    let mut args: Vec<&str> = options.to_vec();
    args.extend(["--", p, "orphans", "3"]);
    let mut cmd = command(mode, &args);
    cmd.envs(env.iter().copied());
    let mut run = Run::spawn(cmd);
    run.expect_line("done", |l| l == "done 3");
    let rein = run.rein_pid(mode);
    wait_until("the orphans are reaped", DEADLINE, || {
        children(rein).len() == 1
    });
    run.signal(rein, 10);
    // The probe would also end at stdin EOF, which finish() sends: let USR1 end it first.
    assert!(
        run.exited_within(DEADLINE),
        "{mode:?}: USR1 did not end the probe"
    );
    let out = run.finish();
    assert_eq!(out.code, Some(138), "{mode:?}: {out:?}");
    assert_eq!(
        out.stdout, b"done 3\n",
        "{mode:?}: stdout is the child's alone"
    );
    out
}

/// stderr with every number replaced by `N`, lines sorted: the same run twice compares equal.
fn normalised(stderr: &str) -> Vec<String> {
    let mut lines: Vec<String> = stderr
        .lines()
        .map(|l| {
            let mut out = String::new();
            for c in l.chars() {
                if c.is_ascii_digit() {
                    if !out.ends_with('N') {
                        out.push('N');
                    }
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn very_verbose_prints_forwarded_signals_and_reaped_pids_and_rein_log_debug_equals_it() {
    for mode in modes("very_verbose_prints_forwarded_signals_and_reaped_pids") {
        let vv = debug_scenario(mode, &["-vv"], &[]);
        assert_eq!(
            vv.stderr.matches("DEBUG: reaped pid ").count(),
            3,
            "{mode:?}: {}",
            vv.stderr
        );
        assert!(
            vv.stderr.contains("DEBUG: forwarded SIGUSR1 to group "),
            "{mode:?}: {}",
            vv.stderr
        );
        assert!(!vv.stderr.contains("TRACE"), "{mode:?}");
        let env = debug_scenario(mode, &[], &[("REIN_LOG", "debug")]);
        assert_eq!(normalised(&env.stderr), normalised(&vv.stderr), "{mode:?}");
        // And the default level says nothing about the same run.
        let quiet = debug_scenario(mode, &[], &[]);
        assert_eq!(quiet.stderr, "", "{mode:?}");
    }
}

/// A warning-worthy run: rein as PID 1 of a namespace whose /proc still shows the parent
/// namespace (`unshare` without `--mount-proc`), with a leftover to stop, so rein needs /proc
/// (alone, `kill(-1, 0)` tells it nobody is left and /proc is never read). rein must warn that
/// it cannot use /proc, and still exit with the child's status (it used to spin forever, see
/// the fix in leftovers.rs).
fn foreign_proc_run(options: &[&str], env: &[(&str, &str)]) -> Outcome {
    let words: Vec<&str> = ns_words()
        .iter()
        .copied()
        .filter(|w| *w != "--mount-proc")
        .collect();
    let mut cmd = Command::new(words[0]);
    cmd.args(&words[1..])
        .arg(rein())
        .args(options)
        .args(["--", "sh", "-c", "sleep 30 & echo hi; exit 5"])
        .envs(env.iter().copied());
    Run::spawn(cmd).finish_within(crate::harness::DEADLINE)
}

#[test]
fn rein_log_off_silences_even_warnings() {
    if !namespaces_available("rein_log_off_silences_even_warnings") {
        return;
    }
    let warned = foreign_proc_run(&[], &[]);
    assert_eq!(warned.code, Some(5), "{warned:?}");
    assert_eq!(warned.stdout, b"hi\n");
    assert_eq!(warned.stderr.lines().count(), 1, "{warned:?}");
    assert!(
        warned.stderr.contains("WARN: /proc is not mounted"),
        "{warned:?}"
    );
    let off = foreign_proc_run(&["-vv"], &[("REIN_LOG", "off")]);
    assert_eq!(off.code, Some(5), "{off:?}");
    assert_eq!(off.stdout, b"hi\n");
    assert_eq!(
        off.stderr, "",
        "REIN_LOG=off overrides -vv and silences the warning"
    );
}
