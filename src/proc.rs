//! Everything rein reads from `/proc`, read as bytes.
//!
//! Nothing in `/proc` is trusted to be text. A process names itself: its command name is the
//! first 15 bytes of the file it executed or of `prctl(PR_SET_NAME)` (or a write to
//! `/proc/PID/comm`), any byte but NUL, so it may hold half a UTF-8 character, spaces,
//! parentheses and newlines. A reader that insists on UTF-8, or splits the stat line at the
//! first `)` or space, makes such a process invisible or misreads its state; a leftover rein
//! cannot see is one it never signals and waits for forever. So every reader here takes bytes,
//! and the command name is kept as bytes, escaped only when it is logged.
//!
//! The files read: `/proc/PID/stat` (pid, name, state, parent, process group), the pid
//! directories of `/proc`, `/proc/PID/task/TID/children`, `/proc/self` and `/proc/self/fd`.
//!
//! Nor is the path `/proc` trusted to lead to procfs. A process in the container that may
//! mount could put a tmpfs over it after rein started and show rein no children, so that
//! rein would leave them running; or put a file of its choice over one of rein's files
//! there. So rein opens `/proc` once, before the main child exists ([`pin`]), keeps it only if
//! `fstatfs` says it is procfs, and reads everything through that descriptor, which a later
//! mount on the path does not change. Each file is opened with `openat2`'s `RESOLVE_NO_XDEV`:
//! a mount over one file of the pinned procfs makes that file unreadable (absent), never a
//! source of false answers. (That a process able to mount can still hide single entries this
//! way is the limit; rein then falls back to scanning every process, see `leftovers.rs`.)
//!
//! # References
//! - <https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html>
//! - <https://man7.org/linux/man-pages/man5/proc_pid_task.5.html> (`children`)

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// rein's descriptor of procfs, once it has found one (see the module's header).
static ROOT: OnceLock<OwnedFd> = OnceLock::new();

/// Set when `openat2` is missing (Linux before 5.6) or refused by a seccomp profile.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `/proc` and keeps it if it is procfs. Called before the main child is spawned, so that
/// nothing in the container has run yet; if `/proc` is not procfs then, each later read tries
/// again (it may be mounted later) with the same check. The descriptor is close-on-exec.
pub fn pin() {
    let _ = root();
}

/// The pinned procfs descriptor, for `detach.rs` to keep open.
pub fn pinned() -> Option<BorrowedFd<'static>> {
    ROOT.get().map(AsFd::as_fd)
}

fn root() -> Option<BorrowedFd<'static>> {
    if let Some(fd) = ROOT.get() {
        return Some(fd.as_fd());
    }
    let fd = nix::fcntl::open(
        "/proc",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let kind = nix::sys::statfs::fstatfs(&fd).ok()?.filesystem_type();
    if kind != nix::sys::statfs::PROC_SUPER_MAGIC {
        log::debug!("/proc is not procfs (filesystem type {:#x})", kind.0);
        return None;
    }
    Some(ROOT.get_or_init(|| fd).as_fd())
}

/// Opens `path` (relative, e.g. `42/stat`) below the pinned procfs, crossing no mount.
fn open_in(path: &PathBuf, flags: OFlag) -> nix::Result<OwnedFd> {
    let root = root().ok_or(Errno::ENOENT)?;
    let flags = flags | OFlag::O_CLOEXEC;
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        use nix::fcntl::{OpenHow, ResolveFlag};
        let how = OpenHow::new()
            .flags(flags)
            .resolve(ResolveFlag::RESOLVE_NO_XDEV | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        match nix::fcntl::openat2(root, path.as_bytes(), how) {
            Err(Errno::ENOSYS | Errno::EPERM) => NO_OPENAT2.store(true, Ordering::Relaxed),
            r => return r,
        }
    }
    nix::fcntl::openat(root, path.as_bytes(), flags, Mode::empty())
}

