//! Letting go of what rein inherited but does not need, once the main child has it: the
//! working directory (so rein pins no mount: a pause container holding a bind-mounted cwd
//! would block its unmount) and every descriptor above 2 (so a socket-activated listener or a
//! pipe's write end is held only by the program that uses it, and EOF still arrives). The one
//! descriptor rein opened itself before the spawn, the status file's directory, is kept.

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc;

use crate::sys;

/// Changes to `/` and closes every descriptor above 2 except `keep`. Failures are logged, never
/// fatal.
pub fn detach(keep: Option<BorrowedFd<'_>>) {
    if let Err(e) = nix::unistd::chdir("/") {
        log::warn!("failed to change directory to /: {e}");
    }
    close_inherited(keep.map(|fd| fd.as_raw_fd()).unwrap_or(-1));
}

fn close_inherited(keep: libc::c_int) {
    let closed = match libc::c_uint::try_from(keep) {
        // close_range refuses first > last, so a kept 3 has no range below it.
        Ok(k) if k >= 3 => (if k > 3 {
            sys::close_range(3, k - 1)
        } else {
            Ok(())
        })
        .and_then(|()| sys::close_range(k.saturating_add(1), libc::c_uint::MAX)),
        _ => sys::close_range(3, libc::c_uint::MAX),
    };
    // close_range is Linux 5.9+; seccomp profiles may also refuse it.
    if closed.is_err() {
        close_listed_or_all(keep);
    }
}

fn close_listed_or_all(keep: libc::c_int) {
    match crate::proc::own_fds() {
        // The directory's own descriptor is in the list; closing it while iterating is
        // harmless because the list was collected first.
        Some(fds) => fds
            .into_iter()
            .filter(|&fd| fd > 2 && fd != keep)
            .for_each(sys::close_raw),
        None => {
            let max = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map_or(1024, |(soft, _)| soft.min(65_536));
            for fd in (3..libc::c_int::try_from(max).unwrap_or(1024)).filter(|&fd| fd != keep) {
                sys::close_raw(fd);
            }
        }
    }
}
