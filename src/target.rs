//! Who a signal goes to, and the one function that sends it there.
//!
//! Every signal rein sends goes through [`signal`]: what it forwards to the main child, the
//! `--timeout` and `--kill-after` signals, and the TERM and KILL for leftovers. That function
//! also owns the one rule about SIGCONT: a process stopped by job control (SIGSTOP, SIGTSTP)
//! acts on nothing but SIGKILL and SIGCONT, so a TERM, INT, QUIT or HUP sent to it would wait
//! until the grace ran out and it was killed without cleaning up. Such a signal is therefore
//! followed by SIGCONT, as bash does for a stopped job, but only when the target is stopped
//! at that moment: a running program with a CONT handler (a shell, an editor, a pager) must
//! not see a signal nobody sent.

use std::io;
use std::os::fd::OwnedFd;

use nix::libc;
use nix::unistd::{Pid, getpgid};

use crate::signals::num;
use crate::sys;

/// Where a signal goes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// One process by pid: `kill(pid, sig)`. Only for a pid rein knows is not recycled: its
    /// own unreaped child, or where no pidfd exists (kernels before 5.3).
    Process(Pid),
    /// A process group: `kill(-pgid, sig)`. The kernel hands out no pid that is still in use
    /// as a group id, so while the group has members, this reaches only them.
    Group(Pid),
    /// The main child's process group, `kill(-group, sig)`, and the main child itself if it
    /// has left that group (so it is reached exactly once either way).
    MainChild {
        /// The main child's pid; it is rein's child and not yet reaped.
        pid: Pid,
        /// Its process group at spawn (its own pid).
        group: Pid,
    },
    /// Every process in rein's PID namespace but rein: `kill(-1, sig)`, atomic with respect to
    /// fork (only meaningful as PID 1).
    Everyone,
    /// One process pinned by a pidfd: `pidfd_send_signal`, which cannot hit a recycled pid.
    Pinned(&'a OwnedFd),
}

impl Target<'_> {
    /// Sends `sig` (any number, real-time ones included) once.
    ///
    /// For [`Target::MainChild`], a group that is gone (the child moved to another group or
    /// session and nobody is left in it) is not an error as long as the child itself is
    /// reached.
    pub fn send(&self, sig: libc::c_int) -> io::Result<()> {
        match *self {
            Target::Process(pid) => sys::kill_raw(pid.as_raw(), sig),
            Target::Group(pgid) => sys::kill_raw(-pgid.as_raw(), sig),
            Target::MainChild { pid, group } => {
                let in_group = getpgid(Some(pid)) == Ok(group);
                let to_group = sys::kill_raw(-group.as_raw(), sig);
                if in_group {
                    to_group
                } else {
                    sys::kill_raw(pid.as_raw(), sig).or(to_group)
                }
            }
            Target::Everyone => sys::kill_raw(-1, sig),
            Target::Pinned(fd) => sys::pidfd_send_signal(fd, sig),
        }
    }
}

/// Whether `sig` asks a process to end, so that a stopped target must also get SIGCONT to act
/// on it: TERM, INT, QUIT and HUP. systemd and shells (for HUP) do the same.
pub fn wakes_stopped(sig: libc::c_int) -> bool {
    matches!(sig, num::TERM | num::INT | num::QUIT | num::HUP)
}

/// Sends `sig` to `target`; if `sig` asks to end (see [`wakes_stopped`]) and `stopped` says
/// the target is stopped once the signal is pending, follows it with SIGCONT.
///
/// `stopped` is asked after the signal went out, not before: a stopped process whose
/// disposition for `sig` is the default dies of it at once (the kernel wakes it to die), so
/// only one that still sits stopped, with the signal pending behind a handler or a mask,
/// needs the CONT. It is not asked at all for other signals.
pub fn signal(
    target: Target<'_>,
    sig: libc::c_int,
    stopped: impl FnOnce() -> bool,
) -> io::Result<()> {
    target.send(sig)?;
    if wakes_stopped(sig) && stopped() {
        // A failure here means the target ended meanwhile: nothing left to wake.
        let _ = target.send(num::CONT);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_signals_that_ask_to_end_wake_a_stopped_target() {
        for sig in [num::TERM, num::INT, num::QUIT, num::HUP] {
            assert!(wakes_stopped(sig), "{sig}");
        }
        for sig in [num::CONT, num::CHLD, num::PIPE, 9, 10, 12, 20, 28, 34, 64] {
            assert!(!wakes_stopped(sig), "{sig}");
        }
    }

    #[test]
    fn the_stop_check_is_made_only_for_signals_that_ask_to_end() {
        // Signal 0 checks existence and sends nothing; the check must not even be asked.
        let me = Target::Process(nix::unistd::getpid());
        signal(me, 0, || panic!("asked whether stopped for signal 0")).unwrap();
    }
}
