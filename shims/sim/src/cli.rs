//! The `handset-sim` command line: argument parsing, the registry the named
//! flows register into, and the `list`, `flow` and `sweep` commands.
//!
//! ```
//! use handset_sim::cli::{self, FlowRegistry, FlowRun};
//! use handset_sim::{FaultProfile, Simulation};
//!
//! let mut flows = FlowRegistry::new();
//! flows.register("nothing", "a flow where nobody sends anything", |params| {
//!     let sim = Simulation::new(params.seed, params.profile);
//!     FlowRun { trace: sim.into_trace(), outcome: Ok(()) }
//! });
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! let code = cli::main_with(&flows, ["list"].map(String::from), &mut out, &mut err);
//! assert_eq!(code, 0);
//! assert_eq!(String::from_utf8(out).unwrap(), "nothing  a flow where nobody sends anything\n");
//! ```

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use crate::fault::FaultProfile;
use crate::render::{Format, MediaRows, RowOptions};
use crate::trace::Trace;

/// The command's usage text.
pub const USAGE: &str = "\
usage: handset-sim list
       handset-sim flow NAME [--seed N] [--loss PCT] [--dup PCT] [--reorder PCT]
                             [--profile NAME]
                             [--format ladder|mermaid|json|pcap|svg] [--out FILE]
                             [--clean] [--media omit|summarise|each]
       handset-sim sweep NAME --seeds N [--seed FIRST] [--loss PCT] [--dup PCT]
                             [--reorder PCT] [--profile NAME]

       handset-sim sweep-all [--seeds N] [--seed FIRST] [--flow NAME]... [--profile NAME]...

  list    names the flows
  flow    runs one flow and prints its trace (or writes it to FILE)
  sweep   runs a flow over N seeds (FIRST, FIRST+1, ...; FIRST defaults to 1)
          and exits 1 if any run did not end as expected
  sweep-all runs every flow (or each --flow) under every fault profile (or
          each --profile: clean, loss20, loss30+dup+reorder, spikes,
          partition) for N seeds (default 100) and prints a table of
          passed/failed seeds; exits 1 if any seed failed
  --clean hides lost datagrams, retransmissions and duplicates
  --profile NAME runs under a sweep-all fault profile instead of the
          percentages (replays a sweep-all seed exactly)
";

/// What a flow is run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowParams {
    /// Seed of every random draw of the run.
    pub seed: u64,
    /// Profile of every link.
    pub profile: FaultProfile,
}

/// What a flow run produced.
#[derive(Debug)]
pub struct FlowRun {
    /// Everything sent during the run.
    pub trace: Trace,
    /// `Ok` if the run ended as the flow expects, else why not.
    pub outcome: Result<(), String>,
}

impl FlowRun {
    /// Why the run, though it ended as the flow accepts, reached only a
    /// degraded end state (a transaction starved by the network, proven
    /// from the trace); `None` when it reached the intended end or failed.
    pub fn degraded(&self) -> Option<&str> {
        self.outcome.as_ref().ok().and(self.trace.degraded())
    }
}

/// A flow's body: runs one simulation with the given parameters.
pub type FlowFn = Box<dyn Fn(&FlowParams) -> FlowRun>;

/// A named flow.
pub struct Flow {
    /// Name on the command line (`basic-call`).
    pub name: &'static str,
    /// One line on what it shows.
    pub summary: &'static str,
    /// The body.
    pub run: FlowFn,
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("name", &self.name)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// The named flows, in the order they were registered.
#[derive(Debug, Default)]
pub struct FlowRegistry {
    flows: Vec<Flow>,
}

impl FlowRegistry {
    /// An empty registry.
    pub fn new() -> FlowRegistry {
        FlowRegistry::default()
    }

    /// Adds a flow.
    ///
    /// # Panics
    /// If a flow of that name is registered already.
    pub fn register(
        &mut self,
        name: &'static str,
        summary: &'static str,
        run: impl Fn(&FlowParams) -> FlowRun + 'static,
    ) {
        assert!(self.get(name).is_none(), "flow {name} registered twice");
        self.flows.push(Flow {
            name,
            summary,
            run: Box::new(run),
        });
    }

