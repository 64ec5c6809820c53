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

impl Terminal {
    /// Returns the controlling terminal if rein's process group is its foreground group.
    ///
    /// `/dev/tty` names the calling process's controlling terminal whatever its stdio are; the
    /// descriptor is close-on-exec, so the main child never inherits it.
    pub fn if_foreground() -> Option<Self> {
        let fd = open(
            "/dev/tty",
            OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let fg = tcgetpgrp(&fd).ok()?;
        (fg == getpgrp()).then_some(Self { fd })
    }

    /// The descriptor the child passes to `tcsetpgrp`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
