//! The timers of a run as a pure state machine: `--timeout`, `--kill-after` and the grace
//! period for leftovers. It never reads the clock or sends a signal itself; the supervise loop
//! feeds it instants and carries out the [`Action`]s it returns, so every deadline rule is unit
//! tested with made-up instants instead of sleeps.

use std::time::{Duration, Instant};

/// How long rein waits for leftovers after the first SIGKILL before it gives up on them and
/// exits with the main child's status. SIGKILL normally ends a process within microseconds;
/// one still there after this is beyond rein's reach (it lacks the permission, or the process
/// is stuck in the kernel), and waiting longer would only hold up the container's stop. As
/// PID 1, rein's exit then has the kernel kill what is left of the namespace.
pub const KILL_WAIT: Duration = Duration::from_secs(2);

/// The first re-scan after SIGKILL, for processes forked while it went out; each next one
/// comes twice as long after the last, up to [`MAX_RESCAN_STEP`].
const FIRST_RESCAN: Duration = Duration::from_millis(10);

/// The longest pause between two re-scans after SIGKILL.
const MAX_RESCAN_STEP: Duration = Duration::from_millis(500);

/// Something the supervise loop must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send this signal to the main child (or its group): `--timeout` fired.
    SignalChild(i32),
    /// SIGKILL the main child's group: `--kill-after` (or the timeout's escalation) ran out.
    KillChild,
    /// SIGTERM every leftover and start the grace period.
    TermLeftovers,
    /// SIGKILL every leftover: the grace period ran out (or was zero), or it is time to
    /// re-scan for leftovers that escaped the last SIGKILL.
    KillLeftovers,
    /// Stop waiting for leftovers: [`KILL_WAIT`] has passed since the first SIGKILL.
    GiveUp,
}

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The main child runs (or, in pause mode, rein waits for TERM/INT).
    Running,
    /// Leftovers got SIGTERM; SIGKILL at `kill_at`.
    Draining {
        /// When the grace period ends.
        kill_at: Instant,
    },
    /// Leftovers got SIGKILL; rein waits for the last of them, re-scanning at `rescan_at`,
    /// until `give_up_at`.
    Killing {
        /// When to send SIGKILL to what is found again.
        rescan_at: Instant,
        /// How long after this re-scan the next one comes.
        step: Duration,
        /// When rein stops waiting.
        give_up_at: Instant,
    },
    /// rein gave up waiting for leftovers that survived SIGKILL.
    GaveUp,
}

impl Phase {
    /// The phase after the first SIGKILL to leftovers at `now`.
    fn killing(now: Instant) -> Self {
        Phase::Killing {
            rescan_at: now + FIRST_RESCAN,
            step: FIRST_RESCAN * 2,
            give_up_at: now + KILL_WAIT,
        }
    }
}

/// The timers of one run.
#[derive(Debug, Clone)]
pub struct Shutdown {
    grace: Duration,
    kill_after: Option<Duration>,
    timeout_at: Option<Instant>,
    timeout_signal: i32,
    escalate_at: Option<Instant>,
    timed_out: bool,
    phase: Phase,
}

