//! A test helper for rein's integration tests, built by `cargo test` as an example. Each mode
//! does one observable thing and reports on stdout or a file; the tests run it as rein's main
//! child (or as a wrapper around rein).
//!
//! - `probe signals FILE`: block every catchable signal, fork one grandchild in the same
//!   process group, print `ready child PID` / `ready grandchild PID`, and append one line
//!   `ROLE SIGNO` to FILE per signal received. Both exit when stdin reaches EOF.
//! - `probe wrap BLOCK IGNORE -- CMD...`: block the signals in BLOCK and ignore those in IGNORE
//!   (comma-separated numbers, or `-`), then exec CMD: a caller that set up signal state.
//! - `probe orphans N`: create N double-forked orphans that exit at once, print `done N` once
//!   all of them have exited, then wait for stdin EOF.
//! - `probe args ARGS...`: write argv (without argv[0]) then the environment, each entry
//!   followed by a NUL, a `\n--env--\n` line between them, to stdout.
//! - `probe groups`: print `groups G1 G2 ...`, the sorted result of getgroups(2).
//! - `probe escalate`: try to become root again and print `setgid0 ERRNO`, `setuid0 ERRNO`
//!   and `setgroups0 ERRNO` (0 when the call succeeded, which a dropped child must never see).
#![allow(unsafe_code)]
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::ffi::CString;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mode = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    match mode {
        "signals" => signals(args[2].to_str().unwrap()),
        "wrap" => wrap(&args[2..]),
        "orphans" => orphans(args[2].to_str().unwrap().parse().unwrap()),
        "args" => print_args(&args[2..]),
        "groups" => groups(),
        "escalate" => escalate(),
        _ => panic!("probe: unknown mode '{mode}'"),
    }
}

/// Every signal but KILL, STOP and the synchronous faults, as a kernel mask.
fn catchable() -> u64 {
    let faults = [4, 5, 6, 7, 8, 11, 31, 9, 19];
    (1..=64)
        .filter(|s| !faults.contains(s))
        .fold(0u64, |m, s| m | (1u64 << (s - 1)))
}

fn set_mask(how: libc::c_int, mask: u64) {
    // SAFETY: 8-byte kernel sigset, pointer to a live local; old set not requested.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            how,
            &mask as *const u64,
            std::ptr::null_mut::<u64>(),
            8,
        )
    };
    assert_eq!(rc, 0, "rt_sigprocmask");
}

fn signal_fd(mask: u64) -> OwnedFd {
    // SAFETY: 8-byte kernel sigset, pointer to a live local.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            -1,
            &mask as *const u64,
            8,
            libc::SFD_CLOEXEC,
        )
    };
    assert!(fd >= 0, "signalfd");
    // SAFETY: a fresh descriptor from the kernel that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Waits for stdin EOF or a signal; returns the signal number, or None at EOF.
fn next_event(sfd: &OwnedFd) -> Option<i32> {
    loop {
        let stdin = std::io::stdin();
        let mut fds = [
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => panic!("poll: {e}"),
        }
        if fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN))
        {
            let mut buf = [0u8; 128];
            let n = nix::unistd::read(sfd.as_fd(), &mut buf).unwrap();
            assert_eq!(n, 128);
            return Some(i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            let mut b = [0u8; 64];
            match std::io::stdin().read(&mut b) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }
}

fn signals(file: &str) {
    let mask = catchable();
    set_mask(libc::SIG_BLOCK, mask);
    // SAFETY: single-threaded here; the child only runs Rust code that is fine after fork in a
    // single-threaded process.
    let pid = unsafe { libc::fork() };
    let role = if pid == 0 { "grandchild" } else { "child" };
    let sfd = signal_fd(mask);
    println!("ready {role} {}", std::process::id());
    std::io::stdout().flush().unwrap();
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    while let Some(sig) = next_event(&sfd) {
        // One write per line with O_APPEND: lines from both processes never interleave.
        out.write_all(format!("{role} {sig}\n").as_bytes()).unwrap();
    }
    if pid > 0 {
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
}

fn list(spec: &std::ffi::OsStr) -> Vec<i32> {
    let s = spec.to_str().unwrap();
    if s == "-" {
        vec![]
    } else {
        s.split(',').map(|n| n.parse().unwrap()).collect()
    }
}

fn wrap(args: &[std::ffi::OsString]) {
    let block = list(&args[0]);
    let ignore = list(&args[1]);
    assert_eq!(args[2], "--");
    set_mask(
        libc::SIG_BLOCK,
        block.iter().fold(0u64, |m, s| m | (1u64 << (s - 1))),
    );
    for s in ignore {
        // SAFETY: setting SIG_IGN for a valid signal number.
        unsafe { libc::signal(s, libc::SIG_IGN) };
    }
    let argv: Vec<CString> = args[3..]
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NULL-terminated argv of live C strings.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    panic!("exec {:?}: {}", args[3], std::io::Error::last_os_error());
}

fn orphans(n: usize) {
    // Every orphan holds the write end of this pipe until it exits, so EOF on the read end
    // means all of them are gone (exited; reaping them is rein's job).
    let mut fds = [0; 2];
    // SAFETY: `fds` is a live two-element array for pipe(2) to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    for _ in 0..n {
        // SAFETY: single-threaded; children only call fork and _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above; the grandchild and this child both fall through to _exit.
            unsafe { libc::fork() };
            // SAFETY: _exit ends the process without running any Rust code.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: reaping our own direct child; the grandchild is the orphan.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
    // SAFETY: closing our own copy of the write end, which nothing else here uses.
    unsafe { libc::close(fds[1]) };
    // SAFETY: the read end is ours alone; File takes over closing it.
    let mut done = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let _ = done.read_to_end(&mut Vec::new());
    println!("done {n}");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn print_args(args: &[std::ffi::OsString]) {
    let mut out = std::io::stdout().lock();
    for a in args {
        out.write_all(a.as_bytes()).unwrap();
        out.write_all(b"\0").unwrap();
    }
    out.write_all(b"\n--env--\n").unwrap();
    let env = std::fs::read("/proc/self/environ").unwrap();
    out.write_all(&env).unwrap();
    let _ = out.as_raw_fd();
}

fn groups() {
    let mut list = [0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 gid_t and we pass that length.
    let n = unsafe { libc::getgroups(256, list.as_mut_ptr()) };
    assert!(n >= 0, "getgroups: {}", std::io::Error::last_os_error());
    let mut got: Vec<libc::gid_t> = list[..usize::try_from(n).unwrap()].to_vec();
    got.sort_unstable();
    let text: Vec<String> = got.iter().map(ToString::to_string).collect();
    println!("groups {}", text.join(" "));
}

fn escalate() {
    let errno = |rc: libc::c_int| {
        if rc == 0 {
            0
        } else {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        }
    };
    // SAFETY: plain system calls with integer arguments.
    let g = errno(unsafe { libc::setgid(0) });
    // SAFETY: as above.
    let u = errno(unsafe { libc::setuid(0) });
    let root: [libc::gid_t; 1] = [0];
    // SAFETY: a live one-element gid_t array and its length.
    let s = errno(unsafe { libc::setgroups(1, root.as_ptr()) });
    println!("setgid0 {g}\nsetuid0 {u}\nsetgroups0 {s}");
}
