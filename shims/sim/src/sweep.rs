//! The fault sweep over every flow: each flow run for many seeds under
//! each of a fixed set of link fault profiles, summed up as a table of
//! passed/degraded/failed seeds (`handset-sim sweep-all`).

use std::fmt::Write as _;

use handset_core::time::{Duration, Instant};

use crate::cli::{FlowParams, FlowRegistry};
use crate::fault::{Chance, FaultProfile, Window};

/// One named way the network misbehaves during a sweep.
#[derive(Clone, Copy, Debug)]
pub struct SweepProfile {
    /// Column heading and `--profile` name.
    pub name: &'static str,
    /// What it does, for the legend under the table.
    pub summary: &'static str,
    /// The link profile of one seed (a partition moves with the seed).
    pub profile: fn(u64) -> FaultProfile,
}

/// The profiles every flow is swept under, mildest first.
pub const PROFILES: [SweepProfile; 5] = [
    SweepProfile {
        name: "clean",
        summary: "1 ms links, no faults",
        profile: |_| FaultProfile::ideal(),
    },
    SweepProfile {
        name: "loss20",
        summary: "20% loss, 5 ms jitter",
        profile: |_| FaultProfile::lossy(20.0, 0.0, 0.0),
    },
    SweepProfile {
        name: "loss30+dup+reorder",
        summary: "30% loss, 5% duplicated, 5% held back 30 ms, 5 ms jitter",
        profile: |_| FaultProfile::lossy(30.0, 5.0, 5.0),
    },
    SweepProfile {
        name: "spikes",
        summary: "10% of datagrams delayed 1.2 s (beyond T1 = 500 ms), 5% loss",
        profile: |_| {
            FaultProfile::lossy(5.0, 0.0, 0.0)
                .with_spikes(Chance::percent(10.0), Duration::from_millis(1200))
        },
    },
    SweepProfile {
        name: "partition",
        summary: "every link down for 5 s from a seed-chosen instant in the first 8 s, 5% loss",
        profile: partition,
    },
];

/// The partition profile of `seed`: the whole network is down for five
/// seconds, starting anywhere in the first eight (so it hits registration,
/// call set-up, the call or its end, depending on the seed), then heals.
fn partition(seed: u64) -> FaultProfile {
    let mut rng = handset_core::rng::Rng::new(seed ^ 0x005e_ed0f_0a7a);
    let start = Instant::from_millis(u64::from(rng.below(8_000)));
    FaultProfile::lossy(5.0, 0.0, 0.0)
        .with_outage(Window::starting_at(start, Duration::from_secs(5)))
}

/// One cell of the table: how the seeds of one flow under one profile
/// ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    /// Seeds that reached the flow's intended end.
    pub passed: u64,
    /// Seeds that reached a degraded end the trace proves the RFC
    /// prescribes (see `flows::degraded`).
    pub degraded: u64,
    /// Every degraded seed and why, in seed order.
    pub degradations: Vec<(u64, String)>,
    /// Seeds that did not.
    pub failed: u64,
    /// Every failing seed and why, in seed order.
    pub failures: Vec<(u64, String)>,
}

/// The whole sweep: rows are flows, columns [`PROFILES`].
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Seeds `first..first + seeds`.
    pub first_seed: u64,
    /// Seeds per cell.
    pub seeds: u64,
    /// The profiles swept (columns).
    pub profiles: Vec<SweepProfile>,
    /// (flow name, one cell per profile).
    pub rows: Vec<(&'static str, Vec<Cell>)>,
}

impl Table {
    /// Total failed seeds.
    pub fn failures(&self) -> u64 {
        self.rows
            .iter()
            .flat_map(|(_, cells)| cells)
            .map(|c| c.failed)
            .sum()
    }

    /// Total degraded seeds.
    pub fn degraded(&self) -> u64 {
        self.rows
            .iter()
            .flat_map(|(_, cells)| cells)
            .map(|c| c.degraded)
            .sum()
    }

    /// The table as text: one line per flow, `passed/degraded/failed` per
    /// profile, then every failing seed and the legend.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let first_width = self
            .rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let widths: Vec<usize> = self.profiles.iter().map(|p| p.name.len().max(13)).collect();
        let _ = writeln!(
            out,
            "sweep-all: seeds {}..={} per cell, passed/degraded/failed",
            self.first_seed,
            self.first_seed + self.seeds.saturating_sub(1)
        );
        let _ = write!(out, "{:<first_width$}", "flow");
        for (p, w) in self.profiles.iter().zip(&widths) {
            let _ = write!(out, "  {:>w$}", p.name);
        }
        out.push('\n');
        for (name, cells) in &self.rows {
            let _ = write!(out, "{name:<first_width$}");
            for (c, w) in cells.iter().zip(&widths) {
                let _ = write!(
                    out,
                    "  {:>w$}",
                    format!("{}/{}/{}", c.passed, c.degraded, c.failed)
                );
            }
            out.push('\n');
        }
        for (name, cells) in &self.rows {
            for (c, p) in cells.iter().zip(&self.profiles) {
                for (seed, why) in &c.degradations {
                    let _ = writeln!(out, "{name} under {}: seed {seed} degraded: {why}", p.name);
                }
                for (seed, why) in &c.failures {
                    let _ = writeln!(out, "{name} under {}: seed {seed} failed: {why}", p.name);
                }
            }
        }
        out.push_str("profiles:\n");
        for p in &self.profiles {
            let _ = writeln!(out, "  {:<20} {}", p.name, p.summary);
        }
        let _ = writeln!(out, "degraded seeds: {}", self.degraded());
        let _ = writeln!(out, "failed seeds: {}", self.failures());
        out
    }
}