impl Shutdown {
    /// Starts the clock at `start`.
    pub fn new(
        start: Instant,
        grace: Duration,
        kill_after: Option<Duration>,
        timeout: Option<Duration>,
        timeout_signal: i32,
    ) -> Self {
        Self {
            grace,
            kill_after,
            timeout_at: timeout.map(|t| start + t),
            timeout_signal,
            escalate_at: None,
            timed_out: false,
            phase: Phase::Running,
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether `--timeout` fired.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// rein forwarded a stopping signal (TERM, INT, QUIT, HUP) to the main child: arm
    /// `--kill-after` once. Later stop signals do not push the deadline back.
    pub fn on_stop_forwarded(&mut self, now: Instant) {
        if self.phase == Phase::Running && self.escalate_at.is_none() {
            self.escalate_at = self.kill_after.map(|d| now + d);
        }
    }

    /// The main child has exited (or pause mode was told to stop): stop the leftovers.
    pub fn on_main_exit(&mut self, now: Instant) -> Action {
        self.escalate_at = None;
        self.timeout_at = None;
        if self.grace.is_zero() {
            self.phase = Phase::killing(now);
            Action::KillLeftovers
        } else {
            self.phase = Phase::Draining {
                kill_at: now + self.grace,
            };
            Action::TermLeftovers
        }
    }

    /// The earliest armed deadline, if any: rein may sleep until then.
    pub fn next_deadline(&self) -> Option<Instant> {
        let drain = match self.phase {
            Phase::Draining { kill_at } => Some(kill_at),
            Phase::Killing { rescan_at, .. } => Some(rescan_at),
            Phase::Running | Phase::GaveUp => None,
        };
        [self.timeout_at, self.escalate_at, drain]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires every deadline that has passed at `now`.
    pub fn on_time(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.timeout_at.is_some_and(|t| t <= now) {
            self.timeout_at = None;
            self.timed_out = true;
            out.push(Action::SignalChild(self.timeout_signal));
            // The escalation after a timeout is --kill-after, or else the grace period.
            let after = self.kill_after.unwrap_or(self.grace);
            let at = now + after;
            self.escalate_at = Some(self.escalate_at.map_or(at, |e| e.min(at)));
        }
        if self.escalate_at.is_some_and(|t| t <= now) {
            self.escalate_at = None;
            out.push(Action::KillChild);
        }
        match self.phase {
            Phase::Draining { kill_at } if kill_at <= now => {
                self.phase = Phase::killing(now);
                out.push(Action::KillLeftovers);
            }
            Phase::Killing { give_up_at, .. } if give_up_at <= now => {
                self.phase = Phase::GaveUp;
                out.push(Action::GiveUp);
            }
            Phase::Killing {
                rescan_at,
                step,
                give_up_at,
            } if rescan_at <= now => {
                self.phase = Phase::Killing {
                    rescan_at: (now + step).min(give_up_at),
                    step: (step * 2).min(MAX_RESCAN_STEP),
                    give_up_at,
                };
                out.push(Action::KillLeftovers);
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn idle_run_has_no_deadline() {
        let t0 = Instant::now();
        let sd = Shutdown::new(t0, 5 * S, None, None, 15);
        assert_eq!(sd.next_deadline(), None);
    }

    #[test]
    fn grace_terms_then_kills_at_the_deadline() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, None, None, 15);
        assert_eq!(sd.on_main_exit(t0), Action::TermLeftovers);
        assert_eq!(sd.next_deadline(), Some(t0 + 5 * S));
        assert!(sd.on_time(t0 + 4 * S).is_empty());
        assert_eq!(sd.on_time(t0 + 5 * S), vec![Action::KillLeftovers]);
        assert!(matches!(sd.phase(), Phase::Killing { .. }));
        assert_eq!(sd.next_deadline(), Some(t0 + 5 * S + FIRST_RESCAN));
    }

    #[test]
    fn zero_grace_kills_at_once() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, Duration::ZERO, None, None, 15);
        assert_eq!(sd.on_main_exit(t0), Action::KillLeftovers);
        assert!(matches!(sd.phase(), Phase::Killing { .. }));
    }

    #[test]
    fn after_sigkill_rescans_back_off_and_the_wait_ends_at_kill_wait() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, Duration::ZERO, None, None, 15);
        assert_eq!(sd.on_main_exit(t0), Action::KillLeftovers);
        let mut rescans = Vec::new();
        let now = loop {
            let now = sd.next_deadline().expect("a deadline until rein gives up");
            match sd.on_time(now).as_slice() {
                [Action::KillLeftovers] => rescans.push(now - t0),
                [Action::GiveUp] => break now,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(now - t0, KILL_WAIT);
        assert_eq!(sd.phase(), Phase::GaveUp);
        assert_eq!(sd.next_deadline(), None);
        assert!(sd.on_time(now + 100 * S).is_empty());
        let ms = |d: &Duration| d.as_millis();
        // 10 ms, then each pause twice the last, capped at 500 ms, the last one cut short.
        assert_eq!(
            rescans.iter().map(ms).collect::<Vec<_>>(),
            vec![10, 30, 70, 150, 310, 630, 1130, 1630]
        );
        // A wake-up in between (a SIGCHLD) fires nothing early.
        let mut sd = Shutdown::new(t0, Duration::ZERO, None, None, 15);
        sd.on_main_exit(t0);
        assert!(sd.on_time(t0 + FIRST_RESCAN / 2).is_empty());
    }

    #[test]
    fn kill_after_arms_on_the_first_stop_only() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, Some(2 * S), None, 15);
        sd.on_stop_forwarded(t0);
        sd.on_stop_forwarded(t0 + S);
        assert_eq!(sd.next_deadline(), Some(t0 + 2 * S));
        assert_eq!(sd.on_time(t0 + 2 * S), vec![Action::KillChild]);
        assert_eq!(sd.next_deadline(), None);
    }

    #[test]
    fn kill_after_is_off_by_default() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, None, None, 15);
        sd.on_stop_forwarded(t0);
        assert_eq!(sd.next_deadline(), None);
    }

    #[test]
    fn child_exit_disarms_kill_after_and_timeout() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, Some(S), Some(10 * S), 15);
        sd.on_stop_forwarded(t0);
        sd.on_main_exit(t0 + S / 2);
        assert_eq!(sd.next_deadline(), Some(t0 + S / 2 + 5 * S));
        assert_eq!(sd.on_time(t0 + 20 * S), vec![Action::KillLeftovers]);
    }

    #[test]
    fn timeout_signals_then_escalates_after_kill_after_or_grace() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, Some(2 * S), Some(10 * S), 2);
        assert_eq!(sd.next_deadline(), Some(t0 + 10 * S));
        assert_eq!(sd.on_time(t0 + 10 * S), vec![Action::SignalChild(2)]);
        assert!(sd.timed_out());
        assert_eq!(sd.next_deadline(), Some(t0 + 12 * S));
        assert_eq!(sd.on_time(t0 + 12 * S), vec![Action::KillChild]);

        let mut sd = Shutdown::new(t0, 3 * S, None, Some(S), 15);
        assert_eq!(sd.on_time(t0 + S), vec![Action::SignalChild(15)]);
        assert_eq!(sd.next_deadline(), Some(t0 + 4 * S));
    }

    #[test]
    fn escalation_counts_from_when_the_timeout_signal_went_out() {
        let t0 = Instant::now();
        let mut sd = Shutdown::new(t0, 5 * S, Some(S), Some(S), 15);
        // A late wake-up at 3 s sends the timeout signal then, and escalates 1 s after that.
        assert_eq!(sd.on_time(t0 + 3 * S), vec![Action::SignalChild(15)]);
        assert_eq!(sd.next_deadline(), Some(t0 + 4 * S));
        assert_eq!(sd.on_time(t0 + 4 * S), vec![Action::KillChild]);
    }
}
