//! The verifier against the Prometheus servers' own scrape path, on generated bodies
//! (bodies.rs): each body is judged by the reference program of each version (refcheck.rs) and
//! by the verifier judging as that version would, and the verdicts must agree.
//!
//! `EXPEXP_REFCHECK_BODIES` sets the bodies per format (default 2,000), `EXPEXP_REFCHECK_SEED`
//! the seed (default fixed, so a run is repeatable). The report lists, per format and version,
//! how many bodies the reference takes, and how many the verifier refuses that the version
//! ingests, accepts that it refuses, and accepts that crash it.
//!
//! `EXPEXP_REFCHECK_DUMP=DIR` writes each disagreement's body into DIR, to look at by hand.
//! `EXPEXP_REFCHECK_DUMP_ALL=DIR` writes every body, and `DIR/index.tsv` with its format,
//! Content-Type and both references' verdicts: what `bench/verdicts_before.sh` judges an
//! earlier revision's verifier by.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use exporter_exporter::exposition::{Dialect, Encoding, Judge, Now, verify};

use crate::bodies::{self, Rng};
use crate::refcheck::{self, Batch, Verdict, Version};

/// A format as an exporter serves it: its generator, its Content-Type and the reference's mode.
#[derive(Clone, Copy)]
struct Served {
    name: &'static str,
    content_type: &'static str,
    generate: fn(&mut Rng, i64) -> Vec<u8>,
    /// The reference mode; `None` reads the Content-Type (`prom-ct:HEX`).
    mode: Option<&'static str>,
}

const TEXT_CT: &str = "text/plain; version=0.0.4; charset=utf-8";
const PROTOBUF_CT: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

const SERVED: [Served; 5] = [
    Served { name: "text", content_type: TEXT_CT, generate: bodies::text, mode: Some("prom-text") },
    Served {
        name: "text, escaping=allow-utf-8",
        content_type: "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
        generate: bodies::text,
        mode: Some("prom-text-utf8"),
    },
    Served {
        name: "protobuf",
        content_type: PROTOBUF_CT,
        generate: bodies::protobuf,
        mode: Some("prom-protobuf"),
    },
    Served {
        name: "protobuf, escaping=allow-utf-8",
        content_type: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        generate: bodies::protobuf,
        mode: Some("prom-protobuf-utf8"),
    },
    Served {
        name: "OpenMetrics",
        content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
        generate: bodies::openmetrics,
        mode: None,
    },
];

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The verifier's verdict on `body` served as `served`, asked by `version` (with its own
/// `Accept` header).
fn ours(body: &[u8], served: &Served, version: Version) -> Result<(), String> {
    let judge = version.judge(served.content_type.starts_with("application/vnd.google.protobuf"));
    let dialect = Dialect::from_content_type(Some(served.content_type.as_bytes()), judge);
    verify(body, dialect, Encoding::Identity, Now::system()).map(drop).map_err(|e| e.to_string())
}

/// Counts for one format and version.
#[derive(Default)]
struct Tally {
    bodies: usize,
    reference_ok: usize,
    reference_panics: usize,
    /// Refused by us, ingested by the version.
    refused: usize,
    /// Accepted by us, refused by the version.
    accepted: usize,
    /// Accepted by us, and the version panics (or, judged as 3, Prometheus 2.42 does).
    accepted_panics: usize,
    /// Refused by us although Prometheus 3 ingests it, because it crashes Prometheus 2.42: the
    /// deliberate deviation (docs/verification.md).
    refused_crashes_2_42: usize,
    /// Refused by the 2.42 reference for a defect of its model that the real 2.42 does not have
    /// (`KNOWN_REFERENCE_DEFECT`): the reference stops there, so what the real 2.42 says of the
    /// rest of the body is unknown, and the body is not compared.
    reference_defects: usize,
    examples: Vec<String>,
}

