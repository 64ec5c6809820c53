//! rein under podman (Debian's podman 4.x, rootful): as the `--init` (`podman run --init
//! --init-path rein`, containers.conf `init_path`), as the image's ENTRYPOINT, and as a pod's
//! infra container holding the pod's PID namespace.
//!
//! Each test gets storage of its own under a temporary directory, so it never touches the
//! machine's podman state: `--root`, `--runroot`, `--tmpdir`, `--network-config-dir`, the vfs
//! driver (needs no kernel support) and cgroupfs (no systemd here). Every container runs with
//! `--network none`: podman's default network would add a bridge and firewall rules to the
//! machine. A private containers.conf sets `default_ulimits`: podman's defaults (1048576 open
//! files) are above this machine's hard limits, and runc then fails with "error setting rlimit
//! ... operation not permitted"; the file also covers the pod's infra container, which
//! `podman pod create` offers no `--ulimit` for.
//!
//! The image is imported from a tarball of a `FROM scratch` root (rein, a static busybox, /tmp);
//! there is no registry. When podman cannot run a container here, each test prints
//! `SKIPPED (podman cannot run): ...` with podman's own error; with `REIN_REQUIRE_TOOLS=1` (CI)
//! it fails instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{Run, poll_until, run_command, say, static_busybox, static_rein_path};
use crate::init_path::LEFTOVER_SCRIPT;
use crate::private_daemon::wait_for_file;

/// podman's own init (`init_path` in its containers.conf): catatonit.
const STOCK_INIT: &str = "/usr/libexec/podman/catatonit";

/// One podman with private storage; everything it made is removed on drop.
struct Podman {
    dir: PathBuf,
    image: String,
}

impl Podman {
    /// Sets up storage and imports the test image, or says why podman cannot run here.
    fn new(test: &str) -> Option<Self> {
        match Self::try_new() {
            Ok(p) => Some(p),
            Err(why) if crate::harness::tools_required() => {
                panic!("REIN_REQUIRE_TOOLS=1 but podman cannot run: {test}: {why}")
            }
            Err(why) => {
                say(&format!("SKIPPED (podman cannot run): {test}: {why}"));
                None
            }
        }
    }

