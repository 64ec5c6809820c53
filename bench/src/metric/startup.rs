//! Start-up + tear-down: wall time from spawn to reaped of `INIT -- true`.
//!
//! `none` (`true` alone, or `unshare ... true`) is the baseline the report subtracts;
//! `floor-init` (fork, exec, one blocking `wait()`) is the least an init can add to it.

use std::io;
use std::time::Instant;

use crate::opts::{Opts, command_line, emit};
use crate::process::{spawn, stderr_log};

/// Runs the start-up benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    for _ in 0..o.rounds {
        for &mode in &o.modes {
            for init in &o.inits {
                let argv = command_line(init, mode, &[], &["true".to_string()]);
                let t0 = Instant::now();
                let st = spawn(&argv, &err, None)?.wait()?;
                let dt = t0.elapsed();
                if !st.success() {
                    return Err(io::Error::other(format!("{argv:?} failed: {st}")));
                }
                emit("startup_ns", mode, &init.name, dt.as_nanos());
            }
        }
    }
    Ok(())
}
