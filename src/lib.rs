//! rein: a tiny init for containers. The binary's `main.rs` only converts `argv`/`envp` and
//! calls [`main_with`]; everything else lives in one module per job:
//!
//! - `options`: the one table of options, their twins and `--help`;
//! - `cli`, `values`: parsing the command line, its `REIN_*` twins and option values;
//! - `signals`, `events`: which signals rein catches and how it waits for them (signalfd);
//! - `spawn`, `terminal`: starting the main child, its process group and the terminal;
//! - `reap`: collecting exited children; `leftovers`: finding and stopping what remains;
//!   `proc`: everything read from /proc, as bytes; `target`: who a signal goes to, and the one
//!   function that sends it (with SIGCONT only for a stopped target); `throttle`: rate limits
//!   for log lines that could repeat without end;
//! - `shutdown`: the timers (grace, `--kill-after`, `--timeout`) as a pure state machine;
//! - `supervise`: the event loop; `run`: the steps of one run in order;
//! - `exit_code`: exit codes and the `--exit-zero` policy; `summary`: the summary line and the
//!   status file's JSON; `status_file`: writing that file safely;
//! - `account`: `--user` lookups in /etc/passwd and /etc/group; `credentials`: dropping
//!   privileges in the child; `detach`: letting go of cwd and inherited descriptors;
//! - `sys`: the raw system calls (allowed `unsafe`, with `spawn` and `credentials`).

pub mod account;
pub mod cli;
pub mod credentials;
pub mod detach;
pub mod events;
pub mod exit_code;
pub mod leftovers;
pub mod log;
pub mod options;
pub mod proc;
pub mod reap;
pub mod run;
pub mod shutdown;
pub mod signals;
pub mod spawn;
pub mod status_file;
pub mod summary;
pub mod supervise;
pub mod sys;
pub mod target;
pub mod terminal;
pub mod throttle;
pub mod values;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Everything `main` does, given `argv` (without `argv[0]`) and the raw environment entries.
/// Returns rein's exit code.
pub fn main_with(args: Vec<OsString>, mut env: Vec<OsString>) -> u8 {
    // One pass over the environment picks out rein's own variables; each option then looks
    // only at those few instead of scanning the whole environment again.
    let ours: Vec<&[u8]> = env
        .iter()
        .map(|e| e.as_bytes())
        .filter(|e| e.starts_with(b"REIN_"))
        .collect();
    let lookup = |key: &str| {
        ours.iter()
            .rev()
            .find_map(|e| e.strip_prefix(key.as_bytes())?.strip_prefix(b"="))
            // The exact bytes: `cli::parse` rejects a value that is not UTF-8 and names it.
            .map(|v| OsStr::from_bytes(v).to_os_string())
    };
    let parsed = cli::parse(args, lookup);
    match parsed {
        Ok(cli::Parsed::Help) => {
            print_out(&options::usage());
            0
        }
        Ok(cli::Parsed::Version) => {
            print_out(&format!("rein {}\n", env!("CARGO_PKG_VERSION")));
            0
        }
        Ok(cli::Parsed::Run(cfg)) => {
            log::init(cfg.verbosity, lookup(options::LOG_VARIABLE));
            // rein consumes its own variables: a rein that the program runs in turn must not
            // apply them again. Only the names rein reads go; every other entry (other REIN_
            // names included) stays, byte for byte and in order.
            drop(ours);
            env.retain(|e| !options::is_reins_variable(e.as_bytes()));
            run::run(&cfg, env)
        }
        Err(e) => {
            log::say(&format!("{e} (see 'rein --help')"));
            exit_code::REIN_FAILED
        }
    }
}

/// `--help` and `--version` are the only output rein ever writes to stdout.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
