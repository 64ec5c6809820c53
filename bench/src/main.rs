//! `initbench`: the measuring half of `scripts/bench.sh`.
//!
//! Driver subcommands (`metric/`, one module each) start an init (rein, a peer, or a floor)
//! the way a container runtime would, as a plain process or as PID 1 of a fresh PID namespace
//! (`unshare --pid --fork --mount-proc`), and time it. Every init of a round runs before the
//! next round starts, so drift on the machine hits them all alike. Each sample goes to stdout
//! as one tab-separated row, `metric  mode  init  value`; `scripts/bench_report.py` turns the
//! rows into tables.
//!
//! Helper subcommands (`helper/`) are the programs the inits supervise, or that stand in for
//! an init as a floor. The two static floor programs, `floor-init` and `floor-exit`, are
//! binaries of their own (`bin/`), built for musl.
//!
//! Timestamps from different processes compare because CLOCK_MONOTONIC is system-wide.

mod cgroup;
mod channel;
mod clones;
mod helper;
mod instance;
mod metric;
mod opts;
mod process;
mod sys;

use std::io;
use std::process::ExitCode;

use opts::Opts;

const USAGE: &str = "usage: initbench startup|idle|signals|shutdown|reap|leftovers|hupflood OPTIONS
       initbench cgroup-info
       initbench child-sig FIFO BURST | child-storm N OUT | child-leftovers N FIFO | child-hup N FIFO
       initbench floor-leftovers N pid|any FIFO";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match cmd.as_str() {
        "child-sig" => helper::sig::main(rest),
        "child-storm" => helper::storm::main(rest),
        "child-hup" => helper::hup::main(rest),
        "child-leftovers" => helper::leftovers::child(rest),
        "floor-leftovers" => helper::leftovers::floor(rest),
        "cgroup-info" => {
            println!("{}", cgroup::describe());
            Ok(())
        }
        _ => driver(cmd, rest),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            eprintln!("initbench: {e}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("initbench {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn driver(cmd: &str, rest: &[String]) -> io::Result<()> {
    let o = Opts::parse(rest).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    match cmd {
        "startup" => metric::startup::run(&o),
        "idle" => metric::idle::run(&o),
        "signals" => metric::signals::run(&o),
        "shutdown" => metric::shutdown::run(&o),
        "reap" => metric::reap::run(&o),
        "leftovers" => metric::leftovers::run(&o),
        "hupflood" => metric::hupflood::run(&o),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown subcommand {cmd}"),
        )),
    }
}