    /// The flow named `name`.
    pub fn get(&self, name: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.name == name)
    }

    /// Every flow, in registration order.
    pub fn flows(&self) -> &[Flow] {
        &self.flows
    }
}

/// Link faults as given on the command line: percentages, or one of the
/// sweep's named profiles.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultArgs {
    /// `--loss PCT`.
    pub loss: f64,
    /// `--dup PCT`.
    pub dup: f64,
    /// `--reorder PCT`.
    pub reorder: f64,
    /// `--profile NAME`: a profile of [`crate::sweep::PROFILES`], which
    /// replaces the percentages (so a sweep-all seed replays exactly).
    pub named: Option<&'static str>,
}

impl FaultArgs {
    /// The link profile of the run with `seed` (a named profile may move
    /// with the seed, as the partition does).
    pub fn profile(&self, seed: u64) -> FaultProfile {
        match self
            .named
            .and_then(|n| crate::sweep::PROFILES.iter().find(|p| p.name == n))
        {
            Some(p) => (p.profile)(seed),
            None => FaultProfile::lossy(self.loss, self.dup, self.reorder),
        }
    }
}

impl fmt::Display for FaultArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.named {
            Some(name) => write!(f, "profile {name}"),
            None => write!(
                f,
                "loss {}%, dup {}%, reorder {}%",
                self.loss, self.dup, self.reorder
            ),
        }
    }
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `-h`, `--help` or `help`.
    Help,
    /// `list`.
    List,
    /// `flow NAME ...`.
    Flow {
        /// The flow's name.
        name: String,
        /// `--seed N` (default 1).
        seed: u64,
        /// Link faults.
        faults: FaultArgs,
        /// `--format` (default ladder).
        format: Format,
        /// `--out FILE` (default standard output).
        out: Option<PathBuf>,
        /// Which datagrams the ladder and diagrams show.
        rows: RowOptions,
    },
    /// `sweep-all [--seeds N] [--seed FIRST] [--flow NAME]... [--profile NAME]...`.
    SweepAll {
        /// First seed (default 1).
        first_seed: u64,
        /// Seeds per flow and profile (default 100).
        seeds: u64,
        /// Only these flows (all when empty).
        flows: Vec<String>,
        /// Only these profiles (all when empty).
        profiles: Vec<String>,
    },
    /// `sweep NAME --seeds N ...`.
    Sweep {
        /// The flow's name.
        name: String,
        /// First seed (`--seed`, default 1).
        first_seed: u64,
        /// Number of seeds.
        seeds: u64,
        /// Link faults.
        faults: FaultArgs,
    },
}

/// A command line that cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage_error(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let sub = args.next().ok_or_else(|| usage_error("no command given"))?;
    match sub.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "list" => match args.next() {
            None => Ok(Command::List),
            Some(extra) => Err(usage_error(format!(
                "list takes no arguments, got {extra:?}"
            ))),
        },
        "sweep-all" => parse_sweep_all(args),
        "flow" | "sweep" => {
            let name = args
                .next()
                .filter(|n| !n.starts_with('-'))
                .ok_or_else(|| usage_error(format!("{sub} needs a flow name")))?;
            let opts = Options::parse(args, sub == "sweep")?;
            if sub == "flow" {
                Ok(Command::Flow {
                    name,
                    seed: opts.seed.unwrap_or(1),
                    faults: opts.faults,
                    format: opts.format.unwrap_or(Format::Ladder),
                    out: opts.out,
                    rows: opts.rows,
                })
            } else {
                let seeds = opts
                    .seeds
                    .ok_or_else(|| usage_error("sweep needs --seeds N"))?;
                Ok(Command::Sweep {
                    name,
                    first_seed: opts.seed.unwrap_or(1),
                    seeds,
                    faults: opts.faults,
                })
            }
        }
        other => Err(usage_error(format!("unknown command {other:?}"))),
    }
}

