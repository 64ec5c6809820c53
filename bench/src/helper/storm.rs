//! `child-storm N OUT`: creates N orphans, releases them all at once, waits until every one
//! has been reaped by the init and writes the timings to OUT.
//!
//! Each orphan is double-forked: an intermediate is cloned (vfork-style), clones the orphan
//! and exits, so the orphan is re-parented to the init. Both share this process's memory (see
//! `clones.rs`). The init's own CPU time is read from `/proc/PPID/schedstat` at the release
//! and once the last orphan is gone: what the init spent reaping.

use std::fs;
use std::io;
use std::os::fd::RawFd;
use std::thread::sleep;
use std::time::Duration;

use crate::clones::{Stacks, clone_vm};
use crate::sys::{self, now_ns};

/// What the cloned intermediates and orphans need; shared through CLONE_VM.
struct Storm {
    rel_r: RawFd,
    rel_w: RawFd,
    /// Where the next intermediate stores its orphan's pid.
    out: *mut i32,
    /// The top of the next orphan's stack.
    stack: *mut libc::c_void,
}

/// An intermediate: clones the orphan, records its pid and exits, which orphans it.
extern "C" fn intermediate(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the storm's `Storm`, alive (and not written) while the vfork-style
    // parent is suspended; the orphan's stack is its own slot of the mapping.
    unsafe {
        let s = &*arg.cast::<Storm>();
        *s.out = clone_vm(orphan, s.stack, 0, arg).unwrap_or(-1);
        libc::_exit(0)
    }
}

/// An orphan: its own session (as a daemon would), then it blocks until the release.
extern "C" fn orphan(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: only the descriptors are read from `Storm`; they never change. The calls are
    // plain system calls on this process's own copy of the descriptor table.
    unsafe {
        let s = &*arg.cast::<Storm>();
        // Separate sessions also keep the kernel from walking one huge process group on
        // every exit to see whether it became orphaned.
        libc::setsid();
        libc::close(s.rel_w);
        let mut b = 0u8;
        libc::read(s.rel_r, (&raw mut b).cast(), 1);
        libc::_exit(0)
    }
}

/// Runs `child-storm`.
pub fn main(args: &[String]) -> io::Result<()> {
    let [n, out] = args else {
        return Err(io::Error::other("usage: child-storm N OUT"));
    };
    let n: usize = n.parse().map_err(io::Error::other)?;
    let [rel_r, rel_w] = sys::pipe()?;
    let mut pids: Vec<i32> = vec![0; n];
    let mut mid_stack = vec![0u8; 64 * 1024];
    let stacks = Stacks::map(n)?;
    let mut storm = Storm {
        rel_r,
        rel_w,
        out: std::ptr::null_mut(),
        stack: std::ptr::null_mut(),
    };
    // SAFETY: getppid has no arguments.
    let init = unsafe { libc::getppid() };
    let t_start = now_ns();
    for (i, slot) in pids.iter_mut().enumerate() {
        storm.out = slot;
        storm.stack = stacks.top(i);
        // SAFETY: `mid_stack` outlives the intermediate (CLONE_VFORK suspends us until it
        // exits); its top is passed, 16-byte aligned. `storm` is not touched meanwhile.
        let mid = unsafe {
            let top = mid_stack.as_mut_ptr().add(mid_stack.len() - 64);
            let top = top.sub(top as usize % 16);
            clone_vm(
                intermediate,
                top.cast(),
                libc::CLONE_VFORK,
                (&raw mut storm).cast(),
            )?
        };
        let mut st = 0;
        // SAFETY: `st` is valid for writing.
        unsafe { libc::waitpid(mid, &mut st, 0) };
        if *slot <= 0 {
            return Err(io::Error::other(format!(
                "could not create orphan {i} of {n} ({})",
                sys::pid_headroom()
            )));
        }
    }
    let cpu_release = sys::cpu_ns("/proc", init).unwrap_or(0);
    let t_release = now_ns();
    // SAFETY: closing our last copy of the write end gives every orphan end-of-file at once.
    unsafe { libc::close(rel_w) };
    let gone = |p: i32| sys::kill(p, 0).is_err_and(|e| e.raw_os_error() == Some(libc::ESRCH));
    let sample = n.min(128);
    let stride = (n / sample.max(1)).max(1);
    let (mut next, mut peak, mut samples, mut seed) = (0usize, 0usize, 0u64, t_release);
    let mut t_drained = 0;
    while now_ns() - t_release < 120_000_000_000 {
        while next < n && gone(pids[next]) {
            next += 1;
        }
        if next == n {
            t_drained = now_ns();
            break;
        }
        // Zombies among all N, estimated from an evenly spread sample with a random offset.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let off = usize::try_from(seed % n as u64).unwrap_or(0);
        let z = (0..sample)
            .filter(|s| sys::is_zombie(pids[(off + s * stride) % n]))
            .count();
        peak = peak.max(z * n / sample);
        samples += 1;
        sleep(Duration::from_micros(200));
    }
    let cpu_drained = sys::cpu_ns("/proc", init).unwrap_or(0);
    fs::write(
        out,
        format!("{t_start} {t_release} {t_drained} {peak} {samples} {cpu_release} {cpu_drained}\n"),
    )
}
