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
use rein::options::{self, OPTIONS};
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

/// Every spelling of every option in rein's table (`-c`, `--grace`, `--grace=`), plus words
/// that look like options but are not: drawn from the table, so a new option is fuzzed too.
fn spellings() -> Vec<String> {
    let mut v = vec![
        "--".to_string(),
        "-".into(),
        "--bogus".into(),
        "-Z".into(),
        "-cvt2s".into(),
        "-vv".into(),
        "--=".into(),
    ];
    for o in OPTIONS {
        v.push(format!("--{}", o.long));
        v.push(format!("--{}=", o.long));
        if let Some(c) = o.short {
            v.push(format!("-{}", char::from(c)));
            v.push(format!("-P{}", char::from(c)));
        }
    }
    v
}

/// One command-line word: a known option spelling, a value, or arbitrary bytes.
fn arg() -> impl Strategy<Value = OsString> {
    let opts = spellings();
    prop_oneof![
        3 => proptest::sample::select(opts.clone()).prop_map(OsString::from),
        3 => value_text().prop_map(OsString::from),
        2 => bytes(12).prop_map(OsString::from_vec),
        1 => (proptest::sample::select(opts), value_text())
            .prop_map(|(o, v)| OsString::from(format!("{o}{v}"))),
    ]
}

/// Every variable rein reads, from the table (REIN_LOG included).
fn env_vars() -> Vec<&'static str> {
    options::variables().collect()
}

/// An environment: for each `REIN_*` variable, unset, a value-like string, or raw bytes.
fn env() -> impl Strategy<Value = Vec<Option<OsString>>> {
    let one = prop_oneof![
        4 => Just(None),
        2 => value_text().prop_map(|s| Some(OsString::from(s))),
        1 => bytes(10).prop_map(|b| Some(OsString::from_vec(b))),
        1 => proptest::sample::select(&["1", "0", "yes", "", "TERM:QUIT,WINCH:drop", "143,1"][..])
            .prop_map(|s| Some(OsString::from(s))),
    ];
    proptest::collection::vec(one, env_vars().len())
}

fn lookup(env: &[Option<OsString>]) -> impl Fn(&str) -> Option<OsString> + '_ {
    move |k| {
        env_vars()
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
                    // Combinations that cannot apply never parse.
                    prop_assert!(cfg.timeout.is_none_or(|t| !t.is_zero()));
                    prop_assert!(cfg.pdeathsig.is_none_or(|s| ![9, 17, 19].contains(&s)));
                    prop_assert!(cfg.pdeathsig.is_none_or(|s| cfg.rewrite(s).is_some()));
                    if cfg.pause {
                        prop_assert!(!cfg.single_child && !cfg.exit_zero_on_stop);
                        prop_assert!(cfg.kill_after.is_none() && cfg.timeout.is_none());
                        prop_assert!(cfg.rewrites.is_empty() && cfg.exit_zero.is_empty());
                        prop_assert!(cfg.user.is_none());
                    }
                    // The command is a suffix of argv, unchanged.
                    prop_assert!(args.ends_with(&cfg.command));
                }
                Ok(Parsed::Help | Parsed::Version) => {}
                Err(e) => prop_assert!(!e.is_empty() && !e.contains('\n')),
            }
            Ok(())
        },
    );
}

/// An environment entry: one of rein's names (perhaps with a value, perhaps without `=`),
/// something close to one, or noise.
fn env_entry() -> impl Strategy<Value = Vec<u8>> {
    let names: Vec<&'static str> = env_vars();
    prop_oneof![
        3 => (proptest::sample::select(names.clone()), bytes(6), any::<bool>()).prop_map(
            |(n, v, eq)| {
                let mut e = n.as_bytes().to_vec();
                if eq {
                    e.push(b'=');
                }
                e.extend(v);
                e
            }
        ),
        2 => (proptest::sample::select(names), bytes(4)).prop_map(|(n, pre)| {
            let mut e = pre;
            e.extend_from_slice(n.as_bytes());
            e.push(b'=');
            e
        }),
        2 => "REIN_[A-Z_]{0,20}=?[a-z0-9]{0,4}".prop_map(String::into_bytes),
        1 => bytes(16),
    ]
}

