//! `child-sig FIFO BURST`: the program whose signals are timed.
//!
//! Reports [`READY`] once its handlers are installed, then the CLOCK_MONOTONIC time at which
//! its SIGUSR1 handler ran, and the time at which every BURST-th real-time signal arrived.
//! Exits on TERM: run without an init as PID 1, it gets no default actions, so TERM must have
//! a handler to end it.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use crate::channel::{READY, report};
use crate::sys;

static CHAN_FD: AtomicI32 = AtomicI32::new(-1);
static RT_COUNT: AtomicU64 = AtomicU64::new(0);
static BURST: AtomicU64 = AtomicU64::new(1);

/// The real-time signal used for the throughput burst (real-time signals queue, so none of a
/// burst is merged away).
pub fn rt_signal() -> i32 {
    libc::SIGRTMIN() + 2
}

extern "C" fn on_usr1(_: libc::c_int) {
    report(CHAN_FD.load(Ordering::Relaxed), sys::now_ns());
}

extern "C" fn on_rt(_: libc::c_int) {
    let n = RT_COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_multiple_of(BURST.load(Ordering::Relaxed)) {
        report(CHAN_FD.load(Ordering::Relaxed), sys::now_ns());
    }
}

extern "C" fn on_term(_: libc::c_int) {
    sys::exit_now(143);
}

/// Runs `child-sig`; returns only on a set-up error.
pub fn main(args: &[String]) -> io::Result<()> {
    let [fifo, burst] = args else {
        return Err(io::Error::other("usage: child-sig FIFO BURST"));
    };
    let f = OpenOptions::new().write(true).open(fifo)?;
    CHAN_FD.store(f.as_raw_fd(), Ordering::Relaxed);
    BURST.store(
        burst.parse::<u64>().map_err(io::Error::other)?.max(1),
        Ordering::Relaxed,
    );
    sys::handle(libc::SIGUSR1, on_usr1)?;
    sys::handle(rt_signal(), on_rt)?;
    sys::handle(libc::SIGTERM, on_term)?;
    sys::unblock_all();
    report(f.as_raw_fd(), READY);
    loop {
        // SAFETY: pause has no arguments.
        unsafe { libc::pause() };
    }
}
