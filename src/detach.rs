//! Letting go of what rein inherited but does not need, once the main child has it: the
//! working directory (so rein pins no mount: a pause container holding a bind-mounted cwd
//! would block its unmount) and every descriptor above 2 (so a socket-activated listener or a
//! pipe's write end is held only by the program that uses it, and EOF still arrives). The
//! descriptors rein opened itself before the spawn are kept: the status file's directory and
//! its procfs (`proc::pin`).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc;

use crate::sys;

/// Changes to `/` and closes every descriptor above 2 except `keep` and rein's procfs.
/// Failures are logged, never fatal.
pub fn detach(keep: Option<BorrowedFd<'_>>) {
    if let Err(e) = nix::unistd::chdir("/") {
        log::warn!("failed to change directory to /: {e}");
    }
    // An array, not a Vec: this runs in every run, and a first allocation of its size costs
    // `rein -- true` more than a thousand instructions.
    let mut kept = [keep, crate::proc::pinned()]
        .map(|fd| fd.and_then(|fd| libc::c_uint::try_from(fd.as_raw_fd()).ok()))
        .map(|fd| fd.filter(|&fd| fd >= 3).unwrap_or(libc::c_uint::MAX));
    kept.sort_unstable();
    if close_around(&kept).is_err() {
        close_listed_or_all(&kept);
    }
}

/// close_range over every gap between the kept descriptors (sorted; `c_uint::MAX` stands for
/// none), from 3 up.
fn close_around(kept: &[libc::c_uint]) -> std::io::Result<()> {
    let mut first = 3;
    for &k in kept.iter().filter(|&&k| k != libc::c_uint::MAX) {
        // close_range refuses first > last, so a kept descriptor right after the previous one
        // (or a kept 3, or the same one twice) has no range below it.
        if k > first {
            sys::close_range(first, k - 1)?;
        }
        first = first.max(k.saturating_add(1));
    }
    // close_range is Linux 5.9+; seccomp profiles may also refuse it.
    sys::close_range(first, libc::c_uint::MAX)
}

fn close_listed_or_all(kept: &[libc::c_uint]) {
    let listed = crate::proc::own_fds();
    // The procfs descriptor may only now have been opened (by that listing), so it is looked
    // up after it.
    let pinned = crate::proc::pinned().map(|fd| fd.as_raw_fd());
    let keep = |fd: libc::c_int| {
        fd <= 2 || Some(fd) == pinned || libc::c_uint::try_from(fd).is_ok_and(|f| kept.contains(&f))
    };
    match listed {
        // The directory's own descriptor is in the list; closing it while iterating is
        // harmless because the list was collected first.
        Some(fds) => fds
            .into_iter()
            .filter(|&fd| !keep(fd))
            .for_each(sys::close_raw),
        None => {
            let max = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map_or(1024, |(soft, _)| soft.min(65_536));
            for fd in (3..libc::c_int::try_from(max).unwrap_or(1024)).filter(|&fd| !keep(fd)) {
                sys::close_raw(fd);
            }
        }
    }
}
