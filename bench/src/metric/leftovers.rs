//! Leftovers: from the main child's exit until the init has exited, with N processes left
//! behind that exit on SIGTERM (see `helper/leftovers.rs`), as a plain process and as PID 1.
//!
//! Only rein waits for leftovers. As PID 1 the peers exit at once and the kernel SIGKILLs the
//! rest of the namespace; the init's pidfd turns readable only once the namespace is empty,
//! so their figures are comparable ("all gone"). As plain processes the peers would just exit
//! and leave the N processes running, so they are not run. rein gets a grace long enough
//! that it never falls back to SIGKILL: what is measured is the TERM path.
//!
//! The floors are a parent that TERMs its N children, oldest first, and reaps them with
//! `waitpid(pid)` for each (`floor-waitpid`, linear) or with a `waitpid(-1)` loop
//! (`floor-wait-any`); and the first once more with the youngest signalled first
//! (`floor-waitpid-reversed`). The order matters because of the kernel, not the wait: a child
//! exiting while its parent is in another process group of the same session makes the kernel
//! check whether its group becomes orphaned, a walk of the group's members from the youngest
//! that skips every zombie; when the youngest die first, each exit walks past all the zombies
//! before it, and stopping N processes costs O(N²).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::channel::Channel;
use crate::opts::{Init, Mode, Opts, command_line, emit};
use crate::process::{finish, reap_strays, spawn, stderr_log, target_pid};
use crate::sys::{self, now_ns};

/// How long one run may take before it is abandoned (20,000 leftovers take seconds).
const LIMIT: Duration = Duration::from_secs(300);

/// Runs the leftovers benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    // Whatever a run leaves behind comes back to the driver, which kills it.
    sys::become_subreaper()?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let fifo = o.work.join("leftovers.fifo");
    let fifo_s = fifo.to_string_lossy().into_owned();
    let none = Init {
        name: "none".into(),
        path: String::new(),
    };
    for _ in 0..o.rounds {
        for &n in &o.sizes {
            let metric = format!("leftovers_{n}_ns");
            for &mode in &o.modes {
                let mut runs: Vec<(String, Vec<String>)> = Vec::new();
                for init in o.inits.iter().filter(|i| i.is_real()) {
                    if mode == Mode::Plain && init.name != "rein" {
                        continue;
                    }
                    let cmd = [
                        me.clone(),
                        "child-leftovers".into(),
                        n.to_string(),
                        fifo_s.clone(),
                    ];
                    let extra: &[&str] = if init.name == "rein" {
                        &["--grace", "10m"]
                    } else {
                        &[]
                    };
                    runs.push((init.name.clone(), command_line(init, mode, extra, &cmd)));
                }
                for (name, how) in [
                    ("floor-waitpid", "pid"),
                    ("floor-wait-any", "any"),
                    ("floor-waitpid-reversed", "pid-reversed"),
                ] {
                    let cmd = [
                        me.clone(),
                        "floor-leftovers".into(),
                        n.to_string(),
                        how.into(),
                        fifo_s.clone(),
                    ];
                    runs.push((name.into(), command_line(&none, mode, &[], &cmd)));
                }
                for (name, argv) in runs {
                    sys::wait_for_pids(n);
                    match one(&argv, mode, &fifo, &err) {
                        Ok(ns) => emit(&metric, mode, &name, ns),
                        Err(e) => {
                            eprintln!("initbench: leftovers {n} {name} ({}): {e}", mode.name())
                        }
                    }
                    let strays = reap_strays();
                    if strays > 0 {
                        emit(&format!("leftovers_{n}_strays"), mode, &name, strays);
                    }
                }
            }
        }
    }
    Ok(())
}

/// One run: the time from the reported moment (the main child's exit, or the floor's start)
/// until the init has exited.
fn one(
    argv: &[String],
    mode: Mode,
    fifo: &std::path::Path,
    err: &std::fs::File,
) -> io::Result<u64> {
    let chan = Channel::new(fifo)?;
    let started = now_ns();
    let mut child = spawn(argv, err, None)?;
    let target = target_pid(&child, mode)?;
    let pidfd = sys::pidfd_open(target)?;
    let result = (|| {
        // The reported moment, unless the program failed before it (then it has exited).
        let t0 = loop {
            match chan.read(Duration::from_secs(1)) {
                Ok(t) => break t,
                Err(_) if sys::readable(pidfd.as_raw_fd(), Duration::ZERO) => {
                    return Err(io::Error::other("exited without reporting"));
                }
                Err(_) if now_ns() - started > LIMIT.as_nanos() as u64 => {
                    return Err(io::Error::other("reported nothing in time"));
                }
                Err(_) => {}
            }
        };
        if !sys::readable(pidfd.as_raw_fd(), LIMIT) {
            return Err(io::Error::other("did not exit in time"));
        }
        Ok(now_ns().saturating_sub(t0))
    })();
    finish(&mut child, target, Duration::from_secs(10));
    result
}
