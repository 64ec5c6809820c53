//! Letting go of what rein inherited but does not need, once the main child has it: the
//! working directory (so rein pins no mount: a pause container holding a bind-mounted cwd
//! would block its unmount) and every descriptor above 2 (so a socket-activated listener or a
//! pipe's write end is held only by the program that uses it, and EOF still arrives).

use nix::libc;

use crate::sys;

/// Changes to `/` and closes every descriptor above 2. Failures are logged, never fatal.
pub fn detach() {
    if let Err(e) = nix::unistd::chdir("/") {
        log::warn!("failed to change directory to /: {e}");
    }
    close_inherited();
}

fn close_inherited() {
    match sys::close_from(3) {
        Ok(()) => {}
        // close_range is Linux 5.9+; seccomp profiles may also refuse it.
        Err(_) => close_listed_or_all(),
    }
}

fn close_listed_or_all() {
    match crate::proc::own_fds() {
        // The directory's own descriptor is in the list; closing it while iterating is
        // harmless because the list was collected first.
        Some(fds) => fds
            .into_iter()
            .filter(|&fd| fd > 2)
            .for_each(sys::close_raw),
        None => {
            let max = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                .map_or(1024, |(soft, _)| soft.min(65_536));
            for fd in 3..libc::c_int::try_from(max).unwrap_or(1024) {
                sys::close_raw(fd);
            }
        }
    }
}