impl Tally {
    /// Counts the verifier's verdict on `body` against `reference`, the verdict of `version`
    /// (`other` is the other version's); returns the disagreement, if any.
    fn count(
        &mut self,
        body: &[u8],
        served: &Served,
        version: Version,
        reference: &Verdict,
        other: &Verdict,
    ) -> Option<String> {
        self.bodies += 1;
        if version == Version::V2_42
            && matches!(reference, Verdict::Err(e) if e.contains(KNOWN_REFERENCE_DEFECT))
        {
            self.reference_defects += 1;
            return None;
        }
        let ours = ours(body, served, version);
        let crashes_2_42 = version == Version::V3 && matches!(other, Verdict::Panic(_));
        if version == Version::V3
            && matches!(other, Verdict::Err(e) if e.contains(KNOWN_REFERENCE_DEFECT))
            && matches!(&ours, Err(e) if e.contains(CRASH_REFUSAL))
        {
            // Refused because 2.42 crashes on it, where the 2.42 reference stopped at its
            // defect before the crash: whether the real 2.42 gets there is not known here.
            self.reference_defects += 1;
            return None;
        }
        let disagreement = match (reference, &ours) {
            (Verdict::Ok, Err(e)) if crashes_2_42 && e.contains(CRASH_REFUSAL) => {
                self.refused_crashes_2_42 += 1;
                None
            }
            (Verdict::Ok, Ok(())) if crashes_2_42 => {
                self.accepted_panics += 1;
                Some("accepted, and Prometheus 2.42 PANICS on it".to_owned())
            }
            (Verdict::Ok, Ok(())) | (Verdict::Err(_) | Verdict::Panic(_), Err(_)) => None,
            (Verdict::Ok, Err(e)) => {
                self.refused += 1;
                Some(format!("refused, {} ingests it: {e}", version.name()))
            }
            (Verdict::Err(e), Ok(())) => {
                self.accepted += 1;
                Some(format!("accepted, {} refuses it: {e}", version.name()))
            }
            (Verdict::Panic(e), Ok(())) => {
                self.accepted_panics += 1;
                Some(format!("accepted, {} PANICS: {e}", version.name()))
            }
        };
        match reference {
            Verdict::Ok => self.reference_ok += 1,
            Verdict::Panic(_) => self.reference_panics += 1,
            Verdict::Err(_) => {}
        }
        disagreement
    }
}

/// refcheck-prometheus-2.42 keeps a scrape cache entry for every sample, also one the head
/// refused as out of bounds, and reads the next sample of that series with an empty label
/// set. The real 2.42 keeps no entry for a sample it did not append (scrape.go `addRef`
/// returns at once for reference 0) and ingests such a body: checked with Debian 12's 2.42,
/// `a_total{cpu="x"} 1 <now + 2 h>` then `a_total{cpu="x"} 2` is up. With the job and
/// instance labels a real label set is never empty, so this message only ever comes from that
/// defect.
const KNOWN_REFERENCE_DEFECT: &str = "tsdb: empty labelset: invalid sample";

/// Ours refused the body because it crashes Prometheus 2.42 (exposition/protobuf.rs).
const CRASH_REFUSAL: &str = "would crash Prometheus 2.42";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn show(body: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(&body[..body.len().min(400)]).escape_debug().collect();
    if body.len() > 400 { format!("{shown}…") } else { shown }
}

/// One verdict as a word and its message, on one line of a TSV file.
fn tsv(verdict: &Verdict) -> String {
    let (word, message) = match verdict {
        Verdict::Ok => ("OK", ""),
        Verdict::Err(m) => ("ERR", m.as_str()),
        Verdict::Panic(m) => ("PANIC", m.as_str()),
    };
    let message: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("{word}\t{message}")
}

/// Writes `bodies` of format `index` into `dir` and appends them to `dir/index.tsv`: the file,
/// the format, its Content-Type, and the verdicts of Prometheus 3 and 2.42 (word and message).
fn dump_all(
    dir: &std::path::Path,
    index: usize,
    served: &Served,
    bodies: &[Vec<u8>],
    v3: &[Verdict],
    v2: &[Verdict],
) {
    use std::io::Write as _;
    let mut list =
        std::fs::OpenOptions::new().append(true).open(dir.join("index.tsv")).expect("open index.tsv");
    for (k, body) in bodies.iter().enumerate() {
        let file = format!("{index}-{k}.body");
        std::fs::write(dir.join(&file), body).expect("write a body");
        writeln!(list, "{file}\t{}\t{}\t{}\t{}", served.name, served.content_type, tsv(&v3[k]), tsv(&v2[k]))
            .expect("write index.tsv");
    }
}

