//! rein's exit codes: how a wait status becomes one (the rule every peer agrees on: a child
//! killed by signal N gives 128+N), the wrapper codes of coreutils `timeout`/`env` and `docker
//! run` for the cases where the program never ran or rein itself failed, and the
//! `--exit-zero`/`--exit-zero-on-stop` policy that maps the child's end to what rein returns.

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

/// Why rein exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The main child exited by itself.
    Exited,
    /// A signal killed the main child.
    Signalled,
    /// `--timeout` expired.
    Timeout,
    /// The main child could not be started.
    ExecFailed,
    /// Pause mode was told to stop.
    Paused,
}

impl Reason {
    /// The name the summary and the status file use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exited => "exited",
            Self::Signalled => "signalled",
            Self::Timeout => "timeout",
            Self::ExecFailed => "exec-failed",
            Self::Paused => "stopped",
        }
    }
}

/// The choices that map the child's end to rein's exit code.
#[derive(Debug, Clone, Default)]
pub struct ExitPolicy {
    /// `--exit-zero` codes.
    pub exit_zero: Vec<u8>,
    /// `--exit-zero-on-stop`.
    pub zero_on_stop: bool,
}

impl ExitPolicy {
    /// rein's exit code and reason for a main child that ended as `end`, given the stopping
    /// signals rein itself forwarded and whether `--timeout` fired.
    pub fn decide(&self, end: ChildEnd, stops_forwarded: &[i32], timed_out: bool) -> (u8, Reason) {
        if timed_out {
            return (TIMED_OUT, Reason::Timeout);
        }
        let reason = match end {
            ChildEnd::Exited(_) => Reason::Exited,
            ChildEnd::Signalled(_) => Reason::Signalled,
        };
        let code = end.exit_code();
        if self.exit_zero.contains(&code) {
            return (0, reason);
        }
        if self.zero_on_stop {
            let died_of_our_stop = match end {
                ChildEnd::Signalled(sig) => stops_forwarded.contains(&sig),
                ChildEnd::Exited(c) => stops_forwarded.iter().any(|&s| i32::from(c) == 128 + s),
            };
            if died_of_our_stop {
                return (0, reason);
            }
        }
        (code, reason)
    }
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

    #[test]
    fn exit_zero_maps_only_the_listed_codes() {
        let p = ExitPolicy {
            exit_zero: vec![143],
            zero_on_stop: false,
        };
        assert_eq!(
            p.decide(ChildEnd::Exited(143), &[], false),
            (0, Reason::Exited)
        );
        assert_eq!(
            p.decide(ChildEnd::Signalled(15), &[], false),
            (0, Reason::Signalled)
        );
        assert_eq!(
            p.decide(ChildEnd::Exited(1), &[], false),
            (1, Reason::Exited)
        );
    }

    #[test]
    fn exit_zero_on_stop_needs_our_own_stop_signal() {
        let p = ExitPolicy {
            exit_zero: vec![],
            zero_on_stop: true,
        };
        assert_eq!(p.decide(ChildEnd::Signalled(15), &[15], false).0, 0);
        assert_eq!(p.decide(ChildEnd::Exited(143), &[15], false).0, 0);
        assert_eq!(p.decide(ChildEnd::Exited(130), &[2], false).0, 0);
        // The same end without a stop from rein is a crash and keeps its code.
        assert_eq!(p.decide(ChildEnd::Exited(143), &[], false).0, 143);
        assert_eq!(p.decide(ChildEnd::Signalled(15), &[], false).0, 143);
        // A different signal than the one rein sent is not masked.
        assert_eq!(p.decide(ChildEnd::Signalled(9), &[15], false).0, 137);
        assert_eq!(p.decide(ChildEnd::Exited(1), &[15], false).0, 1);
    }

    #[test]
    fn timeout_wins_over_everything() {
        let p = ExitPolicy {
            exit_zero: vec![143],
            zero_on_stop: true,
        };
        assert_eq!(
            p.decide(ChildEnd::Signalled(15), &[15], true),
            (124, Reason::Timeout)
        );
    }
}
