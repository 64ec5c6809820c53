//! rein's logger: stderr only, because stdout belongs to the main child.
//!
//! The level is `warn` unless `-v` raises it (info, debug, trace) or `REIN_LOG` (env_logger
//! filter syntax) overrides both. At the default level a normal run prints nothing. Lines read
//! `rein[PID] LEVEL: message` with no timestamp, since container runtimes add their own.
//! A failed write to stderr (closed, or a broken pipe) is dropped: the logger never panics and
//! never stops rein.
//!
//! At the default level (no `-v`, no `REIN_LOG`) a static logger that passes warnings and
//! errors stands in for env_logger: building env_logger's filter and boxed logger was a tenth
//! of the instructions of a whole run that logs nothing. It prints the same lines.

use std::ffi::OsString;
use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

/// Installs the logger. `filter` is `REIN_LOG`'s value, if set.
pub fn init(verbosity: u8, filter: Option<OsString>) {
    let spec = filter
        .and_then(|f| f.into_string().ok())
        .filter(|f| !f.trim().is_empty());
    let default = match verbosity {
        0 if spec.is_none() => {
            // Only fails if a logger is already set, which would be a bug in a test.
            if log::set_logger(&WarnLogger).is_ok() {
                log::set_max_level(LevelFilter::Warn);
            }
            return;
        }
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let pid = std::process::id();
    let mut builder = env_logger::Builder::new();
    builder
        .parse_filters(spec.as_deref().unwrap_or(default))
        .target(env_logger::Target::Stderr)
        .format(move |buf, record| {
            writeln!(buf, "rein[{pid}] {}: {}", record.level(), record.args())
        });
    // Only fails if a logger is already set, which would be a bug in a test; nothing to do.
    let _ = builder.try_init();
}

/// The default level's logger: warnings and errors, in env_logger's format above.
#[derive(Debug)]
struct WarnLogger;

impl Log for WarnLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= LevelFilter::Warn
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // One write per line, as env_logger does, so lines from rein and the child never mix.
        let line = format!(
            "rein[{}] {}: {}\n",
            std::process::id(),
            record.level(),
            record.args()
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Prints one `rein: message` line on stderr, ignoring write errors (never panics).
pub fn say(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "rein: {message}");
}
