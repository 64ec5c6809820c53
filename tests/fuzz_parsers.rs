//! Property tests over every parser that sees untrusted text: the command line and its `REIN_*`
//! twins, option values, `/etc/passwd` and `/etc/group`, and `/proc/PID/stat`. They stand in
//! for `cargo fuzz`, which needs a nightly toolchain: the inputs are arbitrary byte strings and
//! strings, plus generators biased towards almost-valid input, where parsers break.
//!
//! Every property runs `PROPTEST_CASES` cases (2,000 when unset, a few seconds in all) and
//! prints `fuzz: NAME: N cases` on stderr; `scripts/fuzz.sh` runs them longer and adds them up.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::ffi::OsString;
use std::fmt::Debug;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use rein::account::resolve_in;
use rein::cli::{self, Parsed};
use rein::proc::parse_stat;
use rein::signals::{self, MAX_SIGNAL, parse_signal};
use rein::values::{parse_duration, parse_exit_code, parse_rewrite, parse_user_spec};

/// The longest duration rein accepts: ten years of 366 days (`values.rs`).
const MAX_DURATION_MS: u64 = 10 * 366 * 24 * 3600 * 1000;

/// Cases per property: `PROPTEST_CASES` if set (proptest reads it), else 2,000.
fn config() -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 2_000;
    }
    // Failures are reported with their minimal input; no regression files in the tree.
    c.failure_persistence = None;
    c
}

/// Runs `test` over `strategy` and reports how many cases ran.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: Debug,
{
    let count = std::sync::atomic::AtomicU64::new(0);
    let result = TestRunner::new(config()).run(&strategy, |v| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        test(v)
    });
    eprintln!(
        "fuzz: {name}: {} cases",
        count.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// Arbitrary bytes, as the kernel may hand rein in `argv` or `envp`.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Text shaped like option values: digits, units, signal names, separators, and some noise.
fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9.]{0,24}(ms|s|m|h|x|)",
        "[ ]?(SIG)?(TERM|term|RTMIN|RTMAX|USR1|HUP|KILL|CHLD|POLL|IOT|CLD|)([+-][0-9]{0,12})?[ ]?",
        "[A-Za-z0-9+-]{0,8}(:[A-Za-z0-9+-]{0,8}){0,3}",
        "[0-9]{0,22}",
        "[ ,:.0-9a-zA-Z\u{e9}\u{1F600}]{0,16}",
    ]
}

/// One command-line word: a known option spelling, a value, or arbitrary bytes.
fn arg() -> impl Strategy<Value = OsString> {
    const OPTS: &[&str] = &[
        "-c",
        "-t",
        "-k",
        "-T",
        "-r",
        "-e",
        "-p",
        "-P",
        "-u",
        "-v",
        "-vv",
        "-h",
        "-V",
        "--",
        "-",
        "--grace",
        "--grace=",
        "--kill-after",
        "--timeout",
        "--timeout-signal",
        "--rewrite",
        "--exit-zero",
        "--exit-zero-on-stop",
        "--pdeathsig",
        "--pause",
        "--pause=1",
        "--user",
        "--status-file",
        "--status-file=",
        "--verbose",
        "--help",
        "--version",
        "--bogus",
        "-Z",
        "-cvt2s",
        "-t",
        "--=",
    ];
    prop_oneof![
        3 => proptest::sample::select(OPTS).prop_map(OsString::from),
        3 => value_text().prop_map(OsString::from),
        2 => bytes(12).prop_map(OsString::from_vec),
        1 => (proptest::sample::select(OPTS), value_text())
            .prop_map(|(o, v)| OsString::from(format!("{o}{v}"))),
    ]
}

const ENV_VARS: [&str; 12] = [
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
];

