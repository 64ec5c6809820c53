//! How a run ended: the exit code rein returns (after `--exit-zero` and
//! `--exit-zero-on-stop`), the one-line summary at info level, and the `--status-file` JSON.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::status::{self, ChildEnd};

/// Why rein exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The main child exited by itself.
    Exited,
    /// A signal killed the main child.
    Signalled,
    /// `--timeout` expired.
    Timeout,
    /// The main child could not be started.
    ExecFailed,
    /// Pause mode was told to stop.
    Paused,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Exited => "exited",
            Self::Signalled => "signalled",
            Self::Timeout => "timeout",
            Self::ExecFailed => "exec-failed",
            Self::Paused => "stopped",
        }
    }
}

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

/// The choices that map the child's end to rein's exit code.
#[derive(Debug, Clone, Default)]
pub struct ExitPolicy {
    /// `--exit-zero` codes.
    pub exit_zero: Vec<u8>,
    /// `--exit-zero-on-stop`.
    pub zero_on_stop: bool,
}

impl ExitPolicy {
    /// rein's exit code and reason for a main child that ended as `end`, given the stopping
    /// signals rein itself forwarded and whether `--timeout` fired.
    pub fn decide(&self, end: ChildEnd, stops_forwarded: &[i32], timed_out: bool) -> (u8, Reason) {
        if timed_out {
            return (status::TIMED_OUT, Reason::Timeout);
        }
        let reason = match end {
            ChildEnd::Exited(_) => Reason::Exited,
            ChildEnd::Signalled(_) => Reason::Signalled,
        };
        let code = end.exit_code();
        if self.exit_zero.contains(&code) {
            return (0, reason);
        }
        if self.zero_on_stop {
            let died_of_our_stop = match end {
                ChildEnd::Signalled(sig) => stops_forwarded.contains(&sig),
                ChildEnd::Exited(c) => stops_forwarded.iter().any(|&s| i32::from(c) == 128 + s),
            };
            if died_of_our_stop {
                return (0, reason);
            }
        }
        (code, reason)
    }
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

/// Checks before the child runs that `path`'s directory exists, so a typo fails early (125)
/// instead of after an hour-long CI job.
pub fn check_status_dir(path: &Path) -> Result<(), String> {
    let dir = parent_dir(path);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "cannot write status file '{}': '{}' is not a directory",
            path.display(),
            dir.display()
        )),
        Err(e) => Err(format!(
            "cannot write status file '{}': {}: {e}",
            path.display(),
            dir.display()
        )),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then
/// `rename` over `path`, so a reader sees the old file or the whole new one, never half.
pub fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".rein-{}.tmp", std::process::id()));
    let tmp = parent_dir(path).join(tmp_name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_zero_maps_only_the_listed_codes() {
        let p = ExitPolicy {
            exit_zero: vec![143],
            zero_on_stop: false,
        };
        assert_eq!(
            p.decide(ChildEnd::Exited(143), &[], false),
            (0, Reason::Exited)
        );
        assert_eq!(
            p.decide(ChildEnd::Signalled(15), &[], false),
            (0, Reason::Signalled)
        );
        assert_eq!(
            p.decide(ChildEnd::Exited(1), &[], false),
            (1, Reason::Exited)
        );
    }

    #[test]
    fn exit_zero_on_stop_needs_our_own_stop_signal() {
        let p = ExitPolicy {
            exit_zero: vec![],
            zero_on_stop: true,
        };
        assert_eq!(p.decide(ChildEnd::Signalled(15), &[15], false).0, 0);
        assert_eq!(p.decide(ChildEnd::Exited(143), &[15], false).0, 0);
        assert_eq!(p.decide(ChildEnd::Exited(130), &[2], false).0, 0);
        // The same end without a stop from rein is a crash and keeps its code.
        assert_eq!(p.decide(ChildEnd::Exited(143), &[], false).0, 143);
        assert_eq!(p.decide(ChildEnd::Signalled(15), &[], false).0, 143);
        // A different signal than the one rein sent is not masked.
        assert_eq!(p.decide(ChildEnd::Signalled(9), &[15], false).0, 137);
        assert_eq!(p.decide(ChildEnd::Exited(1), &[15], false).0, 1);
    }

    #[test]
    fn timeout_wins_over_everything() {
        let p = ExitPolicy {
            exit_zero: vec![143],
            zero_on_stop: true,
        };
        assert_eq!(
            p.decide(ChildEnd::Signalled(15), &[15], true),
            (124, Reason::Timeout)
        );
    }

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

    #[test]
    fn status_dir_must_exist() {
        assert!(
            check_status_dir(Path::new("/nonexistent-rein-dir/x.json"))
                .unwrap_err()
                .contains("/nonexistent-rein-dir")
        );
        assert!(check_status_dir(Path::new("/tmp/x.json")).is_ok());
        assert!(check_status_dir(Path::new("relative.json")).is_ok());
    }
}
