//! The leftovers benchmark's programs.
//!
//! - `child-leftovers N FIFO`: the main child. Starts N processes that sleep until a signal
//!   ends them (SIGTERM's default action), reports the time and exits at once, leaving them
//!   to the init.
//! - `floor-leftovers N pid|any|pid-reversed|any-reversed FIFO`: the floor, run instead of an init. Starts
//!   the same N processes as its own children, reports the time, sends each SIGTERM and reaps
//!   them, with `waitpid(pid)` for each in turn (`pid`) or with a `waitpid(-1)` loop (`any`),
//!   then exits. Its children form a process group of their own, as leftovers from a main
//!   child in its own group do. `-reversed` signals the youngest first (see
//!   `metric/leftovers.rs` for why the order matters).
//!
//! The sleepers share their creator's memory (see `clones.rs`); they are started before the
//! reported time, so their creation is not part of what is measured.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsRawFd;

use crate::channel::report;
use crate::clones::{Stacks, clone_vm};
use crate::sys::{self, now_ns};

/// A leftover: sleeps until a signal's default action ends it. Nothing else runs here, so
/// sharing memory with the creator is harmless.
extern "C" fn sleeper(_: *mut libc::c_void) -> libc::c_int {
    loop {
        // SAFETY: pause has no arguments; it only returns after a handled signal (none is).
        unsafe { libc::pause() };
    }
}

/// Starts `n` sleepers with the default action for SIGTERM; returns their pids. With
/// `own_group`, they form a process group of their own (led by the first), apart from their
/// parent's, as leftovers are when they come from a main child in its own group.
fn start_sleepers(n: usize, own_group: bool) -> io::Result<Vec<i32>> {
    sys::default_action(libc::SIGTERM);
    sys::unblock_all();
    let stacks = Stacks::map(n)?;
    let mut pids = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: each sleeper gets its own stack slot, which stays mapped (`Stacks` is never
        // unmapped), and touches no other memory.
        let pid =
            unsafe { clone_vm(sleeper, stacks.top(i), 0, std::ptr::null_mut()) }.map_err(|e| {
                io::Error::other(format!("process {i} of {n}: {e} ({})", sys::pid_headroom()))
            })?;
        if own_group {
            // SAFETY: setpgid on our own child, which has not exec'd, with integer arguments.
            unsafe { libc::setpgid(pid, pids.first().copied().unwrap_or(pid)) };
        }
        pids.push(pid);
    }
    Ok(pids)
}

fn parse_n(n: &str) -> io::Result<usize> {
    n.parse().map_err(io::Error::other)
}

/// Runs `child-leftovers`.
pub fn child(args: &[String]) -> io::Result<()> {
    let [n, fifo] = args else {
        return Err(io::Error::other("usage: child-leftovers N FIFO"));
    };
    let f = OpenOptions::new().write(true).open(fifo)?;
    start_sleepers(parse_n(n)?, false)?;
    report(f.as_raw_fd(), now_ns());
    sys::exit_now(0)
}

/// Runs `floor-leftovers`.
pub fn floor(args: &[String]) -> io::Result<()> {
    let [n, how, fifo] = args else {
        return Err(io::Error::other(
            "usage: floor-leftovers N pid|any|pid-reversed|any-reversed FIFO",
        ));
    };
    let (by_pid, reversed) = match how.as_str() {
        "pid" => (true, false),
        "any" => (false, false),
        "pid-reversed" => (true, true),
        "any-reversed" => (false, true),
        _ => return Err(io::Error::other("floor-leftovers: pid|any[-reversed]")),
    };
    let f = OpenOptions::new().write(true).open(fifo)?;
    let pids = start_sleepers(parse_n(n)?, true)?;
    report(f.as_raw_fd(), now_ns());
    let mut order: Vec<i32> = pids.clone();
    if reversed {
        order.reverse();
    }
    for &pid in &order {
        sys::kill(pid, libc::SIGTERM)?;
    }
    let mut left = pids.len();
    let mut i = 0;
    while left > 0 {
        let want = if by_pid { order[i] } else { -1 };
        // SAFETY: a null status pointer is allowed.
        let got = unsafe { libc::waitpid(want, std::ptr::null_mut(), 0) };
        if got > 0 {
            left -= 1;
            i += 1;
        } else if sys::errno() != libc::EINTR {
            return Err(io::Error::last_os_error());
        }
    }
    sys::exit_now(0)
}
