//! The controlling terminal: whether rein has one and stands in its foreground, so that the
//! main child can be made the foreground process group (Ctrl-C reaches it, an interactive shell
//! gets job control, nothing is stopped by SIGTTOU/SIGTTIN).
//!
//! rein started in the background (`rein cmd &`) is not the foreground group, so it leaves the
//! terminal alone; without a controlling terminal, opening `/dev/tty` fails with ENXIO and
//! nothing about terminals is attempted.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{getpgrp, tcgetpgrp};

/// rein's controlling terminal, open only until the main child has started.
#[derive(Debug)]
pub struct Terminal {
    fd: OwnedFd,
}

/// Opens rein's controlling terminal, if it has one.
///
/// `/dev/tty` names the calling process's controlling terminal whatever its stdio are; the
/// descriptor is close-on-exec, so no child inherits it. Job control (`job_control.rs`) opens
/// it afresh each time it needs it, rather than keeping it open for the whole run.
pub fn controlling() -> Option<OwnedFd> {
    open(
        "/dev/tty",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()
}

/// What rein's start finds about its terminal.
#[derive(Debug)]
pub enum Probe {
    /// No controlling terminal.
    None,
    /// A controlling terminal, with rein in the background of it.
    Background,
    /// A controlling terminal whose foreground group is rein's.
    Foreground(Terminal),
}

impl Probe {
    /// One `open` of `/dev/tty` tells both whether rein has a terminal and whether it may hand
    /// it to the child.
    pub fn now() -> Self {
        match controlling() {
            None => Self::None,
            Some(fd) => match Terminal::if_foreground_on(fd) {
                Some(t) => Self::Foreground(t),
                None => Self::Background,
            },
        }
    }
}

impl Terminal {
    /// Returns the controlling terminal if rein's process group is its foreground group.
    pub fn if_foreground() -> Option<Self> {
        Self::if_foreground_on(controlling()?)
    }

    fn if_foreground_on(fd: OwnedFd) -> Option<Self> {
        let fg = tcgetpgrp(&fd).ok()?;
        let mine = getpgrp();
        let foreground = if fg.as_raw() != 0 && mine.as_raw() != 0 {
            fg == mine
        } else if fg.as_raw() != 0 || mine.as_raw() != 0 {
            false
        } else {
            in_foreground_by_read(&fd)
        };
        foreground.then_some(Self { fd })
    }

    /// The descriptor the child passes to `tcsetpgrp`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Asks the kernel itself whether rein's process group is the terminal's foreground, for when
/// the numbers cannot tell: as PID 1 of a new PID namespace (`unshare --pid --fork`), rein's
/// group and the foreground group usually both lie outside the namespace, and `getpgrp` and
/// `tcgetpgrp` both read 0 whether rein is in the foreground or in the background.
///
/// A zero-length `read` from the terminal goes through the line discipline's job-control
/// check first: from a background group with SIGTTIN blocked (rein blocks it before this is
/// called) it fails with EIO and sends no signal; from the foreground it returns 0 at once and
/// consumes nothing.
fn in_foreground_by_read(fd: &OwnedFd) -> bool {
    matches!(nix::unistd::read(fd.as_fd(), &mut []), Ok(0))
}
