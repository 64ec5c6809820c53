//! Dropping privileges for the main child (`--user`): the credential steps, run in the child
//! between fork and exec. Looking the names up is `account.rs`'s job.
//!
//! Everything here runs after fork in a single-threaded child: raw system calls only (no libc
//! wrapper: glibc's and musl's `setuid` family signal every thread of the process and take
//! locks, which has no place between fork and exec), no allocation, no logging. A raw
//! `setresuid` changes only the calling thread, which is the whole child.
//!
//! # What the kernel guarantees, and why the steps come in this order
//!
//! The kernel clears capabilities on a uid change only when a uid was 0 before and none is
//! after, and even then leaves the inheritable and bounding sets alone; with
//! `SECBIT_NO_SETUID_FIXUP` it clears nothing at all (capabilities(7), "Effect of user ID
//! changes on capabilities" and "The securebits flags"). A rein that holds capabilities as a
//! non-root user, or a root rein whose caller set securebits or inheritable and ambient
//! capabilities, would otherwise hand them to the child, which could then `setuid(0)`. So for
//! a non-zero uid rein empties every set itself:
//!
//! 1. `PR_SET_NO_NEW_PRIVS`. It needs no privilege and is never undone, for this process and
//!    all it forks and execs (prctl(2)), so it goes first: from here on no exec grants anything
//!    through set-user-ID bits or file capabilities, and the kernel caps the permitted set an
//!    exec computes at the one the process already had.
//! 2. The bounding set, emptied with `PR_CAPBSET_DROP` while rein still holds `CAP_SETPCAP`
//!    (a root rein does; the uid change below takes it away). It only limits what an exec may
//!    add, which no_new_privs and the empty sets of step 6 already reduce to nothing, so a rein
//!    without `CAP_SETPCAP` (EPERM on the first drop) skips it: defence in depth, not the
//!    guarantee. uid 0 keeps its bounding set: `--user root:GROUP` changes groups only.
//! 3. `setgroups`, 4. `setresgid`, 5. `setresuid`: groups and gid need `CAP_SETGID` and go
//!    before the uid, which takes it away. `setresuid(u, u, u)` either sets the real, effective
//!    and saved uid all to `u` or fails (setresuid(2)), unlike `setuid`, which an unprivileged
//!    caller may succeed with while changing only the effective uid. `(uid_t)-1` would mean
//!    "leave unchanged", so it is refused here as well as in `account.rs`.
//! 6. `PR_CAP_AMBIENT_CLEAR_ALL`, then `capset` with empty effective, permitted and inheritable
//!    sets. Lowering a set never needs privilege, and a capability cannot stay ambient once it
//!    is no longer permitted and inheritable (capabilities(7), "Ambient capability set"), so
//!    after these two the child holds nothing. The securebits then no longer matter: they only
//!    change what the kernel does on uid changes and on exec as root, and the child can do
//!    neither (no `CAP_SETUID`, and no_new_privs disables set-user-ID programs).
//!
//! Each step either does all of its job or fails, and a failure ends the child before exec
//! (the caller reports the step and exits 125), so the program never runs with part of the old
//! privileges. An exec after a complete drop gets, for a non-root uid and no_new_privs,
//! permitted = (inheritable & file inheritable) | (file permitted & bounding) | ambient,
//! limited to the old permitted set: empty (capabilities(7), "Transformation of capabilities
//! during execve()").
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::libc;
use nix::unistd::{Gid, Uid};

#[cfg(any(target_arch = "x86", target_arch = "arm"))]
use libc::{
    SYS_setgroups32 as SYS_SETGROUPS, SYS_setresgid32 as SYS_SETRESGID,
    SYS_setresuid32 as SYS_SETRESUID,
};
// Everywhere else the plain numbers take 32-bit ids (the 32-bit x86 and arm ones are 16-bit).
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
use libc::{
    SYS_setgroups as SYS_SETGROUPS, SYS_setresgid as SYS_SETRESGID, SYS_setresuid as SYS_SETRESUID,
};

/// Who the main child runs as, when `--user` asks for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    uid: Uid,
    gid: Gid,
    /// As the kernel reads them: a `Gid` is not guaranteed to have `gid_t`'s layout, and the
    /// child cannot convert them (it must not allocate).
    groups: Vec<libc::gid_t>,
}

impl Credentials {
    /// The user id, the primary group id and exactly the supplementary groups (may be empty).
    pub fn new(uid: Uid, gid: Gid, groups: impl IntoIterator<Item = Gid>) -> Self {
        Self {
            uid,
            gid,
            groups: groups.into_iter().map(Gid::as_raw).collect(),
        }
    }

    /// The user id.
    pub fn uid(&self) -> Uid {
        self.uid
    }

