//! The call-flow pictures committed under `docs/flows/` are those the
//! engine draws today: for every registered flow, the ladder and the SVG
//! that `handset-sim flow NAME` and `handset-sim flow NAME --format svg`
//! print (seed 1, no faults), byte for byte, and nothing for flows that no
//! longer exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use handset_sim::cli;
use handset_sim::flows::registry;

const REGENERATE: &str = "run docs/flows/generate.sh and commit docs/flows/";

fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/flows")
}

/// What the `handset-sim` command prints for `args`, as the script runs it.
fn sim_output(args: &[&str]) -> Vec<u8> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::main_with(
        &registry(),
        args.iter().map(|a| a.to_string()),
        &mut out,
        &mut err,
    );
    assert_eq!(
        code,
        0,
        "handset-sim {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&err)
    );
    out
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(committed: &[u8], current: &[u8]) -> String {
    let (a, b) = (
        String::from_utf8_lossy(committed),
        String::from_utf8_lossy(current),
    );
    let mut lines = a.lines().zip(b.lines()).enumerate();
    match lines.find(|(_, (x, y))| x != y) {
        Some((n, (x, y))) => format!("line {}: committed {x:?}, now {y:?}", n + 1),
        None => format!(
            "committed {} lines, now {} lines",
            a.lines().count(),
            b.lines().count()
        ),
    }
}

fn assert_current(path: &Path, current: &[u8]) {
    let committed = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{} cannot be read ({e}): {REGENERATE}", path.display()));
    assert!(
        committed == current,
        "{} is out of date ({}): {REGENERATE}",
        path.display(),
        first_difference(&committed, current)
    );
}

#[test]
fn every_flow_has_its_current_ladder_and_svg() {
    let dir = flows_dir();
    for flow in registry().flows() {
        let ladder = sim_output(&["flow", flow.name]);
        assert_current(&dir.join(format!("{}.txt", flow.name)), &ladder);
        let svg = sim_output(&["flow", flow.name, "--format", "svg"]);
        assert_current(&dir.join(format!("{}.svg", flow.name)), &svg);
    }
}

#[test]
fn no_pictures_of_unknown_flows_and_the_index_names_every_flow() {
    let dir = flows_dir();
    let names: BTreeSet<String> = registry()
        .flows()
        .iter()
        .map(|f| f.name.to_string())
        .collect();
    for entry in std::fs::read_dir(&dir).expect("docs/flows exists") {
        let path = entry.expect("a directory entry").path();
        let ext = path.extension().and_then(|e| e.to_str());
        if matches!(ext, Some("txt" | "svg")) {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            assert!(
                names.contains(stem),
                "{} belongs to no registered flow: {REGENERATE}",
                path.display()
            );
        }
    }
    let index = std::fs::read_to_string(dir.join("README.md"))
        .unwrap_or_else(|e| panic!("docs/flows/README.md cannot be read ({e}): {REGENERATE}"));
    for name in &names {
        assert!(
            index.contains(&format!("| `{name}` |")) && index.contains(&format!("]({name}.svg)")),
            "docs/flows/README.md does not list {name}: {REGENERATE}"
        );
    }
}
