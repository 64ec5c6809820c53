//! `--user` against a child that wants its privileges back, and against account files that a
//! Latin-1 editor or an odd member name touched (issue 8, points 2 to 5). Each test starts from
//! the reproduction that broke rein before the fix, as PID 1 and as a plain process.
//!
//! The attacker is the main child and everything it starts: after the drop it must hold no
//! capability, no group it was not given, and no variable naming the caller's account.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::harness::{Mode, Outcome, emulator_env, probe, rein};
use crate::support::{field, marker_dir, root_namespaces, with_accounts};
use crate::user::{CHILD, GROUP, PASSWD};

const ZERO: &str = "0000000000000000";

/// The child script of the reproduction: who am I, what capabilities do I hold, and can I
/// become root again (with the very `setpriv` of the report, and with `probe escalate`).
const ESCALATE: &str = r#"
    echo "uid $(id -u)"
    grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status
    setpriv --reuid 0 --regid 0 --clear-groups id -u 2>/dev/null | sed 's/^/became /'
    "$1" escalate
    touch "$2"
"#;

/// `WRAPPER... rein --user SPEC -- sh -c ESCALATE`, with the test accounts, in `mode`.
fn escalate_under(mode: Mode, wrapper: &[&str], spec: &str) -> (Outcome, String, bool) {
    let dir = marker_dir();
    let ran = dir.join("ran");
    let mut argv: Vec<OsString> = wrapper.iter().map(OsString::from).collect();
    argv.extend([rein(), "--user", spec, "--", "sh", "-c", ESCALATE, "child"].map(OsString::from));
    argv.push(probe().into());
    argv.push(ran.clone().into());
    let out = with_accounts(mode, PASSWD, GROUP, &argv);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text, ran.exists())
}

/// Asserts that the child ran as `uid` with every capability set empty (the bounding set too
/// when `bounding_empty`), and that no way back to root worked.
fn assert_powerless(out: &Outcome, text: &str, ran: bool, uid: &str, bounding_empty: bool) {
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(ran, "the child did not run: {out:?}");
    assert_eq!(field(text, "uid "), [uid], "{text}");
    for key in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(field(text, key), [ZERO], "{key}: {text}");
    }
    if bounding_empty {
        assert_eq!(field(text, "CapBnd:"), [ZERO], "{text}");
    }
    assert!(
        !text.contains("became"),
        "the child became root again: {text}"
    );
    let eperm = nix::libc::EPERM.to_string();
    for key in ["setgid0", "setuid0", "setgroups0"] {
        assert_eq!(field(text, key), [eperm.as_str()], "{key}: {text}");
    }
}

/// A uid 1000 rein that holds CAP_SETUID and CAP_SETGID (inheritable and ambient, as a
/// capability-aware launcher or a `docker run --user 1000 --cap-add` leaves them).
const CAPABLE_NON_ROOT: &[&str] = &[
    "setpriv",
    "--reuid",
    "1000",
    "--regid",
    "1000",
    "--clear-groups",
    "--inh-caps",
    "+setuid,+setgid",
    "--ambient-caps",
    "+setuid,+setgid",
];

#[test]
fn a_capable_non_root_rein_leaves_the_child_no_way_back_to_root() {
    if !root_namespaces("a_capable_non_root_rein_leaves_the_child_no_way_back_to_root") {
        return;
    }
    // Issue 8.2: the kernel clears capabilities on setuid only when a uid was 0, so before the
    // fix the child kept both capabilities and `setpriv --reuid 0` printed uid 0.
    for mode in [Mode::Pid1, Mode::Plain] {
        let (out, text, ran) = escalate_under(mode, CAPABLE_NON_ROOT, "2000");
        // Without CAP_SETPCAP rein cannot shrink the bounding set; nothing needs it to (see
        // credentials.rs): with no_new_privs and empty sets no exec can add a capability.
        assert_powerless(&out, &text, ran, "2000", false);
    }
}

#[test]
fn a_root_rein_with_inheritable_ambient_or_securebits_leaves_the_child_nothing() {
    if !root_namespaces("a_root_rein_with_inheritable_ambient_or_securebits") {
        return;
    }
    let cases: [&[&str]; 3] = [
        // SECBIT_NO_SETUID_FIXUP turns the kernel's clearing off altogether: before the fix
        // the child had every set at c0 and became root again.
        &[
            "setpriv",
            "--inh-caps",
            "+setuid,+setgid",
            "--ambient-caps",
            "+setuid,+setgid",
            "--securebits",
            "+no_setuid_fixup",
        ],
        // setuid leaves the inheritable set alone: before the fix the child had CapInh c0.
        &["setpriv", "--inh-caps", "+setuid,+setgid"],
        // Plain root: setuid clears the permitted, effective and ambient sets, but not the
        // bounding set, which rein now empties as well.
        &["env"],
    ];
    for mode in [Mode::Pid1, Mode::Plain] {
        for wrapper in cases {
            let (out, text, ran) = escalate_under(mode, wrapper, "tester");
            assert_powerless(&out, &text, ran, "4321", true);
        }
    }
}

