//! The system calls the benchmark makes through `libc`, each wrapped once.

use std::fs;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine, so a time taken
/// by the driver and one taken by a supervised program compare directly.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory arguments.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A pidfd for `pid`: turns readable when the process has exited.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(RawFd::try_from(fd).map_err(io::Error::other)?) })
}

/// Waits until `fd` is readable; `false` on time-out.
pub fn readable(fd: RawFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `p` is one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n > 0 {
            return true;
        }
        if n == 0 || (n < 0 && errno() != libc::EINTR) {
            return false;
        }
    }
}

/// A pipe: `[read end, write end]`, both inheritable.
pub fn pipe() -> io::Result<[RawFd; 2]> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fds)
}

/// Installs `f` as the handler of `sig` (SA_RESTART).
pub fn handle(sig: i32, f: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid starting value.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = f as libc::sighandler_t;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa` is initialised; the handlers only call async-signal-safe functions.
    if unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets `sig` back to its default action.
pub fn default_action(sig: i32) {
    // SAFETY: SIG_DFL is a valid disposition for any catchable signal.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

/// Unblocks every signal: whatever an init left blocked (catatonit blocks TSTP, TTIN, TTOU)
/// must not change what the measured program sees.
pub fn unblock_all() {
    // SAFETY: an empty set, initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// `_exit(code)`: no atexit handlers, no buffered output; safe in a signal handler and in a
/// process that shares its memory with another.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Makes this process a child subreaper, so that anything a measured init leaves behind comes
/// back to the driver (and can be cleaned up) instead of the host's init.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// CPU time `pid` has run, in nanoseconds (the first field of `/proc/PID/schedstat`, the
/// scheduler's own sum, not tick-sampled like `utime`/`stime`). `proc` is the procfs mount.
pub fn cpu_ns(proc: &str, pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("{proc}/{pid}/schedstat")).ok()?;
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// The children of `pid` (all its threads), from `/proc/PID/task/TID/children`.
pub fn children_of(pid: i32) -> Vec<i32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| {
            text.split_ascii_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// Whether `pid` is a zombie (or dead), from its state in `/proc/PID/stat`.
pub fn is_zombie(pid: i32) -> bool {
    fs::read(format!("/proc/{pid}/stat")).is_ok_and(|b| {
        b.iter()
            .rposition(|&c| c == b')')
            .and_then(|i| b.get(i + 2))
            .is_some_and(|&s| s == b'Z' || s == b'X')
    })
}

/// How many processes exist, and `kernel.pid_max`.
fn pid_use() -> (usize, usize) {
    let procs = fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                })
                .count()
        })
        .unwrap_or(0);
    let max = fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(32_768);
    (procs, max)
}

/// How many processes exist against `kernel.pid_max`, for error messages: on a shared machine
/// another workload may leave too few pids for tens of thousands of processes.
pub fn pid_headroom() -> String {
    let (procs, max) = pid_use();
    format!("{procs} processes in this PID namespace, kernel.pid_max {max}")
}

/// Waits (up to 10 minutes) until `n` more processes fit under `kernel.pid_max` with room to
/// spare, so that tens of thousands of processes neither fail nor starve someone else on a
/// machine shared with other workloads. Says so when it had to wait.
pub fn wait_for_pids(n: usize) {
    let start = Instant::now();
    let mut said = false;
    loop {
        let (procs, max) = pid_use();
        if procs + n + 2_000 <= max || start.elapsed() > Duration::from_secs(600) {
            if said {
                let waited = start.elapsed().as_secs_f64();
                eprintln!("initbench: waited {waited:.0} s for free pids");
            }
            return;
        }
        if !said {
            eprintln!("initbench: waiting for {n} free pids ({})", pid_headroom());
            said = true;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
