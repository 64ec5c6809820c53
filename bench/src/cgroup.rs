//! A cpu cgroup of its own for one measured init, as a container runtime gives each container.
//!
//! Why it matters: with `kernel.sched_autogroup_enabled=1`, every new session (`setsid`) of a
//! task in the root cpu cgroup gets an autogroup, a scheduling entity of its own, and that
//! changes where the scheduler wakes it. Inside any other cpu cgroup autogroup does not apply
//! (the kernel only uses it for tasks of the root task group). Measuring in both places shows
//! what a container sees and what a bare host shows.
//!
//! cgroup v2 is used where its hierarchy has the cpu controller; otherwise (a hybrid host, as
//! Docker with the cgroupfs driver on cgroup v1) the v1 cpu hierarchy. Each directory has a
//! unique name (`initbench-DRIVERPID-N`) and is removed when dropped.

use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Where new cpu cgroups go, and which version that is.
#[derive(Debug)]
struct Hierarchy {
    root: PathBuf,
    v2: bool,
}

/// The cpu hierarchy of this machine, found once from `/proc/self/mounts`.
fn hierarchy() -> io::Result<&'static Hierarchy> {
    static H: OnceLock<Option<Hierarchy>> = OnceLock::new();
    H.get_or_init(find_hierarchy)
        .as_ref()
        .ok_or_else(|| io::Error::other("no cgroup hierarchy with the cpu controller is mounted"))
}

fn find_hierarchy() -> Option<Hierarchy> {
    let mounts = fs::read_to_string("/proc/self/mounts").ok()?;
    let mut v1 = None;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        let [_, dir, kind, options, ..] = f[..] else {
            continue;
        };
        let dir = PathBuf::from(dir);
        if kind == "cgroup2" {
            let has_cpu = |file: &str| {
                fs::read_to_string(dir.join(file))
                    .is_ok_and(|t| t.split_ascii_whitespace().any(|c| c == "cpu"))
            };
            if has_cpu("cgroup.controllers") {
                // The root may have cpu available but not enabled for its children.
                if !has_cpu("cgroup.subtree_control") {
                    fs::write(dir.join("cgroup.subtree_control"), "+cpu").ok()?;
                }
                return Some(Hierarchy {
                    root: dir,
                    v2: true,
                });
            }
        } else if kind == "cgroup" && options.split(',').any(|o| o == "cpu") {
            v1.get_or_insert(Hierarchy {
                root: dir,
                v2: false,
            });
        }
    }
    v1
}

/// One line for the report: which hierarchy is used and where the driver itself sits.
pub fn describe() -> String {
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let line = |v2: bool| {
        own.lines()
            .find(|l| {
                let mut p = l.splitn(3, ':');
                let (_, ctrl) = (p.next(), p.next().unwrap_or(""));
                if v2 {
                    ctrl.is_empty()
                } else {
                    ctrl.split(',').any(|c| c == "cpu")
                }
            })
            .and_then(|l| l.rsplit(':').next())
            .unwrap_or("?")
            .to_string()
    };
    match hierarchy() {
        Ok(h) => format!(
            "cgroup {} cpu hierarchy at {}; the driver (root placement) is in {}",
            if h.v2 { "v2" } else { "v1" },
            h.root.display(),
            line(h.v2)
        ),
        Err(e) => format!("{e}"),
    }
}

/// A cpu cgroup directory made for one init; removed on drop.
#[derive(Debug)]
pub struct CpuCgroup {
    dir: PathBuf,
    procs: CString,
}

impl CpuCgroup {
    /// Creates a new, uniquely named cpu cgroup.
    pub fn create() -> io::Result<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let h = hierarchy()?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = h.root.join(format!("initbench-{}-{n}", std::process::id()));
        fs::create_dir(&dir)?;
        let procs = CString::new(dir.join("cgroup.procs").as_os_str().as_encoded_bytes())
            .map_err(io::Error::other)?;
        Ok(Self { dir, procs })
    }

    /// The `cgroup.procs` file; writing `0` to it moves the writing process in.
    pub fn procs(&self) -> &CStr {
        &self.procs
    }
}

impl Drop for CpuCgroup {
    fn drop(&mut self) {
        // The last task may still be on its way out for a moment after it was reaped.
        let start = Instant::now();
        while let Err(e) = fs::remove_dir(&self.dir) {
            if start.elapsed() > Duration::from_secs(5) {
                eprintln!("initbench: cannot remove {}: {e}", self.dir.display());
                return;
            }
            sleep(Duration::from_millis(10));
        }
    }
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is `procs`. Meant to run
/// between fork and exec, so it makes only async-signal-safe system calls.
pub fn join(procs: &CStr) -> io::Result<()> {
    // SAFETY: `procs` is a valid NUL-terminated path; open/write/close are async-signal-safe.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
        let err = io::Error::last_os_error();
        libc::close(fd);
        if ok { Ok(()) } else { Err(err) }
    }
}
