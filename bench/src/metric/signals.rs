//! Signal forwarding: `count` rounds of one SIGUSR1 per init (latency: `kill(init)` in the
//! driver to the child's handler), then `rounds` bursts of `burst` real-time signals per init
//! (throughput). `none` sends to the child directly: the floor.
//!
//! Every init runs once per placement (see `cgroup.rs`): in the driver's cpu cgroup (`root`)
//! and in a cpu cgroup of its own (`cg`, as in a container); all of them are interleaved
//! signal by signal. For the root placement the driver also records whether the init and its
//! child ended up in different autogroups (dumb-init's `setsid` puts them there).

use std::io;
use std::thread::sleep;
use std::time::Duration;

use crate::cgroup::CpuCgroup;
use crate::helper::sig::rt_signal;
use crate::instance::Instance;
use crate::opts::{Opts, Placement, emit};
use crate::process::stderr_log;
use crate::sys::{self, now_ns};

/// The metric name of `base` for an instance's placement.
fn metric(base: &str, p: Placement) -> String {
    match p {
        Placement::Root => base.to_string(),
        Placement::Cgroup => base.replacen("_", "_cg_", 1),
    }
}

/// Runs the signal benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let mut insts = Vec::new();
    for &p in &o.placements {
        // Without a cpu cgroup hierarchy (or the right to write it) only the root placement is
        // measured; the report then has no own-cgroup rows.
        if p == Placement::Cgroup
            && let Err(e) = CpuCgroup::create()
        {
            eprintln!(
                "initbench: no cpu cgroup of its own for each init ({e}); skipping that placement"
            );
            continue;
        }
        insts.extend(Instance::start_all(o, true, p, insts.len(), &err)?);
    }
    for i in insts.iter().filter(|i| i.placement == Placement::Root) {
        if let Some(split) = i.autogroup_split() {
            emit("autogroup_split", i.mode, &i.init.name, u8::from(split));
        }
    }
    let mut lost = vec![0usize; insts.len()];
    for _ in 0..o.count {
        for (k, i) in insts.iter().enumerate() {
            i.chan.drain();
            let t0 = now_ns();
            sys::kill(i.target, libc::SIGUSR1)?;
            match i.chan.read(Duration::from_secs(2)) {
                Ok(t1) => emit(
                    &metric("siglat_ns", i.placement),
                    i.mode,
                    &i.init.name,
                    t1.saturating_sub(t0),
                ),
                Err(_) => lost[k] += 1,
            }
            // Lets both CPUs go idle again, as between two signals in real life.
            sleep(Duration::from_micros(100));
        }
    }
    for _ in 0..o.rounds {
        for (k, i) in insts.iter().enumerate() {
            i.chan.drain();
            sleep(Duration::from_millis(20));
            let t0 = now_ns();
            for _ in 0..o.burst {
                loop {
                    match sys::kill(i.target, rt_signal()) {
                        Ok(()) => break,
                        // The init's queue of real-time signals is full: let it catch up.
                        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                            sleep(Duration::from_micros(20));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            match i.chan.read(Duration::from_secs(20)) {
                Ok(t1) => {
                    let per_s = o.burst as f64 * 1e9 / t1.saturating_sub(t0).max(1) as f64;
                    let m = metric("sigrate_per_s", i.placement);
                    emit(&m, i.mode, &i.init.name, format!("{per_s:.0}"));
                }
                Err(_) => lost[k] += 1,
            }
        }
    }
    for (i, l) in insts.iter().zip(lost) {
        emit(
            &metric("signals_lost", i.placement),
            i.mode,
            &i.init.name,
            l,
        );
    }
    insts.into_iter().for_each(Instance::stop);
    Ok(())
}
