//! rein as the engine's own init: `dockerd --init-path rein` (daemon.json `"init-path"`) makes
//! every `docker run --init` and every Compose service with `init: true` run rein as PID 1 in
//! place of the bundled docker-init (tini 0.19). Docker starts it as
//! `/sbin/docker-init -- PROGRAM ARGS...`, a form rein takes as it is.
//!
//! A private daemon ([`crate::private_daemon`]) carries the option, so the machine's engine
//! is left alone; the stock docker-init runs on the machine's engine for comparison.
//!
//! The difference that matters: a program that leaves a background helper (here one that
//! called `setsid`, so no signal sent to the program's group reaches it) with a TERM trap that
//! writes a file. On `docker stop`, the init forwards SIGTERM to the program, which dies. rein
//! then sends SIGTERM to the helper and waits for it, so the file is written. tini exits as soon
//! as the program is reaped, and the kernel SIGKILLs the helper before it saw any signal.

use std::path::Path;
use std::time::Duration;

use crate::harness::{Container, Fixture, Run, docker, fixture, poll_until, say, static_rein_path};
use crate::private_daemon::{
    PrivateDaemon, main_bridge_exists, start_or_skip, unique_name, wait_for_file,
};

/// The program: a `setsid` helper with a TERM trap that marks `/out/drained`, then `sleep` as
/// the program itself (no handler, so TERM ends it). `/out/ready` says the trap is set.
pub const LEFTOVER_SCRIPT: &str = "setsid sh -c \
     'trap \"echo drained > /out/drained; exit 0\" TERM; echo > /out/ready; sleep 1000 & wait' & \
     exec sleep 1000";

/// One container on the private daemon, removed on drop.
struct Private<'a> {
    daemon: &'a PrivateDaemon,
    name: String,
}

impl<'a> Private<'a> {
    fn new(daemon: &'a PrivateDaemon, what: &str) -> Self {
        Private {
            daemon,
            name: unique_name(what),
        }
    }

    /// `docker run --init --name NAME OPTIONS IMAGE COMMAND...` on the private daemon.
    fn run(&self, fx: &Fixture, options: &[&str], command: &[&str]) -> Run {
        let mut args = vec!["run", "--init", "--name", &self.name];
        args.extend_from_slice(options);
        args.push(&fx.image);
        args.extend_from_slice(command);
        self.daemon.docker(&args)
    }

    fn logs(&self) -> String {
        let r = self.daemon.docker(&["logs", &self.name]);
        format!("{}{}", r.stdout, r.stderr)
    }

    fn exit_code(&self) -> i32 {
        let r = self
            .daemon
            .docker(&["inspect", "-f", "{{.State.ExitCode}}", &self.name])
            .ok();
        r.stdout.trim().parse().unwrap_or(-1)
    }
}

impl Drop for Private<'_> {
    fn drop(&mut self) {
        let _ = self.daemon.docker(&["rm", "-f", "-v", &self.name]);
    }
}

/// Counts the zombies in `cat /proc/[0-9]*/stat` output (the state follows the last `)`).
fn zombies(stat: &str) -> usize {
    stat.lines()
        .filter_map(|l| l.rsplit_once(')'))
        .filter(|(_, rest)| rest.trim_start().starts_with('Z'))
        .count()
}

/// A docker client for one engine: the private daemon's or the machine's.
type Client<'a> = &'a dyn Fn(&[&str]) -> Run;

/// Runs the leftover program as `name` with `docker run --init OPTIONS IMAGE`, its `/out` in
/// `out`, stops it, and returns (stop time, exit code, whether the helper's trap ran).
fn leftover_case(
    docker: Client,
    options: &[&str],
    image: &str,
    out: &Path,
    name: &str,
) -> (Duration, i32, bool) {
    let mount = format!("{}:/out", out.display());
    let mut args = vec!["run", "-d", "--init", "--name", name, "-v", &mount];
    args.extend_from_slice(options);
    args.extend([image, "sh", "-c", LEFTOVER_SCRIPT]);
    docker(&args).ok();
    wait_for_file(&out.join("ready"));
    let stop = docker(&["stop", "-t", "10", name]).ok();
    let code = docker(&["inspect", "-f", "{{.State.ExitCode}}", name]).ok();
    let code = code.stdout.trim().parse().unwrap_or(-1);
    (stop.elapsed, code, out.join("drained").exists())
}

#[test]
fn docker_init_path_rein_replaces_docker_init() {
    let test = "docker_init_path_rein_replaces_docker_init";
    let Some(fx) = fixture(test) else {
        return;
    };
    let rein = static_rein_path().unwrap();
    let bridge_before = main_bridge_exists();
    let Some(daemon) = start_or_skip(test, Some(rein)) else {
        return;
    };
    daemon.load(&fx.image);
    checks_under_rein_init(&daemon, fx);

    // Nothing of the private daemon may reach the machine's network.
    daemon.stop();
    if bridge_before {
        assert!(
            main_bridge_exists(),
            "the main engine's docker0 is gone after the private dockerd ran"
        );
    } else {
        say("docker tests: no docker0 on this machine, so there was no bridge to keep");
    }
}