type Tallies = BTreeMap<(usize, &'static str), Tally>;

/// The comparison's report: a table of counts, then the first disagreements of each format.
fn report(count: u64, seed: u64, tallies: &Tallies) -> String {
    let mut report = format!(
        "{count} generated bodies per format, seed {seed}\n\
         | format | judged as | reference OK | reference PANIC | refused, version ingests | accepted, version refuses | accepted, version PANICS | refused, crashes 2.42 | 2.42 reference defect |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for ((index, version), t) in tallies {
        let _ = writeln!(
            report,
            "| {} | {version} | {} ({:.0}%) | {} | {} | {} | {} | {} | {} |",
            SERVED[*index].name,
            t.reference_ok,
            100.0 * t.reference_ok as f64 / t.bodies.max(1) as f64,
            t.reference_panics,
            t.refused,
            t.accepted,
            t.accepted_panics,
            t.refused_crashes_2_42,
            t.reference_defects
        );
    }
    for ((index, version), t) in tallies {
        if !t.examples.is_empty() {
            let _ = writeln!(report, "\n{} judged as {version}, first disagreements:", SERVED[*index].name);
            for e in &t.examples {
                let _ = writeln!(report, "  - {e}");
            }
        }
    }
    report
}

/// Runs `count` generated bodies of every format past both references and the verifier.
fn compare(count: u64, seed: u64) -> (Tallies, String) {
    let mut tallies = Tallies::new();
    if let Some(dir) = std::env::var_os("EXPEXP_REFCHECK_DUMP_ALL") {
        // dump_all appends to the index, format by format.
        std::fs::create_dir_all(&dir).expect("create the dump folder");
        std::fs::write(std::path::Path::new(&dir).join("index.tsv"), "").expect("write index.tsv");
    }
    let mut v3 = Batch::start(Version::V3);
    let mut v2 = Batch::start(Version::V2_42);
    for (index, served) in SERVED.iter().enumerate() {
        let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9));
        let now = now_ms();
        let bodies: Vec<Vec<u8>> = (0..count).map(|_| (served.generate)(&mut rng, now)).collect();
        let mode = served.mode.map_or_else(|| refcheck::ct_mode(served.content_type), str::to_owned);
        let verdicts_v3 = v3.check_all(&mode, &bodies);
        let verdicts_v2 = v2.check_all(&mode, &bodies);
        if let Some(dir) = std::env::var_os("EXPEXP_REFCHECK_DUMP_ALL") {
            dump_all(std::path::Path::new(&dir), index, served, &bodies, &verdicts_v3, &verdicts_v2);
        }
        for version in Version::ALL {
            let tally: &mut Tally = tallies.entry((index, version.name())).or_default();
            for (k, body) in bodies.iter().enumerate() {
                let (reference, other) = match version {
                    Version::V3 => (&verdicts_v3[k], &verdicts_v2[k]),
                    Version::V2_42 => (&verdicts_v2[k], &verdicts_v3[k]),
                };
                let disagreement = tally.count(body, served, version, reference, other);
                if let (Some(_), Some(dir)) = (&disagreement, std::env::var_os("EXPEXP_REFCHECK_DUMP")) {
                    // Each disagreement's body, to look at with the reference by hand.
                    let file = format!("{}-{}-{k}.body", index, version.name().replace(' ', "_"));
                    let _ = std::fs::write(std::path::Path::new(&dir).join(file), body);
                }
                if let Some(d) = disagreement
                    && tally.examples.len() < 8
                {
                    tally.examples.push(format!("{d}\n      body: \"{}\"", show(body)));
                }
            }
        }
    }
    let report = report(count, seed, &tallies);
    (tallies, report)
}

#[test]
fn verdicts_agree_with_the_prometheus_servers_on_generated_bodies() {
    // Each version is asked as its own Accept header asks.
    assert_eq!(
        [
            Version::V3.judge(false),
            Version::V3.judge(true),
            Version::V2_42.judge(false),
            Version::V2_42.judge(true)
        ],
        [Judge::PROMETHEUS_3, Judge::PROMETHEUS_3, Judge::PROMETHEUS_2_42_CLASSIC, Judge::PROMETHEUS_2_42]
    );
    if !refcheck::present() {
        return;
    }
    let count = env_number("EXPEXP_REFCHECK_BODIES", 2000);
    let seed = env_number("EXPEXP_REFCHECK_SEED", 23);
    let (tallies, report) = compare(count, seed);
    eprintln!("{report}");
    let wrong: usize = tallies.values().map(|t| t.refused + t.accepted + t.accepted_panics).sum();
    assert_eq!(wrong, 0, "the verifier disagrees with the Prometheus servers on {wrong} verdicts:\n{report}");
}

/// The protobuf bodies hold native histograms of every shape that both versions ingest, so a
/// verifier that refused every native histogram would fail the comparison.
#[test]
fn generated_protobuf_holds_valid_native_histograms_of_every_shape() {
    if !refcheck::present() {
        return;
    }
    let mut rng = Rng::new(env_number("EXPEXP_REFCHECK_SEED", 23));
    let now = now_ms();
    let (bodies, shapes): (Vec<_>, Vec<_>) =
        (0..2000).map(|_| bodies::protobuf_shapes(&mut rng, now)).unzip();
    for version in Version::ALL {
        let verdicts = Batch::start(version).check_all("prom-protobuf", &bodies);
        let ok: Vec<_> = shapes.iter().zip(&verdicts).filter(|(_, v)| v.is_ok()).map(|(s, _)| *s).collect();
        let count = |f: fn(&bodies::Shapes) -> usize| ok.iter().filter(|s| f(s) > 0).count();
        let counts = [
            ("native", count(|s| s.native)),
            ("float", count(|s| s.float)),
            ("integer", count(|s| s.native - s.float)),
            ("custom buckets", count(|s| s.custom)),
            ("zero bucket", count(|s| s.zero_bucket)),
            ("negative buckets", count(|s| s.negative)),
            ("several spans", count(|s| s.spans)),
        ];
        eprintln!("{}: bodies it ingests with native histograms: {counts:?}", version.name());
        for (shape, n) in counts {
            assert!(n >= 10, "{}: only {n} ingested bodies with {shape} native histograms", version.name());
        }
    }
}
