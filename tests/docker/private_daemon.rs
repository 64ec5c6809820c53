//! A second, private docker engine for one test: its own socket, data, exec root and pidfile
//! under a temporary directory, started with `--init-path` when the test wants rein as the
//! engine's `--init`.
//!
//! It must never touch the machine's own engine or network. `dockerd --bridge=none` deletes any
//! interface named `docker0`, which in the machine's network namespace is the main engine's
//! bridge (every container on the default network then fails to start), so the daemon runs in
//! namespaces of its own:
//!
//! ```text
//! setpriv --pdeathsig KILL unshare --net --mount --propagation private \
//!     --pid --fork --mount-proc --kill-child REIN -- dockerd --host unix://DIR/docker.sock --data-root DIR/data --exec-root DIR/exec \
//!                    --pidfile DIR/docker.pid --config-file DIR/daemon.json \
//!                    --bridge=none --iptables=false --ip-masq=false --storage-driver vfs
//! ```
//!
//! - a network namespace: the daemon sees only its own loopback, so nothing it does to links or
//!   iptables reaches the machine's;
//! - a private mount namespace: its container mounts vanish with it, so the directory can be
//!   removed even after a crash;
//! - a PID namespace with rein as PID 1: SIGTERM to rein is forwarded to dockerd (its own
//!   orderly shutdown), and if that hangs, SIGKILL to rein makes the kernel kill every process
//!   the daemon started (containerd, shims, containers). Nothing outlives the guard;
//! - its own `--config-file`: the machine's `/etc/docker/daemon.json` sets `data-root` and a
//!   storage driver, which would clash with the flags; vfs needs no kernel support at all.
//!
//! [`PrivateDaemon`] stops the daemon and removes its directory on drop, also when the test
//! failed. [`main_bridge_exists`] is what tests check afterwards.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{EVENT_DEADLINE, Run, poll_until, prefix, run_command, say, static_rein_path};

/// How long the daemon gets to shut down on SIGTERM before everything is SIGKILLed. dockerd
/// gives running containers 15 s (`--shutdown-timeout`); tests remove theirs first.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// The main engine's bridge, which a `--bridge=none` daemon in this namespace would delete.
const MAIN_BRIDGE: &str = "/sys/class/net/docker0";

/// Whether the main engine's `docker0` bridge exists in this network namespace.
pub fn main_bridge_exists() -> bool {
    Path::new(MAIN_BRIDGE).exists()
}

/// A running private dockerd; stopped and removed on drop.
#[derive(Debug)]
pub struct PrivateDaemon {
    /// `unix://DIR/docker.sock`, for `docker -H` and `DOCKER_HOST`.
    pub host: String,
    dir: PathBuf,
    /// `setpriv`, exec'd into `unshare`, whose only child is rein, PID 1 of the daemon's PID
    /// namespace.
    unshare: Option<Child>,
}

