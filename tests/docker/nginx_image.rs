//! A real server in a `FROM scratch` image: Debian's nginx with the shared libraries `ldd`
//! names copied in beside it, rein as ENTRYPOINT with `--rewrite TERM:QUIT`. `docker stop` is
//! then graceful (a response in flight completes in full, the container exits 0) and fast (an
//! idle nginx stops at once, not after docker's timeout).
//!
//! The site (configuration, a rate-limited file) is the one `tests/programs/` serves, bind-
//! mounted at /srv/nginx; nginx listens on a unix socket there, and the container has no
//! network at all (`--network none`). For comparison the same image runs nginx as PID 1 itself
//! and under `docker run --init` (docker-init): both stop fast, and both cut the response.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::{
    Container, docker, prefix, remove_image_at_exit, say, static_rein_path, tools_required,
};
use crate::nginx_site::{BODY_LEN, InFlight, body, layout, wait_until_serving};

const NGINX: &str = "/usr/sbin/nginx";
const SITE: &str = "/srv/nginx";

/// The image, built once per run; `None` after a loud skip when nginx is not installed.
fn image(test: &str) -> Option<&'static str> {
    crate::harness::fixture(test)?;
    if !Path::new(NGINX).exists() {
        let why = format!("no {NGINX} (Debian: apt-get install nginx)");
        assert!(!tools_required(), "REIN_REQUIRE_TOOLS=1 but {why}");
        say(&format!("SKIPPED (no nginx): {test}: {why}"));
        return None;
    }
    static IMAGE: OnceLock<Result<String, String>> = OnceLock::new();
    match IMAGE.get_or_init(build) {
        Ok(i) => Some(i),
        Err(e) => panic!("cannot build the nginx image: {e}"),
    }
}

