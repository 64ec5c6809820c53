//! The raw system calls that nix does not wrap in the shape rein needs. This is one of the few
//! modules allowed `unsafe`; each block says which invariant makes it sound.
//!
//! Signal masks are handled as the kernel's own 64-bit `sigset_t` rather than libc's: glibc and
//! musl both refuse to put their internal real-time signals (32..=34) in a set, but those numbers
//! are ordinary signals to the programs rein runs (`docker kill -s RTMIN` sends 34), so rein must
//! be able to block, wait for and forward every one of them.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use nix::libc;

/// Bit `n - 1` stands for signal `n`, exactly as the kernel's `sigset_t` on Linux.
pub type RawMask = u64;

/// Size of the kernel's signal set in bytes, as `rt_sigprocmask`/`signalfd4` expect it.
const KERNEL_SIGSET_BYTES: usize = 8;

/// `rt_sigprocmask(how, set)` on the calling thread; returns the previous mask.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/sigprocmask.2.html>
pub fn sigprocmask(how: libc::c_int, set: Option<RawMask>) -> io::Result<RawMask> {
    let mut old: RawMask = 0;
    let new_ptr = set
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const RawMask);
    // SAFETY: both pointers are either null or point to 8 live, aligned bytes, and the size
    // argument tells the kernel to read and write exactly 8 bytes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            new_ptr,
            &mut old as *mut RawMask,
            KERNEL_SIGSET_BYTES,
        )
    };
    if rc == 0 {
        Ok(old)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Async-signal-safe `rt_sigprocmask(SIG_SETMASK, mask)` for use between fork and exec: no
/// allocation, no `io::Error`, just the raw return value.
pub fn set_mask_after_fork(mask: RawMask) -> libc::c_long {
    // SAFETY: the pointer is to a live 8-byte value on this stack frame; old-set is null.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &mask as *const RawMask,
            std::ptr::null_mut::<RawMask>(),
            KERNEL_SIGSET_BYTES,
        )
    }
}