#[test]
fn the_child_environment_loses_exactly_the_variables_rein_reads() {
    check("env_consumed", env_entry(), |e| {
        let name = e.split(|&b| b == b'=').next().unwrap_or_default();
        let ours = e.contains(&b'=') && env_vars().iter().any(|v| v.as_bytes() == name);
        prop_assert_eq!(options::is_reins_variable(&e), ours, "{}", e.escape_ascii());
        Ok(())
    });
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
            let forwarded = signals::classify(from).forwards();
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

// ---- /etc/passwd and /etc/group ----------------------------------------------------------
//
// Both files are bytes (account.rs): arbitrary bytes must never panic the lookup, and an entry
// planted among arbitrary junk lines (non-UTF-8, broken, near-valid) must always be found.

/// A byte that is not one of `forbidden` (those become `_`), so generated fields stay fields.
fn byte_except(forbidden: &'static [u8]) -> impl Strategy<Value = u8> {
    any::<u8>().prop_map(move |b| if forbidden.contains(&b) { b'_' } else { b })
}

/// A field of 0..max bytes without `forbidden`.
fn field_bytes(forbidden: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(byte_except(forbidden), 0..max)
}

/// An account or group name as a name (not a number): any bytes but the separators and ASCII
/// blanks (which a member list ignores around names), at least one of them not a digit.
fn account_name() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(byte_except(b":,\n \t\r\x0b\x0c"), 1..12)
        .prop_filter("a number is an id, not a name", |n| {
            !n.iter().all(u8::is_ascii_digit)
        })
}

/// Any id but `(uid_t)-1`.
fn account_id() -> impl Strategy<Value = u32> {
    prop_oneof![0..u32::MAX, 0..70_000u32]
}

/// One line of junk for either file: arbitrary bytes, or something close to an entry.
fn junk_line() -> impl Strategy<Value = Vec<u8>> {
    let near = (
        field_bytes(b":\n", 8),
        proptest::collection::vec(
            prop_oneof![
                field_bytes(b":\n", 8),
                "[0-9]{0,12}".prop_map(String::into_bytes),
                Just(b"4294967295".to_vec()),
                Just(b"-1".to_vec()),
            ],
            0..8,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut line = first;
            for f in rest {
                line.push(b':');
                line.extend(f);
            }
            line
        });
    prop_oneof![field_bytes(b"\n", 48), near]
}

/// Lines joined with `\n` or `\r\n`, with or without a final line break.
fn join_lines(lines: &[Vec<u8>], crlf: bool, last: bool) -> Vec<u8> {
    let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut text = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        text.extend_from_slice(l);
        if i + 1 < lines.len() || last {
            text.extend_from_slice(end);
        }
    }
    text
}

/// Junk lines with `entry` inserted at `at` (modulo their number); lines that would define
/// `name` themselves are dropped, so the planted entry is the only one for it.
fn plant(mut junk: Vec<Vec<u8>>, name: &[u8], entry: Vec<u8>, at: usize) -> Vec<Vec<u8>> {
    let mut prefix = name.to_vec();
    prefix.push(b':');
    junk.retain(|l| !l.starts_with(&prefix));
    let at = at % (junk.len() + 1);
    junk.insert(at, entry);
    junk
}

#[test]
fn account_lookups_never_panic_on_arbitrary_bytes() {
    let file = proptest::option::of(prop_oneof![
        bytes(256),
        proptest::collection::vec(junk_line(), 0..8).prop_map(|l| join_lines(&l, false, true)),
    ]);
    let name = prop_oneof![
        bytes(12),
        "[a-z0-9]{1,6}".prop_map(String::into_bytes),
        "[0-9]{1,11}".prop_map(String::into_bytes),
    ];
    check(
        "resolve_in_bytes",
        (name.clone(), proptest::option::of(name), file.clone(), file),
        |(user, group, passwd, groups)| {
            let got = resolve_in(
                &user,
                group.as_deref(),
                passwd.as_deref(),
                groups.as_deref(),
            );
            if let Ok(r) = &got {
                let c = &r.credentials;
                // (uid_t)-1 would leave the ids unchanged: it must never come out.
                prop_assert!(c.uid().as_raw() != u32::MAX && c.gid().as_raw() != u32::MAX);
                prop_assert!(!c.groups().contains(&u32::MAX));
                if group.is_some() {
                    prop_assert_eq!(c.groups(), &[c.gid().as_raw()][..]);
                }
            }
            // A numeric user with no passwd file at all is taken as that number.
            if passwd.is_none() && group.is_none() && user.iter().all(u8::is_ascii_digit) {
                let n = std::str::from_utf8(&user)
                    .ok()
                    .and_then(|u| u.parse::<u32>().ok());
                match n {
                    Some(uid) if uid != u32::MAX => {
                        let r = got.map_err(TestCaseError::fail)?;
                        prop_assert_eq!(r.credentials.uid().as_raw(), uid);
                        prop_assert_eq!(r.credentials.gid().as_raw(), uid);
                    }
                    _ => prop_assert!(got.is_err()),
                }
            }
            Ok(())
        },
    );
}