/// An environment: for each `REIN_*` variable, unset, a value-like string, or raw bytes.
fn env() -> impl Strategy<Value = Vec<Option<OsString>>> {
    let one = prop_oneof![
        4 => Just(None),
        2 => value_text().prop_map(|s| Some(OsString::from(s))),
        1 => bytes(10).prop_map(|b| Some(OsString::from_vec(b))),
        1 => proptest::sample::select(&["1", "0", "yes", "", "TERM:QUIT,WINCH:drop", "143,1"][..])
            .prop_map(|s| Some(OsString::from(s))),
    ];
    proptest::collection::vec(one, ENV_VARS.len())
}

fn lookup(env: &[Option<OsString>]) -> impl Fn(&str) -> Option<OsString> + '_ {
    move |k| {
        ENV_VARS
            .iter()
            .position(|v| *v == k)
            .and_then(|i| env[i].clone())
    }
}

#[test]
fn cli_parse_never_panics_and_only_accepts_consistent_configs() {
    check(
        "cli_parse",
        (proptest::collection::vec(arg(), 0..8), env()),
        |(args, env)| {
            match cli::parse(args.clone(), lookup(&env)) {
                Ok(Parsed::Run(cfg)) => {
                    prop_assert!(cfg.pause == cfg.command.is_empty());
                    prop_assert!((1..=MAX_SIGNAL).contains(&cfg.timeout_signal));
                    for d in [Some(cfg.grace), cfg.kill_after, cfg.timeout]
                        .into_iter()
                        .flatten()
                    {
                        prop_assert!(d <= Duration::from_millis(MAX_DURATION_MS));
                    }
                    for (from, to) in &cfg.rewrites {
                        prop_assert!((1..=MAX_SIGNAL).contains(from));
                        prop_assert!(to.is_none_or(|t| (1..=MAX_SIGNAL).contains(&t)));
                    }
                    prop_assert!(cfg.pdeathsig.is_none_or(|s| (1..=MAX_SIGNAL).contains(&s)));
                    // The command is a suffix of argv, unchanged.
                    prop_assert!(args.ends_with(&cfg.command));
                }
                Ok(Parsed::Help | Parsed::Version) => {}
                Err(e) => prop_assert!(!e.is_empty()),
            }
            Ok(())
        },
    );
}

#[test]
fn cli_hands_everything_after_the_program_or_double_dash_over_unchanged() {
    let program = prop_oneof![
        "[a-z/][a-z0-9/._-]{0,10}".prop_map(OsString::from),
        bytes(8)
            .prop_filter("not an option", |b| b.first() != Some(&b'-'))
            .prop_map(OsString::from_vec),
    ];
    check(
        "cli_passthrough",
        (
            program,
            proptest::collection::vec(arg(), 0..6),
            any::<bool>(),
        ),
        |(program, rest, dash)| {
            let mut argv = Vec::new();
            if dash {
                argv.push(OsString::from("--"));
            }
            argv.push(program.clone());
            argv.extend(rest.iter().cloned());
            // An empty first word is a program name too (execvp will reject it, not the parser).
            let got = cli::parse(argv, |_| None);
            let mut want = vec![program];
            want.extend(rest);
            match got {
                Ok(Parsed::Run(cfg)) => prop_assert_eq!(cfg.command, want),
                other => prop_assert!(false, "{:?}", other),
            }
            Ok(())
        },
    );
}

#[test]
fn durations_never_panic_and_never_exceed_the_maximum() {
    check("duration_any", value_text(), |t| {
        if let Ok(d) = parse_duration(&t) {
            prop_assert!(
                d <= Duration::from_millis(MAX_DURATION_MS),
                "{t:?} -> {d:?}"
            );
        }
        Ok(())
    });
}

#[test]
fn formatted_durations_parse_back_to_themselves() {
    check(
        "duration_round_trip",
        (0..=MAX_DURATION_MS, 0..4usize),
        |(ms, form)| {
            let (text, want) = match form {
                0 => (format!("{ms}ms"), ms),
                1 => (format!("{}.{:03}s", ms / 1000, ms % 1000), ms),
                2 => (format!("{}.{:03}", ms / 1000, ms % 1000), ms),
                _ => {
                    let mins = ms / 60_000;
                    (format!("{mins}m"), mins * 60_000)
                }
            };
            prop_assert_eq!(
                parse_duration(&text),
                Ok(Duration::from_millis(want)),
                "{}",
                text
            );
            Ok(())
        },
    );
}

