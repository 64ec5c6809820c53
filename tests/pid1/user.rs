//! `--user USER[:GROUP]`: the child runs with the user's uid, its primary gid and the groups
//! initgroups(3) would give it (or exactly GROUP, when one is named), HOME/USER/LOGNAME of the
//! target account, no capabilities, and no_new_privs, so it can never become root again.
//!
//! The test user exists only in a private mount namespace, where test-made passwd and group
//! files are bind-mounted over /etc's; the host's files are never touched. The attacks on
//! `--user` (capabilities kept, groups, variables, odd bytes) are in `hostile/credentials.rs`,
//! which uses the accounts and the child script here (the runner is `support::with_accounts`).

use std::ffi::OsString;

use crate::harness::{Mode, Outcome, probe, rein};
use crate::support::{field, marker_dir, root_namespaces, with_accounts};

/// The test accounts: `tester` (4321, primary group 4322) is listed in `extra` (5000) only.
pub const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
                            tester:x:4321:4322:Test User:/home/tester:/bin/sh\n";
/// The test groups; `staff` (5002) lists nobody.
pub const GROUP: &[u8] = b"root:x:0:\ntester:x:4322:\nextra:x:5000:someone,tester\n\
                           other:x:5001:someone\nstaff:x:5002:\n";

/// Prints what the child is: its ids, groups, capabilities, no_new_privs, account variables,
/// and the errno of each attempt to become root again.
pub const CHILD: &str = r#"
    grep -E '^(Uid|Gid|Groups|NoNewPrivs|Cap(Inh|Prm|Eff|Bnd|Amb)):' /proc/self/status
    echo "HOME=${HOME-unset} USER=${USER-unset} LOGNAME=${LOGNAME-unset}"
    "$1" groups
    "$1" escalate
    touch "$2"
"#;

/// `env -i PATH=... EXTRA... rein --user SPEC -- sh -c CHILD`, the command line of most tests.
pub fn user_argv(spec: &str, extra: &[&str], ran: &std::path::Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["env".into(), "-i".into()];
    argv.push(format!("PATH={}", std::env::var("PATH").unwrap_or_default()).into());
    argv.extend(extra.iter().map(OsString::from));
    argv.extend([rein(), "--user", spec, "--", "sh", "-c", CHILD, "child"].map(OsString::from));
    argv.push(probe().into());
    argv.push(ran.into());
    argv
}

/// Runs rein as PID 1 with the test accounts, an environment of PATH plus `extra`, and
/// `--user SPEC`; returns the outcome and whether the child ran.
fn as_user(spec: &str, extra: &[&str]) -> (Outcome, bool) {
    let dir = marker_dir();
    let ran = dir.join("ran");
    let out = with_accounts(Mode::Pid1, PASSWD, GROUP, &user_argv(spec, extra, &ran));
    (out, ran.exists())
}

#[test]
fn user_gets_its_ids_groups_account_and_can_never_be_root_again() {
    if !root_namespaces("user_gets_its_ids_groups_account") {
        return;
    }
    let (out, ran) = as_user("tester", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(ran);
    assert_eq!(field(&text, "Uid:"), ["4321"; 4], "{text}");
    assert_eq!(field(&text, "Gid:"), ["4322"; 4], "{text}");
    assert_eq!(field(&text, "Groups:"), ["4322", "5000"], "{text}");
    assert_eq!(field(&text, "groups"), ["4322", "5000"], "{text}");
    assert_eq!(field(&text, "NoNewPrivs:"), ["1"], "{text}");
    for key in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        assert_eq!(field(&text, key), ["0000000000000000"], "{key}: {text}");
    }
    assert!(
        text.contains("HOME=/home/tester USER=tester LOGNAME=tester\n"),
        "{text}"
    );
    let eperm = nix::libc::EPERM.to_string();
    for key in ["setgid0", "setuid0", "setgroups0"] {
        assert_eq!(field(&text, key), [eperm.as_str()], "{key}: {text}");
    }
    assert!(
        !std::fs::read_to_string("/etc/passwd")
            .unwrap()
            .contains("tester:x:4321"),
        "the host's /etc/passwd was changed"
    );
}

#[test]
fn user_with_group_gets_exactly_that_group_and_its_own_home() {
    if !root_namespaces("user_with_group_gets_exactly_that_group") {
        return;
    }
    let (out, _) = as_user("tester:staff", &["HOME=/custom", "USER=root"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(field(&text, "Uid:"), ["4321"; 4], "{text}");
    assert_eq!(field(&text, "Gid:"), ["5002"; 4], "{text}");
    // A named GROUP is the only group, as with runc, gosu and su-exec.
    assert_eq!(field(&text, "Groups:"), ["5002"], "{text}");
    assert_eq!(field(&text, "groups"), ["5002"], "{text}");
    // The account's variables replace the caller's.
    assert!(
        text.contains("HOME=/home/tester USER=tester LOGNAME=tester\n"),
        "{text}"
    );
}

#[test]
fn root_keeps_its_capabilities() {
    if !root_namespaces("root_keeps_its_capabilities") {
        return;
    }
    // `--user root:staff` changes the groups only; uid 0 keeps what root has (capabilities(7)
    // gives root its bounding set at exec anyway), so nothing is cleared for it.
    let (out, ran) = as_user("root:staff", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(ran);
    assert_eq!(field(&text, "Uid:"), ["0"; 4], "{text}");
    assert_eq!(field(&text, "Groups:"), ["5002"], "{text}");
    assert_ne!(field(&text, "CapBnd:"), ["0000000000000000"], "{text}");
    assert!(
        text.contains("HOME=/root USER=root LOGNAME=root\n"),
        "{text}"
    );
}

#[test]
fn unknown_user_or_group_fails_with_125_before_anything_runs() {
    if !root_namespaces("unknown_user_fails_with_125") {
        return;
    }
    for (spec, needle) in [
        ("ghost", "unknown user 'ghost'"),
        ("tester:nogroup", "unknown group 'nogroup'"),
    ] {
        let (out, ran) = as_user(spec, &[]);
        assert_eq!(out.code, Some(125), "{spec}: {out:?}");
        assert!(!ran && out.stdout.is_empty(), "{spec}: the child ran");
        assert_eq!(out.stderr.lines().count(), 1, "{spec}: {out:?}");
        assert!(out.stderr.contains(needle), "{spec}: {out:?}");
    }
}