/// The files `ldd` says `binary` loads, the dynamic loader included.
fn shared_libraries(binary: &str) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| format!("ldd: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ldd {binary}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2
    // (0x...)"; linux-vdso has no file.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = l.split("=>").last()?.split_whitespace().next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

fn build() -> Result<String, String> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let image = format!("{}-{stamp}-nginx:latest", prefix());
    let context = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-nginx", prefix()));
    let _ = std::fs::remove_dir_all(&context);
    let mut dockerfile = String::from("FROM scratch\nCOPY rein /rein\n");
    let mut files: Vec<PathBuf> = vec![PathBuf::from(NGINX)];
    files.extend(shared_libraries(NGINX)?);
    for file in &files {
        // Each file goes to the path the loader looks for, with symlinks resolved (COPY
        // would otherwise copy a dangling link).
        let inside = context.join("root").join(file.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inside.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::copy(file, &inside).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    std::fs::create_dir_all(context.join("root/etc")).map_err(|e| e.to_string())?;
    // nginx's workers run as nobody; glibc reads these files itself (nss_files is built in).
    std::fs::write(
        context.join("root/etc/passwd"),
        "root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        context.join("root/etc/group"),
        "root:x:0:\nnogroup:x:65534:\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(static_rein_path()?, context.join("rein")).map_err(|e| e.to_string())?;
    dockerfile.push_str("COPY root/ /\n");
    dockerfile.push_str(r#"ENTRYPOINT ["/rein", "--rewrite", "TERM:QUIT", "--"]"#);
    dockerfile.push('\n');
    dockerfile.push_str(&format!(
        "CMD [\"{NGINX}\", \"-p\", \"{SITE}\", \"-c\", \"{SITE}/nginx.conf\"]\n"
    ));
    std::fs::write(context.join("Dockerfile"), &dockerfile).map_err(|e| e.to_string())?;
    remove_image_at_exit(&image);
    let label = format!("rein-test.pid={}", std::process::id());
    let ctx = context.to_string_lossy();
    let built = docker(&["build", "--force-rm", "--label", &label, "-t", &image, &ctx]);
    let _ = std::fs::remove_dir_all(&context);
    if built.code != Some(0) {
        return Err(built.dump());
    }
    say(&format!(
        "docker tests: built {image}: nginx and {} files from ldd, FROM scratch",
        files.len() - 1
    ));
    Ok(image)
}

/// A site directory for one container, removed on drop.
struct Site(PathBuf);

impl Site {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{}-site-{what}", prefix()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        layout(&dir, SITE);
        Site(dir)
    }

    fn socket(&self) -> PathBuf {
        self.0.join("nginx.sock")
    }

    fn mount(&self) -> String {
        format!("{}:{SITE}", self.0.display())
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the image with `options` (and an optional command), with a request in flight if
/// `in_flight`; `docker stop -t 30`; returns (stop time, exit code, body if a request was in
/// flight, logs).
fn stop_case(
    image: &str,
    what: &str,
    options: &[&str],
    command: &[&str],
    in_flight: bool,
) -> (Duration, i32, Option<Vec<u8>>, String) {
    let site = Site::new(what);
    let c = Container::named(what);
    let label = format!("rein-test.pid={}", std::process::id());
    let mount = site.mount();
    let mut args = vec!["run", "-d", "--name", &c.name, "--label", &label];
    args.extend(["--network", "none", "-v", &mount]);
    args.extend_from_slice(options);
    args.push(image);
    args.extend_from_slice(command);
    docker(&args).ok();
    wait_until_serving(&site.socket());
    let request = in_flight.then(|| InFlight::start(&site.socket()));
    let stop = docker(&["stop", "-t", "30", &c.name]).ok();
    let got = request.map(InFlight::finish);
    let (_, code) = c.state();
    (stop.elapsed, code, got, c.logs())
}

#[test]
fn nginx_image_docker_stop_is_graceful_with_a_response_in_flight() {
    let test = "nginx_image_docker_stop_is_graceful_with_a_response_in_flight";
    let Some(image) = image(test) else {
        return;
    };
    let (elapsed, code, got, logs) = stop_case(image, "nginx-graceful", &[], &[], true);
    say(&format!(
        "docker tests: measured: `docker stop` of nginx under rein (TERM:QUIT), 64 KiB at 32 KiB/s in flight: {:.3} s, exit code {code}",
        elapsed.as_secs_f64()
    ));
    let got = got.unwrap();
    assert_eq!(got.len(), BODY_LEN, "the response was cut; logs:\n{logs}");
    assert!(got == body(), "the response arrived corrupted");
    assert_eq!(code, 0, "logs:\n{logs}");
    assert!(logs.contains("gracefully shutting down"), "{logs}");
    assert!(
        elapsed < Duration::from_secs(20),
        "docker had to SIGKILL: {elapsed:?}"
    );
}

#[test]
fn nginx_image_docker_stop_of_an_idle_server_is_fast() {
    let test = "nginx_image_docker_stop_of_an_idle_server_is_fast";
    let Some(image) = image(test) else {
        return;
    };
    let (elapsed, code, _, logs) = stop_case(image, "nginx-idle", &[], &[], false);
    say(&format!(
        "docker tests: measured: `docker stop` of an idle nginx under rein: {:.3} s, exit code {code}",
        elapsed.as_secs_f64()
    ));
    assert_eq!(code, 0, "logs:\n{logs}");
    // docker's SIGKILL would come only after `-t 30` (and give 137, not 0).
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?}; logs:\n{logs}"
    );
}

/// Without rein's rewrite, nginx gets the plain SIGTERM (as PID 1, or from docker-init) and
/// shuts down fast: the response in flight is cut. The completeness check above can fail.
#[test]
fn nginx_image_negative_control_without_rein_the_response_is_cut() {
    let test = "nginx_image_negative_control_without_rein_the_response_is_cut";
    let Some(image) = image(test) else {
        return;
    };
    let nginx_cmd = [NGINX, "-p", SITE, "-c", "/srv/nginx/nginx.conf"];
    let entry = format!("--entrypoint={NGINX}");
    let as_pid1 = ["-p", SITE, "-c", "/srv/nginx/nginx.conf"];
    for (what, options, command) in [
        ("nginx-pid1", vec![entry.as_str()], &as_pid1[..]),
        (
            "nginx-tini",
            vec!["--init", "--entrypoint="],
            &nginx_cmd[..],
        ),
    ] {
        let (elapsed, code, got, logs) = stop_case(image, what, &options, command, true);
        let got = got.unwrap();
        say(&format!(
            "docker tests: measured: `docker stop` of nginx {}, response in flight: {:.3} s, exit code {code}, {} of {BODY_LEN} bytes arrived",
            if what == "nginx-pid1" {
                "as PID 1"
            } else {
                "under --init (docker-init)"
            },
            elapsed.as_secs_f64(),
            got.len()
        ));
        assert!(
            got.len() < BODY_LEN,
            "{what}: the response completed; logs:\n{logs}"
        );
    }
}