/// Calls `each` with every decimal name in the directory `path` below the pinned procfs (`.`
/// for its root), in the order the kernel lists them, until it returns `false`. Read with
/// getdents64 through a stack buffer: `read_dir` allocates for every entry. `None` if the
/// directory cannot be opened or read.
fn each_number(path: &PathBuf, mut each: impl FnMut(i32) -> bool) -> Option<()> {
    let fd = open_in(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY).ok()?;
    let mut buf = [0u8; 4096];
    loop {
        let n = crate::sys::getdents64(&fd, &mut buf).ok()?;
        if n == 0 {
            return Some(());
        }
        let mut at = 0;
        // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
        while at + 19 <= n {
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            if reclen == 0 || at + reclen > n {
                break;
            }
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            if let Some(number) = parse_pid(name)
                && !each(number)
            {
                return Some(());
            }
            at += reclen;
        }
    }
}

/// The decimal names in the directory `path` below the pinned procfs.
fn numbers(path: &PathBuf) -> Option<Vec<i32>> {
    let mut out = Vec::new();
    each_number(path, |n| {
        out.push(n);
        true
    })?;
    Some(out)
}

/// The longest command name the kernel shows in `/proc/PID/stat`: 15 bytes for a process, up
/// to 63 for some kernel threads. Longer names are cut here (they are only ever logged).
const COMM_MAX: usize = 64;

/// A command name as the kernel shows it: bytes, not text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Comm {
    bytes: [u8; COMM_MAX],
    len: u8,
}

