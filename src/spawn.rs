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
//! Nothing is copied that the kernel already gave rein in the right shape: the child's argv is
//! the tail of rein's own argv array, and its envp is rein's own envp array unless rein edited
//! the environment (see `environ.rs`).
//!
//! Between fork and exec only async-signal-safe calls are allowed: every heap buffer is built
//! before the fork, and the child calls nothing but raw system calls. It does not allocate or
//! log; the `PATH` candidates are joined in a buffer on its stack, as musl's `execvp` does.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use crate::credentials::{self, Credentials};
use crate::environ::{CArray, ChildEnv, Entry};
use crate::sys::{self, RawMask};
use crate::terminal::Terminal;

/// The signal state rein was started with, which the main child gets back.
///
/// The mask needs restoring, and SIGCHLD if it was ignored. Other dispositions pass through
/// untouched: rein installs no handler and changes no other disposition (its C `main` even
/// skips Rust's SIGPIPE set-up), fork copies them, and exec keeps every `SIG_IGN`. So
/// `nohup`-style ignores reach the child without rein having to query 62 signals at start-up
/// and set them again after fork. SIGCHLD is the exception: rein must take it back to its
/// default for itself (see `sys::take_sigchld_default`), and gives the child the ignore back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignalState {
    /// The blocked mask rein inherited.
    pub mask: RawMask,
    /// Whether rein was started with SIGCHLD ignored.
    pub sigchld_ignored: bool,
}

/// Everything needed to start the main child.
#[derive(Debug)]
pub struct Plan<'a> {
    /// PROGRAM and ARGS: the tail of rein's own argv, passed to `execve` as it is.
    pub argv: CArray<'a>,
    /// The environment, as `KEY=VALUE` entries in their original order.
    pub env: ChildEnv<'a>,
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

/// The search path when the environment has no `PATH`: musl's default.
const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// The longest path `execve` accepts, with its NUL (`PATH_MAX`): the kernel refuses a longer
/// one with ENAMETOOLONG, which is what rein reports for a candidate that does not fit.
const PATH_MAX: usize = 4096;

/// The `LISTEN_PID` entry the child gets when it must name the child itself: room for any pid.
const LISTEN_SLOT: [u8; 22] = *b"LISTEN_PID=0000000000\0";

/// The main child's envp, made before fork.
enum Envp<'a> {
    /// rein's own array, untouched: nothing in the environment changed.
    Same(CArray<'a>),
    /// Pointers into rein's own strings and into the few it made (`--user`'s HOME, USER,
    /// LOGNAME), NULL-terminated.
    Built {
        _made: Vec<CString>,
        ptrs: Vec<*const c_char>,
    },
}

impl<'a> Envp<'a> {
    /// The entries of `env` in order, the first `LISTEN_PID=` one replaced by `listen` when
    /// given.
    fn new(env: &ChildEnv<'a>, listen: Option<*const c_char>) -> io::Result<Self> {
        if let (Some(same), None) = (env.inherited(), listen) {
            return Ok(Self::Same(same));
        }
        let made = env
            .edited()
            .iter()
            .filter_map(|e| match e {
                Entry::Set(bytes) => Some(CString::new(bytes.as_slice())),
                Entry::Kept(_) => None,
            })
            .collect::<Result<Vec<CString>, _>>()
            .map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte")
            })?;
        let mut set = made.iter();
        let edited = env.edited().iter().filter_map(|e| match e {
            Entry::Kept(c) => Some(*c),
            Entry::Set(_) => set.next().map(CString::as_c_str),
        });
        let entries = env
            .inherited()
            .into_iter()
            .flat_map(CArray::iter)
            .chain(edited);
        let mut listen = listen;
        let mut ptrs: Vec<*const c_char> = entries
            .map(|c| match listen {
                Some(slot) if c.to_bytes().starts_with(b"LISTEN_PID=") => {
                    listen = None;
                    slot
                }
                _ => c.as_ptr(),
            })
            .collect();
        ptrs.push(std::ptr::null());
        Ok(Self::Built { _made: made, ptrs })
    }

    /// The array for `execve`: null or NULL-terminated, live as long as `self`.
    fn as_ptr(&self) -> *const *const c_char {
        match self {
            Self::Same(a) => a.as_ptr(),
            Self::Built { ptrs, .. } => ptrs.as_ptr(),
        }
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
        .argv
        .iter()
        .next()
        .ok_or_else(|| SpawnError::NotFound(io::ErrorKind::NotFound.into()))?;
    // The child writes its own pid into its copy of this slot (socket activation).
    let mut listen_slot = LISTEN_SLOT;
    let listen = plan.fix_listen_pid.then_some(listen_slot.as_mut_ptr());
    let envp = Envp::new(&plan.env, listen.map(|p| p.cast_const().cast()))
        .map_err(|e| SpawnError::Setup("prepare the command", e))?;
    let image = Image {
        program,
        path: search_path(program.to_bytes(), &plan.env),
        argv: plan.argv.as_ptr(),
        envp: envp.as_ptr(),
        listen,
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
struct Image<'a> {
    /// PROGRAM as given.
    program: &'a CStr,
    /// The `PATH` to search for PROGRAM, `None` to exec PROGRAM itself.
    path: Option<&'a [u8]>,
    /// NULL-terminated, live until exec (rein's argv tail).
    argv: *const *const c_char,
    /// NULL-terminated (or null: empty), live until exec.
    envp: *const *const c_char,
    /// The `LISTEN_PID=` slot the child fills with its pid, a [`LISTEN_SLOT`] in `envp`.
    listen: Option<*mut u8>,
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
    if let Some(slot) = image.listen {
        write_listen_pid(slot);
    }
    if restore.sigchld_ignored {
        sys::ignore_sigchld_after_fork();
    }
    sys::set_mask_after_fork(restore.mask);
    exec_search(image)
}

/// The `PATH` to search for `program`, as `execvp` does: none if the name contains a slash
/// (or is empty), else the environment's last `PATH`, or musl's default without one.
fn search_path<'a>(program: &[u8], env: &'a ChildEnv<'_>) -> Option<&'a [u8]> {
    if program.contains(&b'/') || program.is_empty() {
        return None;
    }
    Some(env.path().unwrap_or(DEFAULT_PATH))
}

/// The directories of a search path in order; an empty entry is the current directory.
fn path_dirs(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b':')
        .map(|dir| if dir.is_empty() { &b"."[..] } else { dir })
}

