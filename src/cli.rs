//! The command line and its `REIN_*` environment twins, parsed into a [`Config`].
//!
//! Option parsing stops at the first argument that is not an option (or after `--`), so
//! `rein prog -x` hands `-x` to `prog`; tini and catatonit need `--` for that. Arguments stay
//! `OsString` from `argv` to `execvp`, so bytes that are not UTF-8 reach the program unchanged.
//! The environment is passed in as a function, which keeps the tests free of `set_var`.
//!
//! What the options are lives in `options.rs`; here each is applied by one arm of an
//! exhaustive `match` (`apply`), and combinations that cannot apply are refused, never
//! silently ignored (`check_combination`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::options::{self, Key, Needs, OPTIONS, Opt};
use crate::signals;
use crate::values;

/// Default for `--grace`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Everything rein was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// PROGRAM and its ARGS; empty in pause mode.
    pub command: Vec<OsString>,
    /// `--pause`: run no child, only hold the namespace and reap.
    pub pause: bool,
    /// `--single-child`: forward to the main child's pid, not its process group.
    pub single_child: bool,
    /// `--grace`: how long leftovers get between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// `--kill-after`: SIGKILL the group this long after forwarding a stopping signal.
    pub kill_after: Option<Duration>,
    /// `--timeout`: stop the main child after this long.
    pub timeout: Option<Duration>,
    /// `--timeout-signal`: what `--timeout` sends first.
    pub timeout_signal: i32,
    /// `--rewrite`: index = received signal; `Some(Some(to))` rewrite, `Some(None)` drop.
    pub rewrites: Vec<(i32, Option<i32>)>,
    /// `--exit-zero`: child exit codes reported as 0.
    pub exit_zero: Vec<u8>,
    /// `--exit-zero-on-stop`.
    pub exit_zero_on_stop: bool,
    /// `--pdeathsig`: the signal rein acts on when its parent dies.
    pub pdeathsig: Option<i32>,
    /// `--user`: `(user, group)` to run the main child as.
    pub user: Option<(String, Option<String>)>,
    /// `--status-file`.
    pub status_file: Option<PathBuf>,
    /// `--adopt`: a main child that exits 0 leaves its descendants in rein's care (adopt.rs).
    pub adopt: bool,
    /// `--pid-file`: with `--adopt`, the file naming the daemon to follow as the main process.
    pub pid_file: Option<PathBuf>,
    /// `--stop-delay`: how long the first stopping signal is held before it is forwarded.
    pub stop_delay: Option<Duration>,
    /// Number of `-v`.
    pub verbosity: u8,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            command: Vec::new(),
            pause: false,
            single_child: false,
            grace: DEFAULT_GRACE,
            kill_after: None,
            timeout: None,
            timeout_signal: signals::num::TERM,
            rewrites: Vec::new(),
            exit_zero: Vec::new(),
            exit_zero_on_stop: false,
            pdeathsig: None,
            user: None,
            status_file: None,
            adopt: false,
            pid_file: None,
            stop_delay: None,
            verbosity: 0,
        }
    }
}

