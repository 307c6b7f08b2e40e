//! The verifier against the case tables in tests/exposition/: every body there, judged as
//! Prometheus 3 and as Prometheus 2.42, gets the verdict `tests/exposition/VERDICTS.tsv`
//! records for that version. The file holds the reference programs' verdicts (refcheck.rs), so
//! that a clone without them still tests the contract; where they are present, the recorded
//! verdicts are checked against them (`EXPEXP_WRITE_VERDICTS=1` writes the file anew).
//!
//! The file names keep the verdict of the verifier before issue 23 (which followed expfmt's
//! decoder for text, Prometheus 3 for OpenMetrics): `.good.txt` or `.bad.txt`, also recorded in
//! the file's `0d5094d` column, for docs/migration.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use exporter_exporter::exposition::{ContentType, Dialect, Encoding, Format, Judge, Now, verify};

use crate::refcheck::{self, Batch, Verdict, Version};

/// Each folder of cases, with the Content-Type its bodies are served with.
pub(crate) const FOLDERS: [(&str, &str); 3] = [
    ("text", "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8"),
    ("text_classic_names", "text/plain; version=0.0.4; charset=utf-8"),
    ("openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8"),
];

/// What a version does with a body, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Ingests it.
    Ok,
    /// Fails the scrape.
    Refused,
    /// Panics (the whole server exits).
    Crash,
    /// Unknown: the 2.42 reference stops at a defect of its own model (reference.rs,
    /// `KNOWN_REFERENCE_DEFECT`).
    Defect,
}

impl Recorded {
    fn word(self) -> &'static str {
        match self {
            Recorded::Ok => "ok",
            Recorded::Refused => "refused",
            Recorded::Crash => "crash",
            Recorded::Defect => "defect",
        }
    }

    fn parse(word: &str) -> Recorded {
        match word {
            "ok" => Recorded::Ok,
            "refused" => Recorded::Refused,
            "crash" => Recorded::Crash,
            "defect" => Recorded::Defect,
            other => panic!("VERDICTS.tsv: unknown verdict {other:?}"),
        }
    }

    fn of(verdict: &Verdict) -> Recorded {
        match verdict {
            Verdict::Ok => Recorded::Ok,
            Verdict::Panic(_) => Recorded::Crash,
            Verdict::Err(e) if e.contains("tsdb: empty labelset") => Recorded::Defect,
            Verdict::Err(_) => Recorded::Refused,
        }
    }
}

/// One case body and its verdicts.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `folder/file`.
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) content_type: &'static str,
    /// The verdict of the verifier before issue 23, from the file name.
    pub(crate) before: bool,
    pub(crate) v3: Recorded,
    pub(crate) v2_42: Recorded,
}

impl Case {
    /// Whether the proxy serves the body to this judge: what the version does with it, never
    /// a body that crashes Prometheus 2.42, and never one of the [`DEVIATIONS`]. `None` where
    /// the recorded verdict is unknown.
    pub(crate) fn served_to(&self, judge: Judge) -> Option<bool> {
        if self.v2_42 == Recorded::Crash || DEVIATIONS.contains(&self.name.as_str()) {
            return Some(false);
        }
        let recorded =
            if judge.version == exporter_exporter::exposition::Version::V3 { self.v3 } else { self.v2_42 };
        match recorded {
            Recorded::Ok => Some(true),
            Recorded::Refused | Recorded::Crash => Some(false),
            Recorded::Defect => None,
        }
    }

    pub(crate) fn dialect(&self, judge: Judge) -> Dialect {
        Dialect::from_content_type(Some(self.content_type.as_bytes()), judge)
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exposition")
}

fn manifest_path() -> PathBuf {
    root().join("VERDICTS.tsv")
}

/// The case files on disk, folder by folder, sorted.
fn files() -> Vec<(String, PathBuf, &'static str)> {
    let mut out = Vec::new();
    for (folder, content_type) in FOLDERS {
        let mut names: Vec<String> = std::fs::read_dir(root().join(folder))
            .expect("case folder")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".good.txt") || n.ends_with(".bad.txt"))
            .collect();
        names.sort();
        for n in names {
            out.push((format!("{folder}/{n}"), root().join(folder).join(&n), content_type));
        }
    }
    out
}

