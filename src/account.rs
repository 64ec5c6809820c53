//! `--user USER[:GROUP]`: resolving names to ids from `/etc/passwd` and `/etc/group` directly,
//! and the account variables (HOME, USER, LOGNAME) the child gets.
//!
//! A static musl binary has no NSS, and a container's users live in these two files anyway, so
//! rein reads them itself, as bytes: nothing in passwd(5) or group(5) says UTF-8, and one
//! Latin-1 GECOS field or member name must not hide an entry. Names are compared byte for byte
//! and the home directory is passed on as the bytes it is.
//!
//! The groups follow runc, gosu and su-exec: a bare USER gets what initgroups(3) gives a login
//! (the primary group, then every group that lists the user); `USER:GROUP` gets GROUP as its
//! primary and only group, because naming a group is asking for that one.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::unistd::{Gid, Uid};

use crate::credentials::Credentials;
use crate::environ::Entry;

/// The target account's passwd entry, for USER, LOGNAME and HOME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The login name, as its bytes in `/etc/passwd`.
    pub name: OsString,
    /// The home directory, as its bytes in `/etc/passwd` (may be empty).
    pub home: OsString,
}

/// A resolved `--user`: the credentials, and the account's passwd entry when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What the child runs as.
    pub credentials: Credentials,
    /// The passwd entry, `None` for a numeric user that has none.
    pub account: Option<Account>,
}

/// The fields of one `/etc/passwd` line that matter here, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy)]
struct Passwd<'a> {
    name: &'a [u8],
    uid: u32,
    gid: u32,
    home: &'a [u8],
}

/// The fields of one `/etc/group` line that matter here.
#[derive(Debug, Clone, Copy)]
struct Group<'a> {
    name: &'a [u8],
    gid: u32,
    members: &'a [u8],
}

/// `(uid_t)-1` and `(gid_t)-1`: not an id but "leave unchanged" to setresuid(2) and
/// setresgid(2), so it is never accepted as a user or a group.
const NO_ID: u32 = u32::MAX;

/// What a user or group field holds: a number, or a name to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec<'a> {
    Id(u32),
    /// All digits, but too large for an id or `(uid_t)-1`.
    BadId,
    Name(&'a [u8]),
}

fn spec(s: &[u8]) -> Spec<'_> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return Spec::Name(s);
    }
    match id(s) {
        Some(n) => Spec::Id(n),
        None => Spec::BadId,
    }
}

/// A decimal id field: ASCII digits only, within `u32`, and not [`NO_ID`].
fn id(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    (n != NO_ID).then_some(n)
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
}

/// `name:password:uid:gid:gecos:home:shell`. The shell is the rest of the line; a line with
/// fewer fields or an id that is not a number is skipped, as the C library skips it.
fn passwd_line(line: &[u8]) -> Option<Passwd<'_>> {
    let mut f = line.splitn(7, |&b| b == b':');
    let name = f.next()?;
    let _password = f.next()?;
    let uid = id(f.next()?)?;
    let gid = id(f.next()?)?;
    let _gecos = f.next()?;
    let home = f.next()?;
    let _shell = f.next()?;
    Some(Passwd {
        name,
        uid,
        gid,
        home,
    })
}

/// `name:password:gid:member,member,...`; the member list is the rest of the line.
fn group_line(line: &[u8]) -> Option<Group<'_>> {
    let mut f = line.splitn(4, |&b| b == b':');
    let name = f.next()?;
    let _password = f.next()?;
    let gid = id(f.next()?)?;
    let members = f.next()?;
    Some(Group { name, gid, members })
}

fn passwd_entries(text: &[u8]) -> impl Iterator<Item = Passwd<'_>> {
    lines(text).filter_map(passwd_line)
}

fn group_entries(text: &[u8]) -> impl Iterator<Item = Group<'_>> {
    lines(text).filter_map(group_line)
}

/// Whether `members` (comma-separated, blanks around a name ignored, a trailing `\r` too)
/// lists `name`.
fn lists(members: &[u8], name: &[u8]) -> bool {
    members
        .split(|&b| b == b',')
        .any(|m| m.trim_ascii() == name)
}

/// What initgroups(3) gives `name`: `primary` first, then every group that lists `name`, each
/// once, in file order.
fn initgroups(name: &[u8], primary: u32, groups: &[u8]) -> Vec<u32> {
    let mut all = vec![primary];
    for g in group_entries(groups) {
        if lists(g.members, name) && !all.contains(&g.gid) {
            all.push(g.gid);
        }
    }
    all
}

fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Resolves `user[:group]` against the given file contents (`None` = file missing).
///
/// A name is looked up byte for byte (the first entry wins, as getpwnam(3)); a number is taken
/// as an id, with its passwd entry if one has that uid (as getpwuid(3)). A numeric user
/// without an entry gets its own number as its group, never root's, and no other group.
pub fn resolve_in(
    user: &[u8],
    group: Option<&[u8]>,
    passwd: Option<&[u8]>,
    groups: Option<&[u8]>,
) -> Result<Resolved, String> {
    let passwd = passwd.unwrap_or_default();
    let groups = groups.unwrap_or_default();
    let (uid, entry) = match spec(user) {
        Spec::Id(uid) => (uid, passwd_entries(passwd).find(|p| p.uid == uid)),
        Spec::BadId => return Err(format!("invalid user id '{}'", shown(user))),
        Spec::Name(name) => {
            let p = passwd_entries(passwd)
                .find(|p| p.name == name)
                .ok_or_else(|| format!("unknown user '{}' (not in /etc/passwd)", shown(name)))?;
            (p.uid, Some(p))
        }
    };
    let (gid, supplementary) = match group {
        Some(g) => {
            let gid = match spec(g) {
                Spec::Id(gid) => gid,
                Spec::BadId => return Err(format!("invalid group id '{}'", shown(g))),
                Spec::Name(name) => group_entries(groups)
                    .find(|e| e.name == name)
                    .map(|e| e.gid)
                    .ok_or_else(|| {
                        format!("unknown group '{}' (not in /etc/group)", shown(name))
                    })?,
            };
            (gid, vec![gid])
        }
        None => match &entry {
            Some(e) => (e.gid, initgroups(e.name, e.gid, groups)),
            None => (uid, Vec::new()),
        },
    };
    Ok(Resolved {
        credentials: Credentials::new(
            Uid::from_raw(uid),
            Gid::from_raw(gid),
            supplementary.into_iter().map(Gid::from_raw),
        ),
        account: entry.map(|e| Account {
            name: OsString::from_vec(e.name.to_vec()),
            home: OsString::from_vec(e.home.to_vec()),
        }),
    })
}

/// Resolves `user[:group]` from this system's `/etc/passwd` and `/etc/group`.
pub fn resolve(user: &str, group: Option<&str>) -> Result<Resolved, String> {
    let passwd = fs::read("/etc/passwd").ok();
    let groups = fs::read("/etc/group").ok();
    resolve_in(
        user.as_bytes(),
        group.map(str::as_bytes),
        passwd.as_deref(),
        groups.as_deref(),
    )
}

/// Sets HOME, USER and LOGNAME in `env` (`KEY=VALUE` entries) to the target account's, as
/// su(1), gosu and su-exec do: the caller's values name the caller (Docker sets `HOME=/root` in
/// every root container), never the user the child runs as. An empty home is `/`. Without an
/// account (a numeric user with no entry), HOME is `/` and USER and LOGNAME are removed.
///
/// Each variable takes the place of the caller's first entry for it, and later duplicates go
/// (a program reading the last one must not see the caller's); a variable the caller did not
/// set is appended. Every other entry stays as it was, byte for byte and in order.
pub fn set_account_env(env: &mut Vec<Entry<'_>>, account: Option<&Account>) {
    let home = match account {
        Some(a) if !a.home.is_empty() => a.home.as_bytes(),
        _ => b"/",
    };
    let name = account.map(|a| a.name.as_bytes());
    set_var(env, b"HOME", Some(home));
    set_var(env, b"USER", name);
    set_var(env, b"LOGNAME", name);
}

