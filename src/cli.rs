//! The command line and its `REIN_*` environment twins, parsed into a [`Config`].
//!
//! Option parsing stops at the first argument that is not an option (or after `--`), so
//! `rein prog -x` hands `-x` to `prog`; tini and catatonit need `--` for that. Arguments stay
//! `OsString` from `argv` to `execvp`, so bytes that are not UTF-8 reach the program unchanged.
//! The environment is passed in as a function, which keeps the tests free of `set_var`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::signals::{self, MAX_SIGNAL};
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

/// One option of the table: its short and long names, and its environment twin.
struct Opt {
    short: Option<u8>,
    long: &'static str,
    env: Option<&'static str>,
    takes_value: bool,
}

const OPTS: &[Opt] = &[
    Opt {
        short: Some(b'c'),
        long: "single-child",
        env: Some("REIN_SINGLE_CHILD"),
        takes_value: false,
    },
    Opt {
        short: Some(b't'),
        long: "grace",
        env: Some("REIN_GRACE"),
        takes_value: true,
    },
    Opt {
        short: Some(b'k'),
        long: "kill-after",
        env: Some("REIN_KILL_AFTER"),
        takes_value: true,
    },
    Opt {
        short: Some(b'T'),
        long: "timeout",
        env: Some("REIN_TIMEOUT"),
        takes_value: true,
    },
    Opt {
        short: None,
        long: "timeout-signal",
        env: Some("REIN_TIMEOUT_SIGNAL"),
        takes_value: true,
    },
    Opt {
        short: Some(b'r'),
        long: "rewrite",
        env: Some("REIN_REWRITE"),
        takes_value: true,
    },
    Opt {
        short: Some(b'e'),
        long: "exit-zero",
        env: Some("REIN_EXIT_ZERO"),
        takes_value: true,
    },
    Opt {
        short: None,
        long: "exit-zero-on-stop",
        env: Some("REIN_EXIT_ZERO_ON_STOP"),
        takes_value: false,
    },
    Opt {
        short: Some(b'p'),
        long: "pdeathsig",
        env: Some("REIN_PDEATHSIG"),
        takes_value: true,
    },
    Opt {
        short: Some(b'P'),
        long: "pause",
        env: Some("REIN_PAUSE"),
        takes_value: false,
    },
    Opt {
        short: Some(b'u'),
        long: "user",
        env: Some("REIN_USER"),
        takes_value: true,
    },
    Opt {
        short: None,
        long: "status-file",
        env: Some("REIN_STATUS_FILE"),
        takes_value: true,
    },
    // Issue 12: --adopt, --pid-file, --stop-delay.
    Opt {
        short: None,
        long: "adopt",
        env: Some("REIN_ADOPT"),
        takes_value: false,
    },
    Opt {
        short: None,
        long: "pid-file",
        env: Some("REIN_PID_FILE"),
        takes_value: true,
    },
    Opt {
        short: None,
        long: "stop-delay",
        env: Some("REIN_STOP_DELAY"),
        takes_value: true,
    },
    Opt {
        short: Some(b'v'),
        long: "verbose",
        env: None,
        takes_value: false,
    },
    Opt {
        short: Some(b'h'),
        long: "help",
        env: None,
        takes_value: false,
    },
    Opt {
        short: Some(b'V'),
        long: "version",
        env: None,
        takes_value: false,
    },
];

