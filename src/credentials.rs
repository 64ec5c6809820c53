//! Dropping privileges for the main child (`--user`): the credential steps, run in the child
//! between fork and exec, in the one order that cannot be undone: supplementary groups, group
//! id, user id, then `no_new_privs`. Looking the names up is `account.rs`'s job.
//!
//! Everything here runs after fork in a single-threaded child: raw system calls only, no
//! allocation, no logging.
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::libc;
use nix::unistd::{Gid, Uid};

/// Who the main child runs as, when `--user` asks for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user id.
    pub uid: Uid,
    /// The primary group id.
    pub gid: Gid,
    /// Exactly the supplementary groups (may be empty).
    pub groups: Vec<Gid>,
}

/// The steps of [`Credentials::apply_in_child`], by index, as error messages name them.
pub const STEPS: [&str; 4] = [
    "set supplementary groups",
    "set group id",
    "set user id",
    "set no_new_privs",
];

impl Credentials {
    /// Applies these credentials to the calling process. Meant for the forked child only:
    /// async-signal-safe system calls, nothing allocated. On failure, returns the index of the
    /// step in [`STEPS`] and its errno.
    pub fn apply_in_child(&self) -> Result<(), (i32, i32)> {
        let check = |step: i32, rc: libc::c_int| {
            if rc == 0 {
                Ok(())
            } else {
                Err((step, Errno::last_raw()))
            }
        };
        // Groups and gid need root, so they go before the uid; no_new_privs last, so the child
        // can never regain root through a set-uid program.
        // SAFETY: `groups` is a live slice of gid_t-sized Gids; setgroups only reads it.
        check(0, unsafe {
            libc::setgroups(self.groups.len(), self.groups.as_ptr().cast())
        })?;
        // SAFETY: a plain system call with an integer argument.
        check(1, unsafe { libc::setgid(self.gid.as_raw()) })?;
        // SAFETY: as above.
        check(2, unsafe { libc::setuid(self.uid.as_raw()) })?;
        // SAFETY: as above; PR_SET_NO_NEW_PRIVS takes (1, 0, 0, 0).
        check(3, unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        })
    }
}
