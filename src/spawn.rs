//! Starting the main child: its own process group, the foreground of rein's terminal, the
//! signal state rein was started with, optional privilege drop, then `execvpe`.
//!
//! Why not `std::process::Command`: rein passes argv and the environment through as the exact
//! bytes it received (std drops environment entries that have no `=`), socket activation needs
//! `LISTEN_PID` set to the child's own pid, which exists only after fork, and std's process
//! machinery (its environment map, posix_spawn path) costs binary size that an init does not
//! need. The shape is the same as std's: fork, set up, exec, and a close-on-exec pipe that
//! carries the errno back if exec fails, so the parent knows the outcome before it goes on.
//!
//! Between fork and exec only async-signal-safe calls are allowed: every buffer is built before
//! the fork, and the child calls nothing but raw system calls. It does not allocate or log.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use crate::credentials::{self, Credentials};
use crate::sys::{self, RawMask};
use crate::terminal::Terminal;

/// The signal state rein was started with, which the main child gets back.
///
/// Only the mask needs restoring. Dispositions pass through untouched: rein installs no
/// handler and changes no disposition (its C `main` even skips Rust's SIGPIPE set-up), fork
/// copies them, and exec keeps every `SIG_IGN`. So `nohup`-style ignores reach the child
/// without rein having to query 62 signals at start-up and set them again after fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignalState {
    /// The blocked mask rein inherited.
    pub mask: RawMask,
}

/// Everything needed to start the main child.
#[derive(Debug)]
pub struct Plan<'a> {
    /// PROGRAM and ARGS.
    pub command: &'a [OsString],
    /// The environment, as `KEY=VALUE` byte strings in their original order.
    pub env: Vec<OsString>,
    /// Set `LISTEN_PID` to the child's own pid (socket activation).
    pub fix_listen_pid: bool,
    /// What to restore in the child.
    pub signals: SignalState,
    /// Make the child the terminal's foreground group.
    pub terminal: Option<&'a Terminal>,
    /// Drop privileges to these.
    pub credentials: Option<Credentials>,
}

/// Why the main child did not start.
#[derive(Debug)]
pub enum SpawnError {
    /// `execvp` found no such program (exit 127).
    NotFound(io::Error),
    /// Found but not executable: permission, directory, format, RLIMIT_NPROC at execve
    /// (exit 126).
    CannotExecute(io::Error),
    /// A step before exec failed in the child (privilege drop), or fork itself (exit 125).
    Setup(&'static str, io::Error),
}

/// Errors from steps before exec travel through the errno pipe as `STEP_BASE * step + errno`,
/// so the parent can tell "setuid failed" from "exec failed".
const STEP_BASE: i32 = 10_000;

/// An argv or envp vector: owned NUL-terminated byte strings and a NULL-terminated pointer
/// array into them. The pointers are taken once, from `as_mut_ptr`, and the buffers are never
/// touched through any other path afterwards, so writing through them in the child is sound.
struct CVec {
    _bytes: Vec<Vec<u8>>,
    ptrs: Vec<*mut libc::c_char>,
}

impl CVec {
    fn new<B: AsRef<[u8]>>(items: impl IntoIterator<Item = B>) -> io::Result<Self> {
        let items = items.into_iter();
        let mut bytes: Vec<Vec<u8>> = Vec::with_capacity(items.size_hint().0);
        for item in items {
            let b = item.as_ref();
            if b.contains(&0) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "argument contains a NUL byte",
                ));
            }
            // Sized for the NUL from the start: growing each string by one byte reallocated
            // every argument and environment entry (a quarter of rein's start-up instructions).
            let mut c = Vec::with_capacity(b.len() + 1);
            c.extend_from_slice(b);
            c.push(0);
            bytes.push(c);
        }
        let mut ptrs: Vec<*mut libc::c_char> =
            bytes.iter_mut().map(|b| b.as_mut_ptr().cast()).collect();
        ptrs.push(std::ptr::null_mut());
        Ok(Self {
            _bytes: bytes,
            ptrs,
        })
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr().cast()
    }
}

