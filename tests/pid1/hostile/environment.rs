//! rein consumes its own variables: the main child's environment has no entry named like a
//! variable rein reads (every option's twin and `REIN_LOG`), so a nested rein (a CI step that
//! itself runs under rein) does not apply the outer `REIN_USER`, `REIN_TIMEOUT` or
//! `REIN_STATUS_FILE` a second time. Every other entry, other `REIN_`-prefixed ones included,
//! reaches the child byte for byte and in order.
//!
//! Reproduction on the old main: `REIN_TIMEOUT=1h rein -- rein -- env` printed
//! `REIN_TIMEOUT=1h`, and the inner rein armed that timeout again.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use crate::harness::{Run, TempDir, command_via, emulator_env, probe, rein, sh};
use crate::support::modes;

/// Every variable rein reads. A nested rein must see none of them.
const OURS: &[&str] = &[
    "REIN_SINGLE_CHILD",
    "REIN_GRACE",
    "REIN_KILL_AFTER",
    "REIN_TIMEOUT",
    "REIN_TIMEOUT_SIGNAL",
    "REIN_REWRITE",
    "REIN_EXIT_ZERO",
    "REIN_EXIT_ZERO_ON_STOP",
    "REIN_PDEATHSIG",
    "REIN_PAUSE",
    "REIN_USER",
    "REIN_STATUS_FILE",
    "REIN_LOG",
];

/// Entries rein reads (each with a value it accepts, one empty, one twice) mixed with entries it
/// must pass on untouched: other `REIN_` names, a name that only starts like one of rein's, an
/// entry without `=` that spells a rein name, duplicates and bytes that are not UTF-8.
fn entries(status: &str) -> Vec<(Vec<u8>, bool)> {
    let mut v: Vec<(Vec<u8>, bool)> = vec![
        (b"A=1".to_vec(), true),
        (b"REIN_GRACE=2s".to_vec(), false),
        (b"REIN_TEST_MARK=kept".to_vec(), true),
        (b"REIN_TIMEOUT=1h".to_vec(), false),
        (b"REIN_TIMEOUT_SIGNAL=INT".to_vec(), false),
        (b"REIN_GRACEFUL=yes".to_vec(), true),
        (b"REIN_GRACE".to_vec(), true),
        (b"REIN_KILL_AFTER=1h".to_vec(), false),
        (b"REIN_REWRITE=WINCH:drop".to_vec(), false),
        (b"REIN_EXIT_ZERO=3".to_vec(), false),
        (b"REIN_EXIT_ZERO_ON_STOP=1".to_vec(), false),
        (b"REIN_SINGLE_CHILD=0".to_vec(), false),
        (b"REIN_PDEATHSIG=".to_vec(), false),
        (b"REIN_PAUSE=0".to_vec(), false),
        (b"REIN_LOG=warn".to_vec(), false),
        (b"rein_grace=lowercase is another name".to_vec(), true),
        (b"BIN=\xff\x80".to_vec(), true),
        (b"A=2".to_vec(), true),
        (b"REIN_TIMEOUT=2h".to_vec(), false),
        (b"NOEQ".to_vec(), true),
    ];
    v.push((format!("REIN_STATUS_FILE={status}").into_bytes(), false));
    v.push((b"Z=last".to_vec(), true));
    v
}

#[test]
fn the_child_sees_no_variable_rein_reads_and_every_other_entry_byte_exact() {
    let dir = TempDir::new("env-consumed");
    let status = dir.join("outer.json");
    let all = entries(status.to_str().unwrap());
    let passed = emulator_env(
        "the_child_sees_no_variable_rein_reads_and_every_other_entry_byte_exact",
        &all.iter().map(|(e, _)| e.as_slice()).collect::<Vec<_>>(),
    );
    let all: Vec<(Vec<u8>, bool)> = passed
        .iter()
        .map(|e| all.iter().find(|(a, _)| a == e).unwrap().clone())
        .collect();
    let p = probe().as_os_str().to_os_string();
    let mut wrapper = vec![p.clone(), "execenv".into()];
    wrapper.extend(all.iter().map(|(e, _)| OsString::from_vec(e.clone())));
    wrapper.push("--".into());
    let mut want = b"\n--env--\n".to_vec();
    for (e, kept) in &all {
        if *kept {
            want.extend_from_slice(e);
            want.push(0);
        }
    }
    for mode in modes("the_child_sees_no_variable_rein_reads") {
        // The outer rein runs an inner rein, whose child dumps its environment: neither rein may
        // leave one of its variables behind.
        let args: Vec<OsString> = vec![
            "--".into(),
            rein().into(),
            "--".into(),
            p.clone(),
            "args".into(),
        ];
        let out = Run::spawn(command_via(mode, &wrapper, &args)).finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert_eq!(
            out.stdout.escape_ascii().to_string(),
            want.escape_ascii().to_string(),
            "{mode:?}"
        );
        assert_eq!(out.stderr, "", "{mode:?}");
        assert!(
            status.exists(),
            "{mode:?}: the outer rein applied its status file"
        );
        std::fs::remove_file(&status).unwrap();
    }
}

/// Reports which of USR2 and HUP it got, after printing every rein variable it can see.
const INNER_CHILD: &str = r#"
    env | grep -E "^($OURS)=" | sed 's/^/leaked /'
    trap 'echo got USR2; exit 0' USR2
    trap 'echo got HUP; exit 0' HUP
    sleep 1000 & echo ready; wait"#;

#[test]
fn a_nested_rein_does_not_apply_the_outer_variables_again() {
    let dir = TempDir::new("env-nested");
    let status = dir.join("outer.json");
    for mode in modes("a_nested_rein_does_not_apply_the_outer_variables_again") {
        // The outer rein turns USR1 into USR2; an inner rein that applied the same rules again
        // would turn that USR2 into HUP. The outer --timeout and --status-file must be the
        // outer's alone too, and as root so must --user.
        let mut args = vec!["--".to_string(), rein().to_string(), "--".into()];
        args.extend(sh(INNER_CHILD));
        let mut cmd = crate::harness::command(mode, &args);
        cmd.env("OURS", OURS.join("|"))
            .env("REIN_REWRITE", "USR1:USR2,USR2:HUP")
            .env("REIN_TIMEOUT", "1h")
            .env("REIN_STATUS_FILE", &status)
            .env("REIN_LOG", "warn");
        if nix::unistd::geteuid().is_root() {
            cmd.env("REIN_USER", "0");
        }
        let mut run = Run::spawn(cmd);
        run.expect_line("ready", |l| l == "ready");
        let outer = run.rein_pid(mode);
        run.signal(outer, 10);
        let got = run.expect_line("got SIG", |l| l.starts_with("got "));
        let out = run.finish();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(got, "got USR2", "{mode:?}: {out:?}");
        assert!(!text.contains("leaked"), "{mode:?}: {text}");
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        let st = crate::harness::read_status(&status);
        assert_eq!(st["exit_code"], "0", "{mode:?}: {st:?}");
        std::fs::remove_file(&status).unwrap();
    }
}
