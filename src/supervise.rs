//! The event loop: wait for a signal or a deadline, forward, reap, stop leftovers, repeat until
//! the main child and every leftover are gone.
//!
//! From the moment the main child exists, nothing here may end rein early: a PID 1 that exits
//! takes the whole container with it, so every failure is logged and the loop carries on.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cli::Config;
use crate::events::{BATCH, Received, SI_USER, SignalSource};
use crate::exit_code::{ChildEnd, ExitPolicy, Reason};
use crate::leftovers::{self, Scope};
use crate::reap::{self, Reaped};
use crate::shutdown::{Action, Phase, Shutdown};
use crate::signals::{self, num};
use crate::summary::Summary;

/// How often rein re-scans for leftovers while it cannot rely on SIGCHLD alone: after SIGKILL
/// (a process forked during the kill is not yet dead), and as PID 1 for processes that joined
/// the namespace from outside (they are not rein's children, so their exit sends no SIGCHLD).
/// Only ever used during shutdown; an idle rein has no timer at all.
const RESCAN: Duration = Duration::from_millis(20);

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
    stops_forwarded: Vec<i32>,
    orphans_reaped: u64,
    terminated: BTreeSet<i32>,
    killed: BTreeSet<i32>,
    warned_no_proc: bool,
    /// What the last reaping pass said: rein had no child left.
    no_children: bool,
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
            ),
            stops_forwarded: Vec::new(),
            orphans_reaped: 0,
            terminated: BTreeSet::new(),
            killed: BTreeSet::new(),
            warned_no_proc: false,
            no_children: false,
        }
    }

    /// Runs until the main child and all leftovers are gone; returns what to report.
    pub fn run(mut self, source: &SignalSource, pending: Option<i32>) -> Summary {
        if let Some(sig) = pending {
            self.on_signal(sig);
        }
        // The main child may have exited before the signalfd existed: reap once up front.
        let mut reap_now = true;
        let mut batch = [Received::default(); BATCH];
        loop {
            loop {
                let n = match source.read_batch(&mut batch) {
                    Ok(n) => n,
                    Err(e) => {
                        log::warn!("reading signals failed: {e}");
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
            }
            // Only SIGCHLD means a child may have exited; while shutting down, reap on every
            // wake-up, since "all gone" is decided from the pass.
            if reap_now || self.shutdown.phase() != Phase::Running {
                reap_now = false;
                let no_children = reap::reap_zombies(|r| self.on_reaped(r));
                self.no_children = no_children;
            }
            let now = Instant::now();
            for action in self.shutdown.on_time(now) {
                self.act(action);
            }
            if self.shutdown.phase() != Phase::Running && self.all_gone() {
                return self.summary();
            }
            let rescan = self.needs_rescan().then(|| now + RESCAN);
            let deadline = [self.shutdown.next_deadline(), rescan]
                .into_iter()
                .flatten()
                .min();
            if let Err(e) = source.wait(deadline) {
                log::warn!("waiting for signals failed: {e}");
            }
            if self.shutdown.phase() == Phase::Killing {
                // A process forked while the last SIGKILL went out survives it: kill again.
                self.signal_leftovers(Signal::SIGKILL);
            }
        }
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
        self.on_signal(rec.signo);
    }

    /// Handles a signal rein received (or, for `--pdeathsig`, acts as if it had).
    fn on_signal(&mut self, sig: i32) {
        if sig == num::CHLD {
            return; // the reaping pass after every wake-up handles it
        }
        let Some(main) = self.main else {
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
        self.send_to_main(main, to);
        if matches!(to, num::TERM | num::INT | num::QUIT | num::HUP) {
            if !self.stops_forwarded.contains(&to) {
                self.stops_forwarded.push(to);
            }
            self.shutdown.on_stop_forwarded(Instant::now());
        }
    }

    /// `kill(-pgid, sig)` to the main child's group, or `kill(pid, sig)` with `--single-child`,
    /// by number, so real-time signals take the same path as the classic ones.
    fn send_to_main(&self, main: Pid, sig: i32) {
        match self.deliver(main, sig) {
            Ok(()) => {
                if Signal::try_from(sig).is_ok_and(leftovers::wakes_stopped) {
                    // A stopped child would hold the stop signal pending until --kill-after or
                    // the runtime's SIGKILL; CONT lets it act on it now (a running child
                    // ignores CONT).
                    let _ = self.deliver(main, num::CONT);
                }
                let to = if self.cfg.single_child {
                    "pid"
                } else {
                    "group"
                };
                log::debug!("forwarded {} to {to} {main}", signals::name(sig));
            }
            Err(e) => log::warn!("failed to forward {} to {main}: {e}", signals::name(sig)),
        }
    }

    /// Sends `sig` to the main child's group, or to its pid with `--single-child`. If the group
    /// is gone (the child moved to another group or session), the pid still is.
    fn deliver(&self, main: Pid, sig: i32) -> std::io::Result<()> {
        if self.cfg.single_child {
            return crate::sys::kill_raw(main.as_raw(), sig);
        }
        crate::sys::kill_raw(-main.as_raw(), sig)
            .or_else(|_| crate::sys::kill_raw(main.as_raw(), sig))
    }

    fn on_reaped(&mut self, r: Reaped) {
        if Some(r.pid) != self.main {
            self.orphans_reaped += 1;
            log::debug!("reaped pid {}: {:?}", r.pid, r.status);
            return;
        }
        self.main = None;
        self.main_end = ChildEnd::from_wait(r.status);
        match self.main_end {
            Some(ChildEnd::Exited(c)) => log::info!("main child {} exited with {c}", r.pid),
            Some(ChildEnd::Signalled(s)) => {
                log::info!("main child {} killed by {}", r.pid, signals::name(s))
            }
            None => {}
        }
        let action = self.shutdown.on_main_exit(Instant::now());
        self.act(action);
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::SignalChild(sig) => {
                if let Some(main) = self.main {
                    log::info!("--timeout expired; sending {}", signals::name(sig));
                    self.send_to_main(main, sig);
                }
            }
            Action::KillChild => {
                if let Some(main) = self.main {
                    log::info!("main child still running; sending SIGKILL to its group");
                    let _ = kill(Pid::from_raw(-main.as_raw()), Signal::SIGKILL);
                    let _ = kill(main, Signal::SIGKILL);
                }
            }
            Action::TermLeftovers => self.signal_leftovers(Signal::SIGTERM),
            Action::KillLeftovers => self.signal_leftovers(Signal::SIGKILL),
        }
    }

    fn signal_leftovers(&mut self, sig: Signal) {
        let hit = match leftovers::signal_leftovers(self.scope, sig, self.me) {
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
        let set = if sig == Signal::SIGKILL {
            &mut self.killed
        } else {
            &mut self.terminated
        };
        let before = set.len();
        set.extend(hit);
        if set.len() > before {
            log::info!(
                "sent {} to {} leftover process(es)",
                sig.as_str(),
                set.len() - before
            );
        }
    }

    fn signal_without_proc(&self, sig: Signal) {
        let target = match self.scope {
            Scope::Namespace => Pid::from_raw(-1),
            // The kernel does not hand out a pid that is still in use as a process group id,
            // so while the main child's group has members, this reaches only them.
            Scope::Descendants(_) => match self.group {
                Some(group) => Pid::from_raw(-group.as_raw()),
                None => return,
            },
        };
        let _ = leftovers::kill_and_wake(target, sig);
    }

    /// Whether every leftover is gone: rein has no child, and as PID 1 nobody else is left in
    /// the namespace either.
    fn all_gone(&self) -> bool {
        self.no_children
            && (self.scope != Scope::Namespace || !leftovers::namespace_has_others(self.me))
    }

    fn needs_rescan(&self) -> bool {
        match self.shutdown.phase() {
            Phase::Running => false,
            Phase::Killing => true,
            Phase::Draining { .. } => self.no_children,
        }
    }

    fn summary(&self) -> Summary {
        let policy = ExitPolicy {
            exit_zero: self.cfg.exit_zero.clone(),
            zero_on_stop: self.cfg.exit_zero_on_stop,
        };
        let (exit_code, reason) = match self.main_end {
            Some(end) => policy.decide(end, &self.stops_forwarded, self.shutdown.timed_out()),
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
        }
    }
}
