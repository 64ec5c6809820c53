//! `docker kill -s SIG` signals the container's PID 1 (rein), which forwards to the main
//! child's process group: the program and a grandchild (a background subshell, which stays in
//! the group) each report the signal.

use crate::harness::{Container, docker, fixture};

const SCRIPT: &str = "\
(
  trap 'echo grandchild: USR1' USR1
  trap 'echo grandchild: HUP' HUP
  echo grandchild: ready
  while :; do sleep 1000 & wait $!; done
) &
trap 'echo child: USR1' USR1
trap 'echo child: HUP' HUP
echo child: ready
while :; do sleep 1000 & wait $!; done
";

#[test]
fn docker_kill_usr1_and_hup_reach_the_program_and_a_grandchild() {
    let Some(fx) = fixture("docker_kill_usr1_and_hup_reach_the_program_and_a_grandchild") else {
        return;
    };
    let c = Container::start(fx, "signals", &[], &["/rein", "--", "sh", "-c", SCRIPT]);
    c.wait_for_logs(&["child: ready", "grandchild: ready"]);
    for sig in ["USR1", "HUP"] {
        docker(&["kill", "-s", sig, &c.name]).ok();
        let logs = c.wait_for_logs(&[&format!("child: {sig}"), &format!("grandchild: {sig}")]);
        // Each received it once: the signal went to the group once, not per process.
        assert_eq!(
            logs.matches(&format!("grandchild: {sig}")).count(),
            1,
            "{logs}"
        );
    }
    let (running, _) = c.state();
    assert!(running, "the program must survive signals it traps");
}
