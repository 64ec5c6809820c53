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
    let budget = env("REIN_KILL_AFTER") + env("REIN_GRACE");
    assert!(
        budget < Duration::from_secs(period),
        "REIN_KILL_AFTER + REIN_GRACE = {budget:?} must be < terminationGracePeriodSeconds = {period}"
    );
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
