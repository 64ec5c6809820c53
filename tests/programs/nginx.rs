//! nginx under rein with `--rewrite TERM:QUIT`. nginx stops *fast* on SIGTERM (open
//! connections are closed mid-response) and *gracefully* on SIGQUIT (it stops accepting, then
//! finishes every request in flight). `docker stop` and the kubelet send SIGTERM, so rein
//! rewrites it: a slow response in flight when TERM arrives completes in full, a new connection
//! is refused from then on, and rein exits 0, nginx's own status.
//!
//! The negative control sends the same TERM without the rewrite: the response is cut short,
//! which shows the completeness check can fail.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::{DEADLINE, TempDir};
use crate::nginx_site::{BODY_LEN, InFlight, body, layout, wait_until_serving};
use crate::tools;

fn nginx(test: &str) -> Option<std::path::PathBuf> {
    if !tools::namespaces(test) {
        return None;
    }
    tools::find(
        test,
        "nginx",
        &["/usr/sbin/nginx"],
        "Debian: apt-get install nginx",
    )
}

/// Runs nginx under rein with `rein_options`, starts the slow request, sends TERM to rein,
/// and returns (the body received, whether new connections were refused while the response
/// was still in flight, rein's exit code, stderr, seconds from TERM to rein's exit).
fn stop_with_request_in_flight(
    nginx: &Path,
    rein_options: &[&str],
) -> (Vec<u8>, bool, Option<i32>, String, f64) {
    let dir = TempDir::new("nginx");
    let d = dir.0.to_string_lossy().into_owned();
    layout(&dir.0, &d);
    let socket = dir.join("nginx.sock");
    let conf = dir.join("nginx.conf");
    let mut args = tools::strings(rein_options);
    args.extend(tools::strings(&[
        "--",
        &nginx.to_string_lossy(),
        "-p",
        &d,
        "-c",
    ]));
    args.push(conf.to_string_lossy().into_owned());
    let (mut run, rein) = tools::start_pid1(&args);
    wait_until_serving(&socket);
    let request = InFlight::start(&socket);
    let sent = Instant::now();
    run.signal(rein, nix::libc::SIGTERM);
    // Refused: the listening socket is closed (and its file removed); the response goes on.
    let mut refused = false;
    while !refused && sent.elapsed() < DEADLINE {
        refused = UnixStream::connect(&socket).is_err();
        if !refused && run.exited_within(Duration::from_millis(5)) {
            break;
        }
    }
    let body = request.finish();
    let out = run.finish();
    (
        body,
        refused,
        out.code,
        out.stderr,
        sent.elapsed().as_secs_f64(),
    )
}

#[test]
fn nginx_rewrite_term_quit_finishes_the_response_in_flight() {
    let test = "nginx_rewrite_term_quit_finishes_the_response_in_flight";
    let Some(nginx) = nginx(test) else {
        return;
    };
    let (got, refused, code, stderr, secs) =
        stop_with_request_in_flight(&nginx, &["--rewrite", "TERM:QUIT"]);
    eprintln!(
        "programs: measured: nginx --rewrite TERM:QUIT: TERM to rein's exit {secs:.3} s with a 64 KiB response at 32 KiB/s in flight"
    );
    assert!(
        refused,
        "new connections were still accepted; stderr:\n{stderr}"
    );
    assert_eq!(
        got.len(),
        BODY_LEN,
        "the response was cut; stderr:\n{stderr}"
    );
    assert!(got == body(), "the response arrived corrupted");
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.contains("gracefully shutting down"),
        "nginx did not shut down gracefully:\n{stderr}"
    );
}

#[test]
fn nginx_negative_control_plain_term_cuts_the_response() {
    let test = "nginx_negative_control_plain_term_cuts_the_response";
    let Some(nginx) = nginx(test) else {
        return;
    };
    let (got, _, code, stderr, secs) = stop_with_request_in_flight(&nginx, &[]);
    eprintln!("programs: measured: nginx, plain TERM: TERM to rein's exit {secs:.3} s");
    assert!(
        got.len() < BODY_LEN,
        "a fast shutdown finished the response after all; stderr:\n{stderr}"
    );
    assert_eq!(code, Some(0), "stderr:\n{stderr}");
}
