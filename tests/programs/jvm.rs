//! A JVM under rein as PID 1 (`tests/programs/fixtures/Stop.java`, run from source). The JVM
//! turns SIGTERM into an orderly exit: shutdown hooks run, then it exits 143 (128+15). So a
//! `docker stop` of a Java service reports 143 under rein, as it would without an init; with
//! `--exit-zero-on-stop` that becomes 0, because the stop came through rein. A JVM that calls
//! `System.exit(143)` on its own still gives 143 under `--exit-zero-on-stop`: rein forwarded
//! no stopping signal, so nothing is masked.

use std::path::{Path, PathBuf};

use crate::harness::Outcome;
use crate::tools;

const SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/programs/fixtures/Stop.java"
);

/// `java`, if a JDK (which the source launcher needs) is installed.
fn java(test: &str) -> Option<PathBuf> {
    if !tools::namespaces(test) {
        return None;
    }
    tools::find(
        test,
        "a JDK",
        &["/usr/bin/javac"],
        "Debian: apt-get install openjdk-17-jdk-headless",
    )?;
    tools::find(
        test,
        "java",
        &["/usr/bin/java"],
        "Debian: apt-get install openjdk-17-jdk-headless",
    )
}

/// Runs the JVM in `mode` under rein (`rein_options` first); with `stop`, sends TERM to rein
/// once the JVM is ready, as `docker stop` does.
fn run(java: &Path, mode: &str, rein_options: &[&str], stop: bool) -> Outcome {
    let mut args = tools::strings(rein_options);
    args.extend(tools::strings(&[
        "--",
        &java.to_string_lossy(),
        // Small and quick: the test needs no heap and no tiered compilation.
        "-Xmx64m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        SOURCE,
        mode,
    ]));
    let (mut run, rein) = tools::start_pid1(&args);
    run.expect_line("jvm: ready", |l| l == "jvm: ready");
    if stop {
        run.signal(rein, nix::libc::SIGTERM);
    }
    let out = run.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("jvm: shutdown hook ran"),
        "the shutdown hook did not run:\n{stdout}\n{}",
        out.stderr
    );
    out
}

#[test]
fn jvm_term_gives_143_and_zero_with_exit_zero_on_stop() {
    let test = "jvm_term_gives_143_and_zero_with_exit_zero_on_stop";
    let Some(java) = java(test) else {
        return;
    };
    let out = run(&java, "wait", &[], true);
    assert_eq!(out.code, Some(143), "stderr:\n{}", out.stderr);
    let out = run(&java, "wait", &["--exit-zero-on-stop"], true);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
}

#[test]
fn jvm_own_system_exit_143_is_not_masked_by_exit_zero_on_stop() {
    let test = "jvm_own_system_exit_143_is_not_masked_by_exit_zero_on_stop";
    let Some(java) = java(test) else {
        return;
    };
    let out = run(&java, "exit143", &["--exit-zero-on-stop"], false);
    assert_eq!(out.code, Some(143), "stderr:\n{}", out.stderr);
}
