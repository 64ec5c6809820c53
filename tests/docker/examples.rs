//! The examples keep the promises their comments make. No engine needed.

use std::time::Duration;

use rein::values::parse_duration;

use crate::manifest::{container, read, scalar};

#[test]
fn deployment_budget_fits_inside_the_kubelets_grace_period() {
    let yaml = read("deployment.yaml");
    let period: u64 = scalar(&yaml, "terminationGracePeriodSeconds")
        .unwrap()
        .parse()
        .unwrap();
    let app = container(&yaml, "app");
    assert_eq!(app.command, ["/rein", "--"]);
    let env = |k: &str| {
        let (_, v) = app.env.iter().find(|(n, _)| n == k).unwrap();
        parse_duration(v).unwrap()
    };
    // --kill-after counts from the SIGTERM's arrival, so the stop delay lies inside it; the
    // program itself gets what is left of it after the delay.
    let (delay, kill_after, grace) = (
        env("REIN_STOP_DELAY"),
        env("REIN_KILL_AFTER"),
        env("REIN_GRACE"),
    );
    assert!(
        !delay.is_zero() && delay < kill_after,
        "REIN_STOP_DELAY = {delay:?} must be set and shorter than REIN_KILL_AFTER = {kill_after:?}"
    );
    let budget = kill_after + grace;
    assert!(
        budget < Duration::from_secs(period),
        "REIN_KILL_AFTER (incl. REIN_STOP_DELAY) + REIN_GRACE = {budget:?} must be < terminationGracePeriodSeconds = {period}"
    );
    // rein itself accepts the example's values (it refuses a delay >= --kill-after).
    let vars: Vec<(String, String)> = app.env.clone();
    let parsed = rein::cli::parse(vec![std::ffi::OsString::from("x")], |k| {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.into())
    });
    assert!(parsed.is_ok(), "{parsed:?}");
}

#[test]
fn shared_pid_pod_runs_rein_in_the_app_container() {
    let yaml = read("pod-shared-pid.yaml");
    assert_eq!(
        scalar(&yaml, "shareProcessNamespace").as_deref(),
        Some("true")
    );
    assert_eq!(container(&yaml, "app").command, ["/rein", "--"]);
}

#[test]
fn example_dockerfile_uses_the_exec_form_with_double_dash() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/docker/Dockerfile");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.lines().any(|l| l == r#"ENTRYPOINT ["/rein", "--"]"#));
}
