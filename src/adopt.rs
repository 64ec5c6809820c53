//! `--adopt` and `--pid-file`: a main program that daemonizes (`apachectl start`, `service foo
//! start`, a script that backgrounds a server and returns).
//!
//! By default the main child's exit ends the run and its leftovers are stopped. With `--adopt`,
//! a main child that exits 0 while descendants remain hands them to rein instead: rein keeps
//! reaping, forwards every signal it receives (after `--rewrite`) to every process group the
//! remaining processes form, one `kill(-pgid)` per group, so each process gets it exactly once
//! (with `--single-child`, each group's leader only), and exits 0 when the last one is gone.
//! "Remaining" is what leftovers are (`leftovers.rs`): the PID namespace as PID 1, the
//! descendants as a subreaper. A main child that exits non-zero or is killed ends the run as
//! without `--adopt`.
//!
//! `--pid-file PATH` then names the daemon, as systemd's `PIDFile=`: rein reads it after the
//! main child exited, waiting up to [`PID_FILE_WAIT`] for it, and follows that process as the
//! main process: its exit status becomes rein's, and its exit stops the rest with the grace.
//! The file is written by a process rein does not trust, so it is read as untrusted bytes:
//! never through a symbolic link, never from a FIFO or device (which could block rein or have
//! effects on open), at most [`PID_FILE_MAX`] bytes, digits only; a file left unchanged since
//! rein started (from an earlier run of the container) is not believed; and the pid must be
//! rein's own child, the only process whose exit status rein is sure to collect (a daemon
//! whose parent is alive would have its status taken by that parent).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::libc;
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use crate::cli::Config;
use crate::exit_code::ChildEnd;
use crate::leftovers::Scope;
use crate::proc::{self, Stat};
use crate::signals::{self, num};
use crate::sys;

/// How long rein waits, once the main child has exited, for `--pid-file` to name a child of
/// rein. A well-behaved daemon writes it before its starting process exits (systemd asks for
/// that); others write it once they are set up, which this leaves ample time for.
pub const PID_FILE_WAIT: Duration = Duration::from_secs(10);
/// How often rein looks at the pid file during that wait (and only then).
const PID_FILE_TICK: Duration = Duration::from_millis(20);
/// A pid is at most 10 digits; with a newline and some blanks, anything longer is no pid file.
pub const PID_FILE_MAX: usize = 32;
/// How many orphans' ends rein remembers, so a daemon that dies before its pid file is read
/// still gives its status.
const REMEMBERED_ENDS: usize = 64;

/// What the supervise loop must do after a reaping pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing changes.
    Nothing,
    /// Nothing adopted is left: stop as after the main child's exit.
    End,
    /// `--pid-file` named this child of rein: it is the main process from now on.
    Follow(Pid),
    /// `--pid-file` named a child of rein that has already exited and been reaped, like this.
    FollowedEnded(ChildEnd),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The main child runs (or rein was not asked to adopt).
    Inactive,
    /// The main child exited 0; rein looks after what it left.
    Adopting,
    /// The pid file's process is the main process now.
    Following,
    /// Over: nothing more to do here.
    Done,
}

/// `--adopt` for one run.
#[derive(Debug)]
pub struct Adoption {
    enabled: bool,
    pid_file: Option<PidFile>,
    state: State,
    /// rein kept processes after the main child exited: the summary's `adopted`.
    kept: bool,
    followed: Option<i32>,
    /// While looking for the pid file: the next look, and when to give up.
    next_look: Option<Instant>,
    give_up_at: Option<Instant>,
    /// The last orphans reaped, for a daemon that dies before its pid file is read.
    ends: VecDeque<(i32, ChildEnd)>,
    warned_no_proc: bool,
}

impl Adoption {
    /// No `--adopt`.
    pub fn off() -> Self {
        Self {
            enabled: false,
            pid_file: None,
            state: State::Inactive,
            kept: false,
            followed: None,
            next_look: None,
            give_up_at: None,
            ends: VecDeque::new(),
            warned_no_proc: false,
        }
    }

