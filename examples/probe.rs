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
//!   exec CMD: a caller that set up signal state. IGNORE `nocldwait` instead leaves SIGCHLD at
//!   SIG_DFL with `SA_NOCLDWAIT` set (a caller whose children the kernel reaps by itself).
//! - `probe sigflags SIG`: print `handler default|ignore|other flags 0xHEX`, SIG's action as
//!   this process found it at start.
//! - `probe orphans N`: create N double-forked orphans that exit at once, print `done N` once
//!   all of them have exited, then wait for stdin EOF.
//! - `probe args ARGS...`: write argv (without argv[0]) then the environment, each entry
//!   followed by a NUL, a `\n--env--\n` line between them, to stdout.
//! - `probe groups`: print `groups G1 G2 ...`, the sorted result of getgroups(2).
//! - `probe escalate`: try to become root again and print `setgid0 ERRNO`, `setuid0 ERRNO`
//!   and `setgroups0 ERRNO` (0 when the call succeeded, which a dropped child must never see).
//! - `probe execenv ENTRY... -- PATH ARGS...`: `execve` PATH with exactly the ENTRY byte strings
//!   as its environment (entries without `=`, duplicates and non-UTF-8 bytes included), which
//!   no shell or std `Command` can produce.
//! - `probe burst N [EXIT]`: create N double-forked orphans that all block on one pipe, print
//!   `armed N`; then close the pipe so that they all exit at the same instant. Without EXIT,
//!   the release waits for a line on stdin and is followed by `released`, then stdin EOF ends
//!   the probe; with EXIT, the probe releases them and exits with code EXIT at once.
//! - `probe orphan-bursts PAR`: for each line `N` read from stdin, create N orphans with PAR
//!   workers in parallel (each orphan's parent forks up to 50 and exits without waiting), then
//!   print `done N made M failed F` (F: forks that failed). Exits 0 at stdin EOF.
//! - `probe storm EXIT SIGS`: block every catchable signal; until stdin EOF, keep forking
//!   short-lived orphans while counting the signals received; print `got SIG` the first time
//!   each signal in SIGS (comma-separated) arrives, then at EOF `count SIG N` for every signal
//!   seen and `forked N`, and exit with EXIT.
//! - `probe regroup setpgid|setsid FILE EXIT`: fork a helper that leaves the main child's
//!   process group (`setpgid(0, 0)`) or session (`setsid`); with `setpgid`, the main child then
//!   joins the helper's group, so its own group is empty. Both record signals to FILE as
//!   `main SIG` / `helper SIG`; the helper exits on SIGTERM or stdin EOF, the main child exits
//!   with EXIT at stdin EOF. Prints `ready main PID PGID SID` and `ready helper PID PGID SID`.
//! - `probe tty FILE EXIT`: close stdin/stdout/stderr (the terminal), re-open `/dev/tty` as all
//!   three, print `ready tty foreground=yes|no` on it, record signals to FILE as `tty SIG`, and
//!   exit with EXIT on SIGUSR2.
//! - `probe tree`: fork two `sleep 1000` leftovers, one in the main child's process group and
//!   one that calls `setsid` first, print `ready tree`, then unblock every signal and wait
//!   until one ends it (it never exits on its own, as a shell's `wait` would not). Each leftover unblocks every signal just before its exec. Started with
//!   a signal blocked (`probe wrap`), none of the three can lose it in its fork or start-up
//!   window, as a shell's `trap` can: it stays pending until the unblock, then takes effect.
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
        "sigflags" => sigflags(args[2].to_str().unwrap().parse().unwrap()),
        "orphans" => orphans(args[2].to_str().unwrap().parse().unwrap()),
        "args" => print_args(&args[2..]),
        "orphan-bursts" => orphan_bursts(args[2].to_str().unwrap().parse().unwrap()),
        "storm" => storm(args[2].to_str().unwrap().parse().unwrap(), &list(&args[3])),
        "regroup" => regroup(
            args[2].to_str().unwrap(),
            args[3].to_str().unwrap(),
            args[4].to_str().unwrap().parse().unwrap(),
        ),
        "tty" => tty(
            args[2].to_str().unwrap(),
            args[3].to_str().unwrap().parse().unwrap(),
        ),
        "execenv" => execenv(&args[2..]),
        "burst" => burst(
            args[2].to_str().unwrap().parse().unwrap(),
            args.get(3).map(|c| c.to_str().unwrap().parse().unwrap()),
        ),
        "groups" => groups(),
        "escalate" => escalate(),
        "tree" => tree(),
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
    let nocldwait = args[1] == "nocldwait";
    let ignore = if nocldwait { vec![] } else { list(&args[1]) };
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
    if nocldwait {
        // SAFETY: a zeroed sigaction is SIG_DFL with an empty mask; only the flag is added.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_flags = libc::SA_NOCLDWAIT;
        // SAFETY: `act` is live for the call; no old action requested.
        let rc = unsafe { libc::sigaction(libc::SIGCHLD, &act, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "sigaction(SIGCHLD, SA_NOCLDWAIT)");
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

fn sigflags(sig: i32) {
    // SAFETY: zeroed is a valid sigaction to be overwritten by the query.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a query only (null new action) into a live sigaction.
    let rc = unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
    assert_eq!(rc, 0, "sigaction({sig})");
    let handler = match old.sa_sigaction {
        libc::SIG_DFL => "default",
        libc::SIG_IGN => "ignore",
        _ => "other",
    };
    println!("handler {handler} flags {:#x}", old.sa_flags);
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

/// Forks; returns the child's pid, 0 in the child, or -1 when fork failed.
fn fork() -> libc::pid_t {
    // SAFETY: the probe is single-threaded, so the child may run any code.
    unsafe { libc::fork() }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running any Rust code.
    unsafe { libc::_exit(code) }
}

fn wait_for(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: reaping our own child into a live local.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

/// Creates `n` orphans: each intermediate process forks up to 50 children that exit at once,
/// then exits without waiting, so the children (exited or not) are re-parented to the reaper.
/// Returns (made, failed forks).
fn make_orphans(n: usize) -> (usize, usize) {
    let (mut made, mut failed) = (0, 0);
    while made + failed < n {
        let batch = (n - made - failed).min(50);
        // The intermediate reports its count through its exit status.
        let pid = fork();
        if pid == 0 {
            let mut ok = 0;
            for _ in 0..batch {
                match fork() {
                    0 => exit_now(0),
                    -1 => {}
                    _ => ok += 1,
                }
            }
            exit_now(ok);
        }
        if pid < 0 {
            failed += batch;
            continue;
        }
        let st = wait_for(pid);
        let ok = if libc::WIFEXITED(st) {
            usize::try_from(libc::WEXITSTATUS(st)).unwrap_or(0)
        } else {
            0
        };
        made += ok;
        failed += batch - ok;
    }
    (made, failed)
}

fn orphan_bursts(par: usize) {
    let mut line = String::new();
    while {
        line.clear();
        std::io::stdin().read_line(&mut line).unwrap() > 0
    } {
        let n: usize = line.trim().parse().unwrap();
        let mut workers = Vec::new();
        let mut failed_workers = 0;
        for w in 0..par {
            let share = n / par + usize::from(w < n % par);
            // Each worker reports through a pipe: "made failed".
            let (r, wfd) = nix::unistd::pipe().unwrap();
            let pid = fork();
            if pid == 0 {
                drop(r);
                let (m, f) = make_orphans(share);
                let mut out = std::fs::File::from(wfd);
                out.write_all(format!("{m} {f}\n").as_bytes()).unwrap();
                exit_now(0);
            }
            drop(wfd);
            if pid < 0 {
                failed_workers += share;
            } else {
                workers.push((pid, r));
            }
        }
        let (mut made, mut failed) = (0, failed_workers);
        for (pid, r) in workers {
            let mut text = String::new();
            std::fs::File::from(r).read_to_string(&mut text).unwrap();
            wait_for(pid);
            let mut f = text.split_whitespace().map(|x| x.parse::<usize>().unwrap());
            made += f.next().unwrap_or(0);
            failed += f.next().unwrap_or(0);
        }
        println!("done {n} made {made} failed {failed}");
        std::io::stdout().flush().unwrap();
    }
}

/// Reads one pending signal from a blocking signalfd if `poll` says one is there.
fn try_signal(sfd: &OwnedFd) -> Option<i32> {
    let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(n) if n > 0 => {}
        _ => return None,
    }
    let mut buf = [0u8; 128];
    let n = nix::unistd::read(sfd.as_fd(), &mut buf).ok()?;
    (n == 128).then(|| i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]))
}

fn stdin_at_eof() -> bool {
    let stdin = std::io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(n) if n > 0 => {
            let mut b = [0u8; 64];
            matches!(nix::unistd::read(stdin.as_fd(), &mut b), Ok(0) | Err(_))
        }
        _ => false,
    }
}