#[test]
fn a_drop_step_that_fails_never_runs_the_program() {
    if !root_namespaces("a_drop_step_that_fails_never_runs_the_program") {
        return;
    }
    // Fail closed: whichever step the kernel refuses, the program never starts (125, one
    // line naming the step), so it cannot run with half of the old privileges.
    let no_caps: &[&str] = &[
        "setpriv",
        "--reuid",
        "1000",
        "--regid",
        "1000",
        "--clear-groups",
    ];
    let setgid_only: &[&str] = &[
        "setpriv",
        "--reuid",
        "1000",
        "--regid",
        "1000",
        "--clear-groups",
        "--inh-caps",
        "+setgid",
        "--ambient-caps",
        "+setgid",
    ];
    let cases: [(&[&str], &str, &str); 4] = [
        (
            no_caps,
            "2000",
            "failed to set supplementary groups: Operation not permitted",
        ),
        (
            setgid_only,
            "2000",
            "failed to set user id: Operation not permitted",
        ),
        // (uid_t)-1 and (gid_t)-1 mean "leave unchanged" to setresuid/setresgid: rein must
        // refuse them rather than leave the child root.
        (&["env"], "4294967295", "invalid user id '4294967295'"),
        (&["env"], "2000:4294967295", "invalid group id '4294967295'"),
    ];
    for mode in [Mode::Pid1, Mode::Plain] {
        for (wrapper, spec, needle) in cases {
            let (out, text, ran) = escalate_under(mode, wrapper, spec);
            assert_eq!(out.code, Some(125), "{spec}: {out:?}");
            assert!(!ran && text.is_empty(), "{spec}: the child ran: {out:?}");
            assert_eq!(out.stderr.lines().count(), 1, "{spec}: {out:?}");
            assert!(out.stderr.contains(needle), "{spec}: {out:?}");
        }
    }
}

#[test]
fn user_colon_group_gives_exactly_that_group() {
    if !root_namespaces("user_colon_group_gives_exactly_that_group") {
        return;
    }
    // Issue 8.3: `--user app:nogroup` gave `Groups: 4322 6000`, app's own group and every
    // group listing app. A named GROUP is now the primary and the only group, by name or
    // number, for a named or a numeric user; a bare USER still gets the initgroups(3) set.
    for mode in [Mode::Pid1, Mode::Plain] {
        for (spec, gid, groups) in [
            ("tester:staff", "5002", &["5002"][..]),
            ("tester:5001", "5001", &["5001"]),
            ("4321:staff", "5002", &["5002"]),
            ("tester", "4322", &["4322", "5000"]),
        ] {
            let dir = marker_dir();
            let ran = dir.join("ran");
            let mut argv: Vec<OsString> = ["env", "-i", "PATH=/usr/bin:/bin", rein(), "--user"]
                .map(OsString::from)
                .to_vec();
            argv.extend([spec, "--", "sh", "-c", CHILD, "child"].map(OsString::from));
            argv.push(probe().into());
            argv.push(ran.clone().into());
            let out = with_accounts(mode, PASSWD, GROUP, &argv);
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.code, Some(0), "{spec}: {out:?}");
            assert_eq!(field(&text, "Gid:"), [gid; 4], "{spec}: {text}");
            assert_eq!(field(&text, "Groups:"), groups, "{spec}: {text}");
            assert_eq!(field(&text, "groups"), groups, "{spec}: {text}");
        }
    }
}

