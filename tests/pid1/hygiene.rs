//! After spawning, rein lets go of what it inherited: its cwd becomes `/` and it holds no
//! descriptor above 2 except its own: its procfs (`proc::pin`) and its signalfd, while the
//! main child keeps the cwd and the inherited descriptors it was started with.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;

use crate::harness::{DEADLINE, Mode, Run, TempDir, command, namespaces_available, wait_until};

/// rein's descriptors as `fd -> link target`, from `/proc/REIN/fd`.
fn fds(pid: i32) -> Vec<(i32, String)> {
    let mut out: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            // A descriptor closed between readdir and readlink is simply not listed.
            let target = std::fs::read_link(e.path()).ok()?;
            let fd = e.file_name().to_str()?.parse().ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn rein_keeps_no_cwd_and_no_inherited_fd_but_the_child_does() {
    let dir = TempDir::new("hygiene");
    let cwd = std::fs::canonicalize(&dir.0).unwrap();
    let file_path = dir.join("inherited");
    std::fs::write(&file_path, "x").unwrap();
    let script = "echo \"cwd=$(pwd -P)\"; echo \"fd5=$(readlink /proc/self/fd/5)\"; \
                  echo ready; read x; exit 0";
    let mut modes = vec![Mode::Plain];
    if namespaces_available("rein_keeps_no_cwd_and_no_inherited_fd_but_the_child_does") {
        modes.push(Mode::Pid1);
    }
    for mode in modes {
        let file = std::fs::File::open(&file_path).unwrap();
        let raw = file.as_raw_fd();
        let mut cmd = command(mode, &["--", "sh", "-c", script]);
        cmd.current_dir(&cwd);
        let hook = move || {
            // The file may already be fd 5 (whatever the test's other threads hold open), and
            // dup2 onto itself keeps its close-on-exec flag (std opens with O_CLOEXEC): then
            // the flag is cleared instead, or the child would find fd 5 closed.
            let ok = if raw == 5 {
                // SAFETY: fcntl(F_SETFD) on an open descriptor is async-signal-safe.
                (unsafe { nix::libc::fcntl(5, nix::libc::F_SETFD, 0) }) == 0
            } else {
                // SAFETY: dup2 is async-signal-safe; `raw` is open in the forked child
                // (close-on-exec only acts at exec), and the copy on fd 5 has no such flag.
                (unsafe { nix::libc::dup2(raw, 5) }) == 5
            };
            if ok {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        };
        // SAFETY: the hook makes one async-signal-safe call and allocates nothing on success.
        unsafe { cmd.pre_exec(hook) };
        let mut run = Run::spawn(cmd);
        let cwd_line = run.expect_line("cwd=", |l| l.starts_with("cwd="));
        let fd_line = run.expect_line("fd5=", |l| l.starts_with("fd5="));
        run.expect_line("ready", |l| l == "ready");
        drop(file);
        let rein = run.rein_pid(mode);
        // The child can print before rein has gone on from the spawn: rein opens its signalfd
        // right after letting go, so wait for that, then look.
        wait_until("rein has opened its signalfd", DEADLINE, || {
            fds(rein).iter().any(|(_, t)| t == "anon_inode:[signalfd]")
        });
        assert_eq!(
            std::fs::read_link(format!("/proc/{rein}/cwd")).unwrap(),
            std::path::Path::new("/"),
            "{mode:?}: rein's cwd"
        );
        let held = fds(rein);
        let mut above_2: Vec<&str> = held
            .iter()
            .filter(|(fd, _)| *fd > 2)
            .map(|(_, t)| t.as_str())
            .collect();
        above_2.sort_unstable();
        assert_eq!(
            above_2,
            ["/proc", "anon_inode:[signalfd]"],
            "{mode:?}: rein holds {held:?}"
        );
        assert_eq!(cwd_line, format!("cwd={}", cwd.display()), "{mode:?}");
        assert_eq!(fd_line, format!("fd5={}", file_path.display()), "{mode:?}");
        let out = run.finish();
        assert_eq!(out.code, Some(0), "{mode:?}: {out:?}");
    }
}
