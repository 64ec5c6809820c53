//! The harness itself: what it starts has clean signal state however the suite was launched,
//! a dropped run never signals a pid that is no longer its process's, and a marked process is
//! found also while it is inside execve.

use std::process::Command;

use crate::harness::{
    DEADLINE, Run, has_mark, namespaces_available, new_mark, ns_command, say, state, wait_until,
};
use crate::support::printed_masks;

/// Run as a background job of a shell (INT and QUIT ignored), or from a wrapper that blocks
/// and ignores signals, the test process passes all of it on to what it starts; glibc's
/// posix_spawn adds 32 and 33 as ignored. What the harness starts has none of it.
/// (`bash -c 'trap "" INT QUIT; cargo test --test pid1 & wait'` is the launch that shows it.)
#[test]
fn what_the_harness_starts_has_no_signal_blocked_or_ignored() {
    let grep = ["grep", "Sig", "/proc/self/status"];
    let mut cmds = vec![("plain", {
        let mut c = Command::new(grep[0]);
        c.args(&grep[1..]);
        c
    })];
    if namespaces_available("what_the_harness_starts_has_no_signal_blocked_or_ignored") {
        cmds.push(("as PID 1", ns_command(&grep)));
    }
    for (what, cmd) in cmds {
        let out = Run::spawn(cmd).finish();
        assert_eq!(out.code, Some(0), "{what}: {out:?}");
        assert_eq!(printed_masks(&out.stdout), (0, 0), "{what}: {out:?}");
    }
}

/// Makes a process with pid `pid` (clone3 with `set_tid`, which needs CAP_SYS_ADMIN) that
/// waits in pause(2) until it is killed; `None` if the kernel refused.
fn process_with_pid(pid: i32) -> Option<i32> {
    let tid = [pid];
    // struct clone_args (CLONE_ARGS_SIZE_VER2): flags, pidfd, child_tid, parent_tid,
    // exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup.
    let mut args = [0u64; 11];
    args[4] = nix::libc::SIGCHLD as u64;
    args[8] = tid.as_ptr() as u64;
    args[9] = 1;
    // SAFETY: clone3(2) without CLONE_VM is a fork: the child gets a copy of this memory
    // (`args` and `tid` are live) and runs only pause(2), which is async-signal-safe, until it
    // is killed; it never returns into this function.
    let rc = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_clone3,
            args.as_ptr(),
            std::mem::size_of_val(&args),
        )
    };
    match rc {
        0 => loop {
            // SAFETY: pause(2) takes nothing; the child ends only by a signal.
            unsafe { nix::libc::pause() };
        },
        n if n > 0 => Some(n as i32),
        _ => None,
    }
}

/// Whether our child `pid` has been sent SIGKILL, asked after the fact: it is sent SIGSTOP and
/// waited for. A process already dying of a SIGKILL drops the SIGSTOP (prepare_signal in
/// kernel/signal.c) and exits; one that was not sent it stops. Either way waitpid(2) returns,
/// with no polling and no timing. Leaves the process reaped.
fn was_killed(pid: i32) -> bool {
    crate::harness::kill(pid, nix::libc::SIGSTOP);
    let mut st = 0;
    // SAFETY: waitpid(2) on our own child, writing into the live `st`.
    let rc = unsafe { nix::libc::waitpid(pid, &mut st, nix::libc::WUNTRACED) };
    assert_eq!(rc, pid, "waitpid: {}", std::io::Error::last_os_error());
    let killed = nix::libc::WIFSIGNALED(st) && nix::libc::WTERMSIG(st) == nix::libc::SIGKILL;
    if nix::libc::WIFSTOPPED(st) {
        crate::harness::kill(pid, nix::libc::SIGKILL);
        // SAFETY: as above; the stopped child dies of the SIGKILL.
        unsafe { nix::libc::waitpid(pid, &mut st, 0) };
    }
    killed
}

/// A run whose process has exited and been reaped (by the harness's wait thread), and is
/// dropped without a look at its status: its pid is free, and here another process takes it.
/// Dropping the run used to SIGKILL that pid, i.e. the unrelated process.
#[test]
fn dropping_a_run_after_the_reap_signals_nobody_even_when_the_pid_is_taken() {
    let test = "dropping_a_run_after_the_reap_signals_nobody";
    if !nix::unistd::geteuid().is_root() {
        say(&format!(
            "SKIPPED (not root): {test}: needs CAP_SYS_ADMIN to make a process with a chosen pid"
        ));
        return;
    }
    let run = Run::spawn(Command::new("true"));
    let pid = run.pid() as i32;
    // Gone from /proc only once reaped (a zombie would still be listed).
    wait_until("the wait thread has reaped `true`", DEADLINE, || {
        state(pid).is_none()
    });
    let Some(victim) = process_with_pid(pid) else {
        say(&format!(
            "SKIPPED: {test}: clone3 with set_tid={pid} failed: {}",
            std::io::Error::last_os_error()
        ));
        return;
    };
    assert_eq!(victim, pid);
    drop(run);
    assert!(
        !was_killed(victim),
        "dropping the run killed pid {pid}, which was no longer its process"
    );
}

/// A process that re-execs itself without end (each time with the mark in its environment)
/// spends part of its time inside execve, where `/proc/PID/environ` can read empty. Every
/// look must find the mark all the same.
#[test]
fn a_process_inside_execve_still_has_its_mark() {
    let (k, v) = new_mark("exec-loop");
    let mark = format!("{k}={v}");
    let again = r#"exec sh -c "$0" "$0""#;
    let mut cmd = Command::new("sh");
    cmd.args(["-c", again, again]).env(&k, &v);
    let mut run = Run::spawn(cmd);
    let pid = run.pid() as i32;
    let looks = 20_000;
    let missed = (0..looks).filter(|_| !has_mark(pid, &mark)).count();
    assert!(run.kill_started(9), "the exec loop ended by itself");
    let out = run.finish_within(DEADLINE);
    assert_eq!(out.code, None, "{out:?}");
    assert_eq!(missed, 0, "{missed} of {looks} looks missed the mark");
}