/// Every case with its recorded verdicts.
pub(crate) fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(manifest_path()).expect("tests/exposition/VERDICTS.tsv");
    let recorded: BTreeMap<&str, (Recorded, Recorded)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "VERDICTS.tsv: {l:?}");
            (f[0], (Recorded::parse(f[2]), Recorded::parse(f[3])))
        })
        .collect();
    let cases: Vec<Case> = files()
        .into_iter()
        .map(|(name, path, content_type)| {
            let &(v3, v2_42) =
                recorded.get(name.as_str()).unwrap_or_else(|| panic!("{name} is not in VERDICTS.tsv"));
            Case { before: name.ends_with(".good.txt"), name, path, content_type, v3, v2_42 }
        })
        .collect();
    assert_eq!(cases.len(), recorded.len(), "VERDICTS.tsv names files that are not there");
    assert!(cases.len() > 400, "only {} cases", cases.len());
    cases
}

/// The cases where the verifier deviates on purpose (docs/verification.md, "Where we differ"):
/// OpenMetrics bodies with a NUL byte where Prometheus's lexer skips it in passing and mangles
/// what it reads (`a{b="c"\0} 1` stores the value `c"`). Refused, whoever asks.
const DEVIATIONS: [&str; 2] =
    ["openmetrics/hw_nul_after_label_value.bad.txt", "openmetrics/hw_nul_inside_eof.bad.txt"];