fn storm(exit: i32, watch: &[i32]) {
    let mask = catchable();
    set_mask(libc::SIG_BLOCK, mask);
    let sfd = signal_fd(mask);
    let mut counts = [0u64; 65];
    let mut forked = 0u64;
    println!("ready storm {}", std::process::id());
    std::io::stdout().flush().unwrap();
    loop {
        while let Some(sig) = try_signal(&sfd) {
            let i = usize::try_from(sig).unwrap();
            if counts[i] == 0 && watch.contains(&sig) {
                println!("got {sig}");
                std::io::stdout().flush().unwrap();
            }
            counts[i] += 1;
        }
        if stdin_at_eof() {
            break;
        }
        // A short-lived orphan: the middle process exits at once, its child right after.
        let pid = fork();
        if pid == 0 {
            fork();
            exit_now(0);
        }
        if pid > 0 {
            wait_for(pid);
            forked += 1;
        }
    }
    for (sig, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        println!("count {sig} {n}");
    }
    println!("forked {forked}");
    std::io::stdout().flush().unwrap();
    exit_now(exit);
}

fn ids() -> String {
    // SAFETY: a plain query of our own process group.
    let pgid = unsafe { libc::getpgid(0) };
    // SAFETY: a plain query of our own session.
    let sid = unsafe { libc::getsid(0) };
    format!("{} {pgid} {sid}", std::process::id())
}