/// Starts the main child and returns its pid once it has exec'd.
///
/// Signals must already be blocked in rein: the child inherits the block until it restores
/// `plan.signals.mask` just before exec, so nothing reaches it in a default state while it is
/// still rein's copy. The child calls `setpgid(0, 0)` first thing, and `spawn_main_child`
/// returns only when the exec has succeeded (the close-on-exec error pipe reads EOF), so from
/// then on a signal rein forwards to the group cannot miss the child; signals that arrive during
/// the spawn stay pending in rein and are forwarded afterwards.
pub fn spawn_main_child(plan: Plan<'_>) -> Result<Pid, SpawnError> {
    let program = plan
        .command
        .first()
        .ok_or_else(|| SpawnError::NotFound(io::ErrorKind::NotFound.into()))?;
    let setup = |e| SpawnError::Setup("prepare the command", e);
    let paths = CVec::new(candidates(program.as_bytes(), &plan.env)).map_err(setup)?;
    let argv = CVec::new(plan.command.iter().map(|a| a.as_bytes())).map_err(setup)?;
    let listen_slot = if plan.fix_listen_pid {
        plan.env
            .iter()
            .position(|e| e.as_bytes().starts_with(b"LISTEN_PID="))
    } else {
        None
    };
    // The slot is rewritten in the child; reserve room for "LISTEN_PID=" and any pid.
    let envp = CVec::new(plan.env.iter().enumerate().map(|(i, e)| {
        if Some(i) == listen_slot {
            b"LISTEN_PID=0000000000".as_slice()
        } else {
            e.as_bytes()
        }
    }))
    .map_err(setup)?;
    let image = Image {
        paths,
        argv,
        envp,
        listen_slot,
    };
    let tty: Option<RawFd> = plan.terminal.map(|t| t.fd().as_raw_fd());

    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| SpawnError::Setup("create a pipe", e.into()))?;
    // SAFETY: rein is single-threaded, and the child branch only makes async-signal-safe
    // system calls on memory prepared above (see `become_main_child`) before exec or _exit.
    match unsafe { fork() } {
        Err(e) => Err(SpawnError::Setup("fork", e.into())),
        Ok(ForkResult::Child) => {
            drop(read_end);
            let code = become_main_child(&image, tty, plan.credentials.as_ref(), plan.signals);
            let _ = nix::unistd::write(&write_end, &code.to_ne_bytes());
            // SAFETY: _exit ends the child at once, running no destructor or atexit handler of
            // the parent's copied state.
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(write_end);
            match read_errno(&read_end) {
                None => Ok(child),
                Some(code) => {
                    // The child is about to _exit: collect it now, so it is not counted as an
                    // orphan and leaves no zombie.
                    let _ = nix::sys::wait::waitpid(child, None);
                    Err(classify(io::Error::from_raw_os_error(code)))
                }
            }
        }
    }
}

/// Reads the child's errno from the close-on-exec pipe: `None` when it closed at exec.
fn read_errno(fd: &OwnedFd) -> Option<i32> {
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd.as_fd(), &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    (got == buf.len()).then(|| i32::from_ne_bytes(buf))
}

/// What the child execs, prepared before fork so that the child allocates nothing.
struct Image {
    paths: CVec,
    argv: CVec,
    envp: CVec,
    listen_slot: Option<usize>,
}

/// The child's side, between fork and exec: only async-signal-safe system calls, no
/// allocation, no logging. Returns the errno to report (a setup step's encoded as
/// `STEP_BASE * step + errno`) if exec did not happen.
fn become_main_child(
    image: &Image,
    tty: Option<RawFd>,
    creds: Option<&Credentials>,
    restore: SignalState,
) -> i32 {
    // Block everything, so that tcsetpgrp from what is now a background group does not raise
    // SIGTTOU, and no signal meets a default disposition before exec.
    sys::set_mask_after_fork(!0);
    // Its own process group before anything else; cannot fail for a fresh child of ours.
    // SAFETY: setpgid takes integers; 0, 0 means "my pid as my group".
    unsafe { libc::setpgid(0, 0) };
    if let Some(fd) = tty {
        // SAFETY: getpid is an async-signal-safe system call without arguments.
        let me = unsafe { libc::getpid() };
        // SAFETY: tcsetpgrp is an async-signal-safe system call; `fd` is rein's open /dev/tty
        // descriptor, inherited across fork.
        unsafe { libc::tcsetpgrp(fd, me) };
    }
    if let Some(c) = creds
        && let Err((step, errno)) = c.apply_in_child()
    {
        return STEP_BASE * (step + 1) + errno;
    }
    if let Some(i) = image.listen_slot {
        write_listen_pid(&image.envp, i);
    }
    sys::set_mask_after_fork(restore.mask);
    exec_first(&image.paths, &image.argv, &image.envp)
}