impl Comm {
    /// A name from raw bytes (cut at [`COMM_MAX`]).
    pub fn new(raw: &[u8]) -> Self {
        let mut bytes = [0u8; COMM_MAX];
        let n = raw.len().min(COMM_MAX);
        bytes[..n].copy_from_slice(&raw[..n]);
        Self {
            bytes,
            len: u8::try_from(n).unwrap_or(u8::MAX),
        }
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Printable ASCII as itself, anything else (and `\`) as `\xNN`, so a name can neither break a
/// log line nor pass for another one.
impl fmt::Display for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.as_bytes() {
            if b.is_ascii_graphic() && b != b'\\' || b == b' ' {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The fields rein uses from one `/proc/PID/stat` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The process's pid.
    pub pid: i32,
    /// Its command name.
    pub comm: Comm,
    /// Its state letter: `R`, `S`, `D`, `T` (stopped), `t` (tracing stop), `Z`, `X`, ...
    pub state: u8,
    /// Its parent's pid (0 if the parent is outside rein's PID namespace).
    pub ppid: i32,
    /// Its process group.
    pub pgrp: i32,
}

impl Stat {
    /// It has exited and only waits to be reaped (`Z`), or is being removed (`X`).
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, b'Z' | b'X')
    }

    /// It is stopped by a signal (`T`): it acts on nothing but SIGKILL and SIGCONT. A tracing
    /// stop (`t`) is not: its tracer resumes it, and a SIGCONT would only be reported to the
    /// tracer as one more signal.
    pub fn is_stopped(&self) -> bool {
        self.state == b'T'
    }
}

/// Parses a `/proc/PID/stat` line. The name sits between the first `(` and the *last* `)`:
/// it may itself hold `)`, spaces and newlines, but the fields after it are numbers and one
/// state letter, so the last `)` is the name's end.
pub fn parse_stat(line: &[u8]) -> Option<Stat> {
    let open = line.iter().position(|&b| b == b'(')?;
    let close = line.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = parse_pid(trim_spaces(&line[..open]))?;
    let mut rest = line[close + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let state = match rest.next()? {
        [s] => *s,
        _ => return None,
    };
    let ppid = parse_pid(rest.next()?)?;
    let pgrp = parse_pid(rest.next()?)?;
    Some(Stat {
        pid,
        comm: Comm::new(&line[open + 1..close]),
        state,
        ppid,
        pgrp,
    })
}

/// A non-negative decimal number that fits a pid, from bytes: digits only (no sign, no
/// spaces), since everything rein parses is written by the kernel in exactly that form.
pub fn parse_pid(digits: &[u8]) -> Option<i32> {
    if digits.is_empty() || digits.len() > 10 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    i32::try_from(n).ok()
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| *c != b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|c| *c != b' ').map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// Reads `/proc/PID/stat`, or `None` if the process is gone (or the line is malformed).
///
/// One `openat2` and one `read` into a stack buffer: a scan reads one of these per process,
/// and `read_to_string`'s growing reads and musl's extra `fcntl` for close-on-exec cost five
/// system calls more each. A line longer than the buffer is cut in its trailing numbers, after
/// every field rein uses.
pub fn stat(pid: i32) -> Option<Stat> {
    let mut path = PathBuf::new();
    path.push_number(pid);
    path.push(b"/stat");
    let fd = open_in(&path, OFlag::O_RDONLY).ok()?;
    let mut buf = [0u8; 1024];
    let n = nix::unistd::read(&fd, &mut buf).ok()?;
    parse_stat(&buf[..n])
}

/// Every pid directory in `/proc` (the numeric names; everything else is skipped), or `None`
/// if `/proc` cannot be listed.
pub fn pids() -> Option<Vec<i32>> {
    let mut root = PathBuf::new();
    root.push(b".");
    numbers(&root)
}

/// The children of every thread of `pid`, appended to `out`, from
/// `/proc/PID/task/TID/children`. A process (or thread) that is gone has no children.
///
/// `Err(Missing)` when a live thread has no `children` file (the kernel lacks
/// `CONFIG_PROC_CHILDREN`), or when something is mounted over one: the caller then scans every
/// process instead.
pub fn children(pid: i32, out: &mut Vec<i32>) -> Result<(), Missing> {
    let mut dir = PathBuf::new();
    dir.push_number(pid);
    dir.push(b"/task");
    let tasks = match numbers(&dir) {
        Some(t) => t,
        None if crossed_a_mount(&dir) => return Err(Missing),
        None => return Ok(()),
    };
    dir.push(b"/");
    for tid in tasks {
        let mut path = dir.clone();
        path.push_number(tid);
        let task = path.clone();
        path.push(b"/children");
        match read_numbers(&path, out) {
            Err(Errno::EXDEV) => return Err(Missing),
            Err(Errno::ENOENT) if open_in(&task, OFlag::O_PATH).is_ok() => return Err(Missing),
            _ => {}
        }
    }
    Ok(())
}

/// Whether `path` cannot be opened because a mount covers it (or a part of the way to it).
fn crossed_a_mount(path: &PathBuf) -> bool {
    matches!(open_in(path, OFlag::O_PATH), Err(Errno::EXDEV))
}

/// The children of rein itself, oldest first, from `/proc/ME/task/ME/children`: one file,
/// with no listing of `/proc/ME/task/`, since rein runs a single thread (every child of a
/// single-threaded process is a child of that thread). `None` if the file cannot be read.
///
/// The kernel builds the file from the parent's list of children, which keeps them in the
/// order they became its children: forked, or re-parented to it when their parent died.
pub fn own_children(me: i32) -> Option<Vec<i32>> {
    thread_children(me, me)
}

/// The children of thread `tid` of process `pid`, oldest first (see [`own_children`]).
pub fn thread_children(pid: i32, tid: i32) -> Option<Vec<i32>> {
    let mut path = PathBuf::new();
    path.push_number(pid);
    path.push(b"/task/");
    path.push_number(tid);
    path.push(b"/children");
    let mut out = Vec::new();
    // One large read instead of many small ones: the kernel finds where each read resumes by
    // walking the list of children from its start, so reading 20,000 children 4 KiB at a time
    // cost 50 ms, and 64 KiB at a time 3 ms.
    let mut buf = vec![0u8; 64 * 1024];
    read_numbers_with(&path, &mut out, &mut buf).ok()?;
    Some(out)
}

/// Whether `/proc` lists a live process other than `me`: the pid directories are read in
/// order and the first one that is not `me` and not a zombie answers, so the usual "nobody
/// else" costs one short directory read. (`kill(-1, 0)` asks the same of the kernel, but as
/// PID 1 of a namespace the kernel answers it by walking every process of the host.) `None`
/// if `/proc` cannot be listed.
pub fn any_other_live(me: i32) -> Option<bool> {
    let mut root = PathBuf::new();
    root.push(b".");
    let mut found = false;
    each_number(&root, |pid| {
        found = pid != me && stat(pid).is_some_and(|s| !s.is_zombie());
        !found
    })?;
    Some(found)
}

/// Appends the whitespace-separated numbers in the file at `path` to `out`, reading through a
/// stack buffer: the usual `children` file is empty or short, and a long one (20,000 children)
/// is read in pieces without a growing allocation. Anything that is not a number is skipped.
fn read_numbers(path: &PathBuf, out: &mut Vec<i32>) -> nix::Result<()> {
    read_numbers_with(path, out, &mut [0u8; 4096])
}

/// [`read_numbers`] through `buf`.
fn read_numbers_with(path: &PathBuf, out: &mut Vec<i32>, buf: &mut [u8]) -> nix::Result<()> {
    read_numbers_from(open_in(path, OFlag::O_RDONLY)?, out, buf)
}

/// [`read_numbers`] of an open file.
fn read_numbers_from(fd: impl AsFd, out: &mut Vec<i32>, buf: &mut [u8]) -> nix::Result<()> {
    // The number being read, which may continue in the next piece; None after a non-digit.
    let mut current: Option<i64> = None;
    let mut valid = true;
    loop {
        let n = match nix::unistd::read(&fd, buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        };
        for &b in &buf[..n] {
            if b.is_ascii_digit() {
                let v = current.unwrap_or(0) * 10 + i64::from(b - b'0');
                valid &= v <= i64::from(i32::MAX);
                current = Some(v.min(i64::from(i32::MAX) + 1));
            } else if b.is_ascii_whitespace() {
                if let Some(v) = current.take().filter(|_| valid) {
                    out.extend(i32::try_from(v).ok().filter(|&p| p > 0));
                }
                valid = true;
            } else {
                valid = false;
            }
        }
    }
    if let Some(v) = current.filter(|_| valid) {
        out.extend(i32::try_from(v).ok().filter(|&p| p > 0));
    }
    Ok(())
}

/// The kernel does not provide `/proc/PID/task/TID/children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing;

/// Whether `/proc` shows rein's own PID namespace: `/proc/self` names the caller by its pid in
/// the namespace the procfs was mounted for. `unshare --pid --fork` without `--mount-proc`
/// leaves the parent namespace's procfs in place, whose pids mean other processes (or none) in
/// rein's namespace.
pub fn is_ours() -> bool {
    root()
        .and_then(|root| nix::fcntl::readlinkat(root, "self").ok())
        .and_then(|p| parse_pid(p.as_bytes()))
        .and_then(|p| u32::try_from(p).ok())
        == Some(std::process::id())
}

/// rein's open descriptors, from `self/fd` of the pinned procfs (the listing's own descriptor
/// included), or `None` if that directory cannot be read.
pub fn own_fds() -> Option<Vec<i32>> {
    let mut path = PathBuf::new();
    path.push(b"self/fd");
    numbers(&path)
}

/// A path built from bytes and numbers without going through `format!` and UTF-8.
#[derive(Debug, Clone, Default)]
struct PathBuf(Vec<u8>);

impl PathBuf {
    fn new() -> Self {
        Self(Vec::with_capacity(48))
    }

