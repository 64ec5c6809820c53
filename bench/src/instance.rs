//! One init supervising `child-sig` (see `helper/sig.rs`), ready to be signalled, sampled or
//! shut down.

use std::fs::{self, File};
use std::io;
use std::process::Child;
use std::time::Duration;

use crate::cgroup::CpuCgroup;
use crate::channel::{Channel, READY};
use crate::opts::{Init, Mode, Opts, Placement, command_line};
use crate::process::{self, find_child_of, finish, target_pid};
use crate::sys;

/// A running init with its idle child.
#[derive(Debug)]
pub struct Instance {
    /// Which init.
    pub init: Init,
    /// Plain or PID 1.
    pub mode: Mode,
    /// Root cgroup or its own.
    pub placement: Placement,
    /// What was spawned (the init, or `unshare`).
    pub child: Child,
    /// The host pid signals go to: the init (for `none`, the program itself).
    pub target: i32,
    /// The host pid of the program under the init (`target` for `none`).
    pub program: i32,
    /// Where the program reports.
    pub chan: Channel,
    /// Dropped (removed) after the init has exited.
    cgroup: Option<CpuCgroup>,
}

impl Instance {
    /// Starts `init` in `mode` and `placement` and waits until its child is ready.
    pub fn start(
        o: &Opts,
        init: &Init,
        mode: Mode,
        placement: Placement,
        id: usize,
        err: &File,
    ) -> io::Result<Instance> {
        let fifo = o.work.join(format!("ch-{id}.fifo"));
        let chan = Channel::new(&fifo)?;
        let me = std::env::current_exe()?.to_string_lossy().into_owned();
        let cmd = [
            me,
            "child-sig".into(),
            fifo.to_string_lossy().into_owned(),
            o.burst.to_string(),
        ];
        let cgroup = match placement {
            Placement::Root => None,
            Placement::Cgroup => Some(CpuCgroup::create()?),
        };
        let mut child = process::spawn(&command_line(init, mode, &[], &cmd), err, cgroup.as_ref())?;
        match chan.read(Duration::from_secs(10)) {
            Ok(READY) => {}
            other => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "{} ({}) did not start its child: {other:?}",
                    init.name,
                    mode.name()
                )));
            }
        }
        let target = target_pid(&child, mode)?;
        let program = if init.name == "none" {
            target
        } else {
            find_child_of(target)?
        };
        Ok(Instance {
            init: init.clone(),
            mode,
            placement,
            child,
            target,
            program,
            chan,
            cgroup,
        })
    }

    /// Starts every init of `o` (with or without `none`) in every mode, in `placement`.
    pub fn start_all(
        o: &Opts,
        with_none: bool,
        placement: Placement,
        first_id: usize,
        err: &File,
    ) -> io::Result<Vec<Instance>> {
        let mut out = Vec::new();
        for &mode in &o.modes {
            for init in &o.inits {
                if init.name == "none" && !with_none {
                    continue;
                }
                out.push(Instance::start(
                    o,
                    init,
                    mode,
                    placement,
                    first_id + out.len(),
                    err,
                )?);
            }
        }
        Ok(out)
    }

    /// Whether the init and its program run in different autogroups (see `cgroup.rs`); `None`
    /// without autogroup support.
    pub fn autogroup_split(&self) -> Option<bool> {
        let group = |pid: i32| {
            let t = fs::read_to_string(format!("/proc/{pid}/autogroup")).ok()?;
            Some(t.split_ascii_whitespace().next()?.to_string())
        };
        Some(group(self.target)? != group(self.program)?)
    }

    /// Ends the instance: TERM to the init (the floor init has no handler, so TERM goes to its
    /// program, whose exit ends the floor init), then waits.
    pub fn stop(mut self) {
        let to = if self.init.name == "floor-init" {
            self.program
        } else {
            self.target
        };
        let _ = sys::kill(to, libc::SIGTERM);
        finish(&mut self.child, self.target, Duration::from_secs(10));
        drop(self.cgroup.take());
    }
}
