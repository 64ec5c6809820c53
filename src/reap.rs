//! Reaping: collecting the exit status of every child, so no zombie stays behind.
//!
//! SIGCHLD is a standard signal, so any number of child exits between two reads of the
//! signalfd coalesce into one pending SIGCHLD. One SIGCHLD therefore means "one or more
//! children may have exited", and rein loops `waitpid(-1, WNOHANG)` until nothing is left to
//! collect.

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// One collected child: its pid and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// The pid, which is free for reuse from this moment on: never signal it again.
    pub pid: Pid,
    /// Its status: `Exited` or `Signaled` when reaped; `Stopped` or `Continued` for a report
    /// that leaves the child in place.
    pub status: WaitStatus,
}

/// Collects every exited child now, without blocking, handing each to `each` as it comes
/// (nothing is buffered, so reaping 100,000 orphans costs no memory). Returns `true` if rein
/// has no children left at all (`ECHILD`).
///
/// `__WALL` also collects children whose exit signal is not SIGCHLD (clone(2) without
/// SIGCHLD), which would otherwise stay zombies forever under a PID 1.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/waitpid.2.html>
pub fn reap_zombies(mut each: impl FnMut(Reaped)) -> bool {
    // Issue 12 (job control): WUNTRACED | WCONTINUED also report stops and continues, which
    // reap nothing; `each` tells them apart by their status.
    let flags = WaitPidFlag::WNOHANG
        | WaitPidFlag::__WALL
        | WaitPidFlag::WUNTRACED
        | WaitPidFlag::WCONTINUED;
    loop {
        match waitpid(None::<Pid>, Some(flags)) {
            // Children exist but none has exited yet.
            Ok(WaitStatus::StillAlive) => return false,
            Ok(status) => {
                if let Some(pid) = status.pid() {
                    each(Reaped { pid, status });
                }
            }
            Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => return true,
            Err(e) => {
                log::warn!("waitpid failed: {e}");
                return false;
            }
        }
    }
}