    /// Prepares `--adopt` before the main child starts: a relative `--pid-file` is resolved
    /// against the directory rein was started in (rein changes to `/` once the child runs),
    /// and whatever is at that path now is remembered, so a file left by an earlier run is not
    /// taken for the daemon's.
    pub fn prepare(cfg: &Config) -> Result<Self, String> {
        let mut me = Self::off();
        if !cfg.adopt {
            return Ok(me);
        }
        me.enabled = true;
        if let Some(path) = &cfg.pid_file {
            let path = std::path::absolute(path)
                .map_err(|e| format!("cannot use pid file '{}': {e}", path.display()))?;
            let before = fs::symlink_metadata(&path).ok().map(|m| Identity::of(&m));
            me.pid_file = Some(PidFile {
                path,
                before,
                unfinished: None,
            });
        }
        Ok(me)
    }

    /// The main child ended as `end` at `now`. Returns `true` if rein adopts what it left
    /// (`--adopt` and exit status 0): the caller must then not start the shutdown.
    pub fn on_main_exit(&mut self, end: Option<ChildEnd>, now: Instant) -> bool {
        if !self.enabled || self.state != State::Inactive {
            return false;
        }
        if end != Some(ChildEnd::Exited(0)) {
            log::debug!("main child did not exit 0: nothing adopted (--adopt)");
            self.state = State::Done;
            return false;
        }
        self.state = State::Adopting;
        if self.pid_file.is_some() {
            self.next_look = Some(now);
            self.give_up_at = Some(now + PID_FILE_WAIT);
        }
        true
    }

    /// Whether rein looks after adopted processes with no main process.
    pub fn is_adopting(&self) -> bool {
        self.state == State::Adopting
    }

    /// An orphan (not the main process) was reaped: remembered while a pid file may still
    /// name it.
    pub fn note_reaped(&mut self, pid: Pid, status: WaitStatus) {
        if self.pid_file.is_none() || !matches!(self.state, State::Inactive | State::Adopting) {
            return;
        }
        if let Some(end) = ChildEnd::from_wait(status) {
            if self.ends.len() == REMEMBERED_ENDS {
                self.ends.pop_front();
            }
            self.ends.push_back((pid.as_raw(), end));
        }
    }

    /// After a reaping pass (or a timer) at `now`: ends the adoption when rein has no child
    /// left (`no_children`), and looks for the pid file's process while it may appear.
    pub fn after_reap(&mut self, no_children: bool, now: Instant, me: i32) -> Step {
        if self.state != State::Adopting {
            return Step::Nothing;
        }
        // Nothing is left to wait for: one last look at the file, for a daemon that already
        // died, then the end.
        if no_children {
            let last = match self.next_look {
                Some(_) => self.look(now, me, true),
                None => Step::Nothing,
            };
            self.state = State::Done;
            if self.kept {
                log::info!("the last adopted process is gone");
            }
            return match last {
                Step::FollowedEnded(end) => Step::FollowedEnded(end),
                _ => Step::End,
            };
        }
        if !self.kept {
            self.kept = true;
            log::info!("main child exited 0 and left processes behind: adopting them (--adopt)");
        }
        match self.next_look {
            Some(at) if at <= now => self.look(now, me, false),
            _ => Step::Nothing,
        }
    }