#[test]
fn durations_above_the_maximum_are_rejected() {
    check(
        "duration_too_long",
        (MAX_DURATION_MS + 1..=u64::MAX, 0..3usize),
        |(ms, form)| {
            let text = match form {
                0 => format!("{ms}ms"),
                1 => format!("{}s", ms / 1000 + 1),
                _ => format!("{}h", ms / 3_600_000 + 1),
            };
            prop_assert!(parse_duration(&text).is_err(), "{}", text);
            Ok(())
        },
    );
}

#[test]
fn exit_codes_accept_exactly_0_to_255() {
    check("exit_code_any", value_text(), |t| {
        let want = {
            let s = t.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u8>().ok())
                .flatten()
        };
        prop_assert_eq!(parse_exit_code(&t).ok(), want, "{:?}", t);
        Ok(())
    });
    check("exit_code_round_trip", any::<u32>(), |n| {
        let got = parse_exit_code(&n.to_string());
        prop_assert_eq!(got.ok(), u8::try_from(n).ok());
        Ok(())
    });
}

/// A spelling of signal `n` as a user may type it.
fn spelled(n: i32, style: u8) -> String {
    let name = signals::name(n);
    match style % 4 {
        0 => name,
        1 => name.trim_start_matches("SIG").to_string(),
        2 => name.to_ascii_lowercase(),
        _ => n.to_string(),
    }
}

#[test]
fn signals_parse_in_range_and_names_round_trip() {
    check("signal_any", value_text(), |t| {
        if let Ok(n) = parse_signal(&t) {
            prop_assert!((1..=MAX_SIGNAL).contains(&n), "{t:?} -> {n}");
        }
        Ok(())
    });
    check(
        "signal_round_trip",
        (1..=MAX_SIGNAL, any::<u8>()),
        |(n, style)| {
            prop_assert_eq!(parse_signal(&spelled(n, style)), Ok(n));
            Ok(())
        },
    );
    check("signal_name_any_number", any::<i32>(), |n| {
        let name = signals::name(n);
        prop_assert_eq!(parse_signal(&name).is_ok(), (1..=MAX_SIGNAL).contains(&n));
        Ok(())
    });
}

#[test]
fn rewrites_never_panic_and_valid_ones_stay_in_range() {
    check("rewrite_any", value_text(), |t| {
        if let Ok((from, to)) = parse_rewrite(&t) {
            prop_assert!((1..=MAX_SIGNAL).contains(&from));
            prop_assert!(to.is_none_or(|s| (1..=MAX_SIGNAL).contains(&s)));
        }
        Ok(())
    });
    check(
        "rewrite_valid",
        (1..=MAX_SIGNAL, 0..=MAX_SIGNAL, any::<u8>(), any::<u8>()),
        |(from, to, s1, s2)| {
            let forwarded = signals::classify(from) == signals::Action::Forward;
            let to_text = if to == 0 {
                if s2 % 2 == 0 {
                    "drop".into()
                } else {
                    "0".into()
                }
            } else {
                spelled(to, s2)
            };
            let text = format!("{}:{}", spelled(from, s1), to_text);
            match parse_rewrite(&text) {
                Ok((f, t)) => {
                    prop_assert!(
                        forwarded,
                        "{} accepted a signal rein does not forward",
                        text
                    );
                    prop_assert_eq!(f, from);
                    prop_assert_eq!(t, (to != 0).then_some(to));
                    prop_assert!(t.is_none_or(|t| (1..=MAX_SIGNAL).contains(&t)));
                }
                Err(e) => prop_assert!(!forwarded, "{} rejected: {}", text, e),
            }
            Ok(())
        },
    );
}