/// Runs every flow of `flows` whose name passes `flow_filter` under every
/// profile whose name passes `profile_filter`, for `seeds` seeds from
/// `first_seed`; `progress` hears of every finished row.
pub fn sweep_all(
    flows: &FlowRegistry,
    first_seed: u64,
    seeds: u64,
    flow_filter: &dyn Fn(&str) -> bool,
    profile_filter: &dyn Fn(&str) -> bool,
    progress: &mut dyn FnMut(&str, &[Cell]),
) -> Table {
    let profiles: Vec<SweepProfile> = PROFILES
        .iter()
        .copied()
        .filter(|p| profile_filter(p.name))
        .collect();
    let mut table = Table {
        first_seed,
        seeds,
        profiles: profiles.clone(),
        rows: Vec::new(),
    };
    for flow in flows.flows().iter().filter(|f| flow_filter(f.name)) {
        let mut cells = Vec::new();
        for p in &profiles {
            let mut cell = Cell::default();
            for seed in first_seed..first_seed.saturating_add(seeds) {
                let params = FlowParams {
                    seed,
                    profile: (p.profile)(seed),
                };
                let run = (flow.run)(&params);
                match (run.outcome, run.trace.degraded()) {
                    (Ok(()), Some(why)) => {
                        cell.degraded += 1;
                        cell.degradations.push((seed, why.to_string()));
                    }
                    (Ok(()), None) => cell.passed += 1,
                    (Err(why), _) => {
                        cell.failed += 1;
                        cell.failures.push((seed, why));
                    }
                }
            }
            cells.push(cell);
        }
        progress(flow.name, &cells);
        table.rows.push((flow.name, cells));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FlowRun;
    use crate::trace::Trace;

    #[test]
    fn partition_windows_move_with_the_seed_and_stay_in_the_first_eight_seconds() {
        let starts: std::collections::BTreeSet<Instant> = (1..50)
            .map(|s| partition(s).outage.expect("an outage").start)
            .collect();
        assert!(starts.len() > 40);
        assert!(starts.iter().all(|&t| t < Instant::from_millis(8_000)));
        assert_eq!(partition(3), partition(3));
    }

    #[test]
    fn the_partition_profile_cuts_real_flows_and_they_recover() {
        let flows = crate::flows::registry();
        let basic = flows.get("basic-call").expect("basic-call is registered");
        let mut cut = 0;
        for seed in 1..=20 {
            let run = (basic.run)(&FlowParams {
                seed,
                profile: partition(seed),
            });
            assert_eq!(run.outcome, Ok(()), "seed {seed}");
            cut += run
                .trace
                .entries()
                .iter()
                .filter(|e| e.lost == Some(crate::trace::LossCause::Partition))
                .count();
        }
        assert!(cut > 0, "no datagram met the partition");
    }

    #[test]
    fn table_counts_every_cell_and_names_every_failure() {
        let mut flows = FlowRegistry::new();
        flows.register("steady", "always fine", |_| FlowRun {
            trace: Trace::new(),
            outcome: Ok(()),
        });
        flows.register("worn", "ends degraded on odd seeds", |p| {
            let mut trace = Trace::new();
            if p.seed % 2 == 1 {
                trace.set_degraded(format!("seed {} starved", p.seed));
            }
            FlowRun {
                trace,
                outcome: Ok(()),
            }
        });
        flows.register("fragile", "fails whenever a link can go down", |p| {
            FlowRun {
                trace: Trace::new(),
                outcome: if p.profile.outage.is_some() {
                    Err(format!("seed {} partitioned", p.seed))
                } else {
                    Ok(())
                },
            }
        });
        let mut seen = Vec::new();
        let t = sweep_all(&flows, 5, 3, &|_| true, &|_| true, &mut |name, _| {
            seen.push(name.to_string())
        });
        assert_eq!(seen, ["steady", "worn", "fragile"]);
        assert_eq!(t.failures(), 3);
        assert_eq!(t.degraded(), 2 * 5);
        let text = t.render();
        for seed in 5..=7 {
            let line =
                format!("fragile under partition: seed {seed} failed: seed {seed} partitioned");
            assert!(text.contains(&line), "{text}");
        }
        assert!(text.contains("worn under spikes: seed 7 degraded: seed 7 starved"));
        assert!(!text.contains("seed 6 degraded"));
        let fragile = text.lines().find(|l| l.starts_with("fragile ")).unwrap();
        assert!(
            fragile.ends_with(&format!("{:>13}  {:>13}", "3/0/0", "0/0/3")),
            "{fragile:?}"
        );
        let worn = text.lines().find(|l| l.starts_with("worn ")).unwrap();
        assert!(
            worn.ends_with(&format!("{:>13}  {:>13}", "1/2/0", "1/2/0")),
            "{worn:?}"
        );
        assert!(
            text.contains("degraded seeds: 10\nfailed seeds: 3\n"),
            "{text}"
        );
        let only = sweep_all(
            &flows,
            1,
            2,
            &|f| f == "steady",
            &|p| p == "clean",
            &mut |_, _| {},
        );
        assert_eq!(only.rows.len(), 1);
        assert_eq!(
            only.rows[0].1,
            vec![Cell {
                passed: 2,
                failed: 0,
                ..Cell::default()
            }]
        );
    }
}
