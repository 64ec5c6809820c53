//! Idle wake-ups and memory: every init at once, each with an idle child; context switches
//! over `secs`, then VmRSS, VmHWM and Pss. `floor-init` (blocked in `wait()`) is the floor.

use std::fs;
use std::io;
use std::thread::sleep;
use std::time::Duration;

use crate::instance::Instance;
use crate::opts::{Opts, Placement, emit};
use crate::process::stderr_log;

fn status_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_ascii_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn ctxt_switches(pid: i32) -> io::Result<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let v = status_field(&s, "voluntary_ctxt_switches:").unwrap_or(0);
    let n = status_field(&s, "nonvoluntary_ctxt_switches:").unwrap_or(0);
    Ok(v + n)
}

/// Runs the idle benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    let insts = Instance::start_all(o, false, Placement::Root, 0, &err)?;
    sleep(Duration::from_millis(500));
    let before: Vec<u64> = insts
        .iter()
        .map(|i| ctxt_switches(i.target))
        .collect::<io::Result<_>>()?;
    sleep(Duration::from_secs_f64(o.secs));
    for (i, b) in insts.iter().zip(before) {
        let name = &i.init.name;
        emit("idle_ctxt", i.mode, name, ctxt_switches(i.target)? - b);
        let s = fs::read_to_string(format!("/proc/{}/status", i.target))?;
        for (metric, key) in [("rss_kb", "VmRSS:"), ("hwm_kb", "VmHWM:")] {
            emit(metric, i.mode, name, status_field(&s, key).unwrap_or(0));
        }
        let r = fs::read_to_string(format!("/proc/{}/smaps_rollup", i.target))?;
        emit(
            "pss_kb",
            i.mode,
            name,
            status_field(&r, "Pss:").unwrap_or(0),
        );
    }
    insts.into_iter().for_each(Instance::stop);
    Ok(())
}