/// The paths `execvp` would try for `program`, in order: the name itself if it contains a
/// slash, else each `PATH` entry joined with it (an empty entry is the current directory; no
/// `PATH` means musl's default). Computed before fork, so the child only loops over them.
fn candidates(program: &[u8], env: &[OsString]) -> Vec<Vec<u8>> {
    if program.contains(&b'/') || program.is_empty() {
        return vec![program.to_vec()];
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/bin:/bin:/usr/bin");
    path.split(|&b| b == b':')
        .map(|dir| {
            let mut full = if dir.is_empty() {
                b".".to_vec()
            } else {
                dir.to_vec()
            };
            full.push(b'/');
            full.extend_from_slice(program);
            full
        })
        .collect()
}

/// Tries `execve` on each candidate, as `execvp` does, and returns the errno to report when
/// none worked. Unlike glibc's `execvp`, a file the kernel cannot execute (ENOEXEC) is not
/// handed to `/bin/sh`: rein reports 126 instead of guessing, the same on every libc.
fn exec_first(paths: &CVec, argv: &CVec, envp: &CVec) -> i32 {
    let mut denied = false;
    let mut last = libc::ENOENT;
    for &p in paths.ptrs.iter().take_while(|p| !p.is_null()) {
        // SAFETY: `p` is a NUL-terminated path and `argv`/`envp` are NULL-terminated arrays of
        // pointers into strings owned by the hook; all stay alive until exec replaces the image.
        unsafe { libc::execve(p, argv.as_ptr(), envp.as_ptr()) };
        last = errno();
        match last {
            // Not here: try the next directory.
            libc::ENOENT | libc::ENOTDIR => {}
            // Found but not executable: keep looking, report it if nothing else works.
            libc::EACCES => denied = true,
            _ => return last,
        }
    }
    if denied { libc::EACCES } else { last }
}

/// Writes the child's pid into the reserved `LISTEN_PID=0000000000` slot, in place.
fn write_listen_pid(envp: &CVec, slot: usize) {
    let Some(&p) = envp.ptrs.get(slot) else {
        return;
    };
    let p = p.cast::<u8>();
    // SAFETY: getpid is async-signal-safe.
    let mut pid = u32::try_from(unsafe { libc::getpid() }).unwrap_or(0);
    let mut digits = [0u8; 10];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (pid % 10) as u8;
        n += 1;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    let prefix = b"LISTEN_PID=".len();
    // SAFETY: the slot was built from "LISTEN_PID=0000000000" plus its NUL, so it spans
    // prefix + 11 initialised bytes that nothing else references in this single-threaded child.
    let buf = unsafe { std::slice::from_raw_parts_mut(p, prefix + 11) };
    // A u32 has at most 10 digits, so digits and NUL fit in the reserved 11 bytes.
    for i in 0..n {
        buf[prefix + i] = digits[n - 1 - i];
    }
    buf[prefix + n] = 0;
}

fn errno() -> i32 {
    Errno::last_raw()
}

fn classify(e: io::Error) -> SpawnError {
    let code = e.raw_os_error().unwrap_or(0);
    if code >= STEP_BASE {
        let step = usize::try_from(code / STEP_BASE - 1).unwrap_or(0);
        let what = credentials::STEPS
            .get(step)
            .copied()
            .unwrap_or("prepare the child");
        return SpawnError::Setup(what, io::Error::from_raw_os_error(code % STEP_BASE));
    }
    // Everything else came from execve, after the fork succeeded, so it is the program's
    // failure (126), EAGAIN included: RLIMIT_NPROC is checked again at execve once the uid
    // changed (set_user() marks the process, fs/exec.c refuses it). A failed fork() never
    // reaches here: `spawn_main_child` reports it as `Setup("fork")` (125).
    match code {
        libc::ENOENT => SpawnError::NotFound(e),
        _ => SpawnError::CannotExecute(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_path_like_execvp() {
        let env = vec![OsString::from("PATH=/a::/b"), OsString::from("X=1")];
        assert_eq!(
            candidates(b"prog", &env),
            vec![b"/a/prog".to_vec(), b"./prog".to_vec(), b"/b/prog".to_vec()]
        );
        assert_eq!(candidates(b"./x", &env), vec![b"./x".to_vec()]);
        assert_eq!(candidates(b"/bin/sh", &[]), vec![b"/bin/sh".to_vec()]);
        assert_eq!(candidates(b"sh", &[]).len(), 3);
    }

    #[test]
    fn setup_step_errors_round_trip_through_the_errno_pipe() {
        let e = classify(io::Error::from_raw_os_error(STEP_BASE * 3 + libc::EPERM));
        match e {
            SpawnError::Setup(step, err) => {
                assert_eq!(step, "set user id");
                assert_eq!(err.raw_os_error(), Some(libc::EPERM));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn exec_errors_map_to_not_found_or_cannot_execute() {
        assert!(matches!(
            classify(io::Error::from_raw_os_error(libc::ENOENT)),
            SpawnError::NotFound(_)
        ));
        for code in [
            libc::EACCES,
            libc::ENOEXEC,
            libc::EISDIR,
            libc::ENOTDIR,
            libc::ELOOP,
            libc::EAGAIN,
        ] {
            assert!(matches!(
                classify(io::Error::from_raw_os_error(code)),
                SpawnError::CannotExecute(_)
            ));
        }
    }
}
