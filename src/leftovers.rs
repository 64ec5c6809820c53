//! Finding and stopping the processes that remain when the main child has exited.
//!
//! "Every remaining process" depends on where rein runs:
//! - as PID 1, it is everything in the PID namespace, including processes that joined it from
//!   outside (`docker exec`, `nsenter`), which rein cannot reap but must still stop;
//!   `kill(-1, sig)` reaches them all in one call, atomically with respect to fork (SIGKILL;
//!   SIGTERM goes to rein's own children first and to the others a moment later, see
//!   [`Drain`]);
//! - as a subreaper, it is every descendant, including those that called `setsid` or
//!   double-forked out of the main child's process group. Orphans among them are re-parented
//!   to rein, so following parent links in `/proc` from rein down finds them all; a process
//!   forked while rein scans is caught by the next scan.
//!
//! Every process is found through `proc.rs`, whatever bytes it chose as its name. Discovery and
//! signalling are linear in the number of processes (one stat read each, hash sets for "seen"),
//! because they run for PID 1 at the worst moment: when thousands may be left. SIGTERM, the
//! common case, goes out first without a stat read at all, and leftovers are reaped by pid
//! ([`Drain`]): stopping 20,000 of them takes about as long as a parent that signals its own
//! children and reaps each with `waitpid(pid)`.
//!
//! Without `/proc`, rein falls back to the main child's process group and says so once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::proc::{self, Stat};
use crate::reap::{self, ChildState, Reaped};
use crate::signals::num;
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
    let pids = proc::pids()?;
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
///
/// Breadth first, each level oldest first (the order of the `children` files): signalled in
/// this order, the oldest leftovers die first. The kernel walks a process group's members from
/// the youngest when one of them exits (to see whether the group becomes orphaned) and passes
/// over every zombie on the way, so youngest first made stopping N processes cost O(N²) there
/// (`docs/benchmarks.md`, "Leftovers").
fn walk_children(root: i32) -> Option<Vec<i32>> {
    let mut queue = VecDeque::new();
    let mut found = Vec::new();
    proc::children(root, &mut found).ok()?;
    queue.extend(found.drain(..));
    let mut seen = HashSet::with_capacity(queue.len());
    let mut out = Vec::with_capacity(queue.len());
    while let Some(pid) = queue.pop_front() {
        // A pid read twice (a process re-parented while the walk ran) is followed once.
        if !seen.insert(pid) {
            continue;
        }
        out.push(pid);
        // A process that exited meanwhile has no file left, and no children either.
        let _ = proc::children(pid, &mut found);
        queue.extend(found.drain(..));
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
            if !namespace_has_others(me) {
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
    // kill(-1, 0) fails with ESRCH when rein is alone: the usual end of a run costs one system
    // call (the kernel walks the host's processes, but signals none).
    if sys::kill_raw(-1, 0).is_err_and(|e| e.raw_os_error() == Some(Errno::ESRCH as i32)) {
        return false;
    }
    // kill(-1, 0) also counts zombies whose parents have yet to reap them: look closer, and
    // stop at the first live one.
    if proc::is_ours()
        && let Some(others) = proc::any_other_live(me)
    {
        return others;
    }
    true
}

/// How long the exits of signalled leftovers may pause before rein counts the wave as over:
/// then it reaps with `waitpid(-1)` again (for children it did not signal) and takes its
/// second look ([`Drain`]).
pub const QUIET: Duration = Duration::from_millis(10);

/// How much longer the exits must pause before the second look, for each signalled child not
/// yet reaped: about what its exit takes here.
const SETTLE_PER_PENDING: Duration = Duration::from_micros(20);

/// The latest the second look comes after SIGTERM, however long the exits keep coming.
const SECOND_LOOK_BY: Duration = Duration::from_secs(1);

/// How many signalled children past the oldest one still running a pass looks at: leftovers
/// do not exit exactly in the order they were signalled (the scheduler picks), and the ones
/// just behind the oldest are the likeliest to have exited.
const LOOKAHEAD: usize = 16;

/// How many children a pass reaps with `waitpid(-1)` while signalled ones are still running.
const SWEEP: usize = 64;

/// One reaping pass of a [`Drain`].
#[derive(Debug, Default)]
pub struct Pass {
    /// rein has no child left (`ECHILD` from the `waitpid(-1)` pass).
    pub no_children: bool,
    /// Leftovers that got SIGTERM in the second look, for the count.
    pub terminated: Vec<i32>,
}

/// Stopping leftovers cheaply, in two looks, and reaping them by pid.
///
/// At SIGTERM rein signals what it can reach without reading each process's state: its own
/// children, by pid, oldest first (see [`Drain::signal`]).
/// Reading `/proc/PID/stat` for each of N processes before signalling them cost more than the
/// whole of their exits (about 10 µs each, 20,000 of them), and most leftovers die of the TERM
/// whatever state they were in (a stopped process whose TERM is fatal is killed at once).
/// Once the exits pause ([`QUIET`] and a little more per child still to reap, or
/// [`SECOND_LOOK_BY`] at the latest), the second look walks what is left as before: the other
/// leftovers get their SIGTERM (pinned by a pidfd; as a subreaper, their parent re-checked:
/// rein's descendants below its children; as PID 1, everyone else in the namespace), and every
/// survivor that is stopped gets its SIGCONT. None gets a second TERM.
///
/// The children signalled are then reaped by pid, oldest first, with `waitpid(-1)` (which
/// scans every child on each call) only once their exits pause or none is left to wait for.
#[derive(Debug, Default)]
pub struct Drain {
    /// rein's own children that were signalled and are not reaped yet, oldest first.
    pending: VecDeque<i32>,
    /// When one of `pending` was last reaped (or the signal went out).
    last_progress: Option<Instant>,
    /// Whether a `waitpid(-1)` pass ran since then.
    swept: bool,
    /// While the second look after SIGTERM is to come: when it is due at the latest.
    second_look: Option<Instant>,
    /// The pids that got SIGTERM from rein, so that the second look sends no second one.
    terminated: HashSet<i32>,
    /// Children reaped while the signals went out, for the next pass to hand on.
    early: Vec<Reaped>,
}

impl Drain {
    /// Sends `sig` to the leftovers in `scope` and returns the pids it reached, or `None`
    /// without `/proc` (see [`discover`]). `no_children`: the reaping pass just before found
    /// rein without a child, so a subreaper has no descendant to signal at all.
    ///
    /// SIGTERM is the first look described at [`Drain`]; any other signal (SIGKILL) goes to
    /// every leftover found, as [`signal_leftovers`] does.
    pub fn signal(
        &mut self,
        scope: Scope,
        sig: i32,
        me: i32,
        no_children: bool,
        now: Instant,
    ) -> Option<Vec<i32>> {
        if sig != num::TERM {
            // SIGKILL acts on stopped processes too: nothing is left for a second look.
            self.second_look = None;
            let hit = signal_leftovers(scope, sig, me)?;
            self.track(&hit);
            return Some(hit);
        }
        if no_children && (scope != Scope::Namespace || !namespace_has_others(me)) {
            return Some(Vec::new());
        }
        let hit = match self.first_look(sig, me) {
            Some(children) => children,
            // No /proc of our own, or no children file: everything at once, as for SIGKILL.
            None => {
                let hit = signal_leftovers(scope, sig, me)?;
                self.track(&hit);
                hit
            }
        };
        self.terminated.extend(hit.iter().copied());
        self.second_look = Some(now + SECOND_LOOK_BY);
        Some(hit)
    }

    /// Adds `pids` to the children to reap by pid; the pause in the exits counts from now.
    fn track(&mut self, pids: &[i32]) {
        self.pending.extend(pids.iter().copied());
        self.last_progress = Some(Instant::now());
        self.swept = false;
    }

    /// A reaping pass: the signalled children by pid, from the oldest; then, once none is
    /// left or their exits have paused for [`QUIET`], `waitpid(-1)` for everything else (which
    /// also says whether rein has any child left), and the second look when it is due.
    pub fn reap(
        &mut self,
        scope: Scope,
        me: i32,
        now: Instant,
        mut each: impl FnMut(Reaped),
    ) -> Pass {
        let mut progress = !self.early.is_empty();
        for r in self.early.drain(..) {
            self.terminated.remove(&r.pid.as_raw());
            each(r);
        }
        let mut i = 0;
        let mut running = 0;
        while i < self.pending.len() && running <= LOOKAHEAD {
            match reap::reap_child(Pid::from_raw(self.pending[i])) {
                ChildState::Reaped(r) => {
                    let _ = self.pending.remove(i);
                    self.terminated.remove(&r.pid.as_raw());
                    each(r);
                    progress = true;
                }
                ChildState::NotOurs => {
                    let _ = self.pending.remove(i);
                }
                ChildState::Running => {
                    running += 1;
                    i += 1;
                }
            }
        }
        if progress {
            self.last_progress = Some(now);
            self.swept = false;
        }
        let quiet = self.last_progress.is_none_or(|t| now >= t + QUIET);
        let mut pass = Pass::default();
        if !self.pending.is_empty() {
            // A signalled child is still running, so rein has children. Once their exits
            // pause, the others are reaped too, a bounded number per pass: the pause may be
            // the scheduler's, with thousands of exits still to come.
            if !quiet {
                return pass;
            }
            self.swept = reap::reap_exited(SWEEP, &mut each) != reap::Stopped::Budget;
        } else {
            self.swept = true;
            pass.no_children = reap::reap_zombies(&mut each);
        }
        if let Some(by) = self.second_look
            && (self.settled(now) || now >= by)
            && !(pass.no_children && scope != Scope::Namespace)
        {
            self.second_look = None;
            pass.terminated = self.look_again(scope, me);
        } else if pass.no_children && scope != Scope::Namespace {
            self.second_look = None;
        }
        pass
    }

    /// When the exits count as over for the second look: after a pause of [`QUIET`] plus
    /// [`SETTLE_PER_PENDING`] for each signalled child still there. The second look reads a
    /// stat line for every process left, so it should come when few are; on a loaded machine
    /// the exits of 2,000 leftovers paused for 10 ms with nearly all of them still to come.
    fn settle_at(&self) -> Option<Instant> {
        let n = u32::try_from(self.pending.len()).unwrap_or(u32::MAX);
        self.last_progress
            .map(|t| t + QUIET + SETTLE_PER_PENDING.saturating_mul(n))
    }

    fn settled(&self, now: Instant) -> bool {
        self.settle_at().is_none_or(|t| now >= t)
    }

    /// When rein must wake up for the next pass even if no child exits: the end of a pause in
    /// the exits ([`QUIET`]), or the time for the second look.
    pub fn next_deadline(&self) -> Option<Instant> {
        // Once a pause has been swept, only a child's exit (SIGCHLD) or the second look needs
        // a pass: no timer for it, or rein would spin through the rest of the pause.
        let quiet = self
            .last_progress
            .filter(|_| !self.pending.is_empty() && !self.swept)
            .map(|t| t + QUIET);
        let second = self
            .second_look
            .map(|by| self.settle_at().map_or(by, |t| t.min(by)));
        [quiet, second].into_iter().flatten().min()
    }

    /// The second look after SIGTERM: SIGTERM to the leftovers the first did not reach, and
    /// SIGCONT to every survivor that is stopped. Returns the pids newly terminated.
    fn look_again(&mut self, scope: Scope, me: i32) -> Vec<i32> {
        let sig = num::TERM;
        match scope {
            // Every process in the namespace is a leftover, so a pid found here names one even
            // if it was reused meanwhile: pinned by a pidfd, it is signalled as what it is now.
            Scope::Namespace => {
                let found = discover(scope, me).unwrap_or_default();
                let mut hit = Vec::new();
                for p in found {
                    if self.terminated.contains(&p.pid) {
                        // It had its SIGTERM: only a stopped one needs more.
                        if p.is_stopped() {
                            wake_if_stopped(p.pid);
                        }
                    } else if let Ok(fd) = sys::pidfd_open(p.pid) {
                        let stopped = || stopped_now(p.pid);
                        if target::signal(Target::Pinned(&fd), sig, stopped).is_ok() {
                            self.terminated.insert(p.pid);
                            hit.push(p.pid);
                        }
                    }
                }
                self.track(&hit);
                hit
            }
            Scope::Descendants(root) => {
                let Some(targets) = descendants(root, me) else {
                    return Vec::new();
                };
                let parents: HashSet<i32> = targets.iter().copied().chain([me]).collect();
                let mut hit = Vec::new();
                for pid in targets {
                    if self.terminated.contains(&pid) {
                        wake_if_still_child_and_stopped(pid, &parents);
                    } else if signal_if_still_child_of(pid, &parents, sig) {
                        self.terminated.insert(pid);
                        hit.push(pid);
                    }
                }
                self.track(&hit);
                hit
            }
        }
    }
}

impl Drain {
    /// The first look at SIGTERM (see [`Drain`]): returns rein's own children, oldest first,
    /// which it signalled, and tracks them for reaping; `None` when `/proc` is not our
    /// namespace's or has no `children` file.
    ///
    /// As PID 1 the other processes of the namespace get theirs at the second look.
    fn first_look(&mut self, sig: i32, me: i32) -> Option<Vec<i32>> {
        if !proc::is_ours() {
            return None;
        }
        // rein's own children (the usual leftovers of a container: the main child's orphans,
        // re-parented to rein) one by one, oldest first; the others (their descendants, and as
        // PID 1 processes that joined the namespace) at the second look. As PID 1, kill(-1)
        // would hold the kernel's tasklist lock over its whole walk, which each of them needs
        // to exit, and leave them all to exit at once after it, in whatever order the
        // scheduler runs them (20,000: 0.3-2.8 s for the walk alone here); and listing /proc
        // first to count them cost 2,000 leftovers 12 ms more (a directory entry each, which
        // the kernel then drops again at each exit).
        let children = proc::own_children(me)?;
        Some(self.term_children(children, sig))
    }

    /// Sends `sig` to `children`, rein's own, oldest first, reaping those that have exited as it
    /// goes; returns the ones it reached.
    fn term_children(&mut self, children: Vec<i32>, sig: i32) -> Vec<i32> {
        // A child of rein keeps its pid until rein reaps it: the kernel frees a pid only when the
        // process is reaped (release_task), and only rein reaps its children (it runs one thread,
        // and SIGCHLD is never ignored: `run.rs` takes an inherited ignore back before any child
        // exists, so the kernel does not reap them by itself). So each pid listed, until rein
        // reaps it, still names the child that was listed: plain kill(2) is safe here, without
        // the pidfd and the re-check of the parent that a grandchild needs. The loop below reaps
        // only children it has already signalled, and signals each pid once (the kernel's
        // `children` file can list one twice when the list changes while it is read), so it
        // never signals a pid it has reaped.
        //
        // The oldest that have exited are reaped between the signals: a zombie stays on rein's
        // list of children, which the kernel walks when one of them exits (to hand the memory
        // they share, if they were cloned with it, to another), so leaving them all for
        // afterwards made the exits slower as they went (2,000 leftovers: 47 ms instead of 36).
        let mut hit = Vec::with_capacity(children.len());
        let mut seen = HashSet::with_capacity(children.len());
        let mut oldest = 0;
        for pid in children {
            if seen.insert(pid) && sys::kill_raw(pid, sig).is_ok() {
                hit.push(pid);
            }
            while let Some(&pid) = hit.get(oldest) {
                match reap::reap_child(Pid::from_raw(pid)) {
                    ChildState::Running => break,
                    ChildState::Reaped(r) => self.early.push(r),
                    ChildState::NotOurs => {}
                }
                oldest += 1;
            }
        }
        self.track(&hit[oldest..]);
        hit
    }
}

/// Sends SIGCONT to `pid` if, pinned by a pidfd, it is still a child of one of `parents` and
/// stopped.
fn wake_if_still_child_and_stopped(pid: i32, parents: &HashSet<i32>) {
    if let Ok(fd) = sys::pidfd_open(pid)
        && proc::stat(pid).is_some_and(|s| parents.contains(&s.ppid) && s.is_stopped())
    {
        let _ = Target::Pinned(&fd).send(num::CONT);
    }
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
    fn our_children_are_read_oldest_first_and_reaped_by_pid() {
        let spawn = || {
            std::process::Command::new("sleep")
                .arg("100")
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn(), spawn());
        let me = i32::try_from(std::process::id()).unwrap();
        let pid = |c: &std::process::Child| i32::try_from(c.id()).unwrap();
        // The test runs in a thread of its own, whose children these are.
        let tid = nix::unistd::gettid().as_raw();
        let kids = proc::thread_children(me, tid).unwrap();
        let at = |p: i32| kids.iter().position(|&k| k == p).unwrap();
        assert!(at(pid(&a)) < at(pid(&b)), "{kids:?}");
        assert_eq!(
            reap::reap_child(Pid::from_raw(pid(&a))),
            ChildState::Running
        );
        let _ = a.kill();
        // Wait for the exit without reaping it (WNOWAIT), then reap it by pid.
        use nix::sys::wait::{Id, WaitPidFlag, waitid};
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        waitid(Id::Pid(Pid::from_raw(pid(&a))), flags).unwrap();
        let got = reap::reap_child(Pid::from_raw(pid(&a)));
        assert!(
            matches!(got, ChildState::Reaped(r) if r.pid.as_raw() == pid(&a)),
            "{got:?}"
        );
        // Reaped now: no longer ours.
        assert_eq!(
            reap::reap_child(Pid::from_raw(pid(&a))),
            ChildState::NotOurs
        );
        let _ = b.kill();
        let _ = b.wait();
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
