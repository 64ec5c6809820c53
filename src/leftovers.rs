//! Finding and stopping the processes that remain when the main child has exited.
//!
//! "Every remaining process" depends on where rein runs:
//! - as PID 1, it is everything in the PID namespace, including processes that joined it from
//!   outside (`docker exec`, `nsenter`), which rein cannot reap but must still stop;
//!   `kill(-1, sig)` reaches them all in one call, atomically with respect to fork;
//! - as a subreaper, it is every descendant, including those that called `setsid` or
//!   double-forked out of the main child's process group. Orphans among them are re-parented
//!   to rein, so following parent links in `/proc` from rein down finds them all; a process
//!   forked while rein scans is caught by the next scan.
//!
//! Every process is found through `proc.rs`, whatever bytes it chose as its name. Discovery and
//! signalling are linear in the number of processes (one stat read each, hash sets for "seen"),
//! because they run for PID 1 at the worst moment: when thousands may be left.
//!
//! Without `/proc`, rein falls back to the main child's process group and says so once.

use std::collections::{HashMap, HashSet};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::proc::{self, Stat};
use crate::sys;
use crate::target::{self, Target};

/// Where leftovers are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// rein is PID 1: the whole PID namespace.
    Namespace,
    /// rein is a subreaper: its descendants.
    Descendants(Pid),
}

/// Every live (non-zombie) process in `scope` but rein, with its stat line, or `None` when
/// `/proc` is not mounted or is not the procfs of rein's own PID namespace.
pub fn discover(scope: Scope, me: i32) -> Option<Vec<Stat>> {
    let pids = match scope {
        Scope::Namespace => all_pids()?,
        Scope::Descendants(root) => descendants(root, me)?,
    };
    Some(
        stats(pids)
            .into_iter()
            .filter(|s| s.pid != me && !s.is_zombie())
            .collect(),
    )
}

/// The pids of `root`'s descendants (zombies included), walked down the `children` files, or
/// from a scan of every process where the kernel has no such files.
fn descendants(root: Pid, me: i32) -> Option<Vec<i32>> {
    match walk_children(root.as_raw()) {
        Some(pids) => Some(pids),
        // No /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN off): scan everything.
        None => {
            let all = stats(all_pids()?);
            let picked = select(Scope::Descendants(root), &all, me);
            Some(picked.into_iter().map(|i| all[i].pid).collect())
        }
    }
}

/// Every pid in `/proc`, if it is our namespace's procfs. A `/proc` without a single pid
/// directory is not procfs (or not ours) either.
fn all_pids() -> Option<Vec<i32>> {
    if !proc::is_ours() {
        return None;
    }
    let pids: Vec<i32> = proc::pids()?.collect();
    (!pids.is_empty()).then_some(pids)
}

/// The stat lines of `pids`; a process that exited meanwhile is skipped.
fn stats(pids: Vec<i32>) -> Vec<Stat> {
    pids.into_iter().filter_map(proc::stat).collect()
}

/// The indexes in `procs` of the live leftovers in `scope`, excluding rein itself.
pub fn select(scope: Scope, procs: &[Stat], me: i32) -> Vec<usize> {
    let live = |i: &usize| procs[*i].pid != me && !procs[*i].is_zombie();
    match scope {
        Scope::Namespace => (0..procs.len()).filter(live).collect(),
        Scope::Descendants(root) => {
            let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
            for (i, p) in procs.iter().enumerate() {
                children.entry(p.ppid).or_default().push(i);
            }
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            let mut stack = vec![root.as_raw()];
            while let Some(parent) = stack.pop() {
                for &i in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
                    if procs[i].pid != me && seen.insert(procs[i].pid) {
                        stack.push(procs[i].pid);
                        if live(&i) {
                            out.push(i);
                        }
                    }
                }
            }
            out
        }
    }
}

/// The descendants of `root` found by following `/proc/PID/task/TID/children` down the tree:
/// a few reads for a small tree, instead of a scan of every process on a busy host. `None`
/// when the kernel does not provide these files.
fn walk_children(root: i32) -> Option<Vec<i32>> {
    let mut stack = Vec::new();
    proc::children(root, &mut stack).ok()?;
    let mut seen = HashSet::with_capacity(stack.len());
    let mut out = Vec::with_capacity(stack.len());
    while let Some(pid) = stack.pop() {
        // A pid read twice (a process re-parented while the walk ran) is followed once.
        if !seen.insert(pid) {
            continue;
        }
        out.push(pid);
        // A process that exited meanwhile has no file left, and no children either.
        let _ = proc::children(pid, &mut stack);
    }
    Some(out)
}