    fn try_new() -> Result<Self, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        match Command::new("podman").arg("--version").output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => return Err(format!("`podman --version`: {o:?}")),
            Err(e) => return Err(format!("no podman ({e}); Debian: apt-get install podman")),
        }
        let dir = PathBuf::from(format!("/tmp/rein-{}-podman{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for sub in ["root", "run", "tmp", "net", "rootfs/bin", "rootfs/tmp"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let p = Podman {
            image: "localhost/rein-test-image:latest".into(),
            dir,
        };
        fs::write(
            p.dir.join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n",
        )
        .map_err(|e| e.to_string())?;
        let rootfs = p.dir.join("rootfs");
        fs::copy(static_rein_path()?, rootfs.join("rein")).map_err(|e| e.to_string())?;
        fs::copy(static_busybox()?, rootfs.join("bin/busybox")).map_err(|e| e.to_string())?;
        let tmp = rootfs.join("tmp");
        let st = Command::new("chmod").arg("1777").arg(&tmp).status();
        if !st.is_ok_and(|s| s.success()) {
            return Err("cannot chmod the image's /tmp".into());
        }
        // `busybox --install -s` would link to the host's resolved path (/usr/bin/busybox on a
        // merged-/usr system), which the image does not have: relative links instead.
        let list = Command::new("/bin/busybox")
            .arg("--list")
            .output()
            .map_err(|e| format!("busybox --list: {e}"))?;
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" {
                std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet))
                    .map_err(|e| format!("link {applet}: {e}"))?;
            }
        }
        let tar = p.dir.join("image.tar");
        let tarred = Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status();
        if !tarred.is_ok_and(|s| s.success()) {
            return Err("tar failed".into());
        }
        let tar = tar.to_string_lossy().into_owned();
        for (image, change) in [
            (p.image.as_str(), None),
            // The infra container gets no arguments (`--infra-command` is one word), so
            // `--pause` comes from its environment twin.
            ("localhost/rein-test-pause:latest", Some("ENV REIN_PAUSE=1")),
        ] {
            // An imported tarball has no configuration at all, not even a PATH.
            let mut args = vec!["import", "--change", "ENV PATH=/bin"];
            if let Some(c) = change {
                args.extend(["--change", c]);
            }
            args.extend([&tar[..], image]);
            let r = p.podman(&args);
            if r.code != Some(0) {
                return Err(format!("podman import failed:{}", r.dump()));
            }
        }
        let r = p.podman(&["run", "--rm", "--network", "none", &p.image, "true"]);
        if r.code != Some(0) {
            return Err(format!(
                "`podman run IMAGE true` fails on this machine: {}",
                r.stderr.trim()
            ));
        }
        Ok(p)
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// In `container`: the count of `done` marks in /tmp (first line of the run's stdout), then
    /// every process's stat line; and how many of those are zombies.
    fn done_and_zombies(&self, container: &str) -> (Run, usize) {
        let r = self.podman(&[
            "exec",
            container,
            "sh",
            "-c",
            "ls /tmp | grep -c done; cat /proc/[0-9]*/stat 2>/dev/null; true",
        ]);
        let zombies = r
            .stdout
            .lines()
            .filter_map(|l| l.rsplit_once(')'))
            .filter(|(_, rest)| rest.trim_start().starts_with('Z'))
            .count();
        (r, zombies)
    }

    /// `podman` with this test's storage.
    #[track_caller]
    fn podman(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", self.path("containers.conf"))
            .args(["--root", &self.path("root"), "--runroot", &self.path("run")])
            .args(["--tmpdir", &self.path("tmp")])
            .args(["--network-config-dir", &self.path("net")])
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args(["--events-backend", "none"])
            .args(args);
        run_command(cmd)
    }

    /// `podman run --network none OPTIONS IMAGE COMMAND...`.
    #[track_caller]
    fn run(&self, options: &[&str], command: &[&str]) -> Run {
        let mut args = vec!["run", "--network", "none"];
        args.extend_from_slice(options);
        args.push(&self.image);
        args.extend_from_slice(command);
        self.podman(&args)
    }

    fn logs(&self, name: &str) -> String {
        let r = self.podman(&["logs", name]);
        format!("{}{}", r.stdout, r.stderr)
    }

    #[track_caller]
    fn wait_for_logs(&self, name: &str, lines: &[&str]) -> String {
        poll_until(&format!("{name} to log {lines:?}"), || {
            let logs = self.logs(name);
            if lines.iter().all(|l| logs.contains(l)) {
                Ok(logs)
            } else {
                Err(logs)
            }
        })
    }

    #[track_caller]
    fn exit_code(&self, name: &str) -> i32 {
        let r = self
            .podman(&["inspect", "-f", "{{.State.ExitCode}}", name])
            .ok();
        r.stdout.trim().parse().unwrap_or(-1)
    }

    /// A fresh bind-mount source.
    fn out_dir(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Runs the leftover program under `--init --init-path INIT`, stops it, and returns (stop
    /// time, exit code, whether the helper's trap ran).
    fn leftover_case(&self, init: &str, tag: &str) -> (Duration, i32, bool) {
        let out = self.out_dir(&format!("out-{tag}"));
        let mount = format!("{}:/out", out.display());
        let name = format!("leftover-{tag}");
        self.run(
            &[
                "-d",
                "--name",
                &name,
                "-v",
                &mount,
                "--init",
                "--init-path",
                init,
            ],
            &["sh", "-c", LEFTOVER_SCRIPT],
        )
        .ok();
        wait_for_file(&out.join("ready"));
        let stop = self.podman(&["stop", "-t", "10", &name]).ok();
        (
            stop.elapsed,
            self.exit_code(&name),
            out.join("drained").exists(),
        )
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["pod", "rm", "-af"]);
        let _ = self.podman(&["rm", "-af"]);
        // Anything podman left mounted below the directory (a container's shm) goes first.
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let dir = self.dir.to_string_lossy().into_owned();
        for point in mounts.lines().filter_map(|l| l.split(' ').nth(4)) {
            if point.starts_with(&dir) {
                let _ = Command::new("umount").args(["-l", point]).status();
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn rein_path() -> String {
    static_rein_path().unwrap().to_string_lossy().into_owned()
}

#[test]
fn podman_init_path_rein_passes_codes_signals_and_drains_leftovers() {
    let Some(pm) = Podman::new("podman_init_path_rein_passes_codes_signals_and_drains_leftovers")
    else {
        return;
    };
    let rein = rein_path();
    let init = ["--init", "--init-path", &rein];

    // podman injects the init as /run/podman-init, and it is rein.
    let r = pm.run(
        &[&init[..], &["--rm"]].concat(),
        &["/run/podman-init", "--version"],
    );
    assert!(r.stdout.starts_with("rein "), "not rein:{}", r.dump());

    for (command, want) in [
        (&["sh", "-c", "exit 3"][..], 3),
        (&["sh", "-c", "kill -TERM $$"][..], 143),
        (&["no-such-program"][..], 127),
    ] {
        let r = pm.run(&[&init[..], &["--rm"]].concat(), command);
        assert_eq!(r.code, Some(want), "{command:?}:{}", r.dump());
    }

    // podman kill reaches the program and a grandchild in its group.
    let script = "(trap 'echo grandchild: USR1' USR1; echo grandchild: ready; \
                  while :; do sleep 1000 & wait $!; done) & \
                  trap 'echo child: USR1' USR1; echo child: ready; \
                  while :; do sleep 1000 & wait $!; done";
    pm.run(
        &[&init[..], &["-d", "--name", "kill"]].concat(),
        &["sh", "-c", script],
    )
    .ok();
    pm.wait_for_logs("kill", &["child: ready", "grandchild: ready"]);
    pm.podman(&["kill", "-s", "USR1", "kill"]).ok();
    pm.wait_for_logs("kill", &["child: USR1", "grandchild: USR1"]);

    // Orphans are reaped.
    let script = "for i in 1 2 3 4 5; do ( (sleep 0.2; : > /tmp/orphan-$i.done) & ); done; \
                  exec sleep 1000";
    pm.run(
        &[&init[..], &["-d", "--name", "reap"]].concat(),
        &["sh", "-c", script],
    )
    .ok();
    poll_until("five orphans done and reaped", || {
        let (r, zombies) = pm.done_and_zombies("reap");
        if r.stdout.lines().next() == Some("5") && zombies == 0 {
            Ok(())
        } else {
            Err(r.dump())
        }
    });

    let (elapsed, code, drained) = pm.leftover_case(&rein, "rein");
    say(&format!(
        "docker tests: measured: `podman stop -t 10` under --init-path rein: {:.3} s, exit code {code}, leftover's trap ran: {drained}",
        elapsed.as_secs_f64()
    ));
    assert!(drained, "rein did not give the leftover its SIGTERM");
    assert_eq!(code, 143);

    // The negative control with podman's own init, where it is installed.
    if Path::new(STOCK_INIT).exists() {
        let (elapsed, code, drained) = pm.leftover_case(STOCK_INIT, "catatonit");
        say(&format!(
            "docker tests: measured: `podman stop -t 10` under podman's catatonit: {:.3} s, exit code {code}, leftover's trap ran: {drained}",
            elapsed.as_secs_f64()
        ));
        assert!(!drained, "catatonit gave the leftover a chance after all");
    } else {
        say(&format!(
            "docker tests: no {STOCK_INIT}: the comparison with podman's own init is left out"
        ));
    }
}

/// A trap script whose foreground command keeps a shell as PID 1 from acting on SIGTERM.
const TRAP_SCRIPT: &str =
    "trap 'echo trap: TERM; exit 0' TERM; echo ready; sleep 1000; echo sleep: ended";

#[test]
fn podman_rein_as_entrypoint_stops_at_once() {
    let Some(pm) = Podman::new("podman_rein_as_entrypoint_stops_at_once") else {
        return;
    };
    let mut times = Vec::new();
    for (name, entrypoint, timeout) in [
        ("entry-rein", r#"["/rein", "--"]"#, "30"),
        ("entry-plain", r#"["sh", "-c"]"#, "2"),
    ] {
        let ep = format!("--entrypoint={entrypoint}");
        let cmd: &[&str] = if name == "entry-rein" {
            &["sh", "-c", TRAP_SCRIPT]
        } else {
            &[TRAP_SCRIPT]
        };
        pm.run(&["-d", "--name", name, &ep], cmd).ok();
        pm.wait_for_logs(name, &["ready"]);
        let stop = pm.podman(&["stop", "-t", timeout, name]).ok();
        let code = pm.exit_code(name);
        say(&format!(
            "docker tests: measured: `podman stop -t {timeout}` with ENTRYPOINT {entrypoint}: {:.3} s, exit code {code}",
            stop.elapsed.as_secs_f64()
        ));
        times.push((stop.elapsed, code, pm.logs(name)));
    }
    let (rein_time, rein_code, rein_logs) = &times[0];
    assert_eq!(*rein_code, 0, "the trap exits 0:\n{rein_logs}");
    assert!(rein_logs.contains("trap: TERM"), "{rein_logs}");
    // podman's SIGKILL would come only after `-t 30` (and give 137, not 0).
    assert!(*rein_time < Duration::from_secs(20), "took {rein_time:?}");
    // Without rein the shell as PID 1 waits for `sleep`, which never got the signal.
    let (plain_time, plain_code, plain_logs) = &times[1];
    assert_eq!(*plain_code, 137, "{plain_logs}");
    assert!(*plain_time >= Duration::from_millis(1800), "{plain_time:?}");
}

#[test]
fn podman_pod_with_rein_pause_infra_reaps_and_stops_cleanly() {
    let Some(pm) = Podman::new("podman_pod_with_rein_pause_infra_reaps_and_stops_cleanly") else {
        return;
    };
    pm.podman(&[
        "pod",
        "create",
        "--name",
        "pod",
        "--network",
        "none",
        "--share",
        "pid,ipc,uts",
        "--infra-image",
        "localhost/rein-test-pause:latest",
        "--infra-command",
        "/rein",
    ])
    .ok();
    let app = "trap 'echo app: stopping; exit 0' TERM; echo app: ready; \
               while :; do sleep 1000 & wait $!; done";
    let sidecar = "for i in 1 2 3; do ( (sleep 0.2; : > /tmp/helper-$i.done) & ); done; \
                   echo sidecar: ready; exec sleep 2147483647";
    pm.run(
        &["-d", "--pod", "pod", "--name", "app"],
        &["/rein", "--", "sh", "-c", app],
    )
    .ok();
    pm.run(
        &["-d", "--pod", "pod", "--name", "sidecar"],
        &["sh", "-c", sidecar],
    )
    .ok();
    pm.wait_for_logs("app", &["app: ready"]);
    pm.wait_for_logs("sidecar", &["sidecar: ready"]);
    let listing = poll_until("the sidecar's orphans to finish and be reaped", || {
        let (r, zombies) = pm.done_and_zombies("sidecar");
        if r.stdout.lines().next() == Some("3") && zombies == 0 {
            Ok(r.stdout)
        } else {
            Err(r.dump())
        }
    });
    assert!(
        listing.lines().any(|l| l.starts_with("1 (rein) ")),
        "the infra container's rein is PID 1 of the pod:\n{listing}"
    );
    let stop = pm.podman(&["pod", "stop", "-t", "10", "pod"]).ok();
    say(&format!(
        "docker tests: measured: `podman pod stop` with a `rein --pause` infra: {:.3} s",
        stop.elapsed.as_secs_f64()
    ));
    let infra = pm
        .podman(&["pod", "inspect", "-f", "{{.InfraContainerID}}", "pod"])
        .ok();
    assert_eq!(pm.exit_code(infra.stdout.trim()), 0, "the infra exits 0");
    assert_eq!(pm.exit_code("app"), 0, "app logs:\n{}", pm.logs("app"));
    assert!(pm.logs("app").contains("app: stopping"));
}
