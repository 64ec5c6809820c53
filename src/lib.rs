//! rein: a tiny init for containers. The binary's `main.rs` only borrows `argv`/`envp` and
//! calls [`main_with`]; everything else lives in one module per job:
//!
//! - `environ`: `argv` and `envp` read in place, and the main child's environment;
//! - `options`: the one table of options, their twins and `--help`;
//! - `cli`, `values`: parsing the command line, its `REIN_*` twins and option values;
//! - `signals`, `events`: which signals rein catches and how it waits for them (signalfd);
//! - `spawn`, `terminal`: starting the main child, its process group and the terminal;
//! - `reap`: collecting exited children; `leftovers`: finding and stopping what remains;
//!   `proc`: everything read from /proc, as bytes; `target`: who a signal goes to, and the one
//!   function that sends it (with SIGCONT only for a stopped target); `throttle`: rate limits
//!   for log lines that could repeat without end;
//! - `shutdown`: the timers (grace, `--kill-after`, `--timeout`, `--stop-delay`) as a pure
//!   state machine;
//! - `adopt`: `--adopt` and `--pid-file`, a main program that daemonizes; `job_control`:
//!   Ctrl-Z, `fg` and `bg` passing through rein in an interactive shell;
//! - `supervise`: the event loop; `run`: the steps of one run in order;
//! - `exit_code`: exit codes and the `--exit-zero` policy; `summary`: the summary line and the
//!   status file's JSON; `status_file`: writing that file safely;
//! - `account`: `--user` lookups in /etc/passwd and /etc/group; `credentials`: dropping
//!   privileges in the child; `detach`: letting go of cwd and inherited descriptors;
//! - `sys`: the raw system calls (allowed `unsafe`, with `spawn` and `credentials`).

pub mod account;
pub mod adopt;
pub mod cli;
pub mod credentials;
pub mod detach;
pub mod environ;
pub mod events;
pub mod exit_code;
pub mod job_control;
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

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;

use environ::{CArray, ChildEnv};

/// Everything `main` does, given `argv` (without `argv[0]`) and `envp` as the kernel passed
/// them. Returns rein's exit code.
pub fn main_with(args: CArray<'_>, env: CArray<'_>) -> u8 {
    // One pass over the environment picks out rein's own variables; each option then looks
    // only at those few instead of scanning the whole environment again.
    let ours: Vec<&[u8]> = env.starting_with(b"REIN_").map(CStr::to_bytes).collect();
    let lookup = |key: &str| {
        ours.iter()
            .rev()
            .find_map(|e| e.strip_prefix(key.as_bytes())?.strip_prefix(b"="))
            // The exact bytes: `cli::parse` rejects a value that is not UTF-8 and names it.
            .map(|v| OsStr::from_bytes(v).to_os_string())
    };
    let words = args.iter().map(|a| OsStr::from_bytes(a.to_bytes()));
    match cli::parse(words, lookup) {
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
            // The command is the tail of argv (see `cli::parse`), so execve can take rein's own
            // argv array from there, with no copy.
            let argv = args.skip(args.len().saturating_sub(cfg.command.len()));
            if !argv
                .iter()
                .map(CStr::to_bytes)
                .eq(cfg.command.iter().map(|c| c.as_bytes()))
            {
                log::say("internal error: the command is not the end of the arguments");
                return exit_code::REIN_FAILED;
            }
            let code = run::run(&cfg, argv, ChildEnv::without_reins_variables(env));
            // rein exits next: freeing the parsed options would only write to the allocator's
            // pages (page faults) and unmap one, just before the exit frees everything anyway.
            std::mem::forget(cfg);
            code
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
