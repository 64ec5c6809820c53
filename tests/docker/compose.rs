//! `examples/compose/compose.yaml` under real `docker-compose`: `up -d`, the service runs;
//! `stop` returns well under the stop timeout with the TERM handler's output in the logs;
//! `down` leaves no container and no network behind.
//!
//! `app` (rein as ENTRYPOINT) runs on the machine's engine. `worker` (`init: true`) gets the
//! daemon's init-path, so it runs on a private dockerd started with `--init-path` rein (see
//! [`crate::private_daemon`]), and, as the negative control, on the machine's engine, whose
//! init is the stock docker-init: there its `setsid` helper never hears of the stop.
//!
//! Without docker-compose the tests print `SKIPPED (no docker-compose): ...`; with
//! `REIN_REQUIRE_TOOLS=1` they fail instead.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{Run, fixture, poll_until, prefix, run_command, say, tools_required};
use crate::private_daemon::{PrivateDaemon, main_bridge_exists, start_or_skip};

const COMPOSE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/compose/compose.yaml");

/// Two thirds of the file's `stop_grace_period` (30 s): a stop that needed the engine's
/// SIGKILL takes the whole period. The exit codes checked beside it say the same without a
/// clock: 137 would be the SIGKILL.
const WELL_UNDER_THE_STOP_TIMEOUT: Duration = Duration::from_secs(20);

fn compose_available(test: &str) -> bool {
    let out = Command::new("docker-compose").arg("version").output();
    match out {
        Ok(o) if o.status.success() => true,
        other => {
            let why = format!("`docker-compose version` failed: {other:?}");
            assert!(!tools_required(), "REIN_REQUIRE_TOOLS=1 but {why}");
            say(&format!("SKIPPED (no docker-compose): {test}: {why}"));
            false
        }
    }
}

/// One Compose project on one engine (`host`: `None` for the machine's); `down` on drop.
struct Project<'a> {
    name: String,
    image: &'a str,
    host: Option<&'a str>,
}

impl<'a> Project<'a> {
    fn new(image: &'a str, host: Option<&'a str>) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Project {
            name: format!("{}-compose-{n}", prefix()),
            image,
            host,
        }
    }

    #[track_caller]
    fn compose(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("docker-compose");
        cmd.env("REIN_EXAMPLE_IMAGE", self.image)
            .args(["--no-ansi", "-p", &self.name, "-f", COMPOSE_FILE])
            .args(args);
        if let Some(host) = self.host {
            cmd.env("DOCKER_HOST", host);
        }
        run_command(cmd)
    }

    #[track_caller]
    fn docker(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("docker");
        if let Some(host) = self.host {
            cmd.args(["-H", host]);
        }
        cmd.args(args);
        run_command(cmd)
    }

    fn logs(&self, service: &str) -> String {
        self.compose(&["logs", service]).stdout
    }

    /// Ids of what is left with this project's label: (containers, networks).
    fn leftovers(&self) -> (String, String) {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let containers = self.docker(&["ps", "-aq", "--filter", &label]).ok().stdout;
        let networks = self
            .docker(&["network", "ls", "-q", "--filter", &label])
            .ok()
            .stdout;
        (containers, networks)
    }

    /// `up -d SERVICE`, wait for `ready`, `stop`, check, `down`, check. Returns the stop time,
    /// the service's exit code and its logs after the stop.
    fn up_stop_down(&self, service: &str, ready: &[&str]) -> (Duration, i32, String) {
        self.compose(&["up", "-d", service]).ok();
        poll_until(&format!("{service} to log {ready:?}"), || {
            let logs = self.logs(service);
            if ready.iter().all(|l| logs.contains(l)) {
                Ok(())
            } else {
                Err(logs)
            }
        });
        let ps = self.compose(&["ps", "-q", service]).ok();
        let id = ps.stdout.trim();
        let running = self
            .docker(&["inspect", "-f", "{{.State.Running}}", id])
            .ok();
        assert_eq!(running.stdout.trim(), "true", "{service} is not running");
        let stop = self.compose(&["stop"]).ok();
        let logs = self.logs(service);
        let code = self
            .docker(&["inspect", "-f", "{{.State.ExitCode}}", id])
            .ok()
            .stdout
            .trim()
            .parse()
            .unwrap_or(-1);
        self.compose(&["down"]).ok();
        let (containers, networks) = self.leftovers();
        assert!(
            containers.trim().is_empty() && networks.trim().is_empty(),
            "down left containers {containers:?} and networks {networks:?}"
        );
        (stop.elapsed, code, logs)
    }
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-t", "0"]);
    }
}

#[test]
fn compose_rein_entrypoint_service_stops_at_once() {
    let test = "compose_rein_entrypoint_service_stops_at_once";
    let Some(fx) = fixture(test) else {
        return;
    };
    if !compose_available(test) {
        return;
    }
    let p = Project::new(&fx.image, None);
    let (elapsed, code, logs) = p.up_stop_down("app", &["app: ready"]);
    say(&format!(
        "docker tests: measured: `docker-compose stop` of app (rein as ENTRYPOINT): {:.3} s, exit code {code}",
        elapsed.as_secs_f64()
    ));
    assert_eq!(code, 0, "the trap exits 0:\n{logs}");
    assert!(logs.contains("app: TERM, cleaning up"), "{logs}");
    assert!(
        elapsed < WELL_UNDER_THE_STOP_TIMEOUT,
        "took {elapsed:?}\n{logs}"
    );
}

#[test]
fn compose_init_true_service_under_rein_init_path_drains_its_helper() {
    let test = "compose_init_true_service_under_rein_init_path_drains_its_helper";
    let Some(fx) = fixture(test) else {
        return;
    };
    if !compose_available(test) {
        return;
    }
    let rein = crate::harness::static_rein_path().unwrap();
    let bridge_before = main_bridge_exists();
    let Some(daemon) = start_or_skip(test, Some(rein)) else {
        return;
    };
    daemon.load(&fx.image);
    check_worker(&daemon, &fx.image);
    daemon.stop();
    assert!(!bridge_before || main_bridge_exists(), "docker0 is gone");
}

fn check_worker(daemon: &PrivateDaemon, image: &str) {
    let p = Project::new(image, Some(&daemon.host));
    let ready = ["worker: ready", "worker-helper: ready"];
    let (elapsed, code, logs) = p.up_stop_down("worker", &ready);
    say(&format!(
        "docker tests: measured: `docker-compose stop` of worker (init: true, init-path rein): {:.3} s, exit code {code}",
        elapsed.as_secs_f64()
    ));
    assert_eq!(code, 143, "sleep died of the forwarded TERM:\n{logs}");
    assert!(
        logs.contains("worker-helper: TERM"),
        "rein did not drain the helper:\n{logs}"
    );
    assert!(
        elapsed < WELL_UNDER_THE_STOP_TIMEOUT,
        "took {elapsed:?}\n{logs}"
    );
}

#[test]
fn compose_init_true_service_under_stock_docker_init_loses_its_helper() {
    let test = "compose_init_true_service_under_stock_docker_init_loses_its_helper";
    let Some(fx) = fixture(test) else {
        return;
    };
    if !compose_available(test) {
        return;
    }
    let p = Project::new(&fx.image, None);
    let ready = ["worker: ready", "worker-helper: ready"];
    let (elapsed, code, logs) = p.up_stop_down("worker", &ready);
    say(&format!(
        "docker tests: measured: `docker-compose stop` of worker (init: true, stock docker-init): {:.3} s, exit code {code}",
        elapsed.as_secs_f64()
    ));
    assert!(!logs.contains("worker-helper: TERM"), "{logs}");
}
