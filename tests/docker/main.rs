//! rein inside real containers: each test drives the docker engine with real `docker`
//! commands against a `FROM scratch` image holding the static rein and a static busybox.
//!
//! Without an engine every test prints `SKIPPED (no docker engine): ...` and passes; with
//! `REIN_REQUIRE_DOCKER=1` (CI) it fails instead. Run with
//! `REIN_REQUIRE_DOCKER=1 cargo test --test docker -- --nocapture` to see the measured times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Engine probe, the test image, `docker` with deadlines, self-removing containers.
mod harness;
/// A minimal reader for the example Kubernetes manifests.
mod manifest;

/// A second dockerd, private to one test, in namespaces of its own.
mod private_daemon;

/// examples/compose/compose.yaml under docker-compose: up, stop, down.
mod compose;
/// The examples stay consistent (no engine needed).
mod examples;
/// Exit codes and exec failures through `docker run`.
mod exit_status;
/// rein as the engine's `--init` (`dockerd --init-path`), against the stock docker-init.
mod init_path;
/// The example Kubernetes manifests against the real API schemas (kubernetes-validate).
mod kube_schema;
/// nginx in a FROM-scratch image with rein as ENTRYPOINT: docker stop graceful and fast.
mod nginx_image;
/// The site the nginx tests serve, shared with tests/programs/.
#[path = "../programs/nginx_site.rs"]
mod nginx_site;
/// A pod-like group: `rein --pause` holds the PID namespace, containers from the manifest join.
mod pod;
/// podman: rein as `--init-path`, as ENTRYPOINT, and as a pod's infra (`rein --pause`).
mod podman;
/// Orphans are reaped; the negative control shows the check can fail.
mod reaping;
/// `docker kill -s` reaches the program and its process group.
mod signals;
/// `docker stop` with and without rein, timed.
mod stop;
/// Ctrl-C through `docker run -it`.
mod tty;
