//! Shutdown: from `kill(init, SIGTERM)` until the init has exited (its pidfd turns readable);
//! the child exits in its TERM handler. The floor, `none`, sends TERM to the child itself (as
//! PID 1 of its namespace in PID 1 mode).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::instance::Instance;
use crate::opts::{Opts, Placement, emit};
use crate::process::{finish, stderr_log};
use crate::sys::{self, now_ns};

/// Runs the shutdown benchmark.
pub fn run(o: &Opts) -> io::Result<()> {
    let err = stderr_log(o)?;
    for _ in 0..o.rounds {
        for &mode in &o.modes {
            for init in o.inits.iter().filter(|i| i.name != "floor-init") {
                let mut i = Instance::start(o, init, mode, Placement::Root, 0, &err)?;
                let pidfd = sys::pidfd_open(i.target)?;
                let t0 = now_ns();
                sys::kill(i.target, libc::SIGTERM)?;
                if sys::readable(pidfd.as_raw_fd(), Duration::from_secs(30)) {
                    emit("shutdown_ns", mode, &init.name, now_ns() - t0);
                } else {
                    eprintln!("initbench: {} ({}) ignored SIGTERM", init.name, mode.name());
                }
                finish(&mut i.child, i.target, Duration::from_secs(10));
            }
        }
    }
    Ok(())
}