/// `dir/name` and a NUL in `buf`, or `None` when that is longer than the kernel accepts.
fn join<'b>(buf: &'b mut [u8; PATH_MAX], dir: &[u8], name: &[u8]) -> Option<&'b [u8]> {
    let len = dir.len() + 1 + name.len();
    if len >= PATH_MAX {
        return None;
    }
    let (d, rest) = buf.split_at_mut(dir.len());
    d.copy_from_slice(dir);
    let (slash, rest) = rest.split_at_mut(1);
    slash[0] = b'/';
    let (n, rest) = rest.split_at_mut(name.len());
    n.copy_from_slice(name);
    rest[0] = 0;
    Some(&buf[..=len])
}

/// Tries `execve` on PROGRAM or on each `PATH` candidate, as `execvp` does, and returns the
/// errno to report when none worked. Unlike glibc's `execvp`, a file the kernel cannot execute
/// (ENOEXEC) is not handed to `/bin/sh`: rein reports 126 instead of guessing, the same on
/// every libc. Runs in the child: the candidates are joined on the stack.
fn exec_search(image: &Image<'_>) -> i32 {
    let Some(path) = image.path else {
        // SAFETY: `program` is NUL-terminated and argv/envp are NULL-terminated arrays that
        // stay alive until exec replaces the image (see `Image`).
        unsafe { libc::execve(image.program.as_ptr(), image.argv, image.envp) };
        return errno();
    };
    let name = image.program.to_bytes();
    let mut buf = [0u8; PATH_MAX];
    let mut denied = false;
    let mut last = libc::ENOENT;
    for dir in path_dirs(path) {
        last = match join(&mut buf, dir, name) {
            Some(full) => {
                // SAFETY: `full` ends with a NUL (see `join`); argv and envp as above.
                unsafe { libc::execve(full.as_ptr().cast(), image.argv, image.envp) };
                errno()
            }
            None => libc::ENAMETOOLONG,
        };
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

/// Writes the child's pid into the `LISTEN_PID=0000000000` slot at `slot`, in place.
fn write_listen_pid(slot: *mut u8) {
    // SAFETY: getpid is async-signal-safe.
    let pid = u32::try_from(unsafe { libc::getpid() }).unwrap_or(0);
    let mut digits = [0u8; 10];
    let digits = crate::environ::decimal(pid, &mut digits);
    let prefix = b"LISTEN_PID=".len();
    // SAFETY: `slot` is this child's copy of the parent's LISTEN_SLOT array (22 bytes, taken
    // with `as_mut_ptr` and not touched through any other path since), so it spans
    // prefix + 11 initialised bytes that nothing else references in this single-threaded child.
    let buf = unsafe { std::slice::from_raw_parts_mut(slot, LISTEN_SLOT.len()) };
    // A u32 has at most 10 digits, so digits and NUL fit in the reserved 11 bytes.
    let end = prefix + digits.len();
    buf[prefix..end].copy_from_slice(digits);
    buf[end] = 0;
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
    fn path_candidates_follow_execvp() {
        let dirs: Vec<&[u8]> = path_dirs(b"/a::/b").collect();
        assert_eq!(dirs, [&b"/a"[..], b".", b"/b"]);
        assert_eq!(path_dirs(b"").collect::<Vec<_>>(), [&b"."[..]]);
        assert_eq!(path_dirs(DEFAULT_PATH).count(), 3);
        let mut buf = [0u8; PATH_MAX];
        assert_eq!(
            join(&mut buf, b"/usr/bin", b"sh"),
            Some(&b"/usr/bin/sh\0"[..])
        );
        let long = vec![b'd'; PATH_MAX - 3];
        assert_eq!(join(&mut buf, &long, b"x").map(<[u8]>::len), Some(PATH_MAX));
        assert_eq!(join(&mut buf, &long, b"xy"), None);
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