#[test]
fn user_specs_never_panic_and_round_trip() {
    check("user_spec_any", value_text(), |t| {
        if let Ok((u, g)) = parse_user_spec(&t) {
            prop_assert!(!u.is_empty() && !u.contains(':'));
            prop_assert!(g.is_none_or(|g| !g.is_empty() && !g.contains(':')));
        }
        Ok(())
    });
    let part = "[^:\n\u{0}]{1,12}";
    check(
        "user_spec_round_trip",
        (part, proptest::option::of(part)),
        |(u, g)| {
            let text = match &g {
                Some(g) => format!("{u}:{g}"),
                None => u.clone(),
            };
            prop_assert_eq!(parse_user_spec(&text), Ok((u, g)));
            Ok(())
        },
    );
}

/// `/etc/passwd` or `/etc/group`-like text: well-formed lines, broken lines and noise.
fn account_file() -> impl Strategy<Value = Option<String>> {
    let line = prop_oneof![
        "[a-z0-9]{0,6}:x?:[0-9]{0,11}:[0-9]{0,11}:[^:\n]{0,6}:/[a-z/]{0,8}:/bin/sh",
        "[a-z0-9]{0,6}:x?:[0-9]{0,11}:([a-z0-9 ]{0,6},?){0,3}",
        "[:a-z0-9,\n]{0,20}",
        any::<String>(),
    ];
    proptest::option::of(proptest::collection::vec(line, 0..6).prop_map(|l| l.join("\n")))
}

#[test]
fn account_lookups_never_panic() {
    let name = prop_oneof!["[a-z0-9]{1,6}", "[0-9]{1,11}", any::<String>()];
    check(
        "resolve_in",
        (
            name.clone(),
            proptest::option::of(name),
            account_file(),
            account_file(),
        ),
        |(user, group, passwd, groups)| {
            let got = resolve_in(
                &user,
                group.as_deref(),
                passwd.as_deref(),
                groups.as_deref(),
            );
            // A numeric user with no passwd file at all is taken as that number.
            if passwd.is_none() && group.is_none() {
                if let Ok(uid) = user.parse::<u32>() {
                    if user.bytes().all(|b| b.is_ascii_digit()) {
                        let r = got.map_err(TestCaseError::fail)?;
                        prop_assert_eq!(r.credentials.uid.as_raw(), uid);
                        prop_assert_eq!(r.credentials.gid.as_raw(), uid);
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn stat_lines_never_panic_and_well_formed_ones_parse() {
    check("parse_stat_any", any::<String>(), |t| {
        let _ = parse_stat(t.as_bytes());
        Ok(())
    });
    check("parse_stat_bytes", bytes(64), |b| {
        let _ = parse_stat(&b);
        Ok(())
    });
    // The kernel's comm is up to 15 bytes of anything but NUL (not necessarily UTF-8): spaces,
    // parentheses and newlines included.
    check(
        "parse_stat_valid",
        (
            1..=i32::MAX,
            proptest::collection::vec(1u8..=255, 0..=15),
            proptest::sample::select(&["R", "S", "D", "Z", "T", "t", "X", "I"][..]),
            0..=i32::MAX,
            0..=i32::MAX,
        ),
        |(pid, comm, state, ppid, pgrp)| {
            let mut line = format!("{pid} (").into_bytes();
            line.extend_from_slice(&comm);
            line.extend_from_slice(
                format!(") {state} {ppid} {pgrp} {pid} 0 -1 4194560 97 0 0 0\n").as_bytes(),
            );
            let e = parse_stat(&line)
                .ok_or_else(|| TestCaseError::fail(String::from_utf8_lossy(&line).into_owned()))?;
            prop_assert_eq!((e.pid, e.ppid, e.pgrp), (pid, ppid, pgrp));
            prop_assert_eq!(e.comm.as_bytes(), &comm[..]);
            prop_assert_eq!(e.is_zombie(), state == "Z" || state == "X");
            prop_assert_eq!(e.is_stopped(), state == "T");
            Ok(())
        },
    );
}