#[test]
fn a_passwd_entry_planted_among_junk_is_always_found() {
    let entry = (
        account_name(),
        account_id(),
        account_id(),
        field_bytes(b":\n", 24),
        field_bytes(b":\n", 24),
        field_bytes(b"\n", 16),
    );
    let layout = (
        proptest::collection::vec(junk_line(), 0..12),
        any::<usize>(),
        any::<bool>(),
        any::<bool>(),
    );
    check(
        "passwd_planted",
        (entry, layout),
        |((name, uid, gid, gecos, home, shell), (junk, at, crlf, last))| {
            let line = [&name[..], b"x", uid.to_string().as_bytes()]
                .into_iter()
                .chain([gid.to_string().as_bytes(), &gecos, &home, &shell])
                .collect::<Vec<_>>()
                .join(&b':');
            let text = join_lines(&plant(junk, &name, line, at), crlf, last);
            let r = resolve_in(&name, None, Some(&text), None).map_err(TestCaseError::fail)?;
            prop_assert_eq!(r.credentials.uid().as_raw(), uid);
            prop_assert_eq!(r.credentials.gid().as_raw(), gid);
            prop_assert_eq!(r.credentials.groups(), &[gid][..]);
            let account = r.account.ok_or_else(|| TestCaseError::fail("no account"))?;
            prop_assert_eq!(account.name.into_vec(), name);
            prop_assert_eq!(account.home.into_vec(), home);
            // By number, an entry with that uid is found (a junk line may have it first).
            let r = resolve_in(uid.to_string().as_bytes(), None, Some(&text), None)
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(r.credentials.uid().as_raw(), uid);
            prop_assert!(r.account.is_some());
            Ok(())
        },
    );
}

#[test]
fn a_group_planted_among_junk_is_always_found() {
    let group = (
        account_name(),
        account_id(),
        proptest::collection::vec(field_bytes(b":,\n", 10), 0..6),
        any::<usize>(),
        "[ \t]{0,2}",
        "[ \t]{0,2}",
    );
    let layout = (
        proptest::collection::vec(junk_line(), 0..12),
        any::<usize>(),
        any::<bool>(),
        any::<bool>(),
    );
    check(
        "group_planted",
        (account_name(), account_id(), group, layout),
        |(
            user,
            primary,
            (gname, gid, mut members, slot, before, after),
            (junk, at, crlf, last),
        )| {
            let mut listed = before.into_bytes();
            listed.extend_from_slice(&user);
            listed.extend(after.into_bytes());
            let slot = slot % (members.len() + 1);
            members.insert(slot, listed);
            let line = [
                &gname[..],
                b"x",
                gid.to_string().as_bytes(),
                &members.join(&b','),
            ]
            .join(&b':');
            let groups = join_lines(&plant(junk, &gname, line, at), crlf, last);
            let passwd = [
                &user[..],
                b"x",
                b"1",
                primary.to_string().as_bytes(),
                b"",
                b"/",
                b"",
            ]
            .join(&b':');
            // A bare USER: the primary group first, the planted one among the rest, none twice.
            let r = resolve_in(&user, None, Some(&passwd), Some(&groups))
                .map_err(TestCaseError::fail)?;
            let got = r.credentials.groups();
            prop_assert_eq!(got.first(), Some(&primary));
            prop_assert!(got.contains(&gid), "{:?} lacks {}", got, gid);
            let mut unique = got.to_vec();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), got.len());
            // USER:GROUP by name: exactly the planted group.
            let r = resolve_in(&user, Some(&gname), Some(&passwd), Some(&groups))
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(r.credentials.gid().as_raw(), gid);
            prop_assert_eq!(r.credentials.groups(), &[gid][..]);
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
