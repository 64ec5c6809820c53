//! The driver's options, the inits it measures, and how each is started.

use std::fs;
use std::path::PathBuf;

/// One init to measure: a name for the report and the path of its binary.
///
/// Besides rein and the peers, a few names stand for the floors and variants:
/// - `none`: the measured program runs alone, without an init (as PID 1 itself under
///   `unshare`): the floor of signal latency and shutdown;
/// - `floor-init`: `bench/src/bin/floor-init.rs`, a static init that only forks, execs and
///   loops in a blocking `wait()`: the floor of start-up, memory and reaping;
/// - `dumb-init-c`: dumb-init with `-c`, which keeps the child in dumb-init's session (the
///   control for the autogroup effect, see `cgroup.rs`).
#[derive(Debug, Clone)]
pub struct Init {
    /// Name in the report.
    pub name: String,
    /// Path of the binary (unused for `none`).
    pub path: String,
}

impl Init {
    /// Whether this is one of the floors rather than an init someone would deploy.
    pub fn is_floor(&self) -> bool {
        self.name == "none" || self.name.starts_with("floor")
    }

    /// Whether this is rein or a peer (not a floor or a variant).
    pub fn is_real(&self) -> bool {
        !self.is_floor() && self.name != "dumb-init-c"
    }
}

/// How the init is started: as a plain process, or as PID 1 of a fresh PID namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A plain process (subreaper where the init supports it).
    Plain,
    /// PID 1 of `unshare --pid --fork --mount-proc`.
    Pid1,
}

impl Mode {
    /// The name used in the samples.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Pid1 => "pid1",
        }
    }
}

/// Where the signal benchmark puts each init (see `cgroup.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The driver's own cpu cgroup (the root one on a plain host): autogroup applies.
    Root,
    /// A cpu cgroup of its own per init, as in a container: autogroup does not apply.
    Cgroup,
}

/// Options shared by the driver subcommands.
#[derive(Debug)]
pub struct Opts {
    /// The inits, in the order of the interleaving.
    pub inits: Vec<Init>,
    /// Plain, PID 1, or both.
    pub modes: Vec<Mode>,
    /// Root cgroup, own cgroup, or both (signals only).
    pub placements: Vec<Placement>,
    /// Rounds of the whole interleaving (start-up, shutdown, reaping, leftovers, bursts).
    pub rounds: usize,
    /// Scratch directory for FIFOs, logs and results.
    pub work: PathBuf,
    /// Single signals per init (latency).
    pub count: usize,
    /// Idle seconds.
    pub secs: f64,
    /// Orphans per reaping storm.
    pub orphans: usize,
    /// Real-time signals per throughput burst.
    pub burst: u64,
    /// Leftover counts for the leftovers benchmark.
    pub sizes: Vec<usize>,
}

impl Opts {
    /// Parses the driver options (everything after the subcommand).
    pub fn parse(args: &[String]) -> Result<Opts, String> {
        let mut o = Opts {
            inits: Vec::new(),
            modes: vec![Mode::Plain, Mode::Pid1],
            placements: vec![Placement::Root],
            rounds: 1,
            work: std::env::temp_dir().join("initbench"),
            count: 100,
            secs: 10.0,
            orphans: 20_000,
            burst: 2_000,
            sizes: vec![2_000],
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
            let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{a}: {e}"));
            match a.as_str() {
                "--init" => {
                    let v = val()?;
                    let (name, path) = v.split_once('=').ok_or("--init NAME=PATH")?;
                    o.inits.push(Init {
                        name: name.to_string(),
                        path: path.to_string(),
                    });
                }
                "--modes" => {
                    o.modes = val()?
                        .split(',')
                        .map(|m| match m {
                            "plain" => Ok(Mode::Plain),
                            "pid1" => Ok(Mode::Pid1),
                            _ => Err(format!("unknown mode {m}")),
                        })
                        .collect::<Result<_, _>>()?;
                }
                "--placements" => {
                    o.placements = val()?
                        .split(',')
                        .map(|m| match m {
                            "root" => Ok(Placement::Root),
                            "cgroup" => Ok(Placement::Cgroup),
                            _ => Err(format!("unknown placement {m}")),
                        })
                        .collect::<Result<_, _>>()?;
                }
                "--sizes" => {
                    o.sizes = val()?.split(',').map(num).collect::<Result<_, _>>()?;
                }
                "--rounds" => o.rounds = num(&val()?)?,
                "--count" => o.count = num(&val()?)?,
                "--orphans" => o.orphans = num(&val()?)?,
                "--burst" => o.burst = num(&val()?)? as u64,
                "--secs" => o.secs = val()?.parse().map_err(|e| format!("--secs: {e}"))?,
                "--work" => o.work = PathBuf::from(val()?),
                _ => return Err(format!("unknown option {a}")),
            }
        }
        if o.inits.is_empty() {
            return Err("no --init given".into());
        }
        fs::create_dir_all(&o.work).map_err(|e| format!("{}: {e}", o.work.display()))?;
        Ok(o)
    }
}

/// The command line that runs `cmd` under `init` in `mode`, with `extra` options for the
/// init itself (only rein takes any here).
pub fn command_line(init: &Init, mode: Mode, extra: &[&str], cmd: &[String]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if mode == Mode::Pid1 {
        v.extend(["unshare", "--pid", "--fork", "--mount-proc"].map(String::from));
    }
    match init.name.as_str() {
        "none" => {}
        "floor-init" | "dumb-init" => v.push(init.path.clone()),
        "dumb-init-c" => v.extend([init.path.clone(), "-c".into()]),
        "tini" | "tini-static" => {
            v.push(init.path.clone());
            if mode == Mode::Plain {
                // As a plain process tini only reaps orphans with -s (and warns without it).
                v.push("-s".into());
            }
            v.push("--".into());
        }
        _ => {
            v.push(init.path.clone());
            v.extend(extra.iter().map(|e| e.to_string()));
            v.push("--".into());
        }
    }
    v.extend(cmd.iter().cloned());
    v
}

/// Writes one sample: `metric  mode  init  value`.
pub fn emit(metric: &str, mode: Mode, init: &str, value: impl std::fmt::Display) {
    println!("{metric}\t{}\t{init}\t{value}", mode.name());
}