/// The negative control: the same program under the stock docker-init of the machine's
/// engine. The helper never gets a signal, so its trap never runs.
#[test]
fn docker_init_stock_docker_init_kills_the_leftover_unwarned() {
    let Some(fx) = fixture("docker_init_stock_docker_init_kills_the_leftover_unwarned") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("{}-stock-init-out", crate::harness::prefix()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let c = Container::named("stock-init-leftover");
    let label = format!("rein-test.pid={}", std::process::id());
    let client = |args: &[&str]| docker(args);
    let (elapsed, code, drained) =
        leftover_case(&client, &["--label", &label], &fx.image, &dir, &c.name);
    let _ = std::fs::remove_dir_all(&dir);
    say(&format!(
        "docker tests: measured: `docker stop -t 10` under --init = docker-init (tini): {:.3} s, exit code {code}, leftover's trap ran: {drained}",
        elapsed.as_secs_f64()
    ));
    assert!(
        !drained,
        "the stock init gave the leftover a chance after all"
    );
    assert_eq!(code, 143);
}

/// What `docker run --init` does with rein as the daemon's init-path.
fn checks_under_rein_init(daemon: &PrivateDaemon, fx: &Fixture) {
    // The init Docker injects is rein.
    let c = Private::new(daemon, "init-version");
    let r = c.run(fx, &[], &["/sbin/docker-init", "--version"]).ok();
    assert!(r.stdout.starts_with("rein "), "not rein:{}", r.dump());

    // Exit codes and signal deaths pass through, as with rein as ENTRYPOINT; rein's own 127.
    for (command, want) in [
        (&["sh", "-c", "exit 3"][..], 3),
        (&["sh", "-c", "kill -TERM $$"][..], 143),
        (&["no-such-program"][..], 127),
    ] {
        let c = Private::new(daemon, "init-exit");
        let r = c.run(fx, &[], command);
        assert_eq!(r.code, Some(want), "{command:?}:{}", r.dump());
        assert_eq!(c.exit_code(), want, "{command:?}");
    }

    // docker kill reaches the program and a grandchild in its group (tini sends to the
    // program only, unless started with -g, which docker does not pass).
    let c = Private::new(daemon, "init-kill");
    let script = "(trap 'echo grandchild: USR1' USR1; echo grandchild: ready; \
                  while :; do sleep 1000 & wait $!; done) & \
                  trap 'echo child: USR1' USR1; echo child: ready; \
                  while :; do sleep 1000 & wait $!; done";
    c.run(fx, &["-d"], &["sh", "-c", script]).ok();
    let wait_logs = |lines: &[&str]| {
        poll_until(&format!("{lines:?} in the logs"), || {
            let logs = c.logs();
            if lines.iter().all(|l| logs.contains(l)) {
                Ok(())
            } else {
                Err(logs)
            }
        })
    };
    wait_logs(&["child: ready", "grandchild: ready"]);
    daemon.docker(&["kill", "-s", "USR1", &c.name]).ok();
    wait_logs(&["child: USR1", "grandchild: USR1"]);

    // Orphans are reaped: five double-forked helpers finish, no zombie stays.
    let c = Private::new(daemon, "init-reap");
    let script = "for i in 1 2 3 4 5; do ( (sleep 0.2; : > /tmp/orphan-$i.done) & ); done; \
                  exec sleep 1000";
    c.run(fx, &["-d"], &["sh", "-c", script]).ok();
    poll_until("five orphans done and reaped", || {
        let r = daemon.docker(&[
            "exec",
            &c.name,
            "sh",
            "-c",
            "ls /tmp | grep -c done; cat /proc/[0-9]*/stat 2>/dev/null; true",
        ]);
        let done = r.stdout.lines().next() == Some("5");
        if done && zombies(&r.stdout) == 0 {
            Ok(())
        } else {
            Err(r.dump())
        }
    });

    // The leftover is drained on docker stop.
    let out = daemon.scratch("leftover-out");
    let name = unique_name("init-leftover");
    let client = |args: &[&str]| daemon.docker(args);
    let (elapsed, code, drained) = leftover_case(&client, &[], &fx.image, &out, &name);
    say(&format!(
        "docker tests: measured: `docker stop -t 10` under --init = rein (private dockerd): {:.3} s, exit code {code}, leftover's trap ran: {drained}",
        elapsed.as_secs_f64()
    ));
    assert!(drained, "rein did not give the leftover its SIGTERM");
    assert_eq!(code, 143, "sleep died of the forwarded SIGTERM");
    let _ = daemon.docker(&["rm", "-f", &name]);
}