/// Makes `key` appear once with `value` (or not at all for `None`), where it first was.
fn set_var(env: &mut Vec<Entry<'_>>, key: &[u8], value: Option<&[u8]>) {
    let mut entry = value.map(|v| {
        let mut e = Vec::with_capacity(key.len() + 1 + v.len());
        e.extend_from_slice(key);
        e.push(b'=');
        e.extend_from_slice(v);
        Entry::Set(e)
    });
    let mut seen = false;
    env.retain_mut(|e| {
        let is_key = e
            .bytes()
            .strip_prefix(key)
            .is_some_and(|rest| rest.first() == Some(&b'='));
        if !is_key {
            return true;
        }
        if seen {
            return false;
        }
        seen = true;
        match entry.take() {
            Some(new) => {
                *e = new;
                true
            }
            None => false,
        }
    });
    // Still here only if the caller had no entry for `key`.
    if let Some(new) = entry {
        env.push(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\nbroken line\nweb:x:33:33::/var/www:/bin/false\n";
    const GROUP: &[u8] =
        b"root:x:0:\napp:x:1000:\nstaff:x:50:app,web\naudio:x:29:web\ndocker:x:999: app \r\n";

    fn account(name: &str, home: &[u8]) -> Account {
        Account {
            name: name.into(),
            home: OsString::from_vec(home.to_vec()),
        }
    }

    #[test]
    fn a_name_gets_its_ids_home_and_the_initgroups_set() {
        let r = resolve_in(b"app", None, Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(r.credentials.uid(), Uid::from_raw(1000));
        assert_eq!(r.credentials.gid(), Gid::from_raw(1000));
        assert_eq!(r.credentials.groups(), [1000, 50, 999]);
        assert_eq!(r.account, Some(account("app", b"/home/app")));
    }

    #[test]
    fn a_named_group_is_the_primary_and_the_only_group() {
        let r = resolve_in(b"web", Some(b"staff"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (r.credentials.uid().as_raw(), r.credentials.gid().as_raw()),
            (33, 50)
        );
        assert_eq!(r.credentials.groups(), [50]);
        let r = resolve_in(b"33", Some(b"7"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(r.credentials.gid(), Gid::from_raw(7));
        assert_eq!(r.credentials.groups(), [7]);
        assert_eq!(r.account, Some(account("web", b"/var/www")));
    }

    #[test]
    fn an_unknown_number_runs_with_its_own_number_as_group_and_no_extras() {
        let r = resolve_in(b"4242", None, Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (r.credentials.uid().as_raw(), r.credentials.gid().as_raw()),
            (4242, 4242)
        );
        assert!(r.credentials.groups().is_empty());
        assert_eq!(r.account, None);
        let r = resolve_in(b"5", None, None, None).unwrap();
        assert_eq!(r.credentials.uid(), Uid::from_raw(5));
    }

    #[test]
    fn unknown_names_and_impossible_ids_are_errors_naming_them() {
        let err = |u: &[u8], g: Option<&[u8]>| resolve_in(u, g, Some(PASSWD), Some(GROUP));
        assert!(err(b"nosuch", None).unwrap_err().contains("'nosuch'"));
        assert!(err(b"app", Some(b"nogrp")).unwrap_err().contains("'nogrp'"));
        assert!(resolve_in(b"app", None, None, None).is_err());
        // (uid_t)-1 would tell setresuid to change nothing.
        for bad in [&b"4294967295"[..], b"4294967296", b"99999999999999999999"] {
            assert!(err(bad, None).unwrap_err().contains("invalid user id"));
            assert!(
                err(b"app", Some(bad))
                    .unwrap_err()
                    .contains("invalid group id")
            );
        }
        assert!(err(b"4294967294", None).is_ok());
    }

    #[test]
    fn non_utf8_bytes_hide_nothing_and_names_compare_as_bytes() {
        let passwd = b"j\xfcrgen:x:7:7:J\xfcrgen:/home/j\xfcrgen:/bin/sh\napp:x:1000:1000:\xe9:/h\xe9:/bin/sh\n";
        let group = b"caf\xe9:x:60:app\nlatin:x:61:j\xfcrgen,app\nother:x:62:jurgen\n";
        let r = resolve_in(b"app", None, Some(passwd), Some(group)).unwrap();
        assert_eq!(r.credentials.groups(), [1000, 60, 61]);
        assert_eq!(r.account, Some(account("app", b"/h\xe9")));
        let r = resolve_in(b"j\xfcrgen", None, Some(passwd), Some(group)).unwrap();
        assert_eq!(r.credentials.groups(), [7, 61]);
        assert!(resolve_in(b"jurgen", None, Some(passwd), Some(group)).is_err());
        let r = resolve_in(b"app", Some(b"caf\xe9"), Some(passwd), Some(group)).unwrap();
        assert_eq!(r.credentials.gid(), Gid::from_raw(60));
    }

    #[test]
    fn the_first_entry_wins_and_malformed_lines_are_skipped() {
        let passwd = b"app:x:1:1::/one:/bin/sh\napp:x:2:2::/two:/bin/sh\nshort:x:3:3:\nneg:x:-1:0::/:\nbig:x:4294967295:0::/:\nsh:x:4:4::/s:/bin/a:b\n";
        assert_eq!(
            resolve_in(b"app", None, Some(passwd), None)
                .unwrap()
                .credentials
                .uid(),
            Uid::from_raw(1)
        );
        for skipped in [&b"short"[..], b"neg", b"big"] {
            assert!(resolve_in(skipped, None, Some(passwd), None).is_err());
        }
        // The shell is the rest of the line, colons and all.
        assert!(resolve_in(b"sh", None, Some(passwd), None).is_ok());
        let r = resolve_in(b"2", None, Some(passwd), None).unwrap();
        assert_eq!(r.account, Some(account("app", b"/two")));
    }

    fn env(entries: &[&[u8]]) -> Vec<Entry<'static>> {
        entries.iter().map(|e| Entry::Set(e.to_vec())).collect()
    }

    #[test]
    fn account_variables_replace_the_callers_in_place() {
        let mut e = env(&[
            b"HOME=/root",
            b"PATH=/bin",
            b"USER=root",
            b"HOMEX=1",
            b"HOME",
            b"X=\xff",
            b"HOME=/again",
        ]);
        set_account_env(&mut e, Some(&account("app", b"/home/\xe9")));
        assert_eq!(
            e,
            env(&[
                b"HOME=/home/\xe9",
                b"PATH=/bin",
                b"USER=app",
                b"HOMEX=1",
                b"HOME",
                b"X=\xff",
                b"LOGNAME=app",
            ])
        );
    }

    #[test]
    fn without_an_account_home_is_root_dir_and_no_name_is_left() {
        let mut e = env(&[b"USER=root", b"HOME=/root", b"LOGNAME=root", b"A=1"]);
        set_account_env(&mut e, None);
        assert_eq!(e, env(&[b"HOME=/", b"A=1"]));
        let mut e = vec![];
        set_account_env(&mut e, Some(&account("web", b"")));
        assert_eq!(e, env(&[b"HOME=/", b"USER=web", b"LOGNAME=web"]));
    }
}
