//! Reaping: collecting the exit status of every child, so no zombie stays behind.
//!
//! SIGCHLD is a standard signal, so any number of child exits between two reads of the
//! signalfd coalesce into one pending SIGCHLD. One SIGCHLD therefore means "one or more
//! children may have exited", and rein loops `waitpid(-1, WNOHANG)` until nothing is left to
//! collect.
//!
//! Stops and continues of the main child are collected separately, by [`main_child_stop`]:
//! rein needs to know whether the main child is stopped (to wake it for a TERM), and of no
//! other child. Asking `waitpid(-1)` for stop reports too would have it return one for every
//! stop and continue of any child, which anyone in the container can cause at will with
//! `kill -STOP`/`kill -CONT` and no fork at all, so the loop that must reach every zombie could
//! be kept busy with them (the kernel returns the first child in its list that has a report,
//! so a child flooded with STOP and CONT ahead of a zombie would keep the zombie, and every
//! signal behind the loop, waiting); and each report would have to be told apart from an
//! exit. So the reaping loops ask for exits only, and the supervisor asks [`main_child_stop`]
//! once per SIGCHLD wake-up while job control is on, otherwise once per forwarded stopping
//! signal: a flood of stops costs at most one targeted call per wake-up, whoever is flooded.

use nix::errno::Errno;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

/// One collected child: its pid and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// The pid, which is free for reuse from this moment on: never signal it again.
    pub pid: Pid,
    /// Its status: `Exited` or `Signaled`.
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
pub fn reap_zombies(each: impl FnMut(Reaped)) -> bool {
    reap_exited(usize::MAX, each) == Stopped::NoChildren
}

/// What the kernel last reported about the main child's job-control state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReport {
    /// It was stopped by this signal.
    Stopped(nix::sys::signal::Signal),
    /// It was resumed by SIGCONT.
    Continued,
}

/// Collects a pending stop or continue report of `pid` (rein's unreaped child), if any.
///
/// `waitid(P_PID, pid, WSTOPPED | WCONTINUED | WNOHANG)` without `WEXITED`, so the child's
/// exit is never consumed here: it stays for [`reap_zombies`]. The kernel keeps at most one
/// such report per child (a continue replaces a stop and the reverse), so one call brings the
/// state up to date.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/waitid.2.html>
pub fn main_child_stop(pid: Pid) -> Option<StopReport> {
    let flags = WaitPidFlag::WSTOPPED | WaitPidFlag::WCONTINUED | WaitPidFlag::WNOHANG;
    loop {
        return match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::Stopped(_, sig)) => Some(StopReport::Stopped(sig)),
            Ok(WaitStatus::Continued(_)) => Some(StopReport::Continued),
            Err(Errno::EINTR) => continue,
            // Nothing new (StillAlive), or the child is gone (ECHILD): nothing to report.
            Ok(_) | Err(_) => None,
        };
    }
}

/// What [`reap_child`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// It had exited and is reaped now.
    Reaped(Reaped),
    /// It has not exited yet.
    Running,
    /// `pid` is not (or no longer) a child of rein (`ECHILD`), or waiting failed.
    NotOurs,
}

/// Reaps `pid`, one of rein's own children, if it has exited, without blocking:
/// `waitpid(pid, WNOHANG | __WALL)`, which reports exits only.
///
/// The kernel looks the pid up directly, where `waitpid(-1)` walks rein's whole list of
/// children on every call (holding the tasklist lock, which every exiting process needs as
/// well): with 20,000 leftovers exiting at once, reaping them one `waitpid(-1)` at a time took
/// seconds, and by pid it takes as long as the exits themselves.
pub fn reap_child(pid: Pid) -> ChildState {
    let flags = WaitPidFlag::WNOHANG | WaitPidFlag::__WALL;
    loop {
        return match waitpid(pid, Some(flags)) {
            Ok(WaitStatus::StillAlive) => ChildState::Running,
            Ok(status) => match status.pid() {
                Some(pid) => ChildState::Reaped(Reaped { pid, status }),
                None => ChildState::Running,
            },
            Err(Errno::EINTR) => continue,
            Err(_) => ChildState::NotOurs,
        };
    }
}

/// Where [`reap_exited`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// rein has no child left (`ECHILD`).
    NoChildren,
    /// Children exist but none has exited (or waiting failed).
    NoneExited,
    /// It reaped as many as it was allowed: more may have exited.
    Budget,
}

/// Reaps up to `budget` exited children with `waitpid(-1, WNOHANG | __WALL)`, exits only,
/// handing each to `each`. Unlike [`reap_zombies`] it stops after `budget`, so that while
/// thousands of leftovers exit, a pass (each call of which walks rein's whole list of
/// children) cannot turn into a loop that lasts as long as the exits keep coming.
pub fn reap_exited(budget: usize, mut each: impl FnMut(Reaped)) -> Stopped {
    // Exits only: no WUNTRACED or WCONTINUED (see the module doc). The main child's stops come
    // from `main_child_stop`.
    let flags = WaitPidFlag::WNOHANG | WaitPidFlag::__WALL;
    let mut left = budget;
    while left > 0 {
        match waitpid(None::<Pid>, Some(flags)) {
            // Children exist but none has exited yet.
            Ok(WaitStatus::StillAlive) => return Stopped::NoneExited,
            Ok(status) => {
                if let Some(pid) = status.pid() {
                    each(Reaped { pid, status });
                }
                left -= 1;
            }
            Err(Errno::EINTR) => {}
            Err(Errno::ECHILD) => return Stopped::NoChildren,
            Err(e) => {
                log::warn!("waitpid failed: {e}");
                return Stopped::NoneExited;
            }
        }
    }
    Stopped::Budget
}
