//! Arguments and environment reach the main child as the exact bytes rein received: non-UTF-8
//! bytes, empty strings, spaces, newlines, `=` in values, duplicate keys and an entry with no
//! `=` at all (which std's `Command` would drop), in their original order.
//!
//! `probe execenv` execs rein with an exact envp; the child, `probe args`, writes back its argv
//! and `/proc/self/environ` byte for byte.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use crate::harness::{Mode, Run, command_via, emulator_env, namespaces_available, probe};

fn os(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

const ARGS: &[&[u8]] = &[
    b"plain",
    b"",
    b"with space",
    b"a=b=c",
    b"\xff\xfe not utf-8 \x80",
    b"tab\tnew\nline",
    b"-v",
    b"--",
    b"",
];

const ENV: &[&[u8]] = &[
    b"A=1",
    b"EMPTY=",
    b"EQ=x=y=z",
    b"NOEQ",
    b"SPACE= a b ",
    b"BIN=\xff\x80\xfe",
    b"\xc3\xa9t\xc3\xa9=summer",
    b"A=2",
    b"=no key",
];

fn expected(env: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in ARGS {
        out.extend_from_slice(a);
        out.push(0);
    }
    out.extend_from_slice(b"\n--env--\n");
    for e in env {
        out.extend_from_slice(e);
        out.push(0);
    }
    out
}

#[test]
fn args_and_env_reach_the_child_byte_exact() {
    let p = probe().as_os_str().to_os_string();
    let env = emulator_env("args_and_env_reach_the_child_byte_exact", ENV);
    let mut wrapper = vec![p.clone(), "execenv".into()];
    wrapper.extend(env.iter().map(|e| os(e)));
    wrapper.push("--".into());
    let mut args: Vec<OsString> = vec!["--".into(), p, "args".into()];
    args.extend(ARGS.iter().map(|a| os(a)));
    let mut modes = vec![Mode::Plain];
    if namespaces_available("args_and_env_reach_the_child_byte_exact") {
        modes.push(Mode::Pid1);
    }
    for mode in modes {
        let out = Run::spawn(command_via(mode, &wrapper, &args)).finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
        assert_eq!(
            out.stdout.escape_ascii().to_string(),
            expected(&env).escape_ascii().to_string(),
            "{mode:?}"
        );
        assert_eq!(out.stderr, "", "{mode:?}");
    }
}
