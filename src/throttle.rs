//! Rate limits for log lines that a hostile or broken environment could repeat without end: a
//! fork loop that keeps giving rein new leftovers to kill, a signal storm whose forwarding
//! fails, a descriptor that keeps failing. PID 1's stderr is the container's log, and one line
//! per event would let any process inside flood it.

use std::time::{Duration, Instant};

/// Lets a line through at most once per interval, and counts the ones it held back so the next
/// line can say how many there were.
#[derive(Debug, Clone)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    held: u64,
}

impl Throttle {
    /// At most one line per `every`.
    pub const fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            held: 0,
        }
    }

    /// Whether a line may be logged at `now`. If so, returns how many were held back since the
    /// last one that was let through; if not, counts this one as held back.
    pub fn allow(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < self.every)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

/// The usual limit: one line per second.
pub const EVERY: Duration = Duration::from_secs(1);

/// `" (N similar lines held back)"`, or nothing when none were.
pub fn held_note(held: u64) -> String {
    if held == 0 {
        String::new()
    } else {
        format!(" ({held} similar line(s) held back)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_rest_are_counted() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut t = Throttle::new(Duration::from_secs(1));
        assert_eq!(t.allow(t0), Some(0));
        assert_eq!(t.allow(t0 + ms(1)), None);
        assert_eq!(t.allow(t0 + ms(999)), None);
        assert_eq!(t.allow(t0 + ms(1000)), Some(2));
        assert_eq!(t.allow(t0 + ms(1500)), None);
        assert_eq!(t.allow(t0 + ms(5000)), Some(1));
        assert_eq!(t.allow(t0 + ms(9000)), Some(0));
    }

    #[test]
    fn a_clock_that_seems_to_go_back_holds_the_line() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut t = Throttle::new(Duration::from_secs(1));
        assert_eq!(t.allow(t0), Some(0));
        assert_eq!(t.allow(t0 - Duration::from_secs(5)), None);
    }

    #[test]
    fn the_note_names_what_was_held_back() {
        assert_eq!(held_note(0), "");
        assert_eq!(held_note(3), " (3 similar line(s) held back)");
    }
}