    fn push(&mut self, part: &[u8]) {
        self.0.extend_from_slice(part);
    }

    fn push_number(&mut self, n: i32) {
        let mut digits = [0u8; 12];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            i -= 1;
            digits[i] = b'-';
        }
        self.0.extend_from_slice(&digits[i..]);
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_line(comm: &[u8], rest: &str) -> Vec<u8> {
        let mut l = b"4242 (".to_vec();
        l.extend_from_slice(comm);
        l.extend_from_slice(b") ");
        l.extend_from_slice(rest.as_bytes());
        l
    }

    #[test]
    fn names_of_any_bytes_parse_and_keep_their_bytes() {
        let names: &[&[u8]] = &[
            b"sh",
            b"aaaaaaaaaaaaaa\xc3",
            b"\xff\xfe\xfd",
            b"x) Z 1 1 (y",
            b"a\nb) c",
            b") (",
            b"",
            b" ",
            b"((((",
            b"))))",
        ];
        for name in names {
            let s = parse_stat(&stat_line(name, "S 7 9 9 0 -1 4194560\n")).unwrap();
            assert_eq!(s.comm.as_bytes(), *name, "{name:?}");
            assert_eq!((s.pid, s.state, s.ppid, s.pgrp), (4242, b'S', 7, 9));
        }
    }

