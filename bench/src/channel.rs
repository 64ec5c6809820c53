//! The FIFO through which a supervised program reports to the driver: 8-byte words
//! (timestamps, or [`READY`]), each written at once, so a write is atomic on a pipe.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::sys;

/// What a program writes once it is set up.
pub const READY: u64 = u64::MAX;

/// The driver's end. The driver holds the FIFO open read-write, so it never sees end-of-file
/// and never blocks on open.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// Creates the FIFO at `path` (replacing any file there) and opens it.
    pub fn new(path: &Path) -> io::Result<Self> {
        let _ = fs::remove_file(path);
        let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
        // SAFETY: `c` is a valid NUL-terminated path.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above; the returned descriptor is checked and then owned.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn try_read(&self) -> Option<u64> {
        let mut b = [0u8; 8];
        // SAFETY: `b` is 8 writable bytes. Writers write 8 bytes at once (atomic on a pipe).
        let n = unsafe { libc::read(self.fd.as_raw_fd(), b.as_mut_ptr().cast(), 8) };
        (n == 8).then(|| u64::from_ne_bytes(b))
    }

    /// The next word, waiting up to `timeout`.
    pub fn read(&self, timeout: Duration) -> io::Result<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = self.try_read() {
                return Ok(v);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !sys::readable(self.fd.as_raw_fd(), left) {
                return Err(io::Error::from(io::ErrorKind::TimedOut));
            }
        }
    }

    /// Discards whatever is queued.
    pub fn drain(&self) {
        while self.try_read().is_some() {}
    }
}

/// The program's end: writes one word to the FIFO open as `fd`. Async-signal-safe.
pub fn report(fd: i32, v: u64) {
    let b = v.to_ne_bytes();
    // SAFETY: write is async-signal-safe; `b` is 8 readable bytes.
    unsafe { libc::write(fd, b.as_ptr().cast(), 8) };
}
