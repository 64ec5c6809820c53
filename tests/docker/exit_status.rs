use crate::harness::{Container, Fixture, fixture};

/// Runs `command` under rein in a fresh container; returns `docker run`'s exit code and stderr,
/// after checking that docker recorded the same code as the container's.
fn run_under_rein(fx: &Fixture, command: &[&str]) -> (Option<i32>, String) {
    let c = Container::named("exit");
    let mut argv = vec!["/rein", "--"];
    argv.extend_from_slice(command);
    let r = c.run(fx, &[], &argv);
    let (running, recorded) = c.state();
    assert!(!running);
    assert_eq!(
        r.code,
        Some(recorded),
        "client and engine disagree:{}",
        r.dump()
    );
    (r.code, r.stderr)
}

#[test]
fn exit_codes_pass_through_docker_run() {
    let Some(fx) = fixture("exit_codes_pass_through_docker_run") else {
        return;
    };
    for (command, want) in [
        (&["true"][..], 0),
        (&["sh", "-c", "exit 3"][..], 3),
        (&["sh", "-c", "exit 255"][..], 255),
        // Killed by SIGKILL: 128 + 9.
        (&["sh", "-c", "kill -KILL $$"][..], 137),
    ] {
        let (code, stderr) = run_under_rein(fx, command);
        assert_eq!(code, Some(want), "{command:?}; stderr: {stderr}");
        assert_eq!(
            stderr, "",
            "rein must be silent on a normal run: {command:?}"
        );
    }
}

#[test]
fn exec_failures_give_127_and_126_with_a_one_line_message() {
    let Some(fx) = fixture("exec_failures_give_127_and_126_with_a_one_line_message") else {
        return;
    };
    // /etc/hostname is a file docker creates in every container, without execute permission.
    for (program, want, reason) in [
        ("no-such-program", 127, "No such file or directory"),
        ("/etc/hostname", 126, "Permission denied"),
    ] {
        let (code, stderr) = run_under_rein(fx, &[program]);
        assert_eq!(code, Some(want), "{program}; stderr: {stderr}");
        let prefix = format!("rein: cannot run '{program}': ");
        assert!(
            stderr.starts_with(&prefix) && stderr.contains(reason) && stderr.lines().count() == 1,
            "expected one line `{prefix}...{reason}`, got: {stderr:?}"
        );
    }
}
