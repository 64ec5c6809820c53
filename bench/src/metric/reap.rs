//! Reaping, as PID 1 only (as a plain process dumb-init is no subreaper, so the orphans would
//! go elsewhere): the child releases `orphans` double-forked orphans at once (see
//! `helper/storm.rs`). Samples: release → last reaped, release → init exited, the init's CPU
//! per orphan, and the peak of unreaped zombies. `floor-init`, a bare blocking `wait()` loop,
//! is the floor.

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::opts::{Mode, Opts, command_line, emit};
use crate::process::{finish, spawn, stderr_log, target_pid};
use crate::sys::{self, now_ns};

/// Runs the reaping benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let mode = Mode::Pid1;
    for round in 0..o.rounds {
        for init in o.inits.iter().filter(|i| i.name != "none") {
            let out = o.work.join(format!("storm-{round}-{}.txt", init.name));
            let _ = fs::remove_file(&out);
            let cmd = [
                me.clone(),
                "child-storm".into(),
                o.orphans.to_string(),
                out.to_string_lossy().into_owned(),
            ];
            sys::wait_for_pids(o.orphans);
            let t_spawn = now_ns();
            let mut child = spawn(&command_line(init, mode, &[], &cmd), &err, None)?;
            let target = target_pid(&child, mode)?;
            let pidfd = sys::pidfd_open(target)?;
            if !sys::readable(pidfd.as_raw_fd(), Duration::from_secs(300)) {
                eprintln!("initbench: {} did not finish the storm", init.name);
            }
            let t_exit = now_ns();
            finish(&mut child, target, Duration::from_secs(10));
            let text = fs::read_to_string(&out).unwrap_or_default();
            let f: Vec<u64> = text
                .split_ascii_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            let [_t_start, t_release, t_drained, peak, samples, cpu0, cpu1] = f[..] else {
                eprintln!(
                    "initbench: {} wrote no storm result (its stderr is in {})",
                    init.name,
                    o.work.join("inits.stderr").display()
                );
                continue;
            };
            if t_drained == 0 {
                eprintln!("initbench: {}: orphans were not all reaped", init.name);
                continue;
            }
            let name = &init.name;
            emit("reap_drain_ns", mode, name, t_drained - t_release);
            emit("reap_exit_ns", mode, name, t_exit - t_release);
            emit("reap_total_ns", mode, name, t_exit - t_spawn);
            emit("reap_peak_zombies", mode, name, peak);
            emit("reap_zombie_samples", mode, name, samples);
            if cpu1 > cpu0 && o.orphans > 0 {
                let per = (cpu1 - cpu0) as f64 / o.orphans as f64;
                emit("reap_cpu_per_orphan_ns", mode, name, format!("{per:.0}"));
            }
        }
    }
    Ok(())
}
