//! The verdicts of the verifier of 0d5094d (the last revision before issue 23, which followed
//! prometheus/common's expfmt decoder) on the bodies the differential test dumps
//! (`EXPEXP_REFCHECK_DUMP_ALL=DIR`, tests/it/reference.rs), counted against the reference
//! programs' verdicts that come with them. Not built here: `bench/verdicts_before.sh` copies it
//! into a worktree of that revision, whose API it is written for.
//!
//! `verdicts_at DIR` prints a Markdown table: per format and Prometheus version, the bodies, how
//! many the version ingests, and how many the verifier refuses that it ingests, accepts that it
//! refuses, and accepts that make it panic.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use exporter_exporter::exposition::{Dialect, Encoding, verify};

#[derive(Default)]
struct Tally {
    bodies: usize,
    ingested: usize,
    refused_ingested: usize,
    accepted_refused: usize,
    accepted_panics: usize,
    /// The verifier itself panicked.
    ours_panicked: usize,
    /// Not compared: the 2.42 reference stopped at a defect of its own model.
    reference_defects: usize,
}

/// The message of refcheck-prometheus-2.42's one known defect, where the real 2.42 goes on
/// (tests/it/reference.rs, `KNOWN_REFERENCE_DEFECT`): such bodies are not compared there either.
const KNOWN_REFERENCE_DEFECT: &str = "tsdb: empty labelset: invalid sample";

impl Tally {
    fn disagreements(&self) -> usize {
        self.refused_ingested + self.accepted_refused + self.accepted_panics + self.ours_panicked
    }
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: verdicts_at DIR"));
    let index = std::fs::read_to_string(dir.join("index.tsv")).expect("read DIR/index.tsv");
    // (order of first appearance, format) -> (version -> tally)
    let mut formats: BTreeMap<(usize, String), BTreeMap<&str, Tally>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in index.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, format, content_type, v3, _, v2, v2_message] = fields[..] else {
            panic!("index.tsv: not 7 fields: {line:?}");
        };
        let body = std::fs::read(dir.join(file)).expect("read a body");
        let dialect = Dialect::from_content_type(Some(content_type.as_bytes()));
        // None: the verifier itself panicked.
        let ours = catch_unwind(AssertUnwindSafe(|| verify(&body, dialect, Encoding::Identity).is_ok())).ok();
        if !order.iter().any(|f| f == format) {
            order.push(format.to_owned());
        }
        let position = order.iter().position(|f| f == format).unwrap_or_default();
        let versions = formats.entry((position, format.to_owned())).or_default();
        for (version, reference) in [("Prometheus 3", v3), ("Prometheus 2.42", v2)] {
            let t = versions.entry(version).or_default();
            t.bodies += 1;
            if version == "Prometheus 2.42" && v2_message.contains(KNOWN_REFERENCE_DEFECT) {
                t.reference_defects += 1;
                continue;
            }
            t.ingested += usize::from(reference == "OK");
            match (reference, ours) {
                (_, None) => t.ours_panicked += 1,
                ("OK", Some(false)) => t.refused_ingested += 1,
                ("ERR", Some(true)) => t.accepted_refused += 1,
                ("PANIC", Some(true)) => t.accepted_panics += 1,
                ("OK", Some(true)) | ("ERR" | "PANIC", Some(false)) => {}
                (other, _) => panic!("index.tsv: unknown verdict {other:?}"),
            }
        }
    }
    println!(
        "| format | judged as | bodies | the version ingests | refused, the version ingests | accepted, the version refuses | accepted, the version panics | disagreements | not compared (2.42 reference defect) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for ((_, format), versions) in &formats {
        for version in ["Prometheus 3", "Prometheus 2.42"] {
            let t = &versions[version];
            let panicked = if t.ours_panicked > 0 {
                format!(" (the verifier panicked on {})", t.ours_panicked)
            } else {
                String::new()
            };
            println!(
                "| {format} | {version} | {} | {} ({:.0}%) | {} | {} | {} | {}{panicked} | {} |",
                t.bodies,
                t.ingested,
                100.0 * t.ingested as f64 / t.bodies.max(1) as f64,
                t.refused_ingested,
                t.accepted_refused,
                t.accepted_panics,
                t.disagreements(),
                t.reference_defects
            );
        }
    }
}
