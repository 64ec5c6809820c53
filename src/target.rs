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
//!
//! Whether the main child's *group* has a stopped member can only be read from `/proc`, one
//! stat file per process: O(processes) work. Anyone in the container can send rein TERM, INT,
//! QUIT or HUP as often as it likes, so that scan is owed rather than made on the spot, and
//! paced by [`ScanBudget`]: it runs [`SCAN_SETTLE`] after the signal (by then a program that
//! obeys has usually exited, and its exit makes the scan moot), and under a flood of stopping
//! signals at most once per [`SCAN_SPACING`] times its own duration; a stopped member is woken
//! late instead of never, and one scan settles any number of stopping signals.

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use nix::libc;
use nix::unistd::{Pid, getpgid};

use crate::leftovers::{self, Scope};
use crate::proc;
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
                // The group first, so that the usual case costs nothing before the kill (this
                // is the hop every forwarded signal takes); then the child itself if it is no
                // longer in that group. A child that changes its group in the instant between
                // the two calls gets the signal twice (left after the kill) or not at all (came
                // back before the check); checking first only moves that window.
                let to_group = sys::kill_raw(-group.as_raw(), sig);
                if getpgid(Some(pid)) == Ok(group) {
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

/// Whether some live member of process group `group` in `scope` (other than rein) is stopped,
/// from `/proc`. As PID 1 every process of the namespace is read, one stat file at a time,
/// until the first stopped member; as a subreaper, rein's descendants. `false` without
/// `/proc`: nobody is woken whose state is unknown.
pub fn group_has_stopped_member(scope: Scope, group: Pid, me: i32) -> bool {
    let stopped_member = |s: &proc::Stat| s.pgrp == group.as_raw() && s.is_stopped() && s.pid != me;
    match scope {
        Scope::Namespace => {
            if !proc::is_ours() {
                return false;
            }
            proc::pids().is_some_and(|pids| {
                pids.into_iter()
                    .any(|pid| proc::stat(pid).is_some_and(|s| stopped_member(&s)))
            })
        }
        Scope::Descendants(_) => leftovers::discover(scope, me)
            .unwrap_or_default()
            .iter()
            .any(stopped_member),
    }
}

/// How long, in multiples of its own duration, a scan for stopped group members keeps the
/// next one waiting: under a flood of stopping signals the scans take at most 1/(1+16) of a
/// CPU, and a stopped member is woken at most 16 scan-durations late (a few ms with hundreds
/// of processes, about a second with 20,000 on a slow machine).
pub const SCAN_SPACING: u32 = 16;

/// How long after a stopping signal the scan for stopped group members waits: a program that
/// acts on the signal at once has exited by then (the shutdown path then owes nothing), one
/// that is stopped is woken this much later.
pub const SCAN_SETTLE: Duration = Duration::from_millis(1);

/// The pacing of the group scan (a pure state machine over injected instants).
///
/// A stopping signal that went to the group owes a scan ([`Self::request`]), due at
/// [`Self::deadline`]: [`SCAN_SETTLE`] later, and no sooner than [`SCAN_SPACING`] times the
/// last scan's duration after it ended. However many stopping signals arrive meanwhile, one
/// scan settles them all. An owed scan is dropped ([`Self::cancel`]) when the question is moot:
/// the group got a SIGCONT or a stop signal after the stopping one (the latest request wins), or the main
/// child is gone (the shutdown path wakes stopped leftovers itself).
#[derive(Debug, Default, Clone)]
pub struct ScanBudget {
    /// When the owed scan is due; `None` while no scan is owed.
    due: Option<Instant>,
    /// The earliest a scan may run, from the last one's duration.
    next: Option<Instant>,
}

impl ScanBudget {
    /// A stopping signal went to the group at `now`: a scan is owed.
    pub fn request(&mut self, now: Instant) {
        if self.due.is_some() {
            return; // the scan already owed answers for this signal too
        }
        let settled = now + SCAN_SETTLE;
        self.due = Some(self.next.map_or(settled, |n| n.max(settled)));
    }

    /// A scan ran from `start` to `end`: the next one waits [`SCAN_SPACING`] times as long.
    pub fn ran(&mut self, start: Instant, end: Instant) {
        self.due = None;
        let took = end.saturating_duration_since(start);
        self.next = Some(end + took.saturating_mul(SCAN_SPACING));
    }

    /// Drops an owed scan.
    pub fn cancel(&mut self) {
        self.due = None;
    }

    /// Whether a scan is owed.
    pub fn is_owed(&self) -> bool {
        self.due.is_some()
    }

    /// When the owed scan is due, if one is owed.
    pub fn deadline(&self) -> Option<Instant> {
        self.due
    }

    /// Whether an owed scan is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.due.is_some_and(|d| now >= d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_owed_for_the_settle_time_and_a_flood_owes_one_scan() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut b = ScanBudget::default();
        b.request(t0);
        assert_eq!(b.deadline(), Some(t0 + SCAN_SETTLE));
        // A second stopping signal before it is due changes nothing.
        b.request(t0 + Duration::from_micros(500));
        assert_eq!(b.deadline(), Some(t0 + SCAN_SETTLE));
        assert!(!b.due(t0));
        assert!(b.due(t0 + SCAN_SETTLE));
        b.ran(t0 + SCAN_SETTLE, t0 + SCAN_SETTLE + ms(2));
        assert!(!b.is_owed());
        let next = t0 + SCAN_SETTLE + ms(2) + ms(2) * SCAN_SPACING;
        // Every stopping signal before `next` owes the same single scan, due at `next`.
        for k in 1..100 {
            b.request(t0 + ms(4) + Duration::from_micros(k));
            assert_eq!(b.deadline(), Some(next));
        }
        b.ran(next, next + ms(1));
        // Long after the last scan, the settle time alone counts again.
        let later = next + ms(100);
        b.request(later);
        assert_eq!(b.deadline(), Some(later + SCAN_SETTLE));
    }

    #[test]
    fn an_owed_scan_can_be_dropped() {
        let t0 = Instant::now();
        let mut b = ScanBudget::default();
        b.request(t0);
        assert!(b.is_owed());
        b.cancel();
        assert_eq!(b.deadline(), None);
        assert!(!b.due(t0 + Duration::from_secs(1)));
    }

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