/// `signalfd4(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK)`: a descriptor that becomes readable when
/// a signal in `mask` is pending, so rein can wait in `poll` with or without a deadline.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/signalfd.2.html>
pub fn signalfd(mask: RawMask) -> io::Result<OwnedFd> {
    // SAFETY: the mask pointer refers to 8 live bytes and the size says 8.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            -1,
            &mask as *const RawMask,
            KERNEL_SIGSET_BYTES,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `close_range(first, last, 0)`: closes every descriptor from `first` to `last`.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/close_range.2.html>
pub fn close_range(first: libc::c_uint, last: libc::c_uint) -> io::Result<()> {
    // SAFETY: closing descriptors is memory-safe; the caller (`detach`) passes ranges that hold
    // no descriptor Rust code still owns (it leaves out the status directory's).
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Closes one raw descriptor, ignoring the result (used by the fallback when `close_range` is
/// missing, on kernels before 5.9).
pub fn close_raw(fd: libc::c_int) {
    // SAFETY: as for `close_range`: the caller never passes a descriptor Rust code owns.
    let _ = unsafe { libc::close(fd) };
}

/// `pidfd_open(pid, 0)`: a descriptor that keeps naming *this* process even after its pid is
/// reused, so rein can check a leftover's parent and then signal exactly that process.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/pidfd_open.2.html>
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: integer arguments only.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`.
pub fn pidfd_send_signal(pidfd: &OwnedFd, sig: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a live descriptor, an integer signal, a null siginfo (the kernel fills SI_USER).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `prctl(PR_SET_PDEATHSIG, sig)`: the kernel sends `sig` to rein when its parent exits. nix's
/// wrapper takes only the classic signals; this one takes any number, real-time ones included.
pub fn set_pdeathsig(sig: libc::c_int) -> io::Result<()> {
    let arg =
        libc::c_ulong::try_from(sig).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: PR_SET_PDEATHSIG takes one integer argument; the rest must be zero.
    let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, arg, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `kill(pid, sig)` for any signal number, real-time ones included (nix's `Signal` has only
/// the classic ones).
pub fn kill_raw(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    let rc = unsafe { libc::kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Fills `buf` from the kernel's random pool with the `getrandom(2)` system call, not from
/// `/dev/urandom`, which a process in the container could have replaced. `GRND_NONBLOCK`: an
/// init must not wait for entropy, so a pool that is not ready yet is an error (`EAGAIN`), as is
/// a short read.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/getrandom.2.html>
pub fn getrandom(buf: &mut [u8]) -> io::Result<()> {
    // SAFETY: the pointer and length describe `buf`, live and exclusively borrowed for the call;
    // the kernel writes at most `buf.len()` bytes into it.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getrandom,
            buf.as_mut_ptr(),
            buf.len(),
            libc::GRND_NONBLOCK,
        )
    };
    match usize::try_from(n) {
        Ok(n) if n == buf.len() => Ok(()),
        Ok(_) => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// `rt_sigpending`: the signals pending for the calling thread or its process (blocked ones,
/// since an unblocked one would have been delivered). Job control uses it to tell whether rein
/// really stopped itself: a SIGCONT that continued it stays pending, because rein blocks it.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/sigpending.2.html>
pub fn sigpending() -> io::Result<RawMask> {
    let mut set: RawMask = 0;
    // SAFETY: the pointer is to 8 live, aligned bytes on this stack frame, and the size tells
    // the kernel to write exactly 8 bytes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigpending,
            &mut set as *mut RawMask,
            KERNEL_SIGSET_BYTES,
        )
    };
    if rc == 0 {
        Ok(set)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `rt_sigtimedwait(sig, NULL, {0, 0})`: takes one pending, blocked `sig` off the queue without
/// waiting; returns whether one was there. Job control uses it for the SIGCONT that continued
/// rein when the next stop comes before the signalfd was read.
pub fn take_pending(sig: libc::c_int) -> bool {
    let set: RawMask = crate::signals::bit(sig);
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the set and the timespec are live values on this stack frame, the siginfo
    // pointer is null (allowed), and the size says 8 bytes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigtimedwait,
            &set as *const RawMask,
            std::ptr::null_mut::<libc::siginfo_t>(),
            &zero as *const libc::timespec,
            KERNEL_SIGSET_BYTES,
        )
    };
    rc == libc::c_long::from(sig)
}

/// Sets SIGCHLD's disposition to `SIG_DFL` without flags and says whether it was `SIG_IGN`.
/// An ignored SIGCHLD inherited from the caller makes the kernel reap rein's children by
/// itself: the main child's status would be lost and rein would wait for an exit it is never
/// told of. (`SA_NOCLDWAIT` would do the same, but it cannot be inherited: `execve` clears
/// every action's flags and keeps only `SIG_IGN`; test
/// `sigstate::an_sa_nocldwait_caller_cannot_pass_it_on_and_rein_keeps_the_status`.)
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/sigaction.2.html> (`SA_NOCLDWAIT`, `SIG_IGN`)
pub fn take_sigchld_default() -> io::Result<bool> {
    // SAFETY: a zeroed sigaction is a valid value: handler SIG_DFL (0), empty mask, no flags.
    let new: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above; it is overwritten by the call.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live sigactions on this stack frame for the call.
    let rc = unsafe { libc::sigaction(libc::SIGCHLD, &new, &mut old) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old.sa_sigaction == libc::SIG_IGN)
}

/// Async-signal-safe `sigaction(SIGCHLD, SIG_IGN)` for the main child between fork and exec,
/// so it inherits the ignored SIGCHLD rein took back for itself ([`take_sigchld_default`]).
pub fn ignore_sigchld_after_fork() {
    // SAFETY: a zeroed sigaction is a valid value; its handler is then set to SIG_IGN.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = libc::SIG_IGN;
    // SAFETY: `act` lives on this stack frame; the old-action pointer is null.
    unsafe { libc::sigaction(libc::SIGCHLD, &act, std::ptr::null_mut()) };
}

/// `getdents64(fd, buf)`: fills `buf` with the next `struct linux_dirent64` records of the open
/// directory `fd` and returns how many bytes it wrote (0 at the end). Lets rein list a
/// directory through a stack buffer, without the allocations of `std::fs::read_dir`.
///
/// # References
/// - <https://man7.org/linux/man-pages/man2/getdents.2.html>
pub fn getdents64(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which is live and
    // exclusively borrowed for the call.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            fd.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}
