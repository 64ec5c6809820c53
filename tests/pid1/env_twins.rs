//! Every option's `REIN_*` twin has an effect, and a flag wins over its variable; bad values
//! from variables (and values or combinations that cannot apply) and the flags not covered in
//! exit_status.rs give one line and 125 before the child runs. Runs are plain processes: option parsing does not depend on being PID 1.
//! (`REIN_PDEATHSIG` is in pdeathsig.rs, which needs a parent to kill.)

use std::path::PathBuf;

use crate::harness::{Mode, Run, TempDir, command, sh, wait_blocked};
use crate::support::assert_refused;

/// One run: environment, arguments, what to do, what to see.
struct Row {
    label: String,
    env: Vec<(&'static str, String)>,
    args: Vec<String>,
    /// `ready` lines to wait for before acting.
    readies: usize,
    /// Sent to rein once ready (or, with no ready line, once rein blocks it).
    signal: Option<i32>,
    /// A line to wait for after the signal, before closing stdin.
    then_line: Option<&'static str>,
    code: i32,
    has: Vec<&'static str>,
    lacks: Vec<&'static str>,
    exists: Vec<PathBuf>,
    absent: Vec<PathBuf>,
}

fn row(label: &str, env: &[(&'static str, &str)], opts: &[&str], script: Option<&str>) -> Row {
    let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
    if let Some(s) = script {
        args.extend(sh(s));
    }
    Row {
        label: label.to_string(),
        env: env.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        args,
        readies: usize::from(script.is_some_and(|s| s.contains("echo ready"))),
        signal: None,
        then_line: None,
        code: 0,
        has: vec![],
        lacks: vec![],
        exists: vec![],
        absent: vec![],
    }
}

impl Row {
    fn code(mut self, c: i32) -> Self {
        self.code = c;
        self
    }
    fn signal(mut self, s: i32) -> Self {
        self.signal = Some(s);
        self
    }
    fn has(mut self, s: &'static str) -> Self {
        self.has.push(s);
        self
    }
    fn lacks(mut self, s: &'static str) -> Self {
        self.lacks.push(s);
        self
    }

    fn check(&self) {
        let mut cmd = command(Mode::Plain, &self.args);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut run = Run::spawn(cmd);
        for _ in 0..self.readies {
            run.expect_line("ready", |l| l == "ready");
        }
        if let Some(sig) = self.signal {
            let pid = run.pid() as i32;
            if self.readies == 0 {
                wait_blocked(pid, sig);
            }
            run.signal(pid, sig);
        }
        if let Some(line) = self.then_line {
            run.expect_line(line, |l| l == line);
        }
        let out = run.finish_within(crate::harness::DEADLINE);
        let label = &self.label;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.code, Some(self.code), "{label}: {out:?}");
        for h in &self.has {
            assert!(text.contains(h), "{label}: stdout lacks {h:?}: {out:?}");
        }
        for l in &self.lacks {
            assert!(!text.contains(l), "{label}: stdout has {l:?}: {out:?}");
        }
        for p in &self.exists {
            assert!(p.exists(), "{label}: {} missing", p.display());
        }
        for p in &self.absent {
            assert!(!p.exists(), "{label}: {} written", p.display());
        }
    }
}

/// A leftover that reports when its TERM handler ran.
const LEFTOVER: &str =
    r#"sh -c "trap 'echo handled; exit 0' TERM; sleep 1000 & echo ready; wait" & read x; exit 0"#;
const IGNORES_TERM: &str = r#"trap '' TERM; sleep 1000 & echo ready; wait"#;
const DIES: &str = "echo ready; exec sleep 1000";
/// For --timeout rows: no ready line, which a short timeout could beat.
const SLEEPS: &str = "exec sleep 1000";
// Rows whose child must set traps before a --timeout fires use 1 s, a wide margin on a busy
// machine; the other timeout rows need nothing from the child.
/// Reports the first of several signals it gets.
const TRAPS: &str = r#"for s in HUP TERM USR1 USR2; do trap "echo got $s; exit 0" $s; done; sleep 1000 & echo ready; wait"#;
/// A main child and a grandchild (in the same group) that each report USR1.
const FAMILY: &str = r#"sh -c "trap 'echo gc got USR1' USR1; trap 'exit 0' TERM; sleep 1000 & echo ready; wait; wait" & trap 'echo child got USR1; exit 0' USR1; sleep 1000 & echo ready; wait"#;

#[test]
fn each_variable_has_an_effect_and_a_flag_wins_over_it() {
    let dir = TempDir::new("twins");
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    let family = |label, env: &[(&'static str, &str)], opts: &[&str]| {
        let mut r = row(label, env, opts, Some(FAMILY)).signal(10);
        r.readies = 2;
        r.then_line = Some("child got USR1");
        r
    };
    let mut rows = vec![
        row("REIN_GRACE=0", &[("REIN_GRACE", "0")], &[], Some(LEFTOVER)).lacks("handled"),
        row(
            "--grace over REIN_GRACE",
            &[("REIN_GRACE", "0")],
            &["--grace", "10s"],
            Some(LEFTOVER),
        )
        .has("handled"),
        row(
            "REIN_KILL_AFTER",
            &[("REIN_KILL_AFTER", "200ms")],
            &[],
            Some(IGNORES_TERM),
        )
        .signal(15)
        .code(137),
        row(
            "-k over REIN_KILL_AFTER",
            &[("REIN_KILL_AFTER", "1h")],
            &["-k", "200ms"],
            Some(IGNORES_TERM),
        )
        .signal(15)
        .code(137),
        row(
            "REIN_TIMEOUT",
            &[("REIN_TIMEOUT", "200ms")],
            &[],
            Some(SLEEPS),
        )
        .code(124),
        row(
            "-T over REIN_TIMEOUT",
            &[("REIN_TIMEOUT", "1h")],
            &["-T", "200ms"],
            Some(SLEEPS),
        )
        .code(124),
        row(
            "REIN_TIMEOUT_SIGNAL",
            &[("REIN_TIMEOUT", "1s"), ("REIN_TIMEOUT_SIGNAL", "USR2")],
            &[],
            Some(TRAPS),
        )
        .code(124)
        .has("got USR2"),
        row(
            "--timeout-signal over REIN_TIMEOUT_SIGNAL",
            &[("REIN_TIMEOUT", "1s"), ("REIN_TIMEOUT_SIGNAL", "USR2")],
            &["--timeout-signal", "HUP"],
            Some(TRAPS),
        )
        .code(124)
        .has("got HUP"),
        row(
            "REIN_REWRITE",
            &[("REIN_REWRITE", "HUP:drop,TERM:USR1")],
            &[],
            Some(TRAPS),
        )
        .signal(15)
        .has("got USR1"),
        row(
            "-r over REIN_REWRITE",
            &[("REIN_REWRITE", "TERM:USR1")],
            &["-r", "TERM:USR2"],
            Some(TRAPS),
        )
        .signal(15)
        .has("got USR2"),
        row(
            "REIN_EXIT_ZERO",
            &[("REIN_EXIT_ZERO", "2,3")],
            &[],
            Some("exit 3"),
        ),
        row(
            "-e over REIN_EXIT_ZERO",
            &[("REIN_EXIT_ZERO", "3")],
            &["-e", "4"],
            Some("exit 3"),
        )
        .code(3),
        row(
            "REIN_EXIT_ZERO_ON_STOP=1",
            &[("REIN_EXIT_ZERO_ON_STOP", "1")],
            &[],
            Some(DIES),
        )
        .signal(15),
        row(
            "REIN_EXIT_ZERO_ON_STOP=0",
            &[("REIN_EXIT_ZERO_ON_STOP", "0")],
            &[],
            Some(DIES),
        )
        .signal(15)
        .code(143),
        row(
            "--exit-zero-on-stop over =0",
            &[("REIN_EXIT_ZERO_ON_STOP", "0")],
            &["--exit-zero-on-stop"],
            Some(DIES),
        )
        .signal(15),
        row("REIN_PAUSE=1", &[("REIN_PAUSE", "1")], &[], None).signal(15),
        row(
            "REIN_PAUSE=1 with a PROGRAM",
            &[("REIN_PAUSE", "1")],
            &[],
            Some("exit 0"),
        )
        .code(125),
        row(
            "--pause over REIN_PAUSE=0",
            &[("REIN_PAUSE", "0")],
            &["--pause"],
            None,
        )
        .signal(15),
        row(
            "REIN_USER",
            &[("REIN_USER", "rein-nosuch-user")],
            &[],
            Some("exit 0"),
        )
        .code(125),
        family("REIN_SINGLE_CHILD=1", &[("REIN_SINGLE_CHILD", "1")], &[]).lacks("gc got"),
        family(
            "-c over REIN_SINGLE_CHILD=0",
            &[("REIN_SINGLE_CHILD", "0")],
            &["-c"],
        )
        .lacks("gc got"),
        family("no REIN_SINGLE_CHILD", &[], &[]).has("gc got USR1"),
    ];
    let mut status = row(
        "REIN_STATUS_FILE",
        &[("REIN_STATUS_FILE", a.to_str().unwrap())],
        &[],
        Some("exit 0"),
    );
    status.exists.push(a.clone());
    rows.push(status);
    let b_s = b.display().to_string();
    let mut status = row(
        "--status-file over REIN_STATUS_FILE",
        &[("REIN_STATUS_FILE", c.to_str().unwrap())],
        &["--status-file", &b_s],
        Some("exit 0"),
    );
    status.exists.push(b.clone());
    status.absent.push(c.clone());
    rows.push(status);
    if nix::unistd::geteuid().is_root() {
        rows.push(
            row(
                "--user over REIN_USER",
                &[("REIN_USER", "rein-nosuch-user")],
                &["--user", "0"],
                Some("echo ready"),
            )
            .has("ready"),
        );
    }
    for r in &rows {
        r.check();
    }
}

#[test]
fn bad_values_give_one_line_and_125_before_the_child_runs() {
    let dir = TempDir::new("bad");
    let marker = dir.join("ran");
    for (env, opts, needle) in [
        (Some(("REIN_GRACE", "abc")), &[][..], "REIN_GRACE"),
        (Some(("REIN_KILL_AFTER", "-1")), &[], "REIN_KILL_AFTER"),
        (Some(("REIN_TIMEOUT", "1x")), &[], "REIN_TIMEOUT"),
        (
            Some(("REIN_TIMEOUT_SIGNAL", "NOPE")),
            &[],
            "REIN_TIMEOUT_SIGNAL",
        ),
        (Some(("REIN_REWRITE", "TERM")), &[], "REIN_REWRITE"),
        (Some(("REIN_EXIT_ZERO", "300")), &[], "REIN_EXIT_ZERO"),
        (
            Some(("REIN_EXIT_ZERO_ON_STOP", "maybe")),
            &[],
            "REIN_EXIT_ZERO_ON_STOP",
        ),
        (Some(("REIN_PDEATHSIG", "99")), &[], "REIN_PDEATHSIG"),
        // Values that parse but cannot apply are refused the same way.
        (Some(("REIN_PDEATHSIG", "KILL")), &[], "REIN_PDEATHSIG=KILL"),
        (Some(("REIN_TIMEOUT", "0")), &[], "REIN_TIMEOUT=0"),
        (
            Some(("REIN_TIMEOUT_SIGNAL", "INT")),
            &[],
            "--timeout-signal has no effect without --timeout (from REIN_TIMEOUT_SIGNAL=INT)",
        ),
        (
            Some(("REIN_REWRITE", "HUP:drop")),
            &["-p", "HUP"],
            "REIN_REWRITE=HUP:drop",
        ),
        (Some(("REIN_SINGLE_CHILD", "2")), &[], "REIN_SINGLE_CHILD"),
        (Some(("REIN_USER", "a:b:c")), &[], "REIN_USER"),
        (
            Some(("REIN_USER", "rein-nosuch-user")),
            &[],
            "'rein-nosuch-user'",
        ),
        (
            Some(("REIN_STATUS_FILE", "/rein-missing-dir/s.json")),
            &[],
            "/rein-missing-dir",
        ),
        (None, &["--timeout-signal", "NOPE"], "invalid signal 'NOPE'"),
        (None, &["--pdeathsig", "0"], "invalid signal '0'"),
        (None, &["--kill-after", "5x"], "invalid duration '5x'"),
        (None, &["--timeout", ""], "invalid duration ''"),
        (None, &["--rewrite", "KILL:TERM"], "KILL"),
        (None, &["--user", ":staff"], "invalid user"),
    ] {
        let mut cmd = command(
            Mode::Plain,
            &crate::harness::with_sh(opts, r#"touch "$MARKER""#),
        );
        cmd.env("MARKER", &marker);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = Run::spawn(cmd).finish_within(crate::harness::DEADLINE);
        let what = format!("{env:?} {opts:?}");
        assert_refused(&out, &what, needle, &marker);
    }
}
