//! Real programs from Debian's packages under rein as PID 1 of a fresh PID namespace, each
//! checked for what its own users care about when it is stopped: nginx finishes what it is
//! serving, PostgreSQL shuts down cleanly (no crash recovery on the next start), Python's
//! multiprocessing leaves no worker behind, a JVM reports what its users expect.
//!
//! The PID-1 harness is the one of `tests/pid1/` (shared, not copied). A program that is not
//! installed, or cannot run here, makes its tests print `SKIPPED (no PROGRAM): ...` and pass;
//! with `REIN_REQUIRE_TOOLS=1` (CI, whose `.ci/run` installs them) they fail instead.
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
#![allow(clippy::cast_possible_wrap, clippy::cast_sign_loss, dead_code)]

#[path = "../pid1/harness.rs"]
mod harness;

/// Finding programs, skipping loudly, signalling processes inside a namespace.
mod tools;

/// A JVM: 143 on TERM, 0 with --exit-zero-on-stop, its own System.exit(143) stays 143.
mod jvm;
/// nginx with `--rewrite TERM:QUIT`: graceful shutdown, an in-flight response completes.
mod nginx;
/// The site nginx serves and a client with a request in flight (shared with tests/docker).
mod nginx_site;
/// PostgreSQL as an unprivileged `--user`: clean shutdown on TERM, fast with TERM:INT.
mod postgres;
/// Python multiprocessing: TERM to everyone, a killed parent, a killed worker.
mod python_mp;
