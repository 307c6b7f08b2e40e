//! Shared checks for the verifier targets: the first byte of the input chooses where the body
//! is cut in two; the rest is the body. Each body is judged as every Prometheus the proxy
//! tells apart; with `EXPEXP_FUZZ_REFCHECK=1` the reference programs (`$EXPEXP_REFCHECK_DIR`,
//! default `../shared/reference/prometheus-scrape` beside the repository) run beside the
//! target, and a verdict that differs from theirs is a finding too.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use exporter_exporter::exposition::{
    BodyVerifier, Dialect, Encoding, Format, Judge, Now, Summary, VerifyError, Version, verify,
};

/// Every Prometheus a scrape may be judged as.
pub const JUDGES: [Judge; 4] =
    [Judge::PROMETHEUS_3, Judge::PROMETHEUS_3_LEGACY, Judge::PROMETHEUS_2_42, Judge::PROMETHEUS_2_42_CLASSIC];

/// Splits a fuzz input into (cut point, body). The cut is proportional to the first byte, so
/// it can land anywhere in a body of any length.
pub fn split_input(data: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, body) = data.split_first()?;
    Some((body.len() * usize::from(first) / 255, body))
}

/// Verifies `body` in one call and again in two pieces through [`BodyVerifier`], and panics if
/// the verdicts differ. Returns the one-shot verdict.
pub fn check_split(
    body: &[u8],
    cut: usize,
    dialect: Dialect,
    encoding: Encoding,
    now: Now,
) -> Result<Summary, VerifyError> {
    let whole = verify(body, dialect, encoding, now);
    let mut check = BodyVerifier::new(dialect, encoding, u64::MAX, now);
    let pieces = match check.update(&body[..cut]) {
        Ok(()) => check.finish(body),
        Err(e) => Err(e),
    };
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "same body, different summaries (cut at {cut})"),
        (Err(a), Err(b)) => assert_eq!(a, b, "same body, different errors (cut at {cut})"),
        _ => panic!(
            "one-shot and split verdicts differ (cut at {cut} of {}): {whole:?} vs {pieces:?}",
            body.len()
        ),
    }
    whole
}

/// Judges `body` in `format` as every Prometheus of [`JUDGES`], whole and in two pieces; with
/// the reference running, compares the verdicts as Prometheus 3 and 2.42 with its own.
pub fn judge_all(body: &[u8], cut: usize, format: Format) {
    let now = Now::system();
    let verdicts = JUDGES.map(|judge| check_split(body, cut, Dialect { format, judge }, Encoding::Identity, now));
    if let Some(reference) = reference() {
        let answers = reference.lock().unwrap_or_else(|e| e.into_inner()).check(format, body);
        compare(body, format, &verdicts[0], &verdicts[2], &answers);
    }
}

/// What a reference program said of a body.
#[derive(Debug)]
enum Answer {
    Ok,
    Err(String),
    Panic(String),
}

/// The 2.42 reference's own defect (tests/it/reference.rs, `KNOWN_REFERENCE_DEFECT`).
const REFERENCE_DEFECT: &str = "tsdb: empty labelset";
/// Ours refuses a body that crashes 2.42, whoever asks.
const CRASH_REFUSAL: &str = "would crash Prometheus 2.42";

/// Panics where ours and the reference differ, except for the documented deviations
/// (docs/verification.md, "Where we differ").
fn compare(
    body: &[u8],
    format: Format,
    v3: &Result<Summary, VerifyError>,
    v2_42: &Result<Summary, VerifyError>,
    answers: &[Answer; 2],
) {
    let defect = matches!(&answers[1], Answer::Err(e) if e.contains(REFERENCE_DEFECT));
    for (ours, answer, version) in [(v3, &answers[0], Version::V3), (v2_42, &answers[1], Version::V2_42)] {
        if version == Version::V2_42 && defect {
            continue;
        }
        let crash_refusal = matches!(ours, Err(e) if e.message.contains(CRASH_REFUSAL));
        let agrees = match (answer, ours) {
            (Answer::Ok, Ok(_)) | (Answer::Err(_) | Answer::Panic(_), Err(_)) => true,
            // A body that crashes 2.42 is refused as Prometheus 3 too.
            (Answer::Ok, Err(_)) if crash_refusal && (defect || matches!(answers[1], Answer::Panic(_))) => true,
            // OpenMetrics NUL bytes that Prometheus's lexer skips in passing: refused on purpose.
            (Answer::Ok, Err(_)) if format == Format::OpenMetrics && body.contains(&0) => true,
            _ => false,
        };
        assert!(agrees, "{version}: the reference says {answer:?}, ours {ours:?}\nbody: {:?}", String::from_utf8_lossy(body));
    }
}

/// The reference programs in `-batch` mode, both versions.
struct Reference([(Child, ChildStdin, BufReader<ChildStdout>); 2]);

impl Reference {
    fn check(&mut self, format: Format, body: &[u8]) -> [Answer; 2] {
        let mode = match format {
            Format::Text => "prom-text".to_owned(),
            Format::Protobuf => "prom-protobuf".to_owned(),
            Format::OpenMetrics => {
                let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                format!("prom-ct:{}", ct.bytes().map(|b| format!("{b:02x}")).collect::<String>())
            }
        };
        self.0.each_mut().map(|(_, input, output)| {
            writeln!(input, "{mode} {}", body.len()).expect("write frame");
            input.write_all(body).expect("write body");
            input.flush().expect("flush");
            let mut line = Vec::new();
            output.read_until(b'\n', &mut line).expect("read answer");
            assert!(!line.is_empty(), "the reference program exited");
            let line = String::from_utf8_lossy(&line).trim_end_matches('\n').to_owned();
            match line.as_str() {
                "OK" => Answer::Ok,
                _ => match line.strip_prefix("PANIC ") {
                    Some(m) => Answer::Panic(m.to_owned()),
                    None => Answer::Err(line.strip_prefix("ERR ").unwrap_or(&line).to_owned()),
                },
            }
        })
    }
}

/// The reference, started once, when `EXPEXP_FUZZ_REFCHECK=1`.
fn reference() -> Option<&'static Mutex<Reference>> {
    static REFERENCE: OnceLock<Option<Mutex<Reference>>> = OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            if std::env::var("EXPEXP_FUZZ_REFCHECK").as_deref() != Ok("1") {
                return None;
            }
            let dir = std::env::var_os("EXPEXP_REFCHECK_DIR").map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/prometheus-scrape"),
                PathBuf::from,
            );
            let start = |program: &str| {
                let path = dir.join(program);
                let mut child = Command::new(&path)
                    .arg("-batch")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("EXPEXP_FUZZ_REFCHECK=1: start {}: {e}", path.display()));
                let input = child.stdin.take().expect("stdin");
                let output = BufReader::new(child.stdout.take().expect("stdout"));
                (child, input, output)
            };
            Some(Mutex::new(Reference([start("refcheck-prometheus-3"), start("refcheck-prometheus-2.42")])))
        })
        .as_ref()
}
