//! How a run ended, as rein tells it: the one-line summary at info level (`-v`) and the
//! JSON object that `--status-file` holds (written by `status_file.rs`).

use std::time::Duration;

use crate::exit_code::{ChildEnd, Reason};

/// Everything the summary and the status file say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// What rein exits with.
    pub exit_code: u8,
    /// The main child's own end (before any mapping), if it ran.
    pub child: Option<ChildEnd>,
    /// Why.
    pub reason: Reason,
    /// From start to exit.
    pub runtime: Duration,
    /// Processes reaped other than the main child.
    pub orphans_reaped: u64,
    /// Leftovers sent SIGTERM after the main child exited.
    pub leftovers_terminated: u64,
    /// Leftovers sent SIGKILL when the grace ran out.
    pub leftovers_killed: u64,
}

impl Summary {
    /// The info-level line.
    pub fn line(&self) -> String {
        let child = match self.child {
            Some(ChildEnd::Exited(c)) => format!("main child exited with {c}"),
            Some(ChildEnd::Signalled(s)) => {
                format!("main child killed by {}", crate::signals::name(s))
            }
            None => String::from("no main child ran"),
        };
        format!(
            "{child}; exiting {} ({}) after {} ms; orphans reaped: {}, leftovers terminated: {}, killed: {}",
            self.exit_code,
            self.reason.as_str(),
            self.runtime.as_millis(),
            self.orphans_reaped,
            self.leftovers_terminated,
            self.leftovers_killed
        )
    }

    /// The status file's JSON object, on one line.
    pub fn json(&self) -> String {
        let signal = self
            .child
            .and_then(ChildEnd::signal)
            .map_or(String::from("null"), |s| s.to_string());
        let child_code = match self.child {
            Some(ChildEnd::Exited(c)) => c.to_string(),
            _ => String::from("null"),
        };
        format!(
            "{{\"exit_code\":{},\"signal\":{},\"reason\":\"{}\",\"child_exit_code\":{},\"runtime_ms\":{},\"orphans_reaped\":{},\"leftovers_terminated\":{},\"leftovers_killed\":{}}}\n",
            self.exit_code,
            signal,
            self.reason.as_str(),
            child_code,
            self.runtime.as_millis(),
            self.orphans_reaped,
            self.leftovers_terminated,
            self.leftovers_killed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_key_and_null_signal_for_an_exit() {
        let s = Summary {
            exit_code: 3,
            child: Some(ChildEnd::Exited(3)),
            reason: Reason::Exited,
            runtime: Duration::from_millis(42),
            orphans_reaped: 2,
            leftovers_terminated: 1,
            leftovers_killed: 0,
        };
        assert_eq!(
            s.json(),
            "{\"exit_code\":3,\"signal\":null,\"reason\":\"exited\",\"child_exit_code\":3,\"runtime_ms\":42,\"orphans_reaped\":2,\"leftovers_terminated\":1,\"leftovers_killed\":0}\n"
        );
        let k = Summary {
            exit_code: 137,
            child: Some(ChildEnd::Signalled(9)),
            reason: Reason::Signalled,
            ..s
        };
        assert!(
            k.json()
                .contains("\"signal\":9,\"reason\":\"signalled\",\"child_exit_code\":null")
        );
    }
}