    /// When rein must look at the pid file next, if it is still waiting for it.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.state == State::Adopting {
            self.next_look
        } else {
            None
        }
    }

    /// What the summary says: whether rein adopted, and the pid it followed.
    pub fn facts(&self) -> (bool, Option<i32>) {
        (self.kept || self.followed.is_some(), self.followed)
    }

    fn look(&mut self, now: Instant, me: i32, last: bool) -> Step {
        let Some(pf) = self.pid_file.as_mut() else {
            return Step::Nothing;
        };
        let why = match pf.look() {
            Look::Pid(pid) => {
                if let Some(&(_, end)) = self.ends.iter().rev().find(|(p, _)| *p == pid) {
                    log::info!(
                        "pid {pid} from '{}' has already exited; following its status",
                        pf.path.display()
                    );
                    self.followed = Some(pid);
                    self.state = State::Done;
                    self.next_look = None;
                    return Step::FollowedEnded(end);
                }
                match judge(pid, me) {
                    Verdict::Follow => {
                        log::info!(
                            "following pid {pid} from '{}' as the main process",
                            pf.path.display()
                        );
                        self.followed = Some(pid);
                        self.state = State::Following;
                        self.next_look = None;
                        return Step::Follow(Pid::from_raw(pid));
                    }
                    Verdict::Wait(why) => Ok(why),
                    Verdict::Reject(why) => Err(why),
                }
            }
            Look::Wait(why) => Ok(why),
            Look::Reject(why) => Err(why),
        };
        let give_up = match why {
            Ok(why) if !last && self.give_up_at.is_none_or(|t| now < t) => {
                self.next_look = Some(now + PID_FILE_TICK);
                log::trace!("pid file: {why}");
                return Step::Nothing;
            }
            Ok(why) if last => why,
            Ok(why) => format!("{why} after {PID_FILE_WAIT:?}"),
            Err(why) => why,
        };
        if !last {
            log::warn!(
                "not following --pid-file '{}': {give_up}; the adopted processes stay in rein's care until the last one is gone",
                pf.path.display()
            );
        }
        self.next_look = None;
        self.give_up_at = None;
        Step::Nothing
    }

    /// Forwards `sig` (already rewritten) to the adopted processes: one `kill(-pgid)` per
    /// process group they form, or, with `single_child`, to each group's leader. A group that
    /// also holds processes rein must not signal (rein itself, its parent's job, a process
    /// outside the namespace) is signalled member by member instead, each pinned by a pidfd.
    /// A stop signal is followed by SIGCONT only where a member is stopped.
    pub fn forward(&mut self, sig: i32, single_child: bool, me: i32, main_group: Option<Pid>) {
        let scope = if me == 1 {
            Scope::Namespace
        } else {
            Scope::Descendants(Pid::from_raw(me))
        };
        let Some(all) = scan() else {
            self.forward_without_proc(sig, scope, main_group);
            return;
        };
        let targets: BTreeSet<i32> = match crate::leftovers::discover(scope, me) {
            Some(live) => live.iter().map(|p| p.pid).collect(),
            None => BTreeSet::new(),
        };
        let plan = plan(&all, &targets, single_child);
        let reached = plan.iter().filter(|t| deliver(t, sig)).count();
        log::debug!(
            "forwarded {} to {reached} of {} adopted target(s)",
            signals::name(sig),
            plan.len()
        );
    }

    fn forward_without_proc(&mut self, sig: i32, scope: Scope, main_group: Option<Pid>) {
        if !self.warned_no_proc {
            self.warned_no_proc = true;
            log::warn!(
                "/proc is not mounted (or shows another PID namespace): adopted processes are signalled as kill(-1) as PID 1, or as the main child's group"
            );
        }
        let target = match scope {
            Scope::Namespace => -1,
            Scope::Descendants(_) => match main_group {
                Some(g) => -g.as_raw(),
                None => return,
            },
        };
        if sys::kill_raw(target, sig).is_ok() && wakes_stopped(sig) {
            let _ = sys::kill_raw(target, num::CONT);
        }
    }
}

/// Whether `sig` asks a process to end, so a stopped one must be continued to act on it.
fn wakes_stopped(sig: i32) -> bool {
    matches!(sig, num::TERM | num::INT | num::QUIT | num::HUP)
}

/// What is at the pid file's path, as far as "is this the file rein saw at start" goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Identity {
    fn of(m: &fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            // Any write or rename changes the ctime, even one that leaves the same bytes.
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

#[derive(Debug)]
struct PidFile {
    path: PathBuf,
    before: Option<Identity>,
    /// The last read, when it had no final newline: a pid without one is believed only once
    /// two reads in a row agree, since it may be a write still in progress ("12" of "1234").
    unfinished: Option<Vec<u8>>,
}

/// One look at the pid file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Look {
    /// Not (yet) usable; worth another look.
    Wait(String),
    /// Never usable: give up.
    Reject(String),
    /// It names this pid.
    Pid(i32),
}

