//! Finding and stopping the processes that remain when the main child has exited.
//!
//! "Every remaining process" depends on where rein runs:
//! - as PID 1, it is everything in the PID namespace, including processes that joined it from
//!   outside (`docker exec`, `nsenter`), which rein cannot reap but must still stop;
//!   `kill(-1, sig)` reaches them all in one call, atomically with respect to fork;
//! - as a subreaper, it is every descendant, including those that called `setsid` or
//!   double-forked out of the main child's process group. Orphans among them are re-parented
//!   to rein, so following parent links in `/proc` from rein down finds them all; a process
//!   forked while rein scans is caught by the next scan, and rein scans until none is left.
//!
//! Without `/proc`, rein falls back to the main child's process group and says so once.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sys;

/// Where leftovers are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// rein is PID 1: the whole PID namespace.
    Namespace,
    /// rein is a subreaper: its descendants.
    Descendants(Pid),
}

/// One process from `/proc/PID/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEntry {
    /// Its pid.
    pub pid: i32,
    /// Its parent's pid (0 if the parent is outside rein's PID namespace).
    pub ppid: i32,
    /// `true` if it is a zombie (`Z`): it has exited and only waits to be reaped.
    pub zombie: bool,
}

/// Parses the fields rein needs from `/proc/PID/stat`. The command name is in parentheses and
/// may itself contain spaces and parentheses, so the fields after it start at the *last* `)`.
pub fn parse_stat(text: &str) -> Option<ProcEntry> {
    let open = text.find('(')?;
    let pid = text[..open].trim().parse().ok()?;
    let close = text.rfind(')')?;
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(ProcEntry {
        pid,
        ppid,
        zombie: state == "Z" || state == "X",
    })
}

/// Every process visible in `/proc`, or `None` when `/proc` is not mounted or is not the
/// procfs of rein's own PID namespace.
pub fn list_processes() -> Option<Vec<ProcEntry>> {
    if !proc_is_ours() {
        return None;
    }
    let dir = fs::read_dir("/proc").ok()?;
    let mut out = Vec::new();
    let mut any = false;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        any = true;
        // A process may exit between readdir and read: skip it.
        if let Some(entry) = read_stat(pid) {
            out.push(entry);
        }
    }
    // A /proc without a single pid directory is not procfs (or not ours).
    any.then_some(out)
}

/// Reads `/proc/PID/stat` with one `open` and one `read` into a stack buffer: a scan of a
/// busy host reads hundreds of these, and `read_to_string`'s growing reads and musl's extra
/// `fcntl` for close-on-exec cost five syscalls more per process. No close-on-exec is needed:
/// the descriptor is closed before the function returns and rein execs nothing afterwards.
fn read_stat(pid: &str) -> Option<ProcEntry> {
    let path = format!("/proc/{pid}/stat");
    let fd = nix::fcntl::open(
        path.as_str(),
        nix::fcntl::OFlag::O_RDONLY,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    // The line is at most a few hundred bytes (the command name is at most 64).
    let mut buf = [0u8; 1024];
    let n = nix::unistd::read(&fd, &mut buf).ok()?;
    parse_stat(std::str::from_utf8(&buf[..n]).ok()?)
}

/// Whether `/proc` shows rein's own PID namespace: `/proc/self` names the caller by its pid in
/// the namespace the procfs was mounted for. `unshare --pid --fork` without `--mount-proc`
/// leaves the parent namespace's procfs in place, whose pids mean other processes (or none)
/// in rein's namespace: as PID 1, rein would then see the host's processes as leftovers
/// forever and never exit.
fn proc_is_ours() -> bool {
    fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str()?.parse::<u32>().ok())
        == Some(std::process::id())
}

/// The live (non-zombie) leftovers in `scope` according to `procs`, excluding rein itself.
pub fn select(scope: Scope, procs: &[ProcEntry], me: i32) -> Vec<i32> {
    match scope {
        Scope::Namespace => procs
            .iter()
            .filter(|p| p.pid != me && !p.zombie)
            .map(|p| p.pid)
            .collect(),
        Scope::Descendants(root) => {
            let mut children: BTreeMap<i32, Vec<&ProcEntry>> = BTreeMap::new();
            for p in procs {
                children.entry(p.ppid).or_default().push(p);
            }
            let mut out = Vec::new();
            let mut seen = BTreeSet::new();
            let mut stack = vec![root.as_raw()];
            while let Some(parent) = stack.pop() {
                for c in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
                    if c.pid != me && seen.insert(c.pid) {
                        stack.push(c.pid);
                        if !c.zombie {
                            out.push(c.pid);
                        }
                    }
                }
            }
            out
        }
    }
}

/// Sends `sig` to every live leftover in `scope` and returns the pids it reached.
///
/// In subreaper mode each pid is opened as a pidfd and its parent re-checked before the signal
/// goes out through that pidfd: between the scan and the signal the process may have exited and
/// its pid been reused by an unrelated process, which must not be hit.
pub fn signal_leftovers(scope: Scope, sig: Signal, me: i32) -> Option<Vec<i32>> {
    match scope {
        Scope::Namespace => {
            // Nobody else in the namespace (the usual end of a run): no scan needed.
            if kill(Pid::from_raw(-1), None) == Err(Errno::ESRCH) {
                return Some(Vec::new());
            }
            let procs = list_processes()?;
            let targets = select(scope, &procs, me);
            if !targets.is_empty() || procs.iter().any(|p| p.pid != me) {
                // Everyone but rein, in one call that no concurrent fork can escape.
                let _ = kill_and_wake(Pid::from_raw(-1), sig);
            }
            Some(targets)
        }
        Scope::Descendants(root) => {
            let targets = match walk_children(root.as_raw()) {
                Some(pids) => pids,
                // No /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN off): scan everything.
                None => select(scope, &list_processes()?, me),
            };
            let parents: BTreeSet<i32> = targets.iter().copied().chain([me]).collect();
            Some(
                targets
                    .into_iter()
                    .filter(|&pid| signal_if_still_child_of(pid, &parents, sig))
                    .collect(),
            )
        }
    }
}