impl Config {
    /// What rein forwards when it receives `sig`, after `--rewrite`: `None` means drop it.
    pub fn rewrite(&self, sig: i32) -> Option<i32> {
        self.rewrites
            .iter()
            .rev()
            .find(|(from, _)| *from == sig)
            .map_or(Some(sig), |(_, to)| *to)
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run (a program, or pause mode).
    Run(Box<Config>),
    /// `-h`/`--help`.
    Help,
    /// `-V`/`--version`.
    Version,
}

/// Parses `args` (without `argv[0]`) and the `REIN_*` variables read through `env`. A flag wins
/// over its variable; for repeatable options, any flag replaces the whole variable list. A
/// combination of options that cannot apply is an error, like a bad value. An error is one
/// line: control characters of the input it quotes are escaped.
///
/// PROGRAM and ARGS (`Config::command`) are always the last words of `args`, unchanged, so
/// the caller may hand its own argv array to `execve` from there.
pub fn parse<I, E>(args: I, env: E) -> Result<Parsed, String>
where
    I: IntoIterator<Item: AsRef<OsStr>>,
    E: Fn(&str) -> Option<OsString>,
{
    parse_lines(args, env).map_err(|e| one_line(&e))
}

/// `text` with every control character (a newline in a quoted value) escaped as `\n`, `\u{1b}`.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_lines<I, E>(args: I, env: E) -> Result<Parsed, String>
where
    I: IntoIterator<Item: AsRef<OsStr>>,
    E: Fn(&str) -> Option<OsString>,
{
    let (given, command) = scan(args)?;
    if given.iter().any(|(o, _)| o.key == Key::Help) {
        return Ok(Parsed::Help);
    }
    if given.iter().any(|(o, _)| o.key == Key::Version) {
        return Ok(Parsed::Version);
    }

    let mut cfg = Config {
        command,
        ..Config::default()
    };
    // Where each option that is on came from, for messages about combinations.
    let mut origins: Vec<(Key, String)> = Vec::new();
    for opt in OPTIONS {
        for (value, origin) in sources(opt, &given, &env)? {
            if apply(&mut cfg, opt.key, &value).map_err(|e| format!("{e} (from {origin})"))? {
                origins.retain(|(k, _)| *k != opt.key);
                origins.push((opt.key, origin));
            }
        }
    }
    check_combination(&cfg, &origins)?;
    Ok(Parsed::Run(Box::new(cfg)))
}

/// The options given, each with its value, and the command that follows them.
type Scanned = (Vec<(&'static Opt, Option<OsString>)>, Vec<OsString>);

/// Splits `args` into options and the command: scanning stops at the first word that is not
/// an option, or after `--`. Short options cluster (`-cvt2s`), a long one takes `--x=v`.
/// Words are borrowed: only values and the command are copied.
fn scan<I: IntoIterator<Item: AsRef<OsStr>>>(args: I) -> Result<Scanned, String> {
    let mut given = Vec::new();
    let mut args = args.into_iter();
    let owned = |a: I::Item| a.as_ref().to_os_string();
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        let bytes = arg.as_ref().as_bytes();
        if bytes == b"--" {
            break;
        }
        if let Some(long) = bytes.strip_prefix(b"--") {
            let (name, inline) = match long.iter().position(|&b| b == b'=') {
                Some(i) => (
                    &long[..i],
                    Some(OsStr::from_bytes(&long[i + 1..]).to_os_string()),
                ),
                None => (long, None),
            };
            let opt = OPTIONS
                .iter()
                .find(|o| o.long.as_bytes() == name)
                .ok_or_else(|| format!("unknown option '--{}'", String::from_utf8_lossy(name)))?;
            let value = match (opt.value.is_some(), inline) {
                (true, Some(v)) => Some(v),
                (true, None) => Some(
                    args.next()
                        .map(owned)
                        .ok_or_else(|| format!("option '--{}' needs a value", opt.long))?,
                ),
                (false, Some(_)) => return Err(format!("option '--{}' takes no value", opt.long)),
                (false, None) => None,
            };
            given.push((opt, value));
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            let mut i = 1;
            while i < bytes.len() {
                let c = bytes[i];
                let opt = OPTIONS.iter().find(|o| o.short == Some(c)).ok_or_else(|| {
                    format!(
                        "unknown option '-{}'",
                        String::from_utf8_lossy(&bytes[i..=i])
                    )
                })?;
                if opt.value.is_some() {
                    let rest = &bytes[i + 1..];
                    let value = if rest.is_empty() {
                        args.next()
                            .map(owned)
                            .ok_or_else(|| format!("option '-{}' needs a value", char::from(c)))?
                    } else {
                        OsStr::from_bytes(rest).to_os_string()
                    };
                    given.push((opt, Some(value)));
                    break;
                }
                given.push((opt, None));
                i += 1;
            }
        } else {
            command.push(owned(arg));
            break;
        }
    }
    command.extend(args.map(owned));
    Ok((given, command))
}

/// The values of `opt` to apply, each with where it came from: every flag, or else its
/// variable (split at commas for a repeatable option). A flag without a value counts as `1`.
fn sources<E>(
    opt: &'static Opt,
    given: &[(&'static Opt, Option<OsString>)],
    env: &E,
) -> Result<Vec<(String, String)>, String>
where
    E: Fn(&str) -> Option<OsString>,
{
    let flags: Vec<&Option<OsString>> = given
        .iter()
        .filter(|(o, _)| std::ptr::eq(*o, opt))
        .map(|(_, v)| v)
        .collect();
    if !flags.is_empty() {
        let flag = opt.flag();
        return flags
            .iter()
            .map(|v| match v {
                Some(v) => Ok((utf8(v, &flag)?, format!("{flag} {}", v.to_string_lossy()))),
                None => Ok((String::from("1"), flag.clone())),
            })
            .collect();
    }
    let Some(var) = opt.env else {
        return Ok(Vec::new());
    };
    match env(var) {
        Some(v) if !v.is_empty() => {
            let text = utf8(&v, var)?;
            let origin = format!("{var}={text}");
            Ok(if opt.repeatable {
                text.split(',')
                    .map(|p| (p.trim().to_string(), origin.clone()))
                    .collect()
            } else {
                vec![(text, origin)]
            })
        }
        _ => Ok(Vec::new()),
    }
}

/// Option values other than the program are text: names, numbers, paths we print.
fn utf8(v: &OsStr, what: &str) -> Result<String, String> {
    v.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the value of {what} is not valid UTF-8"))
}

fn boolean(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("invalid boolean '{v}' (expected 1 or 0)")),
    }
}

/// Applies one value of option `key` to `cfg`. Returns whether the option is now on (false
/// only for a flag turned off with `0`), which decides whether its combinations are checked.
fn apply(cfg: &mut Config, key: Key, v: &str) -> Result<bool, String> {
    match key {
        Key::SingleChild => cfg.single_child = boolean(v)?,
        Key::Grace => cfg.grace = values::parse_duration(v)?,
        Key::KillAfter => cfg.kill_after = Some(values::parse_duration(v)?),
        Key::Timeout => cfg.timeout = Some(values::parse_timeout(v)?),
        Key::TimeoutSignal => cfg.timeout_signal = signals::parse_signal(v)?,
        Key::Rewrite => cfg.rewrites.push(values::parse_rewrite(v)?),
        Key::ExitZero => cfg.exit_zero.push(values::parse_exit_code(v)?),
        Key::ExitZeroOnStop => cfg.exit_zero_on_stop = boolean(v)?,
        Key::Pdeathsig => cfg.pdeathsig = Some(values::parse_pdeathsig(v)?),
        Key::Pause => cfg.pause = boolean(v)?,
        Key::User => cfg.user = Some(values::parse_user_spec(v)?),
        Key::StatusFile if v.is_empty() => return Err(String::from("empty status-file path")),
        Key::StatusFile => cfg.status_file = Some(PathBuf::from(v)),
        Key::Adopt => cfg.adopt = boolean(v)?,
        Key::PidFile if v.is_empty() => return Err(String::from("empty pid-file path")),
        Key::PidFile => cfg.pid_file = Some(PathBuf::from(v)),
        Key::StopDelay => {
            let d = values::parse_duration(v)?;
            cfg.stop_delay = (!d.is_zero()).then_some(d);
        }
        Key::Verbose => cfg.verbosity = cfg.verbosity.saturating_add(1),
        // Answered before any option is applied (see `parse`).
        Key::Help | Key::Version => {}
    }
    Ok(match key {
        Key::SingleChild | Key::ExitZeroOnStop | Key::Pause | Key::Adopt => boolean(v)?,
        _ => true,
    })
}

/// Refuses what cannot apply together: a PROGRAM with `--pause` or none without it, an
/// option about the main child with `--pause`, `--timeout-signal` without `--timeout`, and a
/// `--pdeathsig` signal that `--rewrite` drops.
fn check_combination(cfg: &Config, origins: &[(Key, String)]) -> Result<(), String> {
    if cfg.pause && !cfg.command.is_empty() {
        return Err(String::from(
            "--pause runs no PROGRAM; remove the PROGRAM or the --pause",
        ));
    }
    if !cfg.pause && cfg.command.is_empty() {
        return Err(String::from("no PROGRAM given"));
    }
    let on = |key: Key| origins.iter().any(|(k, _)| *k == key);
    for (key, origin) in origins {
        let o = options::opt(*key);
        match o.needs {
            Needs::Nothing => {}
            Needs::Program | Needs::Timeout | Needs::Adopt if cfg.pause => {
                return Err(format!(
                    "{} cannot apply with --pause, which runs no PROGRAM (from {origin})",
                    o.flag()
                ));
            }
            Needs::Timeout if !on(Key::Timeout) => {
                return Err(format!(
                    "{} has no effect without --timeout (from {origin})",
                    o.flag()
                ));
            }
            Needs::Adopt if !on(Key::Adopt) => {
                return Err(format!(
                    "{} names a daemon to follow after the main child exits, which needs --adopt (REIN_ADOPT=1) (from {origin})",
                    o.flag()
                ));
            }
            Needs::Program | Needs::Timeout | Needs::Adopt => {}
        }
    }
    // The delay counts toward --kill-after: a SIGKILL due before the held signal goes out
    // would kill the program without ever letting it see that signal.
    if let (Some(delay), Some(kill)) = (cfg.stop_delay, cfg.kill_after)
        && delay >= kill
    {
        return Err(format!(
            "--stop-delay ({delay:?}) must be shorter than --kill-after ({kill:?}), which counts from the signal's arrival"
        ));
    }
    if let Some(sig) = cfg.pdeathsig
        && cfg.rewrite(sig).is_none()
    {
        let origin = origins
            .iter()
            .find(|(k, _)| *k == Key::Rewrite)
            .map_or("", |(_, o)| o.as_str());
        return Err(format!(
            "--pdeathsig {} would be dropped by --rewrite, so a dying parent would change nothing (from {origin})",
            signals::name(sig)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn run(args: &[&str]) -> Result<Config, String> {
        run_env(args, &[])
    }

    fn run_env(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match parse(os(args), |k| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| OsString::from(v))
        })? {
            Parsed::Run(c) => Ok(*c),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn parsing_stops_at_the_first_non_option() {
        let c = run(&["-v", "prog", "-x", "--grace", "1"]).unwrap();
        assert_eq!(c.command, os(&["prog", "-x", "--grace", "1"]));
        assert_eq!(c.verbosity, 1);
        assert_eq!(c.grace, DEFAULT_GRACE);
    }

    #[test]
    fn double_dash_ends_options_even_before_a_dash_program() {
        let c = run(&["--", "-weird", "--help"]).unwrap();
        assert_eq!(c.command, os(&["-weird", "--help"]));
    }

    #[test]
    fn non_utf8_arguments_pass_through() {
        use std::os::unix::ffi::OsStringExt;
        let raw = OsString::from_vec(vec![0xff, b'a', 0xfe]);
        let got = parse(
            vec![OsString::from("echo"), raw.clone(), OsString::new()],
            |_| None,
        )
        .unwrap();
        assert_eq!(
            got,
            Parsed::Run(Box::new(Config {
                command: vec!["echo".into(), raw, OsString::new()],
                ..Config::default()
            }))
        );
    }

    #[test]
    fn short_clusters_and_attached_values() {
        let c = run(&["-cvv", "-t2s", "-k", "500ms", "x"]).unwrap();
        assert!(c.single_child);
        assert_eq!(c.verbosity, 2);
        assert_eq!(c.grace, Duration::from_secs(2));
        assert_eq!(c.kill_after, Some(Duration::from_millis(500)));
    }

    #[test]
    fn long_options_with_equals_or_separate_value() {
        let c = run(&["--grace=0", "--timeout", "1m", "--timeout-signal=KILL", "x"]).unwrap();
        assert_eq!(c.grace, Duration::ZERO);
        assert_eq!(c.timeout, Some(Duration::from_secs(60)));
        assert_eq!(c.timeout_signal, 9);
    }

    #[test]
    fn every_option_reads_its_environment_twin() {
        let c = run_env(
            &["x"],
            &[
                ("REIN_SINGLE_CHILD", "1"),
                ("REIN_GRACE", "2s"),
                ("REIN_KILL_AFTER", "3s"),
                ("REIN_TIMEOUT", "4s"),
                ("REIN_TIMEOUT_SIGNAL", "INT"),
                ("REIN_REWRITE", "TERM:QUIT, WINCH:drop"),
                ("REIN_EXIT_ZERO", "143,1"),
                ("REIN_EXIT_ZERO_ON_STOP", "1"),
                ("REIN_PDEATHSIG", "HUP"),
                ("REIN_USER", "app:staff"),
                ("REIN_STATUS_FILE", "/tmp/s.json"),
            ],
        )
        .unwrap();
        assert!(c.single_child && c.exit_zero_on_stop);
        assert_eq!(c.grace, Duration::from_secs(2));
        assert_eq!(c.kill_after, Some(Duration::from_secs(3)));
        assert_eq!(c.timeout, Some(Duration::from_secs(4)));
        assert_eq!(c.timeout_signal, 2);
        assert_eq!(c.rewrites, vec![(15, Some(3)), (28, None)]);
        assert_eq!(c.exit_zero, vec![143, 1]);
        assert_eq!(c.pdeathsig, Some(1));
        assert_eq!(c.user, Some(("app".into(), Some("staff".into()))));
        assert_eq!(c.status_file, Some(PathBuf::from("/tmp/s.json")));
        let p = run_env(&[], &[("REIN_PAUSE", "1")]).unwrap();
        assert!(p.pause);
    }

    #[test]
    fn a_flag_wins_over_its_variable() {
        let c = run_env(
            &["-t", "1s", "-e", "3", "x"],
            &[("REIN_GRACE", "9s"), ("REIN_EXIT_ZERO", "143")],
        )
        .unwrap();
        assert_eq!(c.grace, Duration::from_secs(1));
        assert_eq!(c.exit_zero, vec![3]);
        let c = run_env(&["-c", "x"], &[("REIN_SINGLE_CHILD", "0")]).unwrap();
        assert!(c.single_child);
    }

    #[test]
    fn empty_and_zero_variables_mean_off() {
        let c = run_env(&["x"], &[("REIN_SINGLE_CHILD", "0"), ("REIN_GRACE", "")]).unwrap();
        assert!(!c.single_child);
        assert_eq!(c.grace, DEFAULT_GRACE);
    }

    #[test]
    fn bad_input_names_what_was_wrong() {
        for (args, env, needle) in [
            (&["--grace", "abc", "x"][..], &[][..], "'abc'"),
            (&["--rewrite", "TERM", "x"], &[], "'TERM'"),
            (&["--exit-zero", "300", "x"], &[], "'300'"),
            (&["--bogus", "x"], &[], "'--bogus'"),
            (&["-Z", "x"], &[], "'-Z'"),
            (&["--grace"], &[], "needs a value"),
            (&["--pause=1"], &[], "takes no value"),
            (&[], &[], "no PROGRAM"),
            (&["-P", "x"], &[], "--pause"),
            (&["x"], &[("REIN_GRACE", "zz")], "REIN_GRACE"),
            (&["x"], &[("REIN_PAUSE", "yes please")], "REIN_PAUSE"),
            (&["x"], &[("REIN_REWRITE", "TERM:QUIT,,")], "REIN_REWRITE"),
        ] {
            let e = run_env(args, env).expect_err(needle);
            assert!(e.contains(needle), "{e:?} should mention {needle}");
        }
    }

    #[test]
    fn help_and_version_win_over_everything() {
        assert_eq!(parse(os(&["-h"]), |_| None), Ok(Parsed::Help));
        assert_eq!(
            parse(os(&["-v", "--version"]), |_| None),
            Ok(Parsed::Version)
        );
        assert_eq!(
            parse(os(&["prog", "--help"]), |_| None).map(|p| p == Parsed::Help),
            Ok(false)
        );
    }

    #[test]
    fn the_last_rewrite_of_a_signal_counts() {
        let c = run(&["-r", "TERM:QUIT", "-r", "TERM:INT", "-r", "WINCH:drop", "x"]).unwrap();
        assert_eq!(c.rewrite(15), Some(2));
        assert_eq!(c.rewrite(28), None);
        assert_eq!(c.rewrite(10), Some(10));
    }

    #[test]
    fn every_key_is_parsed_from_its_flag_and_applied() {
        // One value per option that takes one; a flag is given bare. Help and version answer
        // before anything is applied.
        for o in OPTIONS {
            if matches!(o.key, Key::Help | Key::Version) {
                continue;
            }
            let value = match o.key {
                Key::Grace | Key::KillAfter | Key::Timeout => "2s",
                Key::TimeoutSignal | Key::Pdeathsig => "USR1",
                Key::Rewrite => "USR1:USR2",
                Key::ExitZero => "3",
                Key::User => "app",
                Key::StatusFile | Key::PidFile => "/s.json",
                Key::StopDelay => "2s",
                _ => "",
            };
            let mut args = vec![o.flag()];
            if o.value.is_some() {
                args.push(value.to_string());
            }
            if o.key == Key::TimeoutSignal {
                args.extend(["-T".into(), "1s".into()]);
            }
            if o.key == Key::PidFile {
                args.push("--adopt".into());
            }
            if o.key != Key::Pause {
                args.push("x".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let c = run(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_ne!(
                c,
                Config {
                    command: c.command.clone(),
                    ..Config::default()
                },
                "{args:?}"
            );
        }
    }

    #[test]
    fn pause_refuses_every_option_about_the_main_child() {
        for o in OPTIONS.iter().filter(|o| o.needs != Needs::Nothing) {
            let mut args = vec!["--pause".to_string(), o.flag()];
            if o.value.is_some() {
                args.push(
                    match o.key {
                        Key::TimeoutSignal => "INT",
                        Key::Rewrite => "USR1:USR2",
                        Key::User => "app",
                        Key::ExitZero => "3",
                        _ => "1s",
                    }
                    .into(),
                );
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let e = run(&args).expect_err(o.long);
            assert!(e.contains(&o.flag()) && e.contains("--pause"), "{e}");
        }
        // Off is not on: a flag's variable set to 0 is no conflict.
        let c = run_env(&["-P"], &[("REIN_SINGLE_CHILD", "0"), ("REIN_GRACE", "1s")]).unwrap();
        assert!(c.pause && !c.single_child);
        let c = run(&["-P", "-t", "0", "-p", "HUP", "--status-file", "s", "-v"]).unwrap();
        assert_eq!(c.pdeathsig, Some(1));
    }

    #[test]
    fn combinations_that_cannot_apply_name_their_origin() {
        for (args, env, needle) in [
            (
                &["--timeout-signal", "INT", "x"][..],
                &[][..],
                "without --timeout",
            ),
            (
                &["x"],
                &[("REIN_TIMEOUT_SIGNAL", "INT")],
                "REIN_TIMEOUT_SIGNAL=INT",
            ),
            (&["-T", "0", "x"], &[], "--timeout 0"),
            (&["-p", "KILL", "x"], &[], "SIGKILL"),
            (&["-p", "19", "x"], &[], "SIGSTOP"),
            (&["-p", "CLD", "x"], &[], "SIGCHLD"),
            (
                &["-p", "TERM", "-r", "TERM:drop", "x"],
                &[],
                "--rewrite TERM:drop",
            ),
            (
                &["-p", "HUP", "x"],
                &[("REIN_REWRITE", "HUP:0")],
                "REIN_REWRITE=HUP:0",
            ),
            (
                &[],
                &[("REIN_PAUSE", "1"), ("REIN_USER", "app")],
                "REIN_USER=app",
            ),
        ] {
            let e = run_env(args, env).expect_err(needle);
            assert!(e.contains(needle), "{e:?} should mention {needle}");
        }
        // A later rule that forwards the signal again lifts the drop.
        let c = run(&["-p", "TERM", "-r", "TERM:drop", "-r", "TERM:INT", "x"]).unwrap();
        assert_eq!(c.rewrite(15), Some(2));
        let c = run(&["-T", "1s", "--timeout-signal", "KILL", "x"]).unwrap();
        assert_eq!(c.timeout_signal, 9);
    }

    #[test]
    fn an_error_is_one_line_whatever_the_value_holds() {
        let e = run(&["--grace", "1\nrein: fake\x1b[2J", "x"]).unwrap_err();
        assert!(!e.contains('\n') && !e.contains('\x1b'), "{e}");
        assert!(e.contains(r"'1\nrein: fake\u{1b}[2J'"), "{e}");
    }

    #[test]
    fn verbosity_counts_every_v() {
        assert_eq!(run(&["-vv", "--verbose", "-v", "x"]).unwrap().verbosity, 4);
    }

    #[test]
    fn issue12_options_and_their_twins() {
        let c = run(&[
            "--adopt",
            "--pid-file",
            "/run/d.pid",
            "--stop-delay",
            "5s",
            "x",
        ])
        .unwrap();
        assert!(c.adopt);
        assert_eq!(c.pid_file, Some(PathBuf::from("/run/d.pid")));
        assert_eq!(c.stop_delay, Some(Duration::from_secs(5)));
        let c = run_env(
            &["x"],
            &[
                ("REIN_ADOPT", "1"),
                ("REIN_PID_FILE", "d.pid"),
                ("REIN_STOP_DELAY", "250ms"),
            ],
        )
        .unwrap();
        assert!(c.adopt);
        assert_eq!(c.pid_file, Some(PathBuf::from("d.pid")));
        assert_eq!(c.stop_delay, Some(Duration::from_millis(250)));
        // Zero means off, as for every duration that can be off.
        assert_eq!(run(&["--stop-delay", "0", "x"]).unwrap().stop_delay, None);
        // The delay may be anything below --kill-after.
        let c = run(&["--stop-delay", "2s", "-k", "3s", "x"]).unwrap();
        assert_eq!(c.kill_after, Some(Duration::from_secs(3)));
    }

    #[test]
    fn issue12_combinations_that_cannot_work_are_refused() {
        for (args, env, needle) in [
            (&["--pid-file", "/p", "x"][..], &[][..], "needs --adopt"),
            (&["x"], &[("REIN_PID_FILE", "/p")], "needs --adopt"),
            (
                &["--pid-file", "/p", "x"],
                &[("REIN_ADOPT", "0")],
                "needs --adopt",
            ),
            (&["--adopt", "-P"], &[], "--pause"),
            (&["--adopt", "--pid-file=", "x"], &[], "empty pid-file"),
            (
                &["--stop-delay", "3s", "-k", "3s", "x"],
                &[],
                "shorter than --kill-after",
            ),
            (
                &["x"],
                &[("REIN_STOP_DELAY", "9s"), ("REIN_KILL_AFTER", "1s")],
                "--stop-delay",
            ),
            (&["--stop-delay", "soon", "x"], &[], "'soon'"),
            (&["--adopt=1", "x"], &[], "takes no value"),
        ] {
            let e = run_env(args, env).expect_err(needle);
            assert!(
                e.contains(needle),
                "{args:?}: {e:?} should mention {needle}"
            );
        }
    }
}
