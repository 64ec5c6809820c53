//! The example Kubernetes manifests against the real API schemas, with `kubernetes-validate`
//! (PyPI; it bundles the OpenAPI schemas of many Kubernetes releases) in strict mode, where an
//! unknown field is an error. No cluster and no engine needed.
//!
//! The versions: upstream maintains the three most recent minor releases, so the newest one
//! the package bundles and the one two minors before it are the newest and oldest still
//! supported (with kubernetes-validate 1.37.0: 1.37 and 1.35). A newer package moves both.
//! The negative control validates a copy of `deployment.yaml` with a plausible typo in the one
//! field rein's grace budget depends on, which strict mode must reject.
//!
//! Without the package the tests print `SKIPPED (no kubernetes-validate): ...`; with
//! `REIN_REQUIRE_TOOLS=1` they fail instead.

use std::process::Command;

use crate::harness::{Run, run_command, say, tools_required};

const MANIFESTS: [&str; 2] = ["deployment.yaml", "pod-shared-pid.yaml"];

fn manifest_path(file: &str) -> String {
    format!("{}/examples/kubernetes/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// The `(major, minor)` releases whose schemas the installed package bundles, or why none.
fn bundled_versions() -> Result<Vec<(u32, u32)>, String> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import kubernetes_validate.utils as u\nfor v in sorted(set(u.all_versions())): print(v)",
        ])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 cannot import kubernetes_validate (pip install kubernetes-validate): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut versions: Vec<(u32, u32)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if versions.is_empty() {
        return Err("kubernetes_validate bundles no schema".into());
    }
    Ok(versions)
}

fn versions_or_skip(test: &str) -> Option<Vec<(u32, u32)>> {
    match bundled_versions() {
        Ok(v) => Some(v),
        Err(why) => {
            assert!(!tools_required(), "REIN_REQUIRE_TOOLS=1 but {why}");
            say(&format!("SKIPPED (no kubernetes-validate): {test}: {why}"));
            None
        }
    }
}

/// The oldest and the newest bundled release still maintained upstream.
fn supported_range(bundled: &[(u32, u32)]) -> [(u32, u32); 2] {
    let newest = *bundled.last().unwrap();
    let oldest = (newest.0, newest.1.saturating_sub(2));
    assert!(
        bundled.contains(&oldest),
        "kubernetes-validate bundles {bundled:?}, without {oldest:?}"
    );
    [oldest, newest]
}

fn validate(version: (u32, u32), files: &[String]) -> Run {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "kubernetes_validate", "--strict", "-k"])
        .arg(format!("{}.{}.0", version.0, version.1))
        .args(files);
    run_command(cmd)
}

#[test]
fn kubernetes_examples_validate_strictly_for_the_oldest_and_newest_supported_release() {
    let test = "kubernetes_examples_validate_strictly_for_the_oldest_and_newest_supported_release";
    let Some(bundled) = versions_or_skip(test) else {
        return;
    };
    let files: Vec<String> = MANIFESTS.iter().map(|f| manifest_path(f)).collect();
    for version in supported_range(&bundled) {
        let r = validate(version, &files);
        assert_eq!(r.code, Some(0), "strict validation failed:{}", r.dump());
        let report = format!("{}{}", r.stdout, r.stderr);
        for file in &files {
            assert!(
                report
                    .lines()
                    .any(|l| l.contains(file.as_str()) && l.contains("passed")),
                "{file} not reported as passed:{}",
                r.dump()
            );
        }
        say(&format!(
            "docker tests: kubernetes-validate --strict: {MANIFESTS:?} pass for Kubernetes {}.{}",
            version.0, version.1
        ));
    }
}

#[test]
fn kubernetes_strict_validation_rejects_an_unknown_field() {
    let test = "kubernetes_strict_validation_rejects_an_unknown_field";
    let Some(bundled) = versions_or_skip(test) else {
        return;
    };
    let yaml = std::fs::read_to_string(manifest_path("deployment.yaml")).unwrap();
    let typo = yaml.replace("terminationGracePeriodSeconds:", "terminationGracePeriod:");
    assert_ne!(typo, yaml);
    let path =
        std::env::temp_dir().join(format!("{}-typo-deployment.yaml", crate::harness::prefix()));
    std::fs::write(&path, typo).unwrap();
    let files = [path.to_string_lossy().into_owned()];
    let results: Vec<Run> = supported_range(&bundled)
        .into_iter()
        .map(|v| validate(v, &files))
        .collect();
    let _ = std::fs::remove_file(&path);
    for r in results {
        assert_eq!(r.code, Some(1), "the typo passed:{}", r.dump());
        assert!(
            format!("{}{}", r.stdout, r.stderr).contains("terminationGracePeriod"),
            "{}",
            r.dump()
        );
    }
}