/// Sends `sig` to every live leftover in `scope` and returns the pids it reached, or `None`
/// without `/proc` (see [`discover`]). TERM, INT, QUIT and HUP are followed by SIGCONT for
/// each leftover that is stopped (see `target.rs`), and only for those.
///
/// In subreaper mode each pid is opened as a pidfd and its parent re-checked before the signal
/// goes out through that pidfd: between the scan and the signal the process may have exited and
/// its pid been reused by an unrelated process, which must not be hit.
pub fn signal_leftovers(scope: Scope, sig: i32, me: i32) -> Option<Vec<i32>> {
    match scope {
        Scope::Namespace => {
            // Nobody else in the namespace (the usual end of a run): no scan needed.
            if sys::kill_raw(-1, 0).is_err_and(|e| e.raw_os_error() == Some(Errno::ESRCH as i32)) {
                return Some(Vec::new());
            }
            let found = discover(scope, me)?;
            // Everyone but rein, in one call that no concurrent fork can escape. Never a
            // SIGCONT to everyone: only to each one that was stopped, below.
            let _ = target::signal(Target::Everyone, sig, || false);
            if target::wakes_stopped(sig) {
                for p in found.iter().filter(|p| p.is_stopped()) {
                    wake_if_stopped(p.pid);
                }
            }
            Some(found.into_iter().map(|p| p.pid).collect())
        }
        Scope::Descendants(root) => {
            // Each one's stat line is read once, below, after it is pinned.
            let targets = descendants(root, me)?;
            let parents: HashSet<i32> = targets.iter().copied().chain([me]).collect();
            Some(
                targets
                    .into_iter()
                    .filter(|&pid| signal_if_still_child_of(pid, &parents, sig))
                    .collect(),
            )
        }
    }
}

/// Signals `pid` only if, once pinned by a pidfd, its parent is still in `parents`; with
/// SIGCONT after it if it was stopped before and still is.
fn signal_if_still_child_of(pid: i32, parents: &HashSet<i32>, sig: i32) -> bool {
    let ours = |s: &Stat| parents.contains(&s.ppid) && !s.is_zombie();
    let still_stopped = |before: Stat| move || before.is_stopped() && stopped_now(pid);
    match sys::pidfd_open(pid) {
        Ok(fd) => match proc::stat(pid).filter(ours) {
            Some(st) => target::signal(Target::Pinned(&fd), sig, still_stopped(st)).is_ok(),
            None => false,
        },
        // Kernels before 5.3 have no pidfd: accept the (tiny) reuse window of plain kill.
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOSYS) => match proc::stat(pid).filter(ours)
        {
            Some(st) => {
                target::signal(Target::Process(Pid::from_raw(pid)), sig, still_stopped(st)).is_ok()
            }
            None => false,
        },
        Err(_) => false,
    }
}

/// Sends SIGCONT to `pid` if it is stopped, pinned by a pidfd so a recycled pid is never hit.
fn wake_if_stopped(pid: i32) {
    if let Ok(fd) = sys::pidfd_open(pid)
        && stopped_now(pid)
    {
        let _ = Target::Pinned(&fd).send(crate::signals::num::CONT);
    }
}

fn stopped_now(pid: i32) -> bool {
    proc::stat(pid).is_some_and(|s| s.is_stopped())
}

/// Whether any process other than rein (and zombies it is about to reap) remains in the PID
/// namespace. Used as PID 1 when rein has no children left: processes that joined the
/// namespace from outside are not rein's children and send it no SIGCHLD.
pub fn namespace_has_others(me: i32) -> bool {
    // kill(-1, 0) fails with ESRCH when rein is alone: the common case needs no scan at all.
    if sys::kill_raw(-1, 0).is_err_and(|e| e.raw_os_error() == Some(Errno::ESRCH as i32)) {
        return false;
    }
    // kill(-1, 0) also counts zombies whose parents have yet to reap them: look closer.
    discover(Scope::Namespace, me).is_none_or(|others| !others.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::Comm;

    fn p(pid: i32, ppid: i32) -> Stat {
        Stat {
            pid,
            comm: Comm::new(b"p"),
            state: b'S',
            ppid,
            pgrp: pid,
        }
    }

    fn pids(procs: &[Stat], idx: Vec<usize>) -> Vec<i32> {
        let mut v: Vec<i32> = idx.into_iter().map(|i| procs[i].pid).collect();
        v.sort_unstable();
        v
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
        let got = select(Scope::Descendants(Pid::from_raw(100)), &procs, 100);
        assert_eq!(pids(&procs, got), vec![101, 102, 103, 104]);
    }

    #[test]
    fn zombies_are_not_leftovers_but_their_children_are() {
        let mut zombie = p(5, 1);
        zombie.state = b'Z';
        let procs = [p(1, 0), zombie, p(6, 5), p(7, 0)];
        assert_eq!(
            pids(&procs, select(Scope::Namespace, &procs, 1)),
            vec![6, 7]
        );
        assert_eq!(
            pids(
                &procs,
                select(Scope::Descendants(Pid::from_raw(1)), &procs, 1)
            ),
            vec![6]
        );
    }

    #[test]
    fn a_parent_loop_in_a_torn_scan_ends() {
        // A scan is not atomic: pids recycled during it can make parent links form a cycle.
        let procs = [
            p(100, 1),
            p(101, 102),
            p(102, 101),
            p(103, 100),
            p(104, 103),
        ];
        let got = select(Scope::Descendants(Pid::from_raw(100)), &procs, 100);
        assert_eq!(pids(&procs, got), vec![103, 104]);
    }

    #[test]
    fn our_own_children_are_walked() {
        let mut child = std::process::Command::new("sleep")
            .arg("100")
            .spawn()
            .unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let found = walk_children(me).unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&pid), "{found:?} lacks {pid}");
    }
}