fn regroup(how: &str, file: &str, exit: i32) {
    let mask = catchable();
    set_mask(libc::SIG_BLOCK, mask);
    let (r, w) = nix::unistd::pipe().unwrap();
    let helper = fork();
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    if helper == 0 {
        drop(r);
        let rc = match how {
            // SAFETY: a plain system call on ourselves.
            "setsid" => unsafe { libc::setsid() },
            // SAFETY: as above.
            _ => unsafe { libc::setpgid(0, 0) },
        };
        assert!(rc >= 0, "{how}: {}", std::io::Error::last_os_error());
        let sfd = signal_fd(mask);
        println!("ready helper {}", ids());
        std::io::stdout().flush().unwrap();
        drop(w);
        while let Some((sig, _)) = next_event(&sfd) {
            out.write_all(format!("helper {sig}\n").as_bytes()).unwrap();
            if sig == libc::SIGTERM {
                break;
            }
        }
        exit_now(0);
    }
    drop(w);
    // EOF on the pipe: the helper has left the group.
    let mut sink = Vec::new();
    std::fs::File::from(r).read_to_end(&mut sink).unwrap();
    if how == "setpgid" {
        // SAFETY: joining the helper's group, in our own session.
        let rc = unsafe { libc::setpgid(0, helper) };
        assert_eq!(rc, 0, "setpgid: {}", std::io::Error::last_os_error());
    }
    let sfd = signal_fd(mask);
    println!("ready main {}", ids());
    std::io::stdout().flush().unwrap();
    while let Some((sig, _)) = next_event(&sfd) {
        out.write_all(format!("main {sig}\n").as_bytes()).unwrap();
    }
    exit_now(exit);
}

fn tty(file: &str, exit: i32) {
    let mask = catchable();
    set_mask(libc::SIG_BLOCK, mask);
    for fd in 0..3 {
        // SAFETY: closing our own standard descriptors; nothing else holds them.
        unsafe { libc::close(fd) };
    }
    let t = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .unwrap();
    let fd = t.as_raw_fd();
    assert_eq!(fd, 0, "the lowest free descriptor");
    std::mem::forget(t);
    for n in 1..3 {
        // SAFETY: duplicating our open descriptor 0 onto 1 and 2.
        unsafe { libc::dup2(0, n) };
    }
    // SAFETY: a plain query on descriptor 0, the terminal.
    let fg_group = unsafe { libc::tcgetpgrp(0) };
    // SAFETY: a plain query of our own process group.
    let fg = fg_group == unsafe { libc::getpgrp() };
    let sfd = signal_fd(mask);
    print!("ready tty foreground={}\r\n", if fg { "yes" } else { "no" });
    std::io::stdout().flush().unwrap();
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    loop {
        let mut buf = [0u8; 128];
        let n = nix::unistd::read(sfd.as_fd(), &mut buf).unwrap();
        assert_eq!(n, 128);
        let sig = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
        out.write_all(format!("tty {sig}\n").as_bytes()).unwrap();
        if sig == libc::SIGUSR2 {
            exit_now(exit);
        }
    }
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

fn tree() {
    for leave_session in [false, true] {
        let pid = fork();
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: a plain system call on ourselves.
            if leave_session && unsafe { libc::setsid() } < 0 {
                exit_now(1);
            }
            set_mask(libc::SIG_SETMASK, 0);
            let argv = [c"sleep".as_ptr(), c"1000".as_ptr(), std::ptr::null()];
            // SAFETY: a NULL-terminated argv of static C strings.
            unsafe { libc::execvp(argv[0], argv.as_ptr()) };
            exit_now(127);
        }
    }
    println!("ready tree");
    std::io::stdout().flush().unwrap();
    set_mask(libc::SIG_SETMASK, 0);
    loop {
        // SAFETY: pause(2) takes nothing and returns only when a handler ran (never here).
        unsafe { libc::pause() };
    }
}
