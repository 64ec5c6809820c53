//! Which signals rein forwards, which it keeps, and their names. One table decides it all, so
//! the README's signal table and the code cannot drift apart.
//!
//! rein installs no signal handler at all: it blocks every signal it forwards and reads them
//! from a signalfd (see `events.rs`). A blocked signal is never discarded, not even by PID 1,
//! whose signals without a handler the kernel otherwise drops (pid_namespaces(7)); and because
//! the dispositions stay as rein inherited them, the main child inherits them unchanged too.

use crate::sys::RawMask;

/// Highest signal number on Linux x86_64.
pub const MAX_SIGNAL: i32 = 64;
/// The first real-time signal as programs see it (`SIGRTMIN` of glibc, Go and `kill -l`): 34.
/// musl calls 35 `SIGRTMIN`, but the names users type come from glibc tools and Docker.
pub const RTMIN: i32 = 34;

/// Signal numbers used by name in rein's own logic.
pub mod num {
    #![allow(missing_docs)]
    pub const HUP: i32 = 1;
    pub const INT: i32 = 2;
    pub const QUIT: i32 = 3;
    pub const KILL: i32 = 9;
    pub const PIPE: i32 = 13;
    pub const TERM: i32 = 15;
    pub const CHLD: i32 = 17;
    pub const CONT: i32 = 18;
    pub const STOP: i32 = 19;
}

/// Signals that share their number with a fault: ILL TRAP ABRT BUS FPE SEGV SYS.
///
/// rein blocks them like every other signal and forwards them when a process sent them
/// (`kill`, `sigqueue`, `tgkill`: see [`crate::events::Received::sent_by_a_process`]), as
/// dumb-init does; unblocked, a `kill -SEGV` from inside the container would end rein (or, as
/// PID 1, be dropped).
///
/// Blocking them cannot hide a fault of rein's own. The kernel delivers a fault it raises
/// (SIGSEGV from a bad access, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS from seccomp) with
/// `force_sig_fault`/`force_sig_info_to_task` in kernel/signal.c: when the signal is blocked
/// or ignored, that function unblocks it and resets its handler to SIG_DFL, and it clears
/// `SIGNAL_UNKILLABLE`, so the fault ends rein even as PID 1. (POSIX leaves a blocked fault
/// undefined, sigprocmask(2) NOTES; Linux defines it there.) SIGABRT is raised by abort(3)
/// itself, which unblocks it and falls back to a crash when it survives. A fault-numbered
/// signal that neither a process sent nor a fault forced (a BUS_MCEERR_AO memory-error notice)
/// is logged and dropped.
///
/// # References
/// - <https://github.com/torvalds/linux/blob/v6.12/kernel/signal.c> (`force_sig_info_to_task`)
/// - <https://man7.org/linux/man-pages/man2/sigprocmask.2.html>
pub const FAULTS: [i32; 7] = [4, 5, 6, 7, 8, 11, 31];

/// What rein does with a signal that reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Pass it on to the main child (or its process group).
    Forward,
    /// A fault's number ([`FAULTS`]): pass it on only if a process sent it.
    ForwardIfSent,
    /// SIGCHLD: rein's own, it means "reap".
    Reap,
    /// Never seen by rein: KILL and STOP cannot be caught.
    NotCaught,
}

impl Action {
    /// Whether rein passes the signal on (perhaps only when a process sent it), which is what
    /// `--rewrite` can change.
    pub fn forwards(self) -> bool {
        matches!(self, Self::Forward | Self::ForwardIfSent)
    }
}

/// Decides what rein does with signal `sig`.
pub const fn classify(sig: i32) -> Action {
    match sig {
        num::CHLD => Action::Reap,
        num::KILL | num::STOP => Action::NotCaught,
        s if is_fault(s) => Action::ForwardIfSent,
        1..=MAX_SIGNAL => Action::Forward,
        _ => Action::NotCaught,
    }
}

/// Whether `sig` is one of [`FAULTS`] (a loop, since `contains` is not usable in a `const fn`).
const fn is_fault(sig: i32) -> bool {
    let mut i = 0;
    while i < FAULTS.len() {
        if FAULTS[i] == sig {
            return true;
        }
        i += 1;
    }
    false
}

/// The set rein blocks and reads from its signalfd: everything it forwards, the fault numbers
/// and SIGCHLD. The main child gets the mask rein started with, not this one.
pub const fn caught_mask() -> RawMask {
    CAUGHT
}

/// [`caught_mask`], computed from [`classify`] when rein is compiled: at run time it cost
/// 6,000 instructions, a tenth of a whole start-up.
const CAUGHT: RawMask = {
    let mut mask = 0;
    let mut s = 1;
    while s <= MAX_SIGNAL {
        if !matches!(classify(s), Action::NotCaught) {
            mask |= bit(s);
        }
        s += 1;
    }
    mask
};