impl PidFile {
    fn look(&mut self) -> Look {
        // lstat first: a FIFO, device or symbolic link is refused before it is ever opened.
        let meta = match fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Look::Wait(String::from("it does not exist yet"));
            }
            Err(e) => return Look::Wait(format!("it cannot be examined: {e}")),
        };
        if let Some(kind) = not_regular(&meta) {
            return Look::Reject(format!("it is {kind}, not a regular file"));
        }
        // O_NOFOLLOW and O_NONBLOCK close the race with a swap after the lstat: a link fails
        // with ELOOP, and a FIFO opens without waiting for a writer (then fstat refuses it).
        // std adds O_CLOEXEC.
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&self.path);
        let mut file = match opened {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Look::Reject(String::from("it is a symbolic link, not a regular file"));
            }
            Err(e) => return Look::Wait(format!("it cannot be opened: {e}")),
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => return Look::Wait(format!("it cannot be examined: {e}")),
        };
        if let Some(kind) = not_regular(&meta) {
            return Look::Reject(format!("it is {kind}, not a regular file"));
        }
        if Some(Identity::of(&meta)) == self.before {
            return Look::Wait(String::from(
                "it is unchanged since rein started (left by an earlier run?)",
            ));
        }
        if meta.len() > PID_FILE_MAX as u64 {
            return Look::Reject(format!(
                "it holds {} bytes, more than a pid ever needs",
                meta.len()
            ));
        }
        let mut buf = [0u8; PID_FILE_MAX + 1];
        let mut n = 0;
        while n < buf.len() {
            match file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Look::Wait(format!("it cannot be read: {e}")),
            }
        }
        let bytes = &buf[..n];
        if n > PID_FILE_MAX {
            return Look::Reject(String::from("it holds more bytes than a pid ever needs"));
        }
        match parse_pid(bytes) {
            Err(why) => Look::Reject(why),
            Ok(None) => Look::Wait(String::from("it is empty")),
            Ok(Some((pid, complete))) => {
                if !complete && self.unfinished.as_deref() != Some(bytes) {
                    self.unfinished = Some(bytes.to_vec());
                    return Look::Wait(String::from("its line is not finished yet"));
                }
                Look::Pid(pid)
            }
        }
    }
}

/// What kind of not-a-regular-file `m` describes, if it is one.
fn not_regular(m: &fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_file() {
        None
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("a device")
    }
}

/// Reads a pid file's bytes: ASCII digits with optional blanks around them. `Ok(None)` for an
/// empty file (created, not yet written); otherwise the pid and whether the line was finished
/// (a final newline). Anything else is refused, naming the bytes escaped.
fn parse_pid(bytes: &[u8]) -> Result<Option<(i32, bool)>, String> {
    let digits = bytes.trim_ascii();
    if digits.is_empty() {
        return Ok(None);
    }
    let bad = || format!("it does not hold a pid: \"{}\"", bytes.escape_ascii());
    if digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let pid: i32 = std::str::from_utf8(digits)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(bad)?;
    if pid <= 1 {
        return Err(format!(
            "it names pid {pid}, which is never a daemon of rein's"
        ));
    }
    Ok(Some((pid, bytes.last() == Some(&b'\n'))))
}

/// Whether rein can follow `pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Follow,
    Wait(String),
    Reject(String),
}