fn parse_sweep_all(args: impl Iterator<Item = String>) -> Result<Command, UsageError> {
    let (mut first_seed, mut seeds) = (1, 100);
    let (mut flows, mut profiles) = (Vec::new(), Vec::new());
    let mut args = args;
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| usage_error(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--seed" => first_seed = number(&flag, &value)?,
            "--seeds" => seeds = number(&flag, &value)?.max(1),
            "--flow" => flows.push(value),
            "--profile" => {
                profile_name(&value)?;
                profiles.push(value);
            }
            _ => return Err(usage_error(format!("sweep-all does not take {flag}"))),
        }
    }
    Ok(Command::SweepAll {
        first_seed,
        seeds,
        flows,
        profiles,
    })
}

/// The options after `flow NAME` or `sweep NAME`.
#[derive(Default)]
struct Options {
    seed: Option<u64>,
    seeds: Option<u64>,
    faults: FaultArgs,
    format: Option<Format>,
    out: Option<PathBuf>,
    rows: RowOptions,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>, sweep: bool) -> Result<Options, UsageError> {
        let mut o = Options::default();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            // Both `--seed 5` and `--seed=5`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let takes_value = !matches!(flag.as_str(), "--clean");
            let value = if takes_value {
                match inline {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or_else(|| usage_error(format!("{flag} needs a value")))?,
                }
            } else {
                if inline.is_some() {
                    return Err(usage_error(format!("{flag} takes no value")));
                }
                String::new()
            };
            match (flag.as_str(), sweep) {
                ("--seed", _) => o.seed = Some(number(&flag, &value)?),
                ("--seeds", true) => {
                    let n = number(&flag, &value)?;
                    if n == 0 {
                        return Err(usage_error("--seeds must be at least 1"));
                    }
                    o.seeds = Some(n);
                }
                ("--loss", _) => o.faults.loss = percent(&flag, &value)?,
                ("--dup", _) => o.faults.dup = percent(&flag, &value)?,
                ("--reorder", _) => o.faults.reorder = percent(&flag, &value)?,
                ("--profile", _) => o.faults.named = Some(profile_name(&value)?),
                ("--format", false) => {
                    o.format = Some(value.parse().map_err(UsageError)?);
                }
                ("--out", false) => o.out = Some(PathBuf::from(value)),
                ("--clean", false) => {
                    let media = o.rows.media;
                    o.rows = RowOptions {
                        media,
                        ..RowOptions::clean()
                    };
                }
                ("--media", false) => {
                    o.rows.media = match value.as_str() {
                        "omit" => MediaRows::Omit,
                        "summarise" | "summarize" => MediaRows::Summarise,
                        "each" => MediaRows::Each,
                        v => {
                            return Err(usage_error(format!(
                                "unknown --media {v:?} (expected omit, summarise, each)"
                            )))
                        }
                    };
                }
                _ => {
                    let cmd = if sweep { "sweep" } else { "flow" };
                    return Err(usage_error(format!("{cmd} does not take {flag}")));
                }
            }
        }
        Ok(o)
    }
}

/// The sweep profile called `name`.
fn profile_name(name: &str) -> Result<&'static str, UsageError> {
    crate::sweep::PROFILES
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.name)
        .ok_or_else(|| usage_error(format!("no fault profile named {name:?}")))
}

fn number(flag: &str, value: &str) -> Result<u64, UsageError> {
    value
        .parse()
        .map_err(|_| usage_error(format!("{flag} needs a whole number, got {value:?}")))
}

fn percent(flag: &str, value: &str) -> Result<f64, UsageError> {
    match value.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(usage_error(format!(
            "{flag} needs a percentage from 0 to 100, got {value:?}"
        ))),
    }
}

/// Runs a parsed command; returns the process exit code (0 success, 1 a
/// flow did not end as expected or output failed, 2 a usage error).
pub fn execute(
    cmd: &Command,
    flows: &FlowRegistry,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match run(cmd, flows, stdout, stderr) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            let _ = writeln!(stderr, "handset-sim: {msg}");
            2
        }
        Err(Failure::Io(msg)) => {
            let _ = writeln!(stderr, "handset-sim: {msg}");
            1
        }
    }
}

enum Failure {
    Usage(String),
    Io(String),
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::Io(format!("{what}: {e}"))
}