    /// The primary group id.
    pub fn gid(&self) -> Gid {
        self.gid
    }

    /// The supplementary groups, in the order `setgroups` gets them.
    pub fn groups(&self) -> &[libc::gid_t] {
        &self.groups
    }
}

/// The steps of [`Credentials::apply_in_child`], by index, as error messages name them. The
/// index is what travels through the error pipe, not the order in which the steps run.
pub const STEPS: [&str; 7] = [
    "set supplementary groups",
    "set group id",
    "set user id",
    "set no_new_privs",
    "drop the capability bounding set",
    "clear the ambient capabilities",
    "clear the capabilities",
];

const GROUPS: i32 = 0;
const GID: i32 = 1;
const UID: i32 = 2;
const NO_NEW_PRIVS: i32 = 3;
const BOUNDING: i32 = 4;
const AMBIENT: i32 = 5;
const CAPS: i32 = 6;

/// `(uid_t)-1` / `(gid_t)-1`: "leave unchanged" to setresuid(2) and setresgid(2).
const NO_ID: u32 = u32::MAX;

/// `_LINUX_CAPABILITY_VERSION_3` from `<linux/capability.h>`: 64-bit sets as two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`; version 3 takes two of them (low and high 32 bits).
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Capability numbers fit below 64 (the sets are 64 bits); the kernel's last one is lower and
/// answers EINVAL past it, which is how the loop below finds the end without reading /proc.
const CAP_LIMIT: libc::c_ulong = 64;

fn check(step: i32, rc: libc::c_long) -> Result<(), (i32, i32)> {
    if rc == 0 {
        Ok(())
    } else {
        Err((step, Errno::last_raw()))
    }
}

impl Credentials {
    /// Applies these credentials to the calling process, in the order argued in the module
    /// documentation. Meant for the forked child only: raw system calls, nothing allocated. On
    /// failure, returns the index of the step in [`STEPS`] and its errno; the caller must then
    /// not exec.
    pub fn apply_in_child(&self) -> Result<(), (i32, i32)> {
        let (uid, gid) = (self.uid.as_raw(), self.gid.as_raw());
        if gid == NO_ID {
            return Err((GID, libc::EINVAL));
        }
        if uid == NO_ID {
            return Err((UID, libc::EINVAL));
        }
        // SAFETY: prctl with integer arguments only; PR_SET_NO_NEW_PRIVS takes (1, 0, 0, 0).
        let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
        check(NO_NEW_PRIVS, rc.into())?;
        let unprivileged = uid != 0;
        if unprivileged {
            drop_bounding_set()?;
        }
        // SAFETY: `groups` is a live slice of `gid_t` and its length is passed with it; the
        // kernel only reads it (and refuses (gid_t)-1 in it with EINVAL).
        let rc = unsafe { libc::syscall(SYS_SETGROUPS, self.groups.len(), self.groups.as_ptr()) };
        check(GROUPS, rc)?;
        // SAFETY: integer arguments only.
        check(GID, unsafe { libc::syscall(SYS_SETRESGID, gid, gid, gid) })?;
        // SAFETY: integer arguments only.
        check(UID, unsafe { libc::syscall(SYS_SETRESUID, uid, uid, uid) })?;
        if unprivileged {
            clear_capabilities()?;
        }
        Ok(())
    }
}

/// Empties the bounding set when this process may (`CAP_SETPCAP`); see the module docs.
fn drop_bounding_set() -> Result<(), (i32, i32)> {
    for cap in 0..CAP_LIMIT {
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if rc == 0 {
            continue;
        }
        match Errno::last_raw() {
            // Past the kernel's last capability: done.
            libc::EINVAL if cap > 0 => return Ok(()),
            // No CAP_SETPCAP (the kernel checks it before the number): nothing can be dropped,
            // and nothing depends on it.
            libc::EPERM if cap == 0 => return Ok(()),
            errno => return Err((BOUNDING, errno)),
        }
    }
    Ok(())
}

/// Clears the ambient set, then the effective, permitted and inheritable sets.
fn clear_capabilities() -> Result<(), (i32, i32)> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    // EINVAL: a kernel before 4.3, which has no ambient set; the capset below empties the
    // permitted and inheritable sets, and with them anything that could be ambient.
    if rc != 0 && Errno::last_raw() != libc::EINVAL {
        return Err((AMBIENT, Errno::last_raw()));
    }
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let empty = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: `header` and the two-element `empty` array are live, correctly laid out
    // (repr(C), as <linux/capability.h>) for version 3, and only read by the kernel; pid 0 is
    // the calling thread.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, empty.as_ptr()) };
    check(CAPS, rc)
}