/// Follows only rein's own child: its exit status comes to rein, and until rein reaps it, its
/// pid cannot be reused. A deeper descendant may still become rein's child (its parent is
/// exiting in a double fork), so rein waits for that; anything else is refused.
fn judge(pid: i32, me: i32) -> Verdict {
    if pid == me {
        return Verdict::Reject(String::from("it names rein itself"));
    }
    let Some(st) = proc::stat(pid) else {
        return Verdict::Reject(format!("no process {pid} exists"));
    };
    if st.ppid == me {
        return Verdict::Follow;
    }
    // Up the parent chain: a descendant reaches rein. Bounded, since pids may be reused while
    // the chain is read.
    let mut at = st.ppid;
    for _ in 0..4096 {
        if at == me {
            return Verdict::Wait(format!(
                "pid {pid} is a descendant of rein but not its child: its parent {} is alive and would collect its exit status",
                st.ppid
            ));
        }
        match proc::stat(at) {
            Some(s) if at > 1 => at = s.ppid,
            _ => break,
        }
    }
    Verdict::Reject(format!("pid {pid} is not a descendant of rein"))
}

/// Every process in `/proc` (zombies and rein included: a group that holds rein is not
/// wholly adopted), or `None` if `/proc` is missing or belongs to another PID namespace.
fn scan() -> Option<Vec<Stat>> {
    if !proc::is_ours() {
        return None;
    }
    let out: Vec<Stat> = proc::pids()?.into_iter().filter_map(proc::stat).collect();
    (!out.is_empty()).then_some(out)
}

/// One delivery of a forwarded signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `kill(-pgid)`: the whole group is adopted.
    Group { pgid: i32, stopped: bool },
    /// One process, pinned by a pidfd and re-checked to still have parent `ppid`.
    Pid { pid: i32, ppid: i32, stopped: bool },
}

/// Who gets a forwarded signal: the groups of `targets` (pids in `all`), each once.
fn plan(all: &[Stat], targets: &BTreeSet<i32>, single_child: bool) -> Vec<Target> {
    let by_pid: BTreeMap<i32, &Stat> = all.iter().map(|p| (p.pid, p)).collect();
    let mut groups: BTreeMap<i32, Vec<&Stat>> = BTreeMap::new();
    for p in all
        .iter()
        .filter(|p| targets.contains(&p.pid) && !p.is_zombie())
    {
        groups.entry(p.pgrp).or_default().push(p);
    }
    let mut out = Vec::new();
    for (pgid, members) in groups {
        // kill(-pgid) reaches every member, so only where every live member is adopted. A
        // pgid of 0 is a group outside rein's PID namespace.
        let whole = pgid > 0
            && all
                .iter()
                .filter(|p| p.pgrp == pgid && !p.is_zombie())
                .all(|p| targets.contains(&p.pid));
        if whole && !single_child {
            out.push(Target::Group {
                pgid,
                stopped: members.iter().any(|p| p.is_stopped()),
            });
            continue;
        }
        let chosen: Vec<&Stat> = if single_child {
            match members.iter().find(|p| p.pid == pgid) {
                Some(leader) => vec![*leader],
                // The leader is gone: the group's topmost members (whose parent is in another
                // group) stand in for it, as the main child's pid does for its group.
                None => members
                    .iter()
                    .filter(|p| by_pid.get(&p.ppid).is_none_or(|q| q.pgrp != pgid))
                    .copied()
                    .collect(),
            }
        } else {
            members
        };
        out.extend(chosen.into_iter().map(|p| Target::Pid {
            pid: p.pid,
            ppid: p.ppid,
            stopped: p.is_stopped(),
        }));
    }
    out
}