    #[test]
    fn states_are_told_apart() {
        let st = |state: &str| parse_stat(&stat_line(b"p", &format!("{state} 1 1"))).unwrap();
        assert!(st("Z").is_zombie() && st("X").is_zombie() && !st("S").is_zombie());
        assert!(st("T").is_stopped());
        assert!(!st("t").is_stopped(), "a tracing stop is the tracer's");
        assert!(!st("S").is_stopped() && !st("D").is_stopped());
    }

    #[test]
    fn malformed_lines_are_rejected() {
        for bad in [
            &b""[..],
            b"garbage",
            b"42 (sh",
            b"42 sh) S 1 1",
            b") 42 ( S 1 1",
            b"42 (sh) S",
            b"42 (sh) S 1",
            b"42 (sh) SS 1 1",
            b"-42 (sh) S 1 1",
            b"42 (sh) S -1 1",
            b"99999999999 (sh) S 1 1",
            b"4\xff2 (sh) S 1 1",
        ] {
            assert_eq!(parse_stat(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn numbers_are_digits_only_and_fit_a_pid() {
        assert_eq!(parse_pid(b"0"), Some(0));
        assert_eq!(parse_pid(b"2147483647"), Some(i32::MAX));
        assert_eq!(parse_pid(b"2147483648"), None);
        for bad in [&b""[..], b"+1", b"-1", b" 1", b"1 ", b"1a", b"\xd9\xa1"] {
            assert_eq!(parse_pid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_escaped_for_logs() {
        assert_eq!(Comm::new(b"sleep").to_string(), "sleep");
        assert_eq!(Comm::new(b"a b").to_string(), "a b");
        assert_eq!(
            Comm::new(b"aaaaaaaaaaaaaa\xc3").to_string(),
            "aaaaaaaaaaaaaa\\xc3"
        );
        assert_eq!(Comm::new(b"x\ny\\").to_string(), "x\\x0ay\\x5c");
        assert_eq!(Comm::new(&[b'a'; 100]).as_bytes().len(), COMM_MAX);
    }

    #[test]
    fn paths_are_built_from_numbers() {
        let mut p = PathBuf::new();
        p.push(b"/proc/");
        p.push_number(0);
        p.push(b"/");
        p.push_number(i32::MAX);
        p.push(b"/");
        p.push_number(-17);
        assert_eq!(p.as_bytes(), b"/proc/0/2147483647/-17");
    }

    #[test]
    fn numbers_are_read_across_pieces_and_junk_is_skipped() {
        let path = std::env::temp_dir().join(format!("rein-proc-{}", std::process::id()));
        let mut text: Vec<u8> = (1..=3000)
            .flat_map(|n| format!("{n} ").into_bytes())
            .collect();
        text.extend_from_slice(b"x12 12x 0 99999999999 \xff 42");
        std::fs::write(&path, &text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut out = Vec::new();
        read_numbers_from(&file, &mut out, &mut [0u8; 4096]).unwrap();
        let _ = std::fs::remove_file(&path);
        let mut want: Vec<i32> = (1..=3000).collect();
        want.push(42);
        assert_eq!(out, want);
    }

    #[test]
    fn our_own_entry_reads_back() {
        let me = i32::try_from(std::process::id()).unwrap();
        let s = stat(me).unwrap();
        assert_eq!(s.pid, me);
        assert!(!s.is_zombie());
        assert!(pids().unwrap().contains(&me));
        assert!(own_fds().unwrap().contains(&0) || own_fds().unwrap().contains(&1));
    }
}