/// The mask bit of signal `sig` (1..=64).
pub const fn bit(sig: i32) -> RawMask {
    if sig >= 1 && sig <= MAX_SIGNAL {
        1 << (sig - 1)
    } else {
        0
    }
}

/// Classic names, index = signal number (0 unused). `POLL` is `IO`'s other name.
const NAMES: [&str; 32] = [
    "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// Parses a signal as users write it: `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+3`,
/// `SIGRTMAX-1`. Returns the number (1..=64).
pub fn parse_signal(text: &str) -> Result<i32, String> {
    let bad = || format!("invalid signal '{text}' (expected a name like TERM or a number 1-64)");
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.parse::<i32>() {
            Ok(n) if (1..=MAX_SIGNAL).contains(&n) => Ok(n),
            _ => Err(bad()),
        };
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = NAMES.iter().position(|n| !n.is_empty() && *n == name) {
        return i32::try_from(i).map_err(|_| bad());
    }
    match name {
        "POLL" => return Ok(29),
        "IOT" => return Ok(6),
        "CLD" => return Ok(num::CHLD),
        _ => {}
    }
    let rt = |rest: &str, base: i32, sign: i32| -> Result<i32, String> {
        let off = if rest.is_empty() {
            0
        } else {
            let digits = rest
                .strip_prefix(if sign > 0 { '+' } else { '-' })
                .ok_or_else(bad)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            digits.parse::<i32>().map_err(|_| bad())?
        };
        let n = base.checked_add(sign * off).ok_or_else(bad)?;
        if (RTMIN..=MAX_SIGNAL).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(rest, RTMIN, 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(rest, MAX_SIGNAL, -1);
    }
    Err(bad())
}

/// The name rein prints for signal `sig`: `SIGTERM`, `SIGRTMIN+2`, or the bare number.
pub fn name(sig: i32) -> String {
    match usize::try_from(sig) {
        Ok(i) if (1..NAMES.len()).contains(&i) => format!("SIG{}", NAMES[i]),
        _ if (RTMIN..=MAX_SIGNAL).contains(&sig) => format!("SIGRTMIN+{}", sig - RTMIN),
        _ => sig.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chld_is_reaped_uncatchables_left_alone_faults_forwarded_if_sent() {
        assert_eq!(classify(num::CHLD), Action::Reap);
        for s in [num::KILL, num::STOP, 0, 65, -1] {
            assert_eq!(classify(s), Action::NotCaught, "signal {s}");
        }
        for s in [11, 7, 8, 4, 31, 5, 6] {
            assert_eq!(classify(s), Action::ForwardIfSent, "signal {s}");
            assert!(classify(s).forwards());
        }
    }

    #[test]
    fn every_other_signal_including_job_control_and_realtime_is_forwarded() {
        for s in [
            1, 2, 3, 10, 12, 13, 14, 15, 18, 20, 21, 22, 23, 28, 30, 32, 33, 34, 50, 64,
        ] {
            assert_eq!(classify(s), Action::Forward, "signal {s}");
        }
        let fwd = (1..=64).filter(|&s| classify(s) == Action::Forward).count();
        assert_eq!(fwd, 64 - 1 - 2 - 7);
    }

    #[test]
    fn caught_mask_has_all_but_kill_and_stop() {
        let m = caught_mask();
        for s in [num::TERM, num::CHLD, 64, 11, 31, 6] {
            assert_ne!(m & bit(s), 0, "signal {s}");
        }
        assert_eq!(m & bit(num::KILL), 0);
        assert_eq!(m & bit(num::STOP), 0);
        assert_eq!(m.count_ones(), 62);
    }

    #[test]
    fn signal_names_parse_in_every_spelling() {
        for (t, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("sigterm", 15),
            ("15", 15),
            ("usr1", 10),
            ("WINCH", 28),
            ("POLL", 29),
            ("RTMIN", 34),
            ("RTMIN+3", 37),
            ("SIGRTMAX-1", 63),
            ("RTMAX", 64),
            ("64", 64),
        ] {
            assert_eq!(parse_signal(t), Ok(n), "{t}");
        }
    }

    #[test]
    fn bad_signal_names_are_rejected_with_the_input_named() {
        for t in [
            "", "0", "65", "-1", "TERMX", "RTMIN+31", "RTMAX-31", "RTMIN+", "RTMIN-1", "+5",
        ] {
            let e = parse_signal(t).expect_err(t);
            assert!(e.contains(&format!("'{t}'")), "{e}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in 1..=64 {
            assert_eq!(parse_signal(&name(s)), Ok(s), "{}", name(s));
        }
    }
}
