//! `--user USER[:GROUP]`: resolving names to ids from `/etc/passwd` and `/etc/group` directly.
//!
//! A static musl binary has no NSS, and a container's users live in these two files anyway, so
//! rein reads them itself. The supplementary groups are the groups that list the user as a
//! member, plus the primary group, which is what initgroups(3) gives a login.

use std::ffi::OsString;
use std::fs;

use nix::unistd::{Gid, Uid};

use crate::credentials::Credentials;

/// A resolved `--user`: the credentials, and the account's passwd entry when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What the child runs as.
    pub credentials: Credentials,
    /// `(name, home)` from `/etc/passwd`, used for USER, LOGNAME and HOME.
    pub account: Option<(String, String)>,
}

/// One `/etc/passwd` line's fields that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

fn parse_passwd(text: &str) -> Vec<Passwd> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(Passwd {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

/// `(name, gid, members)` per `/etc/group` line.
fn parse_group(text: &str) -> Vec<(String, u32, Vec<String>)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            let members = f[3]
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            Some((f[0].to_string(), f[2].parse().ok()?, members))
        })
        .collect()
}

fn numeric(s: &str) -> Option<u32> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Resolves `user[:group]` against the given file contents (`None` = file missing).
pub fn resolve_in(
    user: &str,
    group: Option<&str>,
    passwd: Option<&str>,
    groups: Option<&str>,
) -> Result<Resolved, String> {
    let pw = parse_passwd(passwd.unwrap_or(""));
    let gr = parse_group(groups.unwrap_or(""));
    let entry = match numeric(user) {
        Some(uid) => pw.iter().find(|p| p.uid == uid).cloned(),
        None => Some(
            pw.iter()
                .find(|p| p.name == user)
                .cloned()
                .ok_or_else(|| format!("unknown user '{user}' (not in /etc/passwd)"))?,
        ),
    };
    let uid = entry
        .as_ref()
        .map(|e| e.uid)
        .or_else(|| numeric(user))
        .unwrap_or(0);
    let gid = match group {
        Some(g) => match numeric(g) {
            Some(gid) => gid,
            None => gr
                .iter()
                .find(|(n, _, _)| n == g)
                .map(|(_, id, _)| *id)
                .ok_or_else(|| format!("unknown group '{g}' (not in /etc/group)"))?,
        },
        // A numeric user with no passwd entry gets its own number as group, never root's.
        None => entry.as_ref().map_or(uid, |e| e.gid),
    };
    let mut sup: Vec<u32> = Vec::new();
    if let Some(e) = &entry {
        sup.push(e.gid);
        for (_, id, members) in &gr {
            if members.contains(&e.name) && !sup.contains(id) {
                sup.push(*id);
            }
        }
    }
    Ok(Resolved {
        credentials: Credentials {
            uid: Uid::from_raw(uid),
            gid: Gid::from_raw(gid),
            groups: sup.into_iter().map(Gid::from_raw).collect(),
        },
        account: entry.map(|e| (e.name, e.home)),
    })
}

/// Resolves `user[:group]` from this system's `/etc/passwd` and `/etc/group`.
pub fn resolve(user: &str, group: Option<&str>) -> Result<Resolved, String> {
    let passwd = fs::read_to_string("/etc/passwd").ok();
    let groups = fs::read_to_string("/etc/group").ok();
    resolve_in(user, group, passwd.as_deref(), groups.as_deref())
}

/// Adds HOME, USER and LOGNAME for the account to `env` (`KEY=VALUE` entries), each only if
/// not already set. A numeric user without an account gets `HOME=/` (as Docker does).
pub fn add_account_env(env: &mut Vec<OsString>, account: Option<&(String, String)>) {
    let has = |env: &Vec<OsString>, key: &str| {
        env.iter().any(|e| {
            e.as_encoded_bytes()
                .starts_with(format!("{key}=").as_bytes())
        })
    };
    let (home, name) = match account {
        Some((name, home)) => (
            if home.is_empty() { "/" } else { home.as_str() },
            Some(name.as_str()),
        ),
        None => ("/", None),
    };
    let mut add = |key: &str, value: &str| {
        if !has(env, key) {
            env.push(OsString::from(format!("{key}={value}")));
        }
    };
    add("HOME", home);
    if let Some(name) = name {
        add("USER", name);
        add("LOGNAME", name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\nbroken line\nweb:x:33:33::/var/www:/bin/false\n";
    const GROUP: &str =
        "root:x:0:\napp:x:1000:\nstaff:x:50:app,web\naudio:x:29:web\ndocker:x:999: app \n";

    fn gids(v: &[u32]) -> Vec<Gid> {
        v.iter().map(|&g| Gid::from_raw(g)).collect()
    }

    #[test]
    fn a_name_gets_its_ids_home_and_exactly_its_groups() {
        let r = resolve_in("app", None, Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(r.credentials.uid, Uid::from_raw(1000));
        assert_eq!(r.credentials.gid, Gid::from_raw(1000));
        assert_eq!(r.credentials.groups, gids(&[1000, 50, 999]));
        assert_eq!(r.account, Some(("app".into(), "/home/app".into())));
    }

    #[test]
    fn an_explicit_group_replaces_the_primary_one() {
        let r = resolve_in("web", Some("staff"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (r.credentials.uid.as_raw(), r.credentials.gid.as_raw()),
            (33, 50)
        );
        assert_eq!(r.credentials.groups, gids(&[33, 50, 29]));
        let r = resolve_in("33", Some("7"), Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(r.credentials.gid, Gid::from_raw(7));
    }

    #[test]
    fn an_unknown_number_runs_with_its_own_number_as_group_and_no_extras() {
        let r = resolve_in("4242", None, Some(PASSWD), Some(GROUP)).unwrap();
        assert_eq!(
            (r.credentials.uid.as_raw(), r.credentials.gid.as_raw()),
            (4242, 4242)
        );
        assert!(r.credentials.groups.is_empty());
        assert_eq!(r.account, None);
        let r = resolve_in("5", None, None, None).unwrap();
        assert_eq!(r.credentials.uid, Uid::from_raw(5));
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        assert!(
            resolve_in("nosuch", None, Some(PASSWD), Some(GROUP))
                .unwrap_err()
                .contains("'nosuch'")
        );
        assert!(
            resolve_in("app", Some("nogrp"), Some(PASSWD), Some(GROUP))
                .unwrap_err()
                .contains("'nogrp'")
        );
        assert!(resolve_in("app", None, None, None).is_err());
    }

    #[test]
    fn account_variables_are_added_only_when_missing() {
        let mut env = vec![OsString::from("HOME=/custom"), OsString::from("PATH=/bin")];
        add_account_env(&mut env, Some(&("app".into(), "/home/app".into())));
        assert_eq!(
            env,
            vec!["HOME=/custom", "PATH=/bin", "USER=app", "LOGNAME=app"]
        );
        let mut env = vec![];
        add_account_env(&mut env, None);
        assert_eq!(env, vec!["HOME=/"]);
    }
}
