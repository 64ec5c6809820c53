//! rein's logger: env_logger writing to stderr only, because stdout belongs to the main child.
//!
//! The level is `warn` unless `-v` raises it (info, debug, trace) or `REIN_LOG` (env_logger
//! filter syntax) overrides both. At the default level a normal run prints nothing. Lines read
//! `rein[PID] LEVEL: message` with no timestamp, since container runtimes add their own.
//! A failed write to stderr (closed, or a broken pipe) is dropped: the logger never panics and
//! never stops rein.

use std::ffi::OsString;
use std::io::Write;

/// Installs the logger. `filter` is `REIN_LOG`'s value, if set.
pub fn init(verbosity: u8, filter: Option<OsString>) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let spec = filter
        .and_then(|f| f.into_string().ok())
        .filter(|f| !f.trim().is_empty());
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

/// Prints one `rein: message` line on stderr, ignoring write errors (never panics).
pub fn say(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "rein: {message}");
}