/// Runs `probe execenv ENV... -- rein --user SPEC -- probe args` with the test accounts and
/// returns the child's environment, entry by entry, exactly as it received it.
fn child_env(mode: Mode, passwd: &[u8], spec: &str, env: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut argv: Vec<OsString> = vec![probe().into(), "execenv".into()];
    argv.extend(env.iter().map(|e| OsString::from_vec(e.to_vec())));
    argv.extend(["--", rein(), "--user", spec, "--"].map(OsString::from));
    argv.push(probe().into());
    argv.push("args".into());
    let out = with_accounts(mode, passwd, GROUP, &argv);
    assert_eq!(out.code, Some(0), "{spec}: {out:?}");
    let (_, env) = out.stdout.split_at(
        out.stdout
            .windows(9)
            .position(|w| w == b"\n--env--\n")
            .unwrap()
            + 9,
    );
    env.split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn home_user_and_logname_name_the_target_account_and_nothing_else_changes() {
    if !root_namespaces("home_user_and_logname_name_the_target_account") {
        return;
    }
    // Issue 8.4: Docker sets HOME=/root in every root container, and before the fix
    // `--user app` kept it (and USER/LOGNAME, had the caller set them). Now all three name the
    // target account, in place of the caller's (a duplicate goes), and every other entry stays
    // byte for byte in its place: non-UTF-8 bytes, an entry without `=`, `HOMEX=`, empty ones.
    let env: &[&[u8]] = &[
        b"PATH=/usr/bin:/bin",
        b"HOME=/root",
        b"LANG=de_DE.ISO-8859-1",
        b"USER=root",
        b"GREETING=gr\xfc\xdf dich",
        b"HOMEX=/keep",
        b"NOEQUALS",
        b"LOGNAME=root",
        b"EMPTY=",
        b"HOME=/second",
        b"LAST=1",
    ];
    let named: &[&[u8]] = &[
        b"PATH=/usr/bin:/bin",
        b"HOME=/home/tester",
        b"LANG=de_DE.ISO-8859-1",
        b"USER=tester",
        b"GREETING=gr\xfc\xdf dich",
        b"HOMEX=/keep",
        b"NOEQUALS",
        b"LOGNAME=tester",
        b"EMPTY=",
        b"LAST=1",
    ];
    // A uid without an entry: HOME=/, and no USER or LOGNAME naming somebody else.
    let numeric: &[&[u8]] = &[
        b"PATH=/usr/bin:/bin",
        b"HOME=/",
        b"LANG=de_DE.ISO-8859-1",
        b"GREETING=gr\xfc\xdf dich",
        b"HOMEX=/keep",
        b"NOEQUALS",
        b"EMPTY=",
        b"LAST=1",
    ];
    // Variables the caller did not set are added at the end.
    let bare: &[&[u8]] = &[b"PATH=/usr/bin:/bin"];
    let added: &[&[u8]] = &[
        b"PATH=/usr/bin:/bin",
        b"HOME=/home/tester",
        b"USER=tester",
        b"LOGNAME=tester",
    ];
    // Under emulation the entry without `=` and the second HOME never reach rein.
    let test = "home_user_and_logname_name_the_target_account_and_nothing_else_changes";
    let (env, named, numeric) = (
        emulator_env(test, env),
        emulator_env(test, named),
        emulator_env(test, numeric),
    );
    let (env, named, numeric) = (&env[..], &named[..], &numeric[..]);
    for mode in [Mode::Pid1, Mode::Plain] {
        for (spec, given, want) in [
            ("tester", env, named),
            ("tester:staff", env, named),
            ("7777", env, numeric),
            ("tester", bare, added),
        ] {
            let shown = |v: &[&[u8]]| -> Vec<OsString> {
                v.iter().map(|e| OsString::from_vec(e.to_vec())).collect()
            };
            let got = child_env(mode, PASSWD, spec, given);
            let got: Vec<&[u8]> = got.iter().map(Vec::as_slice).collect();
            assert_eq!(
                shown(&got),
                shown(want),
                "{mode:?} {spec}: left, what the child got; right, what it should get"
            );
        }
    }
}

#[test]
fn non_utf8_bytes_in_passwd_or_group_hide_no_entry() {
    if !root_namespaces("non_utf8_bytes_in_passwd_or_group_hide_no_entry") {
        return;
    }
    // Issue 8.5: one Latin-1 GECOS made `--user tester` fail as "unknown user", and one
    // non-UTF-8 member name silently dropped a supplementary group. Both files are bytes now,
    // and so is the home directory the child gets.
    let passwd: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n\
                          j\xfcrgen:x:4000:4000:J\xfcrgen M\xfcller:/home/j\xfcrgen:/bin/sh\n\
                          tester:x:4321:4322:T\xe9st User:/home/t\xe9ster:/bin/sh\n";
    let group: &[u8] = b"root:x:0:\ntester:x:4322:\n\
                         extra:x:5000:j\xfcrgen,tester\ncaf\xe9:x:5003:tester\n";
    for mode in [Mode::Pid1, Mode::Plain] {
        let dir = marker_dir();
        let ran = dir.join("ran");
        let mut argv: Vec<OsString> = ["env", "-i", "PATH=/usr/bin:/bin", rein(), "--user"]
            .map(OsString::from)
            .to_vec();
        argv.extend(["tester", "--", "sh", "-c", CHILD, "child"].map(OsString::from));
        argv.push(probe().into());
        argv.push(ran.clone().into());
        let out = with_accounts(mode, passwd, group, &argv);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(ran.exists());
        assert_eq!(field(&text, "Uid:"), ["4321"; 4], "{text}");
        assert_eq!(field(&text, "Groups:"), ["4322", "5000", "5003"], "{text}");
        let env = child_env(mode, passwd, "tester", &[b"PATH=/usr/bin:/bin"]);
        assert!(
            env.iter().any(|e| e == b"HOME=/home/t\xe9ster"),
            "{:?}",
            env.iter()
                .map(|e| std::ffi::OsStr::from_bytes(e))
                .collect::<Vec<_>>()
        );
    }
}
