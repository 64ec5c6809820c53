//! `--user USER[:GROUP]`: the child runs with the user's uid, primary gid (or GROUP), exactly
//! its supplementary groups from /etc/group, HOME/USER/LOGNAME from /etc/passwd unless set,
//! and no_new_privs, so it can never become root again.
//!
//! The test user exists only in a private mount namespace, where test-made passwd and group
//! files are bind-mounted over /etc's; the host's files are never touched.

use std::process::Command;
use std::time::Duration;

use crate::harness::{Outcome, Run, TempDir, probe, rein};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                      tester:x:4321:4322:Test User:/home/tester:/bin/sh\n";
const GROUP: &str = "root:x:0:\ntester:x:4322:\nextra:x:5000:someone,tester\n\
                     other:x:5001:someone\nstaff:x:5002:\n";

/// Prints what the child is: its ids, groups, no_new_privs, account variables, and the errno
/// of each attempt to become root again.
const CHILD: &str = r#"
    grep -E '^(Uid|Gid|Groups|NoNewPrivs):' /proc/self/status
    echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME"
    "$1" groups
    "$1" escalate
    touch "$2"
"#;

/// Root is needed to create the mount namespace and to change to an arbitrary uid.
fn root_namespaces(test: &str) -> bool {
    let ok = nix::unistd::geteuid().is_root()
        && Command::new("unshare")
            .args(["--mount", "--pid", "--fork", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        let why = "needs root and unshare --mount --pid (to switch to a test user)";
        if std::env::var("REIN_REQUIRE_NS").as_deref() == Ok("1") {
            panic!("{test}: REIN_REQUIRE_NS=1 but this {why}");
        }
        eprintln!("SKIPPED (not root): {test}: {why}");
    }
    ok
}

/// Runs rein as PID 1 of a new PID and mount namespace with the test passwd/group mounted,
/// an environment of PATH plus `extra`, and `--user SPEC`.
fn as_user(spec: &str, extra: &[&str]) -> (Outcome, bool) {
    let dir = TempDir::new("user");
    std::fs::write(dir.join("passwd"), PASSWD).unwrap();
    std::fs::write(dir.join("group"), GROUP).unwrap();
    let ran = dir.join("ran");
    // The marker file is created by the child, which runs as the test user.
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let wrapper = r#"
        mount --bind "$DIR/passwd" /etc/passwd &&
        mount --bind "$DIR/group" /etc/group &&
        exec env -i PATH="$PATH" $EXTRA "$REIN" --user "$SPEC" -- sh -c "$CHILD" child "$PROBE" "$RAN"
    "#;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "sh",
        "-c",
        wrapper,
    ])
    .env("DIR", &dir.0)
    .env("EXTRA", extra.join(" "))
    .env("REIN", rein())
    .env("SPEC", spec)
    .env("CHILD", CHILD)
    .env("PROBE", probe())
    .env("RAN", &ran);
    let out = Run::spawn(cmd).finish_within(Duration::from_secs(10));
    (out, ran.exists())
}

fn field<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let line = out
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"));
    line[key.len()..].split_whitespace().collect()
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
fn user_with_group_and_preset_home() {
    if !root_namespaces("user_with_group_and_preset_home") {
        return;
    }
    let (out, _) = as_user("tester:staff", &["HOME=/custom"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(field(&text, "Uid:"), ["4321"; 4], "{text}");
    assert_eq!(field(&text, "Gid:"), ["5002"; 4], "{text}");
    // GROUP replaces the primary gid; the supplementary groups stay the user's own.
    assert_eq!(field(&text, "groups"), ["4322", "5000"], "{text}");
    assert!(
        text.contains("HOME=/custom USER=tester LOGNAME=tester\n"),
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