impl PrivateDaemon {
    /// Starts a daemon whose `--init` is `init_path` (`None`: the stock docker-init) and waits
    /// until it answers. `Err` says why it could not start (with the daemon's log).
    pub fn start(init_path: Option<&Path>) -> Result<Self, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Short and under /tmp: containerd's sockets live below the exec root, and containerd
        // refuses a socket path longer than 104 bytes.
        let dir = PathBuf::from(format!("/tmp/rein-{}-dockerd{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::write(dir.join("daemon.json"), "{}\n").map_err(|e| e.to_string())?;
        let log = fs::File::create(dir.join("dockerd.log")).map_err(|e| e.to_string())?;
        let rein = static_rein_path()?;
        let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let host = format!("unix://{}", p("docker.sock"));
        // setpriv: if this test process dies without cleaning up (killed), unshare gets SIGKILL,
        // and `--kill-child` passes that to rein, which takes the whole namespace with it.
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "unshare"])
            .args(["--net", "--mount", "--propagation", "private"])
            .args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .arg(rein)
            .args(["--", "dockerd", "--host", &host])
            .args(["--data-root", &p("data"), "--exec-root", &p("exec")])
            .args([
                "--pidfile",
                &p("docker.pid"),
                "--config-file",
                &p("daemon.json"),
            ])
            .args(["--bridge=none", "--iptables=false", "--ip-masq=false"])
            .args(["--storage-driver", "vfs"]);
        if let Some(init) = init_path {
            cmd.arg("--init-path").arg(init);
        }
        let stderr = log.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut daemon = PrivateDaemon {
            host,
            dir,
            unshare: Some(child),
        };
        daemon.wait_until_up()?;
        say(&format!(
            "docker tests: private dockerd up at {} (init-path {})",
            daemon.host,
            init_path.map_or("docker-init".into(), |p| p.display().to_string())
        ));
        Ok(daemon)
    }

    fn wait_until_up(&mut self) -> Result<(), String> {
        let start = Instant::now();
        loop {
            let v = self.docker(&["version", "--format", "{{.Server.Version}}"]);
            if v.code == Some(0) {
                return Ok(());
            }
            let exited = self
                .unshare
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || start.elapsed() > EVENT_DEADLINE {
                return Err(format!(
                    "the private dockerd did not come up ({exited:?}):\n{}\n---- dockerd log:\n{}",
                    v.dump(),
                    self.log_tail(20)
                ));
            }
            // The socket offers nothing to block on until the daemon listens.
            poll_pause();
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }

    /// The last `n` lines of the daemon's log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// A scratch directory inside the daemon's own directory (bind-mount sources, files).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        d
    }

    /// `docker -H HOST ARGS...` against this daemon.
    #[track_caller]
    pub fn docker(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("docker");
        cmd.args(["-H", &self.host]).args(args);
        run_command(cmd)
    }

    /// Copies `image` from the main engine into this daemon (`docker save`, `docker load`).
    #[track_caller]
    pub fn load(&self, image: &str) {
        let tar = self.dir.join("image.tar");
        let tar = tar.to_string_lossy();
        crate::harness::docker(&["save", "-o", &tar, image]).ok();
        self.docker(&["load", "-i", &tar]).ok();
        let _ = fs::remove_file(&*tar);
    }

    /// Stops the daemon (containers first), waits for every process of its namespace to end,
    /// and removes its directory. Drop does the same; calling it lets a test check what
    /// follows (the main bridge) while the test still runs.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(mut child) = self.unshare.take() else {
            return;
        };
        let ids = self.docker(&["ps", "-aq"]);
        for id in ids.stdout.split_whitespace() {
            let _ = self.docker(&["rm", "-f", "-v", id]);
        }
        // unshare's only child is rein, PID 1 of the daemon's namespace.
        let pid1 = fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse::<i32>().ok());
        if let Some(pid1) = pid1 {
            signal(pid1, nix::sys::signal::Signal::SIGTERM);
        }
        let start = Instant::now();
        while child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > SHUTDOWN_DEADLINE {
                say(&format!(
                    "docker tests: the private dockerd at {} ignored SIGTERM for {SHUTDOWN_DEADLINE:?}; killing its namespace",
                    self.host
                ));
                if let Some(pid1) = pid1 {
                    signal(pid1, nix::sys::signal::Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            poll_pause();
        }
        // The mounts were private to the daemon's namespace, which is gone now.
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            say(&format!(
                "docker tests: cannot remove {}: {e}",
                self.dir.display()
            ));
        }
    }
}

impl Drop for PrivateDaemon {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn signal(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

#[allow(clippy::disallowed_methods)]
fn poll_pause() {
    std::thread::sleep(Duration::from_millis(50));
}

/// Starts a private daemon, or returns `None` after saying why it cannot run here; fails the
/// test instead under `REIN_REQUIRE_DOCKER=1` (the main engine's tools are all it needs).
pub fn start_or_skip(test: &str, init_path: Option<&Path>) -> Option<PrivateDaemon> {
    match PrivateDaemon::start(init_path) {
        Ok(d) => Some(d),
        Err(why) if std::env::var_os("REIN_REQUIRE_DOCKER").is_some_and(|v| v == "1") => {
            panic!("REIN_REQUIRE_DOCKER=1 but a private dockerd cannot start: {why}")
        }
        Err(why) => {
            say(&format!("SKIPPED (no private dockerd): {test}: {why}"));
            None
        }
    }
}

/// Waits until `path` exists (a file a container writes into a bind mount).
#[track_caller]
pub fn wait_for_file(path: &Path) {
    poll_until(&format!("{} to exist", path.display()), || {
        if path.exists() {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
}

/// A unique name `rein-test-<pid>-<what>-p<n>` for something created on a private daemon.
pub fn unique_name(what: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{what}-p{n}", prefix())
}
