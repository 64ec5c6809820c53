//! A flood of stopping signals (issue 11, security): what one forwarded SIGHUP costs the init
//! with N other processes in its PID namespace. The program (`helper/hup.rs`) starts N
//! bystanders in sessions of their own; the driver sends `count` SIGHUPs to the init, each as
//! soon as the previous one reached the program's handler (so the init is flooded at the
//! rate it can take), and reads the init's CPU time (`/proc/PID/schedstat`) before and after.
//! Samples: the init's CPU per forwarded SIGHUP (`hup_cpu_per_signal_ns`), the median
//! kill → handler time under the flood (`hup_latency_ns`), and signals lost. As PID 1 only:
//! the bystanders must be in the init's namespace, and die with it.
//!
//! An init that checks `/proc` for stopped members of the group on every stopping signal (to
//! follow it with SIGCONT) pays O(N) per signal here; rein rate-limits that scan.

use std::io;
use std::time::Duration;

use crate::channel::{Channel, READY};
use crate::opts::{Mode, Opts, command_line, emit};
use crate::process::{find_child_of, finish, spawn, stderr_log, target_pid};
use crate::sys::{self, now_ns};

/// Runs the HUP-flood benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let mode = Mode::Pid1;
    let fifo = o.work.join("hup.fifo");
    for _ in 0..o.rounds {
        for &n in &o.sizes {
            for init in o
                .inits
                .iter()
                .filter(|i| i.is_real() || i.name.starts_with("rein"))
            {
                let chan = Channel::new(&fifo)?;
                let cmd = [
                    me.clone(),
                    "child-hup".into(),
                    n.to_string(),
                    fifo.to_string_lossy().into_owned(),
                ];
                let mut child = spawn(&command_line(init, mode, &[], &cmd), &err, None)?;
                if chan.read(Duration::from_secs(60))? != READY {
                    return Err(io::Error::other(format!(
                        "{}: child-hup not ready",
                        init.name
                    )));
                }
                let target = target_pid(&child, mode)?;
                let _ = find_child_of(target)?;
                let name = format!("{}@{n}", init.name);
                let cpu0 = sys::cpu_ns("/proc", target).unwrap_or(0);
                let mut lat = Vec::with_capacity(o.count);
                let mut lost = 0usize;
                for _ in 0..o.count {
                    let t0 = now_ns();
                    sys::kill(target, libc::SIGHUP)?;
                    match chan.read(Duration::from_secs(2)) {
                        Ok(t1) => lat.push(t1.saturating_sub(t0)),
                        Err(_) => lost += 1,
                    }
                }
                let cpu1 = sys::cpu_ns("/proc", target).unwrap_or(0);
                if !lat.is_empty() && cpu1 > cpu0 {
                    let per = (cpu1 - cpu0) as f64 / lat.len() as f64;
                    emit("hup_cpu_per_signal_ns", mode, &name, format!("{per:.0}"));
                    lat.sort_unstable();
                    emit("hup_latency_ns", mode, &name, lat[lat.len() / 2]);
                }
                emit("hup_lost", mode, &name, lost);
                let _ = sys::kill(target, libc::SIGTERM);
                finish(&mut child, target, Duration::from_secs(30));
            }
        }
    }
    Ok(())
}
