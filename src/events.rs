//! Waiting: the one place rein sleeps. Signals arrive through a signalfd. While nothing is
//! scheduled rein blocks in `read` on it, so an idle rein never wakes (tini wakes every second)
//! and a signal costs one system call to receive, as for catatonit; only while a deadline is
//! armed (grace, `--kill-after`, `--timeout`, an owed scan for stopped group members) does it
//! wait in `poll` with a timeout first, then read what `poll` reported.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
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

/// The bytes one read of up to [`BATCH`] records lands in: owned by the caller and reused, so
/// a wake-up neither zeroes nor copies 2 KiB.
#[derive(Debug)]
pub struct RawBatch([u8; SIGINFO_SIZE * BATCH]);

impl Default for RawBatch {
    fn default() -> Self {
        Self([0; SIGINFO_SIZE * BATCH])
    }
}

impl SignalSource {
    /// Opens a signalfd for `mask`, in blocking mode (see [`Self::next`]). The signals must
    /// already be blocked, or they would be delivered by their default action instead of
    /// queued.
    pub fn open(mask: RawMask) -> io::Result<Self> {
        let fd = sys::signalfd(mask)?;
        let flags = OFlag::from_bits_retain(fcntl(&fd, FcntlArg::F_GETFL)?);
        fcntl(&fd, FcntlArg::F_SETFL(flags & !OFlag::O_NONBLOCK))?;
        Ok(Self { fd })
    }

    /// Waits for pending signals, at most until `deadline` (`None`: for ever), and reads up to
    /// [`BATCH`] of them into `out`; returns how many (0 when the deadline passed first).
    /// Fewer than [`BATCH`] means none was left at that moment, so no extra read is needed to
    /// find out. Without a deadline this is one blocking `read`; with one, `poll` first and a
    /// `read` only of what it reported (nothing else takes signals off rein's queue, so that
    /// read never blocks).
    pub fn next(
        &self,
        deadline: Option<Instant>,
        raw: &mut RawBatch,
        out: &mut [Received; BATCH],
    ) -> io::Result<usize> {
        if deadline.is_some() && !self.wait(deadline)? {
            return Ok(0);
        }
        self.read_batch(raw, out)
    }

    /// Blocks until a signal is pending or `deadline` passes. Returns `true` if a signal is
    /// pending.
    fn wait(&self, deadline: Option<Instant>) -> io::Result<bool> {
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

    /// Reads up to [`BATCH`] pending signals (blocking until one is pending); returns how
    /// many.
    fn read_batch(&self, raw: &mut RawBatch, out: &mut [Received; BATCH]) -> io::Result<usize> {
        let n = match nix::unistd::read(self.fd.as_fd(), &mut raw.0) {
            Ok(n) => n,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let records = n / SIGINFO_SIZE;
        for (slot, chunk) in out
            .iter_mut()
            .zip(raw.0[..records * SIGINFO_SIZE].chunks_exact(SIGINFO_SIZE))
        {
            *slot = parse_siginfo(chunk);
        }
        Ok(records)
    }
}

/// Picks the fields rein uses out of one `struct signalfd_siginfo` (`buf` is its 128 bytes):
/// `ssi_signo` (u32 at 0), `ssi_code` (i32 at 8) and `ssi_pid` (u32 at 12).
fn parse_siginfo(buf: &[u8]) -> Received {
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
