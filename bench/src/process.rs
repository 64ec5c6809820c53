//! Starting a measured init, finding its host pid, and making sure it is gone afterwards.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::cgroup::{self, CpuCgroup};
use crate::opts::{Mode, Opts};
use crate::sys;

/// The file every init's stderr goes to (appended), so warnings do not clutter the samples.
pub fn stderr_log(o: &Opts) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(o.work.join("inits.stderr"))
}

/// Starts `argv` with stdin and stdout on /dev/null, inside `cgroup` if one is given.
pub fn spawn(argv: &[String], err: &File, cgroup: Option<&CpuCgroup>) -> io::Result<Child> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err.try_clone()?);
    if let Some(cg) = cgroup {
        let procs = cg.procs().to_owned();
        // SAFETY: the closure makes only async-signal-safe system calls (open, write, close)
        // on a path allocated before the fork.
        unsafe { cmd.pre_exec(move || cgroup::join(&procs)) };
    }
    cmd.spawn()
}

/// The first child of `parent` found in `/proc` (host view), waiting up to 5 s for it.
pub fn find_child_of(parent: i32) -> io::Result<i32> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Some(&pid) = sys::children_of(parent).first() {
            return Ok(pid);
        }
        sleep(Duration::from_micros(200));
    }
    Err(io::Error::other(format!("no child of {parent} appeared")))
}

/// The host pid of the init (or, for `none`, of the program itself): the spawned process as a
/// plain process, the child of `unshare` as PID 1.
pub fn target_pid(child: &Child, mode: Mode) -> io::Result<i32> {
    let outer = i32::try_from(child.id()).map_err(io::Error::other)?;
    match mode {
        Mode::Plain => Ok(outer),
        Mode::Pid1 => find_child_of(outer),
    }
}

/// Waits for `child` to exit for up to `timeout`, then kills it (and `also`).
pub fn finish(child: &mut Child, also: i32, timeout: Duration) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_micros(500));
    }
    eprintln!("initbench: pid {} did not exit; killing it", child.id());
    let _ = sys::kill(also, libc::SIGKILL);
    let _ = child.kill();
    let _ = child.wait();
}

/// Kills and reaps whatever a measured run left re-parented to the driver (which is a
/// subreaper while it measures leftovers); returns how many there were.
pub fn reap_strays() -> usize {
    let me = std::process::id() as i32;
    let mut n = 0;
    loop {
        let strays = sys::children_of(me);
        if strays.is_empty() {
            return n;
        }
        for &pid in &strays {
            let _ = sys::kill(pid, libc::SIGKILL);
            // SAFETY: waitpid on a pid that is our child; a null status pointer is allowed.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL) };
        }
        n += strays.len();
    }
}