/// Parses `args` (without `argv[0]`) and the `REIN_*` variables read through `env`. A flag wins
/// over its variable; for repeatable options, any flag replaces the whole variable list.
pub fn parse<I, E>(args: I, env: E) -> Result<Parsed, String>
where
    I: IntoIterator<Item = OsString>,
    E: Fn(&str) -> Option<OsString>,
{
    let mut given: Vec<(&'static Opt, Option<OsString>)> = Vec::new();
    let mut args = args.into_iter();
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
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
            let opt = OPTS
                .iter()
                .find(|o| o.long.as_bytes() == name)
                .ok_or_else(|| format!("unknown option '--{}'", String::from_utf8_lossy(name)))?;
            let value = match (opt.takes_value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => Some(
                    args.next()
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
                let opt = OPTS.iter().find(|o| o.short == Some(c)).ok_or_else(|| {
                    format!(
                        "unknown option '-{}'",
                        String::from_utf8_lossy(&bytes[i..=i])
                    )
                })?;
                if opt.takes_value {
                    let rest = &bytes[i + 1..];
                    let value = if rest.is_empty() {
                        args.next()
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
            command.push(arg);
            break;
        }
    }
    command.extend(args);

    if given.iter().any(|(o, _)| o.long == "help") {
        return Ok(Parsed::Help);
    }
    if given.iter().any(|(o, _)| o.long == "version") {
        return Ok(Parsed::Version);
    }

    let mut cfg = Config {
        command,
        ..Config::default()
    };
    for opt in OPTS {
        let flags: Vec<&Option<OsString>> = given
            .iter()
            .filter(|(o, _)| std::ptr::eq(*o, opt))
            .map(|(_, v)| v)
            .collect();
        if opt.long == "verbose" {
            cfg.verbosity = u8::try_from(flags.len()).unwrap_or(u8::MAX);
            continue;
        }
        let values: Vec<(String, String)> = if !flags.is_empty() {
            let shown =
                |v: &OsString| format!("--{}", opt.long) + &format!(" {}", v.to_string_lossy());
            flags
                .iter()
                .map(|v| match v {
                    Some(v) => Ok((utf8(v, &format!("--{}", opt.long))?, shown(v))),
                    None => Ok((String::from("1"), format!("--{}", opt.long))),
                })
                .collect::<Result<_, String>>()?
        } else if let Some(var) = opt.env {
            match env(var) {
                Some(v) if !v.is_empty() => {
                    let text = utf8(&v, var)?;
                    if opt.long == "rewrite" || opt.long == "exit-zero" {
                        text.split(',')
                            .map(|p| (p.trim().to_string(), format!("{var}={text}")))
                            .collect()
                    } else {
                        vec![(text.clone(), format!("{var}={text}"))]
                    }
                }
                _ => continue,
            }
        } else {
            continue;
        };
        for (value, origin) in values {
            apply(&mut cfg, opt, &value).map_err(|e| format!("{e} (from {origin})"))?;
        }
    }

    if cfg.pause && !cfg.command.is_empty() {
        return Err(String::from(
            "--pause runs no PROGRAM; remove the PROGRAM or the --pause",
        ));
    }
    if !cfg.pause && cfg.command.is_empty() {
        return Err(String::from("no PROGRAM given"));
    }
    check_issue12_combinations(&cfg)?;
    Ok(Parsed::Run(Box::new(cfg)))
}

/// Combinations of `--adopt`, `--pid-file` and `--stop-delay` that cannot mean what the user
/// wants, refused before anything runs.
fn check_issue12_combinations(cfg: &Config) -> Result<(), String> {
    if cfg.adopt && cfg.pause {
        return Err(String::from(
            "--adopt takes over a PROGRAM's descendants, and --pause runs no PROGRAM",
        ));
    }
    if cfg.pid_file.is_some() && !cfg.adopt {
        return Err(String::from(
            "--pid-file names a daemon to follow after the main child exits, which needs --adopt (REIN_ADOPT=1)",
        ));
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
    Ok(())
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

fn apply(cfg: &mut Config, opt: &Opt, v: &str) -> Result<(), String> {
    match opt.long {
        "single-child" => cfg.single_child = boolean(v)?,
        "grace" => cfg.grace = values::parse_duration(v)?,
        "kill-after" => cfg.kill_after = Some(values::parse_duration(v)?),
        "timeout" => cfg.timeout = Some(values::parse_duration(v)?),
        "timeout-signal" => cfg.timeout_signal = signals::parse_signal(v)?,
        "rewrite" => cfg.rewrites.push(values::parse_rewrite(v)?),
        "exit-zero" => cfg.exit_zero.push(values::parse_exit_code(v)?),
        "exit-zero-on-stop" => cfg.exit_zero_on_stop = boolean(v)?,
        "pdeathsig" => cfg.pdeathsig = Some(signals::parse_signal(v)?),
        "pause" => cfg.pause = boolean(v)?,
        "user" => cfg.user = Some(values::parse_user_spec(v)?),
        "status-file" if v.is_empty() => return Err(String::from("empty status-file path")),
        "status-file" => cfg.status_file = Some(PathBuf::from(v)),
        "adopt" => cfg.adopt = boolean(v)?,
        "pid-file" if v.is_empty() => return Err(String::from("empty pid-file path")),
        "pid-file" => cfg.pid_file = Some(PathBuf::from(v)),
        "stop-delay" => {
            let d = values::parse_duration(v)?;
            cfg.stop_delay = (!d.is_zero()).then_some(d);
        }
        _ => {}
    }
    debug_assert!((1..=MAX_SIGNAL).contains(&cfg.timeout_signal));
    Ok(())
}

/// The `--help` text.
pub fn usage() -> String {
    format!(
        "\
rein {version}: a tiny init for containers. Runs PROGRAM in its own process group, forwards
every signal it receives to that group, reaps every zombie, stops every leftover process, and
exits with PROGRAM's status.

Usage: rein [OPTIONS] [--] PROGRAM [ARGS...]
       rein --pause [OPTIONS]

Options (each has an environment twin; a flag wins over its variable):
  -c, --single-child        forward signals to the main child's pid only, not its group
                            [REIN_SINGLE_CHILD=1]
  -t, --grace DURATION      after the main child exits, leftovers get SIGTERM, then SIGKILL
                            after DURATION [REIN_GRACE; default 5s]
  -k, --kill-after DURATION SIGKILL the main child's group DURATION after rein forwarded
                            TERM, INT, QUIT or HUP to it [REIN_KILL_AFTER; default off]
  -T, --timeout DURATION    stop the main child after DURATION and exit 124 [REIN_TIMEOUT]
      --timeout-signal SIG  what --timeout sends first [REIN_TIMEOUT_SIGNAL; default TERM]
  -r, --rewrite FROM:TO     forward signal FROM as TO; TO of 0 or 'drop' drops it; repeatable
                            [REIN_REWRITE=TERM:QUIT,WINCH:drop]
  -e, --exit-zero CODE      report the child's exit CODE as 0; repeatable [REIN_EXIT_ZERO=143]
      --exit-zero-on-stop   report 0 when the child dies of a stop signal rein forwarded
                            (or exits 128+it), never when it crashes on its own
                            [REIN_EXIT_ZERO_ON_STOP=1]
  -p, --pdeathsig SIG       act as if SIG arrived when rein's parent dies [REIN_PDEATHSIG]
  -P, --pause               run no PROGRAM: hold the PID namespace and reap; exit 0 on TERM
                            or INT [REIN_PAUSE=1]
  -u, --user USER[:GROUP]   run PROGRAM as USER (names from /etc/passwd and /etc/group, or
                            numbers), with USER's supplementary groups [REIN_USER]
      --status-file PATH    write a JSON summary of the run to PATH when rein exits
                            [REIN_STATUS_FILE]
      --adopt               when PROGRAM exits 0 and leaves processes behind (a daemon),
                            keep them: forward signals to their process groups, exit once
                            the last is gone [REIN_ADOPT=1]
      --pid-file PATH       with --adopt: follow the pid in PATH (waited for up to 10s; it
                            must be rein's child) as the main process [REIN_PID_FILE]
      --stop-delay DURATION hold the first TERM, INT, QUIT or HUP for DURATION before
                            forwarding it (a second one goes at once); counts toward
                            --kill-after [REIN_STOP_DELAY; default off]
  -v, --verbose             log more to stderr (repeat: -vv debug, -vvv trace)
  -h, --help                print this help and exit
  -V, --version             print the version and exit

DURATION: 500ms, 2s, 1m, 1h, or a number of seconds. SIG: TERM, SIGTERM, 15, RTMIN+2.

Exit status:
  N        PROGRAM exited with N
  128+N    PROGRAM was killed by signal N
  124      --timeout expired
  125      rein itself failed (bad usage, bad option value, set-up failure)
  126      PROGRAM was found but could not be executed
  127      PROGRAM was not found

Environment:
  REIN_LOG  log filter in env_logger syntax (error, warn, info, debug, trace); overrides -v.
            Default: warn. A normal run prints nothing.
",
        version = env!("CARGO_PKG_VERSION")
    )
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

    #[test]
    fn usage_lists_every_option() {
        let u = usage();
        for o in OPTS {
            assert!(u.contains(&format!("--{}", o.long)), "{}", o.long);
            if let Some(e) = o.env {
                assert!(u.contains(e), "{e}");
            }
        }
    }
}
