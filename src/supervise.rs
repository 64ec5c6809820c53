//! The event loop: wait for a signal or a deadline, forward, reap, stop leftovers, repeat until
//! the main child and every leftover are gone.
//!
//! From the moment the main child exists, nothing here may end rein early: a PID 1 that exits
//! takes the whole container with it, so every failure is logged and the loop carries on.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use crate::adopt::{Adoption, Step};
use crate::cli::Config;
use crate::events::{BATCH, RawBatch, Received, SI_USER, SignalSource};
use crate::exit_code::{ChildEnd, ExitPolicy, Reason};
use crate::job_control::JobControl;
use crate::leftovers::{self, Scope};
use crate::reap::{self, Reaped, StopReport};
use crate::shutdown::{Action, Hold, KILL_WAIT, Phase, Shutdown};
use crate::signals::{self, num};
use crate::summary::Summary;
use crate::target::{self, ScanBudget, Target};
use crate::throttle::{self, Throttle, held_note};

/// How often rein re-scans for leftovers as PID 1 while the grace runs and it has no child
/// left: processes that joined the namespace from outside are not rein's children, so their
/// exit sends no SIGCHLD. (After SIGKILL the re-scans back off, see `shutdown.rs`.) Only ever
/// used during shutdown; an idle rein has no timer at all.
const RESCAN: Duration = Duration::from_millis(20);

/// At most this many survivors are named in the log line rein leaves when it gives up.
const SURVIVORS_NAMED: usize = 32;

/// The running state of one supervision.
#[derive(Debug)]
pub struct Supervisor<'a> {
    cfg: &'a Config,
    me: i32,
    scope: Scope,
    start: Instant,
    /// The main child's pid while it has not been reaped. Never used after reaping: the pid may
    /// belong to an unrelated process by then.
    main: Option<Pid>,
    main_end: Option<ChildEnd>,
    /// The main child's process group (its pid at spawn), for the no-/proc fallback.
    group: Option<Pid>,
    shutdown: Shutdown,
    /// The stopping signals forwarded so far (TERM, INT, QUIT, HUP, each once), in a fixed
    /// array: a heap allocation here would be the first write to a fresh page of the
    /// allocator's, a page fault between the forwarding `kill` and rein's next wait, which
    /// delays a main child woken on rein's CPU (seen in an ftrace of the shutdown).
    stops_forwarded: StopsForwarded,
    /// Whether the main child is stopped, as its last stop or continue report said (waitid).
    main_stopped: bool,
    /// The rate limit of the scan for stopped members of the main child's group.
    scan: ScanBudget,
    orphans_reaped: u64,
    terminated: HashSet<i32>,
    killed: HashSet<i32>,
    /// Leftovers killed since the last "sent SIGKILL" line (those lines are throttled).
    killed_unlogged: u64,
    warned_no_proc: bool,
    /// What the last reaping pass said: rein had no child left.
    no_children: bool,
    /// rein gave up on leftovers that survived SIGKILL.
    gave_up: bool,
    kill_lines: Throttle,
    forward_failures: Throttle,
    wait_failures: Throttle,
    /// Issue 12: `--adopt`/`--pid-file` (adopt.rs) and job control (job_control.rs).
    adoption: Adoption,
    job: JobControl,
    /// Stopping and reaping leftovers (leftovers.rs).
    drain: leftovers::Drain,
    /// What the main child's exit calls for, done once the reaping pass that found it is over:
    /// signalling leftovers from inside that pass would have it go on reaping them one
    /// `waitpid(-1)` at a time, the slow way (see `leftovers::Drain`).
    after_pass: Option<Action>,
    /// The main child is gone and so is everyone else, as found by `act_after_pass`: the loop
    /// ends without asking again.
    all_gone_found: bool,
}

/// The stopping signals forwarded, each once; see [`Supervisor::note_stop_forwarded`].
#[derive(Debug, Default)]
struct StopsForwarded {
    sigs: [i32; 4],
    len: usize,
}

