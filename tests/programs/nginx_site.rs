//! The nginx site both nginx tests serve (under rein as PID 1 in `tests/programs/`, and in a
//! `FROM scratch` image in `tests/docker/`): the configuration in `fixtures/nginx.conf`, a slow
//! file, and a client that keeps a request in flight on nginx's unix socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a client waits for nginx before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// The slow response: 64 KiB at nginx's `limit_rate 32k`, about two seconds.
pub const BODY_LEN: usize = 64 * 1024;

/// Lays out nginx's directory: the configuration (for `dir`, as the server will see it), the
/// temp directories, and the slow file under `www/slow/`.
pub fn layout(host_dir: &Path, dir_in_server: &str) {
    let conf = include_str!("fixtures/nginx.conf").replace("@DIR@", dir_in_server);
    std::fs::write(host_dir.join("nginx.conf"), conf).unwrap();
    for d in ["tmp", "www/slow"] {
        std::fs::create_dir_all(host_dir.join(d)).unwrap();
    }
    std::fs::write(host_dir.join("www/slow/big.bin"), body()).unwrap();
}

/// The slow file's contents: a pattern that shows truncation and reordering.
pub fn body() -> Vec<u8> {
    (0..BODY_LEN).map(|i| (i % 251) as u8).collect()
}

/// A request in flight: headers read, body still arriving.
pub struct InFlight {
    stream: UnixStream,
    received: Vec<u8>,
}

impl InFlight {
    /// Sends `GET /slow/big.bin` and waits for the response headers.
    pub fn start(socket: &Path) -> Self {
        let mut stream = UnixStream::connect(socket).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream
            .write_all(b"GET /slow/big.bin HTTP/1.0\r\nHost: rein-test\r\n\r\n")
            .unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        while !received.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "closed before the headers: {received:?}");
            received.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&received);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        InFlight { stream, received }
    }

    /// Reads to the end; returns the body (whatever arrived before nginx closed).
    pub fn finish(mut self) -> Vec<u8> {
        let _ = self.stream.read_to_end(&mut self.received);
        let split = self
            .received
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap();
        self.received.split_off(split + 4)
    }
}

/// Waits until nginx accepts connections on `socket`.
pub fn wait_until_serving(socket: &Path) {
    let start = Instant::now();
    while UnixStream::connect(socket).is_err() {
        assert!(
            start.elapsed() < DEADLINE,
            "nginx did not accept connections on {} within {DEADLINE:?}",
            socket.display()
        );
        // A socket that is not listening yet offers nothing to block on.
        pause();
    }
}

#[allow(clippy::disallowed_methods)]
fn pause() {
    std::thread::sleep(Duration::from_millis(5));
}
