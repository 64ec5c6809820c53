//! `child-hup N FIFO`: the program of the HUP-flood benchmark (`metric/hupflood.rs`).
//!
//! Starts N bystanders, each in a session of its own (so no signal forwarded to the program's
//! group reaches them) that only wait, then reports [`READY`] and the CLOCK_MONOTONIC time at
//! which each SIGHUP arrives. The bystanders are what an init that scans `/proc` per stopping
//! signal has to read; they die with the PID namespace (and of SIGKILL when the program dies).
//! Exits on TERM.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::channel::{READY, report};
use crate::sys;

static CHAN_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_hup(_: libc::c_int) {
    report(CHAN_FD.load(Ordering::Relaxed), sys::now_ns());
}

extern "C" fn on_term(_: libc::c_int) {
    sys::exit_now(143);
}

/// Runs `child-hup`; returns only on a set-up error.
pub fn main(args: &[String]) -> io::Result<()> {
    let [n, fifo] = args else {
        return Err(io::Error::other("usage: child-hup N FIFO"));
    };
    let n: usize = n.parse().map_err(io::Error::other)?;
    for _ in 0..n {
        // SAFETY: single-threaded; the child only makes system calls before it waits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: plain system calls on ourselves; pause never returns but to a handler.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                libc::setsid();
                loop {
                    libc::pause();
                }
            }
        }
    }
    let f = OpenOptions::new().write(true).open(fifo)?;
    CHAN_FD.store(f.as_raw_fd(), Ordering::Relaxed);
    sys::handle(libc::SIGHUP, on_hup)?;
    sys::handle(libc::SIGTERM, on_term)?;
    sys::unblock_all();
    report(f.as_raw_fd(), READY);
    loop {
        // SAFETY: pause has no arguments.
        unsafe { libc::pause() };
    }
}