fn deliver(t: &Target, sig: i32) -> bool {
    match *t {
        Target::Group { pgid, stopped } => {
            let sent = sys::kill_raw(-pgid, sig).is_ok();
            if sent && stopped && wakes_stopped(sig) {
                let _ = sys::kill_raw(-pgid, num::CONT);
            }
            sent
        }
        Target::Pid { pid, ppid, stopped } => {
            let cont = stopped && wakes_stopped(sig);
            match sys::pidfd_open(pid) {
                Ok(fd) => {
                    // Pinned: if it still has the parent it was scanned with, it is the same
                    // process, and the pidfd can reach no other.
                    let same = proc::stat(pid).is_some_and(|s| s.ppid == ppid && !s.is_zombie());
                    let sent = same && sys::pidfd_send_signal(&fd, sig).is_ok();
                    if sent && cont {
                        let _ = sys::pidfd_send_signal(&fd, num::CONT);
                    }
                    sent
                }
                // Kernels before 5.3 have no pidfd: accept plain kill's tiny reuse window.
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    let sent = sys::kill_raw(pid, sig).is_ok();
                    if sent && cont {
                        let _ = sys::kill_raw(pid, num::CONT);
                    }
                    sent
                }
                Err(_) => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sleeping process (state `S`) in group `pgrp`.
    fn p(pid: i32, ppid: i32, pgrp: i32) -> Stat {
        with_state(pid, ppid, pgrp, b'S')
    }

    fn with_state(pid: i32, ppid: i32, pgrp: i32, state: u8) -> Stat {
        Stat {
            pid,
            comm: proc::Comm::new(b"sh"),
            state,
            ppid,
            pgrp,
        }
    }

    /// rein as PID 1 (1) and two adopted groups: 10, whose leader is gone (11, 12), and 20,
    /// with its leader (20, 21). Every process but rein is adopted.
    fn two_groups() -> ([Stat; 5], BTreeSet<i32>) {
        let all = [
            p(1, 0, 0),
            p(11, 1, 10),
            p(12, 11, 10),
            p(20, 1, 20),
            p(21, 20, 20),
        ];
        (all, [11, 12, 20, 21].into())
    }

    /// A fresh scratch directory for `tag`, and the pid file path in it (not created).
    fn scratch(tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("rein-adopt-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.pid");
        (dir, path)
    }

    #[test]
    fn pid_files_hold_digits_and_blanks_only() {
        assert_eq!(parse_pid(b"1234\n"), Ok(Some((1234, true))));
        assert_eq!(parse_pid(b"  77 \r\n"), Ok(Some((77, true))));
        assert_eq!(parse_pid(b"42"), Ok(Some((42, false))));
        assert_eq!(parse_pid(b""), Ok(None));
        assert_eq!(parse_pid(b" \n"), Ok(None));
        for bad in [
            &b"12abc\n"[..],
            b"-5\n",
            b"+5\n",
            b"1 2\n",
            b"99999999999\n",
            b"4294967297\n",
            b"\xff\xfe\n",
            b"12\0\n",
            b"0x10\n",
        ] {
            assert!(
                parse_pid(bad).is_err(),
                "{:?}",
                bad.escape_ascii().to_string()
            );
        }
        assert!(parse_pid(b"1\n").unwrap_err().contains("pid 1"));
        assert!(parse_pid(b"0\n").is_err());
        // Untrusted bytes are shown escaped, never raw.
        let e = parse_pid(b"\x1b[2J\n").unwrap_err();
        assert!(e.contains("\\x1b[2J\\n"), "{e}");
    }

    #[test]
    fn each_wholly_adopted_group_gets_one_kill() {
        let (all, targets) = two_groups();
        assert_eq!(
            plan(&all, &targets, false),
            vec![
                Target::Group {
                    pgid: 10,
                    stopped: false
                },
                Target::Group {
                    pgid: 20,
                    stopped: false
                }
            ]
        );
    }

    #[test]
    fn single_child_reaches_leaders_or_the_topmost_members_of_a_leaderless_group() {
        let (all, targets) = two_groups();
        let pids: Vec<i32> = plan(&all, &targets, true)
            .into_iter()
            .map(|t| match t {
                Target::Pid { pid, .. } => pid,
                Target::Group { .. } => panic!("a group under --single-child"),
            })
            .collect();
        assert_eq!(pids, vec![11, 20]);
    }

    #[test]
    fn a_group_shared_with_others_is_signalled_member_by_member() {
        // rein (100) in group 50 with its parent's job (99); adopted 101 joined group 50, and
        // 102 is in group 0 (outside the namespace).
        let all = [
            p(99, 1, 50),
            p(100, 99, 50),
            p(101, 100, 50),
            p(102, 100, 0),
        ];
        let targets: BTreeSet<i32> = [101, 102].into();
        let got = plan(&all, &targets, false);
        assert_eq!(
            got,
            vec![
                Target::Pid {
                    pid: 102,
                    ppid: 100,
                    stopped: false
                },
                Target::Pid {
                    pid: 101,
                    ppid: 100,
                    stopped: false
                }
            ]
        );
    }

    #[test]
    fn stopped_members_mark_their_target_and_zombies_are_skipped() {
        let stopped = with_state(12, 1, 10, b'T');
        let zombie = with_state(13, 1, 10, b'Z');
        let all = [p(1, 0, 0), p(11, 1, 10), stopped, zombie];
        let targets: BTreeSet<i32> = [11, 12].into();
        assert_eq!(
            plan(&all, &targets, false),
            vec![Target::Group {
                pgid: 10,
                stopped: true
            }]
        );
    }

    #[test]
    fn adoption_needs_exit_zero_and_ends_when_nothing_is_left() {
        let t0 = Instant::now();
        let mut a = Adoption::off();
        a.enabled = true;
        assert!(!a.on_main_exit(Some(ChildEnd::Exited(1)), t0));
        assert_eq!(a.after_reap(false, t0, 100), Step::Nothing);

        let mut a = Adoption::off();
        assert!(!a.on_main_exit(Some(ChildEnd::Exited(0)), t0), "off");

        let mut a = Adoption::off();
        a.enabled = true;
        assert!(a.on_main_exit(Some(ChildEnd::Exited(0)), t0));
        assert!(a.is_adopting());
        assert_eq!(a.after_reap(false, t0, 100), Step::Nothing);
        assert_eq!(a.facts(), (true, None));
        assert_eq!(a.next_deadline(), None, "no pid file, no timer");
        assert_eq!(a.after_reap(true, t0, 100), Step::End);
        assert!(!a.is_adopting());
        // A later exit (of a followed process) is not adopted again.
        assert!(!a.on_main_exit(Some(ChildEnd::Exited(0)), t0));
    }

    #[test]
    fn a_daemon_reaped_before_its_pid_file_was_read_still_gives_its_status() {
        let (dir, path) = scratch("unit");
        let cfg = Config {
            adopt: true,
            pid_file: Some(path.clone()),
            ..Config::default()
        };
        let mut a = Adoption::prepare(&cfg).unwrap();
        let t0 = Instant::now();
        a.note_reaped(
            Pid::from_raw(4242),
            WaitStatus::Exited(Pid::from_raw(4242), 7),
        );
        assert!(a.on_main_exit(Some(ChildEnd::Exited(0)), t0));
        assert_eq!(a.next_deadline(), Some(t0));
        fs::write(&path, "4242\n").unwrap();
        assert_eq!(
            a.after_reap(true, t0, 100),
            Step::FollowedEnded(ChildEnd::Exited(7))
        );
        assert_eq!(a.facts(), (true, Some(4242)));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_unchanged_since_start_is_not_believed() {
        let (dir, path) = scratch("stale");
        fs::write(&path, format!("{}\n", std::process::id())).unwrap();
        let before = fs::symlink_metadata(&path).ok().map(|m| Identity::of(&m));
        let mut pf = PidFile {
            path: path.clone(),
            before,
            unfinished: None,
        };
        assert!(matches!(pf.look(), Look::Wait(w) if w.contains("unchanged")));
        // Rewritten (even with the same bytes): believed.
        fs::remove_file(&path).unwrap();
        fs::write(&path, format!("{}\n", std::process::id())).unwrap();
        assert_eq!(
            pf.look(),
            Look::Pid(i32::try_from(std::process::id()).unwrap())
        );
        // Without a newline, only once two reads agree.
        fs::write(&path, "4321").unwrap();
        assert!(matches!(pf.look(), Look::Wait(_)));
        assert_eq!(pf.look(), Look::Pid(4321));
        let _ = fs::remove_dir_all(&dir);
    }
}