#[test]
fn every_case_gets_the_verdict_recorded_for_each_version() {
    let mut wrong = Vec::new();
    let cases = cases();
    for case in &cases {
        let body = std::fs::read(&case.path).expect("case file");
        for judge in Judge::BOTH {
            let Some(served) = case.served_to(judge) else { continue };
            let verdict = verify(&body, case.dialect(judge), Encoding::Identity, Now::system());
            if verdict.is_ok() != served {
                wrong.push(format!(
                    "{} as {judge}: recorded {}, got {verdict:?}",
                    case.name,
                    if served { "ok" } else { "refused" }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases disagree:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

/// The recorded verdicts are the reference programs' (and the file lists every case).
#[test]
fn recorded_verdicts_are_the_reference_programs() {
    // The reference programs are Linux binaries: under wine (docs/windows.md) the recorded
    // verdicts are checked against the verifier only, by the tests above.
    if cfg!(windows) || !refcheck::present() {
        return;
    }
    let files = files();
    let bodies: Vec<Vec<u8>> = files.iter().map(|(_, p, _)| std::fs::read(p).expect("case")).collect();
    let mut verdicts: BTreeMap<Version, Vec<Recorded>> = BTreeMap::new();
    for version in Version::ALL {
        let mut batch = Batch::start(version);
        let mut out = Vec::new();
        for ((_, _, content_type), body) in files.iter().zip(&bodies) {
            out.push(Recorded::of(&batch.check(&refcheck::ct_mode(content_type), body)));
        }
        verdicts.insert(version, out);
    }
    let mut written = String::from(
        "# Every case of tests/exposition/, and what each Prometheus does with it, from the reference\n\
         # programs (tests/it/refcheck.rs): ok, refused, crash (the server panics), or defect (the 2.42\n\
         # reference stops at a defect of its model; see tests/it/reference.rs). Written by\n\
         # `EXPEXP_WRITE_VERDICTS=1 cargo test --test it verify_cases::recorded`; checked by\n\
         # tests/it/verify_cases.rs. The 0d5094d column is the verifier's verdict before issue 23, as\n\
         # the file name says (.good/.bad).\n\
         # case\t0d5094d\tprometheus-3\tprometheus-2.42\n",
    );
    for (k, (name, ..)) in files.iter().enumerate() {
        let before = if name.ends_with(".good.txt") { "good" } else { "bad" };
        let _ = writeln!(
            written,
            "{name}\t{before}\t{}\t{}",
            verdicts[&Version::V3][k].word(),
            verdicts[&Version::V2_42][k].word()
        );
    }
    if std::env::var("EXPEXP_WRITE_VERDICTS").as_deref() == Ok("1") {
        std::fs::write(manifest_path(), &written).expect("write VERDICTS.tsv");
        return;
    }
    let recorded = std::fs::read_to_string(manifest_path()).unwrap_or_default();
    assert!(
        recorded == written,
        "tests/exposition/VERDICTS.tsv is not what the reference programs say now; \
         EXPEXP_WRITE_VERDICTS=1 writes it anew (and look at what changed)"
    );
}

/// What real clients send as Content-Type, and the format each gives: the media type alone
/// decides, as Prometheus's parser choice (textparse.New) reads it; the escaping parameter
/// does not matter, and a UTF-8 name is Prometheus 3's default whatever it says.
const CONTENT_TYPES: &[(&str, Format, bool)] = &[
    ("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8", Format::Text, true),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=underscores", Format::Text, true),
    ("text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", Format::Text, true),
    ("text/plain; version=0.0.4; charset=utf-8", Format::Text, true),
    ("text/plain;version=1.0.0;escaping=allow-utf8", Format::Text, true),
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        Format::Protobuf,
        true,
    ),
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        Format::Protobuf,
        true,
    ),
    (
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        Format::OpenMetrics,
        true,
    ),
    ("application/openmetrics-text; version=0.0.1; charset=utf-8", Format::OpenMetrics, true),
    ("TEXT/PLAIN", Format::Text, true),
    // What Prometheus 3 cannot read (no fallback protocol): 2.42 reads it as text, and the proxy
    // serves it with text's Content-Type.
    ("", Format::Text, false),
    ("application/json", Format::Text, false),
    ("text/html; charset=utf-8", Format::Text, false),
    ("text/plain; version", Format::Text, false),
];

#[test]
fn content_types_pick_the_format_as_prometheus_does() {
    let text = "{\"http.requests\",\"http.method\"=\"GET\"} 1\n";
    for &(content_type, format, known) in CONTENT_TYPES {
        let ct = ContentType::read((!content_type.is_empty()).then_some(content_type.as_bytes()));
        assert_eq!((ct.format, ct.known), (format, known), "{content_type:?}");
        if format == Format::Text {
            let dialect = Dialect { format, judge: Judge::PROMETHEUS_3 };
            assert!(
                verify(text.as_bytes(), dialect, Encoding::Identity, Now::system()).is_ok(),
                "{content_type:?}"
            );
        }
    }
}

/// Where docs/migration.md's table of changed verdicts starts and ends.
const MIGRATION_TABLE: (&str, &str) =
    ("<!-- changed verdicts: begin (tests/it/verify_cases.rs) -->\n", "<!-- changed verdicts: end -->\n");

/// docs/migration.md lists every case whose verdict changed with issue 23: the verifier's
/// before (the `0d5094d` column, expfmt's for the text format) against what each version does
/// now (a crash counts as refused: the proxy refuses it). `EXPEXP_WRITE_VERDICTS=1` writes the
/// table anew.
#[test]
fn the_migration_guide_lists_every_case_whose_verdict_changed() {
    let word = |served: Option<bool>| match served {
        Some(true) => "served",
        Some(false) => "refused",
        None => "unknown",
    };
    let mut table = String::from(
        "| case | before (expfmt for text) | asked by Prometheus 3 | asked by Prometheus 2.42 |\n|---|---|---|---|\n",
    );
    for case in cases() {
        let (v3, v2_42) = (case.served_to(Judge::PROMETHEUS_3), case.served_to(Judge::PROMETHEUS_2_42));
        if v3 == Some(case.before) && v2_42 == Some(case.before) {
            continue;
        }
        let shown = case.name.trim_end_matches(".good.txt").trim_end_matches(".bad.txt");
        let _ = writeln!(
            table,
            "| [{shown}](../tests/exposition/{}) | {} | {} | {} |",
            case.name,
            word(Some(case.before)),
            word(v3),
            word(v2_42)
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migration.md");
    let doc = std::fs::read_to_string(&path).expect("docs/migration.md");
    let (begin, end) = MIGRATION_TABLE;
    let (Some(from), Some(to)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/migration.md lacks the markers {begin:?} and {end:?}");
    };
    let now = &doc[from + begin.len()..to];
    if std::env::var("EXPEXP_WRITE_VERDICTS").as_deref() == Ok("1") {
        let written = format!("{}{table}{}", &doc[..from + begin.len()], &doc[to..]);
        std::fs::write(&path, written).expect("write docs/migration.md");
        return;
    }
    assert!(
        now == table,
        "docs/migration.md's table of changed verdicts is not what VERDICTS.tsv says; \
         EXPEXP_WRITE_VERDICTS=1 writes it anew"
    );
}
