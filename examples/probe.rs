//! A test helper for rein's integration tests, built by `cargo test` as an example. Each mode
//! does one observable thing and reports on stdout or a file; the tests run it as rein's main
//! child (or as a wrapper around rein).
//!
//! - `probe signals FILE`: block every catchable signal, fork one grandchild in the same
//!   process group, print `ready child PID` / `ready grandchild PID`, and append one line
//!   `ROLE SIGNO` to FILE per signal sent with kill(2) (`SI_USER`, as rein forwards them): the
//!   kernel's own SIGCHLD when the grandchild exits is not logged. Both exit at stdin EOF.
//! - `probe wrap BLOCK IGNORE -- CMD...`: start from a clean signal state (empty mask, every
//!   disposition SIG_DFL, 32 and 33 included, which glibc's posix_spawn leaves ignored), block
//!   the signals in BLOCK and ignore those in IGNORE (comma-separated numbers, or `-`), then
//!   exec CMD: a caller that set up signal state.
//! - `probe orphans N`: create N double-forked orphans that exit at once, print `done N`,
//!   then wait for stdin EOF.
//! - `probe args ARGS...`: write argv (without argv[0]) then the environment, each entry
//!   followed by a NUL, a `\n--env--\n` line between them, to stdout.
//! - `probe execenv ENTRY... -- PATH ARGS...`: `execve` PATH with exactly the ENTRY byte strings
//!   as its environment (entries without `=`, duplicates and non-UTF-8 bytes included), which
//!   no shell or std `Command` can produce.
//! - `probe burst N [EXIT]`: create N double-forked orphans that all block on one pipe, print
//!   `armed N`; then close the pipe so that they all exit at the same instant. Without EXIT,
//!   the release waits for a line on stdin and is followed by `released`, then stdin EOF ends
//!   the probe; with EXIT, the probe releases them and exits with code EXIT at once.
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
        "execenv" => execenv(&args[2..]),
        "burst" => burst(
            args[2].to_str().unwrap().parse().unwrap(),
            args.get(3).map(|c| c.to_str().unwrap().parse().unwrap()),
        ),
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

/// Waits for stdin EOF or a signal; returns the signal number and `si_code`, or None at EOF.
fn next_event(sfd: &OwnedFd) -> Option<(i32, i32)> {
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
            let word =
                |at: usize| i32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
            // ssi_signo at offset 0, ssi_code at offset 8.
            return Some((word(0), word(8)));
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
    while let Some((sig, code)) = next_event(&sfd) {
        if code != libc::SI_USER {
            continue; // e.g. CLD_EXITED when the grandchild ends: ours, not forwarded
        }
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
    set_mask(libc::SIG_SETMASK, 0);
    for sig in (1..=64).filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP) {
        // The kernel's struct sigaction on x86_64: handler, flags, restorer, 8-byte mask.
        let act: [u64; 4] = [0; 4]; // SIG_DFL, no flags, no restorer, empty mask
        // SAFETY: raw rt_sigaction (glibc refuses 32 and 33) with a live, kernel-shaped action;
        // no old action requested.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                act.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8,
            )
        };
        assert_eq!(rc, 0, "rt_sigaction({sig})");
    }
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

fn execenv(args: &[std::ffi::OsString]) {
    let split = args.iter().position(|a| a == "--").expect("execenv: no --");
    let cstrings = |items: &[std::ffi::OsString]| -> Vec<CString> {
        items
            .iter()
            .map(|a| CString::new(a.as_bytes()).unwrap())
            .collect()
    };
    let env = cstrings(&args[..split]);
    let argv = cstrings(&args[split + 1..]);
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let mut argp: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of live C strings; the path is argv[0].
    unsafe { libc::execve(argp[0], argp.as_ptr(), envp.as_ptr()) };
    panic!(
        "execve {:?}: {}",
        args[split + 1],
        std::io::Error::last_os_error()
    );
}

fn burst(n: usize, exit: Option<i32>) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let [read_end, write_end] = fds;
    for _ in 0..n {
        // SAFETY: single-threaded; the children only call fork, close, read and _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above.
            if unsafe { libc::fork() } == 0 {
                // The orphan: hold only the read end, so closing the parent's write end is the
                // one event that ends every orphan at once.
                // SAFETY: closing our copy of the write end.
                unsafe { libc::close(write_end) };
                let mut b = 0u8;
                // SAFETY: reading one byte into a live local; returns 0 at EOF.
                while unsafe { libc::read(read_end, (&mut b as *mut u8).cast(), 1) } > 0 {}
                // SAFETY: ends the process without running Rust code.
                unsafe { libc::_exit(0) };
            }
            // SAFETY: as above.
            unsafe { libc::_exit(0) };
        }
        // SAFETY: reaping our own direct child; the grandchild is the orphan.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
    // SAFETY: closing our copy of the read end.
    unsafe { libc::close(read_end) };
    println!("armed {n}");
    std::io::stdout().flush().unwrap();
    if let Some(code) = exit {
        // SAFETY: closing the last write end releases every orphan; _exit follows at once.
        unsafe { libc::close(write_end) };
        // SAFETY: ends the process without running Rust code.
        unsafe { libc::_exit(code) };
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    // SAFETY: closing the last write end releases every orphan.
    unsafe { libc::close(write_end) };
    println!("released");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}