fn run(
    cmd: &Command,
    flows: &FlowRegistry,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<i32, Failure> {
    let find = |name: &str| {
        flows.get(name).ok_or_else(|| {
            let names: Vec<&str> = flows.flows().iter().map(|f| f.name).collect();
            Failure::Usage(format!(
                "no flow named {name:?} (flows: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ))
        })
    };
    match cmd {
        Command::Help => {
            stdout.write_all(USAGE.as_bytes()).map_err(io("stdout"))?;
            Ok(0)
        }
        Command::List => {
            let width = flows
                .flows()
                .iter()
                .map(|f| f.name.len())
                .max()
                .unwrap_or(0);
            for f in flows.flows() {
                writeln!(stdout, "{:<width$}  {}", f.name, f.summary).map_err(io("stdout"))?;
            }
            Ok(0)
        }
        Command::Flow {
            name,
            seed,
            faults,
            format,
            out,
            rows,
        } => {
            let flow = find(name)?;
            let params = FlowParams {
                seed: *seed,
                profile: faults.profile(*seed),
            };
            let result = (flow.run)(&params);
            let bytes = format.render(&result.trace, rows);
            match out {
                Some(path) => {
                    std::fs::write(path, &bytes).map_err(io(&path.display().to_string()))?
                }
                None => stdout.write_all(&bytes).map_err(io("stdout"))?,
            }
            if let Some(why) = result.degraded() {
                let _ = writeln!(
                    stderr,
                    "flow {name} (seed {seed}, {faults}) reached a degraded end: {why}"
                );
            }
            match result.outcome {
                Ok(()) => Ok(0),
                Err(why) => {
                    let _ = writeln!(
                        stderr,
                        "flow {name} (seed {seed}, {faults}) did not end as expected: {why}"
                    );
                    Ok(1)
                }
            }
        }
        Command::SweepAll {
            first_seed,
            seeds,
            flows: only_flows,
            profiles,
        } => {
            for name in only_flows {
                find(name)?;
            }
            let table = crate::sweep::sweep_all(
                flows,
                *first_seed,
                *seeds,
                &|f| only_flows.is_empty() || only_flows.iter().any(|o| o == f),
                &|p| profiles.is_empty() || profiles.iter().any(|o| o == p),
                &mut |name, cells| {
                    let counts: Vec<String> = cells
                        .iter()
                        .map(|c| format!("{}/{}/{}", c.passed, c.degraded, c.failed))
                        .collect();
                    let _ = writeln!(stderr, "{name}: {}", counts.join(" "));
                },
            );
            stdout
                .write_all(table.render().as_bytes())
                .map_err(io("stdout"))?;
            Ok(if table.failures() == 0 { 0 } else { 1 })
        }
        Command::Sweep {
            name,
            first_seed,
            seeds,
            faults,
        } => {
            let flow = find(name)?;
            let mut passed = 0u64;
            let mut degraded = 0u64;
            let mut first_failure: Option<(u64, String)> = None;
            let last_seed = first_seed.saturating_add(seeds - 1);
            for seed in *first_seed..=last_seed {
                let profile = faults.profile(seed);
                let run = (flow.run)(&FlowParams { seed, profile });
                match run.outcome {
                    Ok(()) if run.trace.degraded().is_some() => degraded += 1,
                    Ok(()) => passed += 1,
                    Err(why) => {
                        first_failure.get_or_insert((seed, why));
                    }
                }
            }
            let failed = seeds - passed - degraded;
            writeln!(
                stdout,
                "sweep {name}: seeds {first_seed}..={last_seed}, {faults}\n\
                 ended as expected: {passed}\ndegraded: {degraded}\nfailed: {failed}"
            )
            .map_err(io("stdout"))?;
            match first_failure {
                None => Ok(0),
                Some((seed, why)) => {
                    writeln!(stdout, "first failing seed: {seed} ({why})").map_err(io("stdout"))?;
                    Ok(1)
                }
            }
        }
    }
}

/// Parses `args` (without the program name) and runs them against
/// `flows`; prints usage on a bad command line. Returns the exit code.
pub fn main_with(
    flows: &FlowRegistry,
    args: impl IntoIterator<Item = String>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match parse(args) {
        Ok(cmd) => execute(&cmd, flows, stdout, stderr),
        Err(e) => {
            let _ = writeln!(stderr, "handset-sim: {e}\n\n{USAGE}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Chance;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flow_with_every_option() {
        let cmd = parse(args(
            "flow basic-call --seed 7 --loss 20 --dup=5 --reorder 2.5 --format svg --out x.svg --clean --media summarise",
        ))
        .unwrap();
        let Command::Flow {
            name,
            seed,
            faults,
            format,
            out,
            rows,
        } = cmd
        else {
            panic!("not a flow: {cmd:?}");
        };
        assert_eq!(name, "basic-call");
        assert_eq!(seed, 7);
        assert_eq!(
            faults,
            FaultArgs {
                loss: 20.0,
                dup: 5.0,
                reorder: 2.5,
                named: None,
            }
        );
        assert_eq!(format, Format::Svg);
        assert_eq!(out, Some(PathBuf::from("x.svg")));
        assert!(!rows.show_lost && !rows.show_retransmissions && !rows.show_duplicates);
        assert_eq!(rows.media, MediaRows::Summarise);
        let p = faults.profile(1);
        assert_eq!(p.loss, Chance::percent(20.0));
        assert_eq!(p.reorder, Chance::per_million(25_000));
    }

    #[test]
    fn a_sweep_profile_replays_a_sweep_all_seed() {
        let Command::Flow { faults, seed, .. } =
            parse(args("flow cancel --seed 996 --profile partition")).unwrap()
        else {
            panic!("not a flow");
        };
        assert_eq!(faults.named, Some("partition"));
        assert_eq!(faults.to_string(), "profile partition");
        let partition = crate::sweep::PROFILES[4];
        assert_eq!(partition.name, "partition");
        assert_eq!(faults.profile(seed), (partition.profile)(996));
        assert_ne!(faults.profile(seed), faults.profile(997));
        let Command::Sweep { faults, .. } =
            parse(args("sweep cancel --seeds 3 --profile=spikes")).unwrap()
        else {
            panic!("not a sweep");
        };
        assert_eq!(faults.profile(1), (crate::sweep::PROFILES[3].profile)(1));
        assert!(parse(args("flow cancel --profile stormy")).is_err());
    }

    #[test]
    fn flow_defaults() {
        assert_eq!(
            parse(args("flow register")).unwrap(),
            Command::Flow {
                name: "register".into(),
                seed: 1,
                faults: FaultArgs::default(),
                format: Format::Ladder,
                out: None,
                rows: RowOptions::default(),
            }
        );
    }

    #[test]
    fn sweep_needs_seeds_and_takes_a_first_seed() {
        assert_eq!(
            parse(args("sweep cancel --seeds 1000 --loss 20 --seed 50")).unwrap(),
            Command::Sweep {
                name: "cancel".into(),
                first_seed: 50,
                seeds: 1000,
                faults: FaultArgs {
                    loss: 20.0,
                    ..FaultArgs::default()
                },
            }
        );
        assert!(parse(args("sweep cancel")).is_err());
        assert!(parse(args("sweep cancel --seeds 0")).is_err());
    }

    #[test]
    fn bad_command_lines_are_refused_with_a_reason() {
        for (line, why) in [
            ("", "no command"),
            ("dance", "unknown command"),
            ("list extra", "no arguments"),
            ("flow", "needs a flow name"),
            ("flow --seed 1", "needs a flow name"),
            ("flow x --seed", "needs a value"),
            ("flow x --seed -1", "whole number"),
            ("flow x --loss 101", "percentage"),
            ("flow x --loss nan", "percentage"),
            ("flow x --format png", "unknown format"),
            ("flow x --seeds 3", "does not take --seeds"),
            ("sweep x --seeds 3 --format json", "does not take --format"),
            ("flow x --clean=yes", "takes no value"),
            ("flow x --media some", "unknown --media"),
        ] {
            let err = parse(args(line)).expect_err(line);
            assert!(err.0.contains(why), "{line:?}: {err}");
        }
        assert_eq!(parse(args("--help")).unwrap(), Command::Help);
    }

    /// A registry of two flows over an empty network: one that always
    /// succeeds and one that fails on odd seeds.
    fn registry() -> FlowRegistry {
        let mut flows = FlowRegistry::new();
        flows.register("quiet", "nothing happens", |p| FlowRun {
            trace: crate::Simulation::new(p.seed, p.profile).into_trace(),
            outcome: Ok(()),
        });
        flows.register("flaky", "fails on odd seeds", |p| FlowRun {
            trace: Trace::new(),
            outcome: if p.seed % 2 == 1 {
                Err(format!("seed {} is odd", p.seed))
            } else {
                Ok(())
            },
        });
        flows
    }

    fn run_line(line: &str) -> (i32, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = main_with(&registry(), args(line), &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn list_names_flows_in_registration_order() {
        assert_eq!(
            run_line("list"),
            (
                0,
                "quiet  nothing happens\nflaky  fails on odd seeds\n".into(),
                String::new()
            )
        );
    }

    #[test]
    fn sweep_counts_failures_and_names_the_first_failing_seed() {
        let (code, out, _) = run_line("sweep flaky --seeds 4 --seed 2");
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "sweep flaky: seeds 2..=5, loss 0%, dup 0%, reorder 0%\n\
             ended as expected: 2\ndegraded: 0\nfailed: 2\nfirst failing seed: 3 (seed 3 is odd)\n"
        );
        let (code, out, _) = run_line("sweep quiet --seeds 3");
        assert_eq!(code, 0);
        assert!(
            out.ends_with("ended as expected: 3\ndegraded: 0\nfailed: 0\n"),
            "{out}"
        );
    }

    #[test]
    fn flow_reports_failure_on_stderr_and_exit_code() {
        let (code, out, err) = run_line("flow flaky --seed 3 --format json");
        assert_eq!((code, out.as_str()), (1, "[\n]\n"));
        assert!(err.contains("seed 3 is odd"), "{err}");
        assert_eq!(run_line("flow flaky --seed 4").0, 0);
        let (code, _, err) = run_line("flow missing");
        assert_eq!(code, 2);
        assert!(err.contains("flows: quiet, flaky"), "{err}");
    }

    #[test]
    fn sweep_all_prints_a_table_and_fails_on_any_failed_seed() {
        let (code, out, err) =
            run_line("sweep-all --seeds 4 --seed 2 --profile clean --profile loss20");
        assert_eq!(code, 1);
        let row = |name: &str, cell: &str| format!("\n{name}  {cell:>13}  {cell:>13}\n");
        assert!(out.contains(&row("flaky", "2/0/2")), "{out}");
        assert!(out.contains(&row("quiet", "4/0/0")), "{out}");
        assert!(
            out.contains("flaky under clean: seed 3 failed: seed 3 is odd\n"),
            "{out}"
        );
        assert!(
            out.contains("flaky under loss20: seed 5 failed: seed 5 is odd\n"),
            "{out}"
        );
        assert_eq!(err, "quiet: 4/0/0 4/0/0\nflaky: 2/0/2 2/0/2\n");
        let (code, out, _) = run_line("sweep-all --seeds 2 --flow quiet");
        assert_eq!(code, 0);
        assert!(out.contains("failed seeds: 0"), "{out}");
        assert_eq!(run_line("sweep-all --profile stormy").0, 2);
        assert_eq!(run_line("sweep-all --flow missing").0, 2);
    }

    #[test]
    fn flow_writes_to_a_file() {
        let path =
            std::env::temp_dir().join(format!("handset-sim-cli-{}.pcap", std::process::id()));
        let line = format!("flow quiet --format pcap --out {}", path.display());
        let (code, out, _) = run_line(&line);
        assert_eq!((code, out.as_str()), (0, ""));
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // An empty capture is the 24-byte global header alone.
        assert_eq!(bytes.len(), 24);
        assert_eq!(&bytes[..4], &0xa1b2_c3d4_u32.to_le_bytes());
    }
}
