//! Waiting: the one place rein sleeps. Signals arrive through a signalfd and rein waits for it
//! in `poll`, with no timeout while nothing is scheduled, so an idle rein never wakes (tini wakes
//! every second). A timeout is used only while a deadline is armed (grace, `--kill-after`,
//! `--timeout`).

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::sys::{self, RawMask};

/// A signal read from the signalfd, with the sender's pid when the kernel knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Received {
    /// The signal number.
    pub signo: i32,
    /// `si_code`: `SI_USER` (0) for kill(2), `SI_KERNEL` (0x80) for the kernel, ...
    pub code: i32,
    /// `si_pid` of the sender (0 when the sender is outside rein's PID namespace).
    pub pid: u32,
}

/// `si_code` of kill(2), raise(3) and the kernel's parent-death signal.
pub const SI_USER: i32 = 0;
/// `si_code` of sigqueue(3).
pub const SI_QUEUE: i32 = -1;
/// `si_code` of tkill(2) and tgkill(2).
pub const SI_TKILL: i32 = -6;

impl Received {
    /// Whether a process sent the signal (kill, sigqueue, tkill/tgkill), as opposed to the
    /// kernel raising it for an event of rein's own. A process cannot pass its signal off as
    /// the kernel's: rt_sigqueueinfo(2) refuses a code of 0 or more (the kernel's range, a
    /// fault's included) from anyone but the target itself, and any other negative code it
    /// may pick only gets its signal dropped.
    pub fn sent_by_a_process(&self) -> bool {
        matches!(self.code, SI_USER | SI_QUEUE | SI_TKILL)
    }
}

/// The blocked signals rein waits for, as a readable descriptor.
#[derive(Debug)]
pub struct SignalSource {
    fd: OwnedFd,
}

/// How many signals one read takes at most.
pub const BATCH: usize = 16;

/// `sizeof(struct signalfd_siginfo)`.
const SIGINFO_SIZE: usize = 128;

impl SignalSource {
    /// Opens a signalfd for `mask`. The signals must already be blocked, or they would be
    /// delivered by their default action instead of queued.
    pub fn open(mask: RawMask) -> io::Result<Self> {
        Ok(Self {
            fd: sys::signalfd(mask)?,
        })
    }

    /// Blocks until a signal is pending or `deadline` passes. Returns `true` if a signal is
    /// pending. `None` waits forever in one `poll` call.
    pub fn wait(&self, deadline: Option<Instant>) -> io::Result<bool> {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                // Round up so a deadline is never reported early; cap at poll's maximum.
                let left = d.saturating_duration_since(Instant::now());
                let ms = left.as_micros().div_ceil(1000);
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(n) => Ok(n > 0),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads up to `out.len()` pending signals without blocking; returns how many. Fewer
    /// than `out.len()` means none was left at that moment, so no extra read is needed to
    /// find out (one `read` per wake-up in the usual case of a single signal).
    pub fn read_batch(&self, out: &mut [Received; BATCH]) -> io::Result<usize> {
        let mut buf = [0u8; SIGINFO_SIZE * BATCH];
        let n = match nix::unistd::read(self.fd.as_fd(), &mut buf) {
            Ok(n) => n,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let records = n / SIGINFO_SIZE;
        for (slot, chunk) in out
            .iter_mut()
            .zip(buf[..records * SIGINFO_SIZE].chunks_exact(SIGINFO_SIZE))
        {
            let mut one = [0u8; SIGINFO_SIZE];
            one.copy_from_slice(chunk);
            *slot = parse_siginfo(&one);
        }
        Ok(records)
    }
}

/// Picks the fields rein uses out of `struct signalfd_siginfo`: `ssi_signo` (u32 at 0),
/// `ssi_code` (i32 at 8) and `ssi_pid` (u32 at 12).
fn parse_siginfo(buf: &[u8; SIGINFO_SIZE]) -> Received {
    let word = |at: usize| [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    Received {
        signo: i32::from_ne_bytes(word(0)),
        code: i32::from_ne_bytes(word(8)),
        pid: u32::from_ne_bytes(word(12)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kill_sigqueue_and_tkill_count_as_sent_by_a_process() {
        let rec = |code| Received {
            signo: 11,
            code,
            pid: 1,
        };
        for code in [SI_USER, SI_QUEUE, SI_TKILL] {
            assert!(rec(code).sent_by_a_process(), "{code}");
        }
        // SI_KERNEL, SEGV_MAPERR, BUS_MCEERR_AO, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO.
        for code in [0x80, 1, 5, -2, -3, -4, -5] {
            assert!(!rec(code).sent_by_a_process(), "{code}");
        }
    }

    #[test]
    fn siginfo_fields_are_read_from_their_offsets() {
        let mut buf = [0u8; SIGINFO_SIZE];
        buf[0..4].copy_from_slice(&15u32.to_ne_bytes());
        buf[8..12].copy_from_slice(&0x80i32.to_ne_bytes());
        buf[12..16].copy_from_slice(&4242u32.to_ne_bytes());
        assert_eq!(
            parse_siginfo(&buf),
            Received {
                signo: 15,
                code: 0x80,
                pid: 4242
            }
        );
    }
}
