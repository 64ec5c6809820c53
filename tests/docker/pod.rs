//! A pod-like group in plain Docker: a holder container runs `rein --pause` as PID 1 of a PID
//! namespace (the part Kubernetes gives its pause container), and the `app` and `sidecar`
//! containers of `examples/kubernetes/pod-shared-pid.yaml` join it with
//! `--pid=container:<holder>`, running the command, args and env from that file.
//!
//! The sidecar leaves orphans without rein; they are re-parented to the namespace's PID 1, the
//! holder, which must reap them. Stopping the holder then stops everyone with SIGTERM (not the
//! kernel's SIGKILL): the app's trap runs and the holder exits 0.

use std::time::Duration;

use crate::harness::{Container, Snapshot, docker, fixture, poll_until, say};
use crate::manifest::{container, read};

#[test]
fn pause_holder_reaps_orphans_of_joined_containers_and_stops_them_cleanly() {
    let name = "pause_holder_reaps_orphans_of_joined_containers_and_stops_them_cleanly";
    let Some(fx) = fixture(name) else {
        return;
    };
    let yaml = read("pod-shared-pid.yaml");
    let holder = Container::start(fx, "pod-holder", &[], &["/rein", "--pause"]);
    let join = format!("--pid=container:{}", holder.name);
    let joined = |what: &str| {
        let spec = container(&yaml, what);
        let env = spec.env_options();
        let mut options: Vec<&str> = vec![&join];
        options.extend(env.iter().map(String::as_str));
        Container::start(fx, &format!("pod-{what}"), &options, &spec.argv())
    };
    let app = joined("app");
    let sidecar = joined("sidecar");
    app.wait_for_logs(&["app: ready"]);
    sidecar.wait_for_logs(&["sidecar: ready"]);

    // The sidecar's /tmp holds its helpers' marks; its /proc shows the whole shared namespace.
    let s = poll_until("the sidecar's orphans to finish and be reaped", || {
        let s = Snapshot::take(&sidecar);
        if s.count_files(".done") == 3 && s.zombies().is_empty() {
            Ok(s)
        } else {
            Err(s.describe())
        }
    });
    let comm = |pid| {
        s.procs
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| p.comm.as_str())
    };
    assert_eq!(
        comm(1),
        Some("rein"),
        "the holder is PID 1:\n{}",
        s.describe()
    );
    let reins = s.procs.iter().filter(|p| p.comm == "rein").count();
    assert_eq!(
        reins,
        2,
        "the holder's and the app's rein share the namespace:\n{}",
        s.describe()
    );

    let stop = docker(&["stop", "-t", "10", &holder.name]).ok();
    say(&format!(
        "docker tests: measured: stopping the pause holder took {:.3} s",
        stop.elapsed.as_secs_f64()
    ));
    assert_eq!(
        holder.state(),
        (false, 0),
        "holder logs:\n{}",
        holder.logs()
    );
    // Everyone ended on SIGTERM, nobody needed SIGKILL: the exit codes show it (137 would be
    // the grace's or docker's SIGKILL). The time is only bounded by docker's own timeout,
    // since on a loaded machine the engine alone can take seconds to stop a container.
    assert!(
        stop.elapsed < Duration::from_secs(10),
        "docker waited out its timeout: {:?}",
        stop.elapsed
    );
    assert_eq!(app.wait_exited(), 0, "app logs:\n{}", app.logs());
    assert!(
        app.logs().contains("app: stopping"),
        "app logs:\n{}",
        app.logs()
    );
    assert_eq!(
        sidecar.wait_exited(),
        128 + 15,
        "sidecar logs:\n{}",
        sidecar.logs()
    );
}