/// Whether `sig` asks a process to end, so it must be followed by SIGCONT: a process stopped by
/// job control (SIGTSTP, SIGSTOP) acts on nothing but SIGKILL and SIGCONT, and would otherwise
/// sit on the pending signal until the grace runs out and it is killed without cleaning up.
/// systemd and shells (for HUP) do the same.
pub fn wakes_stopped(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT | Signal::SIGHUP
    )
}

/// `kill(target, sig)`, followed by SIGCONT when `sig` asks the target to end (see
/// [`wakes_stopped`]).
pub fn kill_and_wake(target: Pid, sig: Signal) -> nix::Result<()> {
    kill(target, sig)?;
    if wakes_stopped(sig) {
        let _ = kill(target, Signal::SIGCONT);
    }
    Ok(())
}

/// The descendants of `root` found by following `/proc/PID/task/TID/children` down the tree:
/// a few reads for a small tree, instead of a scan of every process on a busy host. `None`
/// when the kernel does not provide these files.
fn walk_children(root: i32) -> Option<Vec<i32>> {
    let mut out = Vec::new();
    let mut stack = children_of(root)?;
    while let Some(pid) = stack.pop() {
        if out.contains(&pid) {
            continue;
        }
        out.push(pid);
        // A process that exited meanwhile has no file left, and no children either.
        stack.extend(children_of(pid).unwrap_or_default());
    }
    Some(out)
}

/// The children of every thread of `pid`; `None` if the `children` files do not exist.
fn children_of(pid: i32) -> Option<Vec<i32>> {
    let mut out = Vec::new();
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        match fs::read_to_string(task.path().join("children")) {
            Ok(text) => out.extend(
                text.split_ascii_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(_) => {}
        }
    }
    Some(out)
}

/// Signals `pid` only if, once pinned by a pidfd, its parent is still in `parents`.
fn signal_if_still_child_of(pid: i32, parents: &BTreeSet<i32>, sig: Signal) -> bool {
    match sys::pidfd_open(pid) {
        Ok(fd) => {
            let still_ours = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|t| parse_stat(&t))
                .is_some_and(|p| parents.contains(&p.ppid) && !p.zombie);
            let sent = still_ours && sys::pidfd_send_signal(&fd, sig as i32).is_ok();
            if sent && wakes_stopped(sig) {
                let _ = sys::pidfd_send_signal(&fd, Signal::SIGCONT as i32);
            }
            sent
        }
        // Kernels before 5.3 have no pidfd: accept the (tiny) reuse window of plain kill.
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOSYS) => {
            kill_and_wake(Pid::from_raw(pid), sig).is_ok()
        }
        Err(_) => false,
    }
}

/// Whether any process other than rein (and zombies it is about to reap) remains in the PID
/// namespace. Used as PID 1 when rein has no children left: processes that joined the
/// namespace from outside are not rein's children and send it no SIGCHLD.
pub fn namespace_has_others(me: i32) -> bool {
    // kill(-1, 0) fails with ESRCH when rein is alone: the common case needs no scan at all.
    if kill(Pid::from_raw(-1), None) == Err(Errno::ESRCH) {
        return false;
    }
    match list_processes() {
        // kill(-1, 0) also counts zombies whose parents have yet to reap them: look closer.
        Some(procs) => procs.iter().any(|p| p.pid != me && !p.zombie),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32) -> ProcEntry {
        ProcEntry {
            pid,
            ppid,
            zombie: false,
        }
    }

    #[test]
    fn stat_lines_with_awkward_command_names_parse() {
        let e = parse_stat("42 (a) b (c)) S 7 42 42 0 -1").unwrap();
        assert_eq!(
            e,
            ProcEntry {
                pid: 42,
                ppid: 7,
                zombie: false
            }
        );
        let z = parse_stat("9 (sh) Z 1 9 9").unwrap();
        assert!(z.zombie);
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn descendants_include_setsid_and_reparented_ones_but_not_strangers() {
        // 100 = rein; 101 main child; 102 its child; 103 orphan re-parented to rein;
        // 104 child of the orphan; 200 and 201 belong to someone else.
        let procs = [
            p(100, 1),
            p(101, 100),
            p(102, 101),
            p(103, 100),
            p(104, 103),
            p(200, 1),
            p(201, 200),
        ];
        let mut got = select(Scope::Descendants(Pid::from_raw(100)), &procs, 100);
        got.sort_unstable();
        assert_eq!(got, vec![101, 102, 103, 104]);
    }

    #[test]
    fn zombies_are_not_leftovers_but_their_children_are() {
        let procs = [
            p(1, 0),
            ProcEntry {
                pid: 5,
                ppid: 1,
                zombie: true,
            },
            p(6, 5),
            p(7, 0),
        ];
        let mut ns = select(Scope::Namespace, &procs, 1);
        ns.sort_unstable();
        assert_eq!(ns, vec![6, 7]);
        assert_eq!(
            select(Scope::Descendants(Pid::from_raw(1)), &procs, 1),
            vec![6]
        );
    }
}