impl StopsForwarded {
    fn add(&mut self, sig: i32) {
        if !self.as_slice().contains(&sig) && self.len < self.sigs.len() {
            self.sigs[self.len] = sig;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[i32] {
        &self.sigs[..self.len]
    }
}

impl<'a> Supervisor<'a> {
    /// Supervises `main` (or nothing, in pause mode) started at `start`.
    pub fn new(cfg: &'a Config, main: Option<Pid>, start: Instant) -> Self {
        let me = nix::unistd::getpid().as_raw();
        let scope = if me == 1 {
            Scope::Namespace
        } else {
            Scope::Descendants(Pid::from_raw(me))
        };
        Self {
            cfg,
            me,
            scope,
            start,
            main,
            main_end: None,
            group: main,
            shutdown: Shutdown::new(
                start,
                cfg.grace,
                cfg.kill_after,
                cfg.timeout,
                cfg.timeout_signal,
            )
            .with_stop_delay(cfg.stop_delay),
            stops_forwarded: StopsForwarded::default(),
            main_stopped: false,
            scan: ScanBudget::default(),
            orphans_reaped: 0,
            terminated: HashSet::new(),
            killed: HashSet::new(),
            killed_unlogged: 0,
            warned_no_proc: false,
            no_children: false,
            gave_up: false,
            kill_lines: Throttle::new(throttle::EVERY),
            forward_failures: Throttle::new(throttle::EVERY),
            wait_failures: Throttle::new(throttle::EVERY),
            adoption: Adoption::off(),
            job: JobControl::off(),
            drain: leftovers::Drain::default(),
            after_pass: None,
            all_gone_found: false,
        }
    }

    /// Issue 12: adds `--adopt` (prepared before the spawn) and job control.
    pub fn with_issue12(mut self, adoption: Adoption, job: JobControl) -> Self {
        self.adoption = adoption;
        self.job = job;
        self
    }

    /// Runs until the main child and all leftovers are gone; returns what to report.
    pub fn run(mut self, source: &SignalSource, pending: Option<i32>) -> Summary {
        if let Some(sig) = pending {
            self.on_signal(sig);
        }
        // The main child may have exited before the signalfd existed: reap once up front.
        let mut reap_now = true;
        let mut raw = RawBatch::default();
        let mut batch = [Received::default(); BATCH];
        loop {
            // Only SIGCHLD means a child may have exited; while shutting down, reap on every
            // wake-up, since "all gone" is decided from the pass.
            if reap_now || self.shutdown.phase() != Phase::Running {
                self.reap(reap_now);
                reap_now = false;
            }
            // Issue 12: ends an adoption once nothing is left; follows --pid-file's process.
            if self.adoption.is_adopting() {
                self.check_adoption();
            }
            // The clock is read only while something is scheduled: a forwarded signal with no
            // timer armed costs no time lookup here.
            let timers = self.shutdown.next_deadline().is_some()
                || self.scan.is_owed()
                || self.needs_rescan()
                || self.adoption.next_deadline().is_some();
            let now = timers.then(Instant::now);
            if let Some(now) = now {
                for action in self.shutdown.on_time(now) {
                    self.act(action);
                }
                if self.scan.due(now) {
                    self.settle_owed_scan();
                }
            }
            if self.shutdown.phase() != Phase::Running
                && (self.gave_up || self.all_gone_found || self.all_gone())
            {
                self.log_kills_held_back();
                return self.summary();
            }
            let rescan = self
                .needs_rescan()
                .then(|| now.unwrap_or_else(Instant::now) + RESCAN);
            let mut deadline = [
                self.shutdown.next_deadline(),
                rescan,
                self.adoption.next_deadline(),
                self.scan.deadline(),
                self.drain.next_deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            loop {
                let n = match source.next(deadline, &mut raw, &mut batch) {
                    Ok(n) => n,
                    Err(e) => {
                        if let Some(held) = self.wait_failures.allow(Instant::now()) {
                            log::warn!("waiting for signals failed: {e}{}", held_note(held));
                        }
                        break;
                    }
                };
                for rec in &batch[..n] {
                    if rec.signo == num::CHLD {
                        reap_now = true;
                    } else {
                        self.on_received(*rec);
                    }
                }
                if n < BATCH {
                    break;
                }
                // A long storm of queued signals must not starve reaping: zombies left in the
                // main child's group make every kill(-pgid) walk over them, which slows
                // forwarding further (seen: 10,000 zombies, forwarding never caught up).
                if reap_now {
                    reap_now = false;
                    self.reap(true);
                }
                // More may be queued: look without waiting.
                deadline = Some(Instant::now());
            }
        }
    }

    /// One reaping pass; after a SIGCHLD (`chld`) also the main child's stop state, if it is
    /// still there to ask about. While leftovers drain, the pass is `leftovers::Drain`'s (by
    /// pid). What the main child's exit calls for runs after the pass (`after_pass`).
    fn reap(&mut self, chld: bool) {
        if self.shutdown.phase() == Phase::Running {
            self.no_children = reap::reap_zombies(|r| self.on_reaped(r));
        } else {
            self.drain_pass();
        }
        // Only job control needs the main child's stops as they come. The SIGCONT rule asks for
        // them itself when it matters (`main_target_stopped`, `settle_owed_scan`: the kernel
        // keeps the latest report until it is read), so without job control a SIGCHLD costs no
        // waitid beyond the reaping: one system call fewer per wake-up, which is most
        // of what reaping a stream of orphans costs besides the reaps themselves.
        if chld && self.job.follows_stops() {
            self.refresh_main_stop();
        }
        self.act_after_pass();
    }

    /// Acts on the main child's exit once the pass that reaped it is over. Signalling the
    /// leftovers from inside the pass would not know yet whether rein has any child left; after
    /// it, the usual end of a run (no child left, and as PID 1 nobody else in the namespace)
    /// is told by one look, which the loop then reuses to end, where signalling would have
    /// looked (a `/proc` walk, or PID 1's `kill(-1, 0)`, which walks every process of the host)
    /// and the loop's end check looked again.
    fn act_after_pass(&mut self) {
        let Some(action) = self.after_pass.take() else {
            return;
        };
        if matches!(action, Action::TermLeftovers | Action::KillLeftovers) && self.all_gone() {
            self.all_gone_found = true;
            return;
        }
        self.act(action);
    }

    fn on_received(&mut self, rec: Received) {
        // A SIGPIPE that rein's own write to a closed stderr raised is rein's, not the child's.
        if rec.signo == num::PIPE && rec.code == SI_USER && i32::try_from(rec.pid) == Ok(self.me) {
            return;
        }
        // A fault's number is forwarded only when a process sent it; rein's own faults never
        // get here (the kernel forces them, see `signals::FAULTS`).
        if signals::classify(rec.signo) == signals::Action::ForwardIfSent
            && !rec.sent_by_a_process()
        {
            log::debug!(
                "{} from the kernel (si_code {}) dropped",
                signals::name(rec.signo),
                rec.code
            );
            return;
        }
        log::trace!("received {} from pid {}", signals::name(rec.signo), rec.pid);
        // Issue 12: the SIGCONT that continued a job-control stop was passed on already.
        if self.job.swallow(rec.signo) {
            return;
        }
        self.on_signal(rec.signo);
    }

    /// Handles a signal rein received (or, for `--pdeathsig`, acts as if it had).
    fn on_signal(&mut self, sig: i32) {
        if sig == num::CHLD {
            return; // the reaping pass after every wake-up handles it
        }
        // Issue 12: --stop-delay holds the first stopping signal (shutdown.rs).
        if self.stop_delay_holds(sig) {
            return;
        }
        self.forward_now(sig);
    }

    /// `--stop-delay`: whether `sig` is the first stopping signal (TERM, INT, QUIT, HUP after
    /// rewriting; TERM or INT in pause mode) and is held. A second one during the delay sends
    /// the held one first; `sig` itself is then forwarded by the caller.
    fn stop_delay_holds(&mut self, sig: i32) -> bool {
        let stops = if self.cfg.pause {
            matches!(sig, num::TERM | num::INT)
        } else {
            matches!(
                self.cfg.rewrite(sig),
                Some(num::TERM | num::INT | num::QUIT | num::HUP)
            )
        };
        if !stops {
            return false;
        }
        match self.shutdown.on_stop_received(sig, Instant::now()) {
            Hold::Forward => false,
            Hold::Held => {
                log::info!(
                    "{} held for --stop-delay before it is forwarded",
                    signals::name(sig)
                );
                true
            }
            Hold::Release(first) => {
                log::info!("second stopping signal: --stop-delay ends now");
                self.forward_now(first);
                false
            }
        }
    }

    /// Forwards `sig` now, after `--rewrite`: to the main child, or to the adopted processes.
    fn forward_now(&mut self, sig: i32) {
        let Some(main) = self.main else {
            if self.adoption.is_adopting() {
                self.forward_to_adopted(sig);
                return;
            }
            // In pause mode the --pdeathsig signal stops rein too, whatever it is: it cannot be
            // told from the same signal sent by kill(2) (both are SI_USER).
            if self.cfg.pause
                && self.shutdown.phase() == Phase::Running
                && (sig == num::TERM || sig == num::INT || Some(sig) == self.cfg.pdeathsig)
            {
                log::info!("{} received, stopping", signals::name(sig));
                let action = self.shutdown.on_main_exit(Instant::now());
                self.act(action);
            } else {
                log::debug!(
                    "{} received with no main child; ignored",
                    signals::name(sig)
                );
            }
            return;
        };
        let Some(to) = self.cfg.rewrite(sig) else {
            log::debug!("{} dropped (--rewrite)", signals::name(sig));
            return;
        };
        // A stop or continue after a stopping signal answers the owed question itself: the
        // group is woken by this CONT, or asked to stop, and the latest request wins.
        if self.scan.is_owed() && matches!(to, num::CONT | num::STOP | 20..=22) {
            log::debug!(
                "owed scan for stopped members dropped: {} follows",
                signals::name(to)
            );
            self.scan.cancel();
        }
        self.send_to_main(main, to);
        self.note_stop_forwarded(to);
    }

    fn note_stop_forwarded(&mut self, to: i32) {
        if matches!(to, num::TERM | num::INT | num::QUIT | num::HUP) {
            self.stops_forwarded.add(to);
            self.shutdown.on_stop_forwarded(Instant::now());
        }
    }

    /// `--adopt` with no main process: to every process group the adopted processes form.
    fn forward_to_adopted(&mut self, sig: i32) {
        let Some(to) = self.cfg.rewrite(sig) else {
            log::debug!("{} dropped (--rewrite)", signals::name(sig));
            return;
        };
        self.adoption
            .forward(to, self.cfg.single_child, self.me, self.group);
        self.note_stop_forwarded(to);
    }

    /// Issue 12: what the adoption asks for after a reaping pass.
    fn check_adoption(&mut self) {
        let now = Instant::now();
        match self.adoption.after_reap(self.no_children, now, self.me) {
            Step::Nothing => {}
            Step::Follow(pid) => {
                // The followed daemon is signalled as itself (its own group if it leads one),
                // not as the original main child's group, where other adopted processes live.
                self.main = Some(pid);
                self.group = None;
            }
            Step::FollowedEnded(end) => {
                self.main_end = Some(end);
                let action = self.shutdown.on_main_exit(now);
                self.act(action);
            }
            Step::End => {
                let action = self.shutdown.on_main_exit(now);
                self.act(action);
            }
        }
    }

    /// Sends `sig` (by number, so real-time signals take the same path as the classic ones) to
    /// the main child's group, or only to the child with `--single-child`; followed by SIGCONT
    /// if it asks to end and the target is stopped (see `target.rs`).
    fn send_to_main(&mut self, main: Pid, sig: i32) {
        let target = if self.cfg.single_child {
            Target::Process(main)
        } else {
            self.main_target(main)
        };
        match target::signal(target, sig, || self.main_target_stopped(main)) {
            Ok(()) => {
                let to = if self.cfg.single_child {
                    "pid"
                } else {
                    "group"
                };
                log::debug!("forwarded {} to {to} {main}", signals::name(sig));
            }
            Err(e) => {
                if let Some(held) = self.forward_failures.allow(Instant::now()) {
                    log::warn!(
                        "failed to forward {} to {main}: {e}{}",
                        signals::name(sig),
                        held_note(held)
                    );
                }
            }
        }
    }

    /// The main child's process group (and the child itself, should it have left it).
    fn main_target(&self, main: Pid) -> Target<'static> {
        Target::MainChild {
            pid: main,
            group: self.group.unwrap_or(main),
        }
    }

    /// Brings the main child's stop state up to date from its pending report (waitid), and
    /// passes a job-control stop on to rein's own job. Asked once per SIGCHLD wake-up while job
    /// control is on, and by every owed check, never in a loop: the kernel keeps one report per child,
    /// so a child flooded with STOP and CONT costs one call per wake-up. The second call picks
    /// up the continue that job control's own resume just caused.
    fn refresh_main_stop(&mut self) {
        for _ in 0..2 {
            let Some(main) = self.main else { return };
            match reap::main_child_stop(main) {
                Some(StopReport::Stopped(sig)) => {
                    log::debug!("main child {main} stopped by {}", sig.as_str());
                    self.main_stopped = true;
                    self.job.on_main_stopped(main, sig as i32);
                }
                Some(StopReport::Continued) => {
                    self.main_stopped = false;
                    return;
                }
                None => return,
            }
        }
    }

    /// Whether the target of a stopping signal just sent to the main child is known to be
    /// stopped now: the child itself, by its last stop report (read on a SIGCHLD wake-up under
    /// job control, else just now; /proc can only veto a report the child outran, e.g. by dying
    /// of the signal just sent). Anything else is owed to `settle_owed_scan`, due
    /// [`target::SCAN_SETTLE`] later (see [`ScanBudget`]) unless the main child's exit, a CONT
    /// or a stop signal makes it moot first: a stop the child made just now (visible before its
    /// SIGCHLD is queued), and with its group, any member's, which only an O(processes) scan of
    /// /proc can tell. So a forwarded stopping signal costs at most one waitid beyond the kill,
    /// however often it comes.
    fn main_target_stopped(&mut self, main: Pid) -> bool {
        if !self.job.follows_stops() {
            // Without job control the reports are not read on SIGCHLD (see `reap`): read the
            // pending one now, one waitid, so a stale state is never acted on (not even without
            // /proc, which could not veto it).
            self.refresh_main_stop();
        }
        if self.main_known_stopped(main) {
            // The target gets its CONT: nothing owed.
            self.scan.cancel();
            return true;
        }
        self.scan.request(Instant::now());
        false
    }

    fn main_known_stopped(&self, main: Pid) -> bool {
        self.main_stopped && crate::proc::stat(main.as_raw()).is_none_or(|s| s.is_stopped())
    }

    /// Scans for a stopped member of the main child's group, and times the scan for the pacing.
    fn scan_group(&mut self, main: Pid) -> bool {
        let start = Instant::now();
        let group = self.group.unwrap_or(main);
        let found = target::group_has_stopped_member(self.scope, group, self.me);
        self.scan.ran(start, Instant::now());
        found
    }

    /// Makes the owed check: the main child's stop state (waitid), and unless only the child is
    /// the target, the scan for stopped members of its group; wakes the target if either says
    /// so.
    fn settle_owed_scan(&mut self) {
        self.refresh_main_stop();
        let Some(main) = self.main else {
            self.scan.cancel();
            return;
        };
        let (target, stopped) = if self.cfg.single_child {
            self.scan.cancel();
            (Target::Process(main), self.main_known_stopped(main))
        } else {
            let stopped = self.main_known_stopped(main) || self.scan_group(main);
            self.scan.cancel();
            (self.main_target(main), stopped)
        };
        if stopped {
            log::debug!("the target of a stopping signal to {main} is stopped: SIGCONT, as owed");
            // A failure means the target ended meanwhile: nothing left to wake.
            let _ = target.send(num::CONT);
        }
    }

    fn on_reaped(&mut self, r: Reaped) {
        // The reaping pass asks for exits only (reap.rs); anything else reaps nothing.
        if !matches!(r.status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
            return;
        }
        if Some(r.pid) != self.main {
            self.adoption.note_reaped(r.pid, r.status);
            self.orphans_reaped += 1;
            log::debug!("reaped pid {}: {:?}", r.pid, r.status);
            return;
        }
        self.main = None;
        self.main_stopped = false;
        self.scan.cancel();
        self.main_end = ChildEnd::from_wait(r.status);
        match self.main_end {
            Some(ChildEnd::Exited(c)) => log::info!("main child {} exited with {c}", r.pid),
            Some(ChildEnd::Signalled(s)) => {
                log::info!("main child {} killed by {}", r.pid, signals::name(s))
            }
            None => {}
        }
        // Issue 12: --adopt keeps what a main child that exited 0 left behind.
        if self.adoption.on_main_exit(self.main_end, Instant::now()) {
            return;
        }
        self.after_pass = Some(self.shutdown.on_main_exit(Instant::now()));
    }

    /// A reaping pass while leftovers drain: see `leftovers::Drain::reap`. `on_reaped` never
    /// signals leftovers itself (it leaves that to `after_pass`), so the drain can be taken
    /// out for the pass.
    fn drain_pass(&mut self) {
        let mut drain = std::mem::take(&mut self.drain);
        let pass = drain.reap(self.scope, self.me, Instant::now(), |r| self.on_reaped(r));
        self.drain = drain;
        self.no_children = pass.no_children;
        self.terminated.extend(pass.terminated);
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::SignalChild(sig) => {
                if let Some(main) = self.main {
                    log::info!("--timeout expired; sending {}", signals::name(sig));
                    self.send_to_main(main, sig);
                } else if self.adoption.is_adopting() {
                    log::info!(
                        "--timeout expired; sending {} to the adopted",
                        signals::name(sig)
                    );
                    self.adoption
                        .forward(sig, self.cfg.single_child, self.me, self.group);
                }
            }
            Action::KillChild => {
                if let Some(main) = self.main {
                    log::info!("main child still running; sending SIGKILL to its group");
                    let _ = target::signal(self.main_target(main), num::KILL, || false);
                } else if self.adoption.is_adopting() {
                    // Issue 12: the adopted processes outlived --kill-after; rein reports the
                    // SIGKILL it had to send, as for a main child.
                    log::info!("adopted processes still running; sending SIGKILL to them");
                    self.main_end = Some(ChildEnd::Signalled(num::KILL));
                    let action = self.shutdown.kill_now();
                    self.act(action);
                }
            }
            Action::ReleaseStop(sig) => {
                log::info!("--stop-delay is over; forwarding {}", signals::name(sig));
                self.forward_now(sig);
            }
            Action::TermLeftovers => self.signal_leftovers(num::TERM),
            Action::KillLeftovers => self.signal_leftovers(num::KILL),
            Action::GiveUp => self.give_up(),
        }
    }

    /// Stops waiting for leftovers that survived SIGKILL for [`KILL_WAIT`], naming them.
    fn give_up(&mut self) {
        if self.all_gone() {
            return; // the last of them went just now
        }
        self.gave_up = true;
        let survivors = leftovers::discover(self.scope, self.me).unwrap_or_default();
        let mut names: Vec<String> = survivors
            .iter()
            .take(SURVIVORS_NAMED)
            .map(|s| format!("{} ({})", s.pid, s.comm))
            .collect();
        if survivors.len() > SURVIVORS_NAMED {
            names.push(format!("and {} more", survivors.len() - SURVIVORS_NAMED));
        }
        log::warn!(
            "{} process(es) survived SIGKILL for {KILL_WAIT:?} (no permission to signal them, or stuck in the kernel); exiting without them: {}",
            survivors.len(),
            if names.is_empty() {
                "none visible in /proc".to_string()
            } else {
                names.join(", ")
            }
        );
    }

    fn signal_leftovers(&mut self, sig: i32) {
        let signalled =
            self.drain
                .signal(self.scope, sig, self.me, self.no_children, Instant::now());
        let hit = match signalled {
            Some(pids) => pids,
            None => {
                if !self.warned_no_proc {
                    self.warned_no_proc = true;
                    log::warn!(
                        "/proc is not mounted (or shows another PID namespace): leftovers are signalled as PID 1's kill(-1) or the main child's group only"
                    );
                }
                self.signal_without_proc(sig);
                Vec::new()
            }
        };
        let set = if sig == num::KILL {
            &mut self.killed
        } else {
            &mut self.terminated
        };
        let before = set.len();
        set.extend(hit);
        let new = (set.len() - before) as u64;
        if new == 0 {
            return;
        }
        if sig != num::KILL {
            log::info!("sent {} to {new} leftover process(es)", signals::name(sig));
            return;
        }
        // Re-scans after SIGKILL may find new processes each time (a fork loop): one line
        // per second at most, counting all of them.
        self.killed_unlogged += new;
        if self.kill_lines.allow(Instant::now()).is_some() {
            self.log_kills_held_back();
        }
    }

    /// Logs the leftovers killed since the last such line, if any.
    fn log_kills_held_back(&mut self) {
        let n = std::mem::take(&mut self.killed_unlogged);
        if n > 0 {
            log::info!("sent SIGKILL to {n} leftover process(es)");
        }
    }

    /// Without /proc, the states of leftovers are unknown, so none is woken with SIGCONT: a
    /// stopped one gets its SIGKILL when the grace runs out.
    fn signal_without_proc(&self, sig: i32) {
        let to = match self.scope {
            Scope::Namespace => Target::Everyone,
            Scope::Descendants(_) => match self.group {
                Some(group) => Target::Group(group),
                None => return,
            },
        };
        let _ = target::signal(to, sig, || false);
    }

    /// Whether every leftover is gone: rein has no child, and as PID 1 nobody else is left in
    /// the namespace either.
    fn all_gone(&self) -> bool {
        self.no_children
            && (self.scope != Scope::Namespace || !leftovers::namespace_has_others(self.me))
    }

    fn needs_rescan(&self) -> bool {
        match self.shutdown.phase() {
            Phase::Running | Phase::Killing { .. } | Phase::GaveUp => false,
            Phase::Draining { .. } => self.no_children,
        }
    }

    fn summary(&self) -> Summary {
        let policy = ExitPolicy {
            exit_zero: self.cfg.exit_zero.clone(),
            zero_on_stop: self.cfg.exit_zero_on_stop,
        };
        let (exit_code, reason) = match self.main_end {
            Some(end) => policy.decide(
                end,
                self.stops_forwarded.as_slice(),
                self.shutdown.timed_out(),
            ),
            None => (0, Reason::Paused),
        };
        Summary {
            exit_code,
            child: self.main_end,
            reason,
            runtime: self.start.elapsed(),
            orphans_reaped: self.orphans_reaped,
            leftovers_terminated: self.terminated.len() as u64,
            leftovers_killed: self.killed.len() as u64,
            adopted: self.adoption.facts().0,
            followed_pid: self.adoption.facts().1,
        }
    }
}
