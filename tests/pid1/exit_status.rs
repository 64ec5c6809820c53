use crate::harness::{Mode, namespaces_available, run};

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[test]
fn every_exit_code_passes_through_as_pid1() {
    if !namespaces_available("every_exit_code_passes_through_as_pid1") {
        return;
    }
    for code in 0..=255 {
        let out = run(Mode::Pid1, &sh(&format!("exit {code}")));
        assert_eq!(out.code, Some(code), "exit {code}: {out:?}");
        assert_eq!(out.stderr, "", "a normal run prints nothing");
    }
}

#[test]
fn every_exit_code_passes_through_as_plain_process() {
    for code in [0, 1, 2, 42, 124, 125, 126, 127, 128, 143, 255] {
        let out = run(Mode::Plain, &sh(&format!("exit {code}")));
        assert_eq!(out.code, Some(code), "exit {code}: {out:?}");
    }
}

#[test]
fn a_child_killed_by_signal_n_gives_128_plus_n() {
    if !namespaces_available("a_child_killed_by_signal_n_gives_128_plus_n") {
        return;
    }
    for (name, n) in [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("TERM", 15),
        ("ALRM", 14),
    ] {
        for mode in [Mode::Pid1, Mode::Plain] {
            let out = run(mode, &sh(&format!("kill -{name} $$")));
            assert_eq!(out.code, Some(128 + n), "{name} in {mode:?}: {out:?}");
        }
    }
}

#[test]
fn a_missing_program_gives_127_with_one_line_naming_it() {
    let out = run(Mode::Plain, &["rein-no-such-program"]);
    assert_eq!(out.code, Some(127));
    assert_eq!(
        out.stderr,
        "rein: cannot run 'rein-no-such-program': No such file or directory\n"
    );
}

#[test]
fn a_program_that_cannot_execute_gives_126() {
    let dir = crate::harness::TempDir::new("noexec");
    let file = dir.join("script");
    std::fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
    for (path, why) in [
        (file.to_str().unwrap(), "Permission denied"),
        ("/", "Permission denied"),
    ] {
        let out = run(Mode::Plain, &[path]);
        assert_eq!(out.code, Some(126), "{path}: {out:?}");
        assert_eq!(out.stderr, format!("rein: cannot run '{path}': {why}\n"));
    }
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, [0x7f, b'E', b'L', b'F', 0, 0, 0, 0]).unwrap();
    std::fs::set_permissions(
        &garbage,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = run(Mode::Plain, &[garbage.to_str().unwrap()]);
    assert_eq!(out.code, Some(126), "{out:?}");
    assert!(
        out.stderr
            .starts_with(&format!("rein: cannot run '{}': ", garbage.display())),
        "{out:?}"
    );
}

#[test]
fn usage_errors_give_125_and_one_line() {
    for (args, needle) in [
        (vec![], "no PROGRAM given"),
        (vec!["--bogus", "true"], "unknown option '--bogus'"),
        (vec!["--grace", "abc", "true"], "invalid duration 'abc'"),
        (vec!["--rewrite", "TERM", "true"], "invalid rewrite 'TERM'"),
        (
            vec!["--exit-zero", "300", "true"],
            "invalid exit code '300'",
        ),
        (
            vec!["--user", "rein-nosuch-user", "true"],
            "unknown user 'rein-nosuch-user'",
        ),
        (
            vec!["--status-file", "/rein-missing-dir/s.json", "true"],
            "/rein-missing-dir",
        ),
    ] {
        let out = run(Mode::Plain, &args);
        assert_eq!(out.code, Some(125), "{args:?}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.starts_with("rein: ") && out.stderr.contains(needle),
            "{args:?}: {out:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn options_stop_at_the_program_so_its_flags_reach_it() {
    let out = run(Mode::Plain, &["sh", "-c", "echo \"$0 $1\"", "-v", "--help"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-v --help\n");
}

#[test]
fn help_and_version_go_to_stdout_and_exit_0() {
    let out = run(Mode::Plain, &["--help"]);
    assert_eq!(out.code, Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["--single-child", "--grace", "REIN_LOG", "127", "126", "125"] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let out = run(Mode::Plain, &["-V"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("rein {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn non_utf8_environment_values_are_rejected_not_mangled() {
    use std::os::unix::ffi::OsStringExt;
    let dir = crate::harness::TempDir::new("envutf8");
    let mut path = dir.0.as_os_str().to_os_string().into_vec();
    path.extend_from_slice(b"/s\xff.json");
    let mut cmd = crate::harness::command(Mode::Plain, &["true"]);
    cmd.env("REIN_STATUS_FILE", std::ffi::OsString::from_vec(path));
    let out = crate::harness::Run::spawn(cmd).finish();
    assert_eq!(out.code, Some(125), "{out:?}");
    assert!(
        out.stderr.contains("REIN_STATUS_FILE is not valid UTF-8"),
        "{out:?}"
    );
    // Nothing was written under a lossily decoded name either.
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
}
