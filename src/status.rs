//! How a wait status becomes rein's exit code: the one rule every peer agrees on (a child killed
//! by signal N gives 128+N), plus the wrapper codes of coreutils `timeout`/`env` and `docker run`
//! for the cases where the program never ran or rein itself failed.

use nix::sys::wait::WaitStatus;

/// rein itself failed (bad usage, a failed set-up step) before the program could run.
pub const REIN_FAILED: u8 = 125;
/// The program was found but could not be executed (permission, a directory, bad format).
pub const CANNOT_EXECUTE: u8 = 126;
/// The program was not found.
pub const NOT_FOUND: u8 = 127;
/// `--timeout` expired, as coreutils `timeout`.
pub const TIMED_OUT: u8 = 124;

/// How the main child ended, as far as the exit code is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    /// It called `exit(code)`.
    Exited(u8),
    /// Signal number `n` killed it.
    Signalled(i32),
}

impl ChildEnd {
    /// Reads a terminal wait status; `None` for stops, continues and `StillAlive`, which are not
    /// an end.
    pub fn from_wait(status: WaitStatus) -> Option<Self> {
        match status {
            WaitStatus::Exited(_, code) => Some(Self::Exited(low_byte(code))),
            WaitStatus::Signaled(_, sig, _) => Some(Self::Signalled(sig as i32)),
            _ => None,
        }
    }

    /// The shell's convention: the exit code, or 128+N for signal N, reduced modulo 256 as the
    /// kernel would reduce it (a real-time signal 64 gives 192, never more than 255).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Exited(code) => code,
            Self::Signalled(sig) => low_byte(128 + sig),
        }
    }

    /// The number of the signal that killed the child, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            Self::Exited(_) => None,
            Self::Signalled(sig) => Some(sig),
        }
    }
}

/// Keeps the low 8 bits, which is all a parent can ever see of an exit code.
fn low_byte(v: i32) -> u8 {
    // to_le_bytes()[0] is exactly `v & 0xff`, with no cast to argue about.
    v.to_le_bytes()[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    #[test]
    fn every_exit_code_passes_through_unchanged() {
        for code in 0..=255u8 {
            let st = WaitStatus::Exited(Pid::from_raw(2), i32::from(code));
            assert_eq!(ChildEnd::from_wait(st).map(ChildEnd::exit_code), Some(code));
        }
    }

    #[test]
    fn a_signal_death_gives_128_plus_the_signal() {
        for sig in [
            Signal::SIGHUP,
            Signal::SIGINT,
            Signal::SIGKILL,
            Signal::SIGTERM,
        ] {
            let st = WaitStatus::Signaled(Pid::from_raw(2), sig, false);
            let end = ChildEnd::from_wait(st);
            assert_eq!(end.map(ChildEnd::exit_code), Some(128 + sig as u8));
            assert_eq!(end.and_then(ChildEnd::signal), Some(sig as i32));
        }
        for n in 1..=64i32 {
            let code = ChildEnd::Signalled(n).exit_code();
            assert_eq!(i32::from(code), (128 + n) % 256);
        }
    }

    #[test]
    fn stops_and_continues_are_not_an_end() {
        let pid = Pid::from_raw(2);
        assert_eq!(
            ChildEnd::from_wait(WaitStatus::Stopped(pid, Signal::SIGTSTP)),
            None
        );
        assert_eq!(ChildEnd::from_wait(WaitStatus::Continued(pid)), None);
        assert_eq!(ChildEnd::from_wait(WaitStatus::StillAlive), None);
    }
}
