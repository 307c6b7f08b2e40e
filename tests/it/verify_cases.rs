//! The verifier against the table of bodies in tests/exposition/: every `*.good.txt` must verify
//! and every `*.bad.txt` must fail, in the format of its folder (see the PROVENANCE.md files).

use std::path::Path;

use exporter_exporter::exposition::{Dialect, Encoding, Format, Judge, Now, verify};

fn run_table(folder: &str, dialect: Dialect) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exposition").join(folder);
    let mut failures = Vec::new();
    let mut counted = 0;
    for entry in std::fs::read_dir(&dir).expect("case folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let expect_ok = if name.ends_with(".good.txt") {
            true
        } else if name.ends_with(".bad.txt") {
            false
        } else {
            continue;
        };
        counted += 1;
        let body = std::fs::read(&path).expect("case file");
        let result = verify(&body, dialect, Encoding::Identity, Now::system());
        if result.is_ok() != expect_ok {
            failures.push(format!("{name}: {result:?}"));
        }
    }
    assert!(counted > 10, "only {counted} cases in {}", dir.display());
    assert!(failures.is_empty(), "{} of {counted} cases disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn text_format_cases() {
    // The Go tables parse with UTF-8 names allowed; the legacy rule is tested in the unit tests.
    run_table("text", Dialect { format: Format::Text, judge: Judge::PROMETHEUS_3 });
}

#[test]
fn text_format_cases_with_classic_names() {
    // A Content-Type without `escaping=allow-utf-8`: quoted names must still be classic names.
    run_table("text_classic_names", Dialect { format: Format::Text, judge: Judge::PROMETHEUS_3 });
}

#[test]
fn openmetrics_cases() {
    run_table("openmetrics", Dialect { format: Format::OpenMetrics, judge: Judge::PROMETHEUS_3 });
}

/// A protobuf body of one family with a dotted name and a dotted label name, as client_golang
/// writes it when UTF-8 names were negotiated.
fn dotted_protobuf_body() -> Vec<u8> {
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![number << 3 | 2, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }
    let pair = [field(1, b"http.method"), field(2, b"GET")].concat();
    let counter = [&[1u8 << 3 | 1][..], &1f64.to_le_bytes()].concat();
    let metric = [field(1, &pair), field(3, &counter)].concat();
    let family = [field(1, b"http.requests"), field(4, &metric)].concat();
    [&[family.len() as u8][..], &family].concat()
}

/// Content-Type (as upstreams send it) -> whether a body with UTF-8 names verifies. expfmt's
/// decoders allow such names only under `escaping=allow-utf-8`, read as `Format.ToEscapingScheme`
/// reads it; Prometheus's OpenMetrics parser always allows them.
const CONTENT_TYPES: &[(&str, Format, bool)] = &[
    // client_golang promhttp (expfmt.Negotiate appends the negotiated scheme); Prometheus 3's own
    // /metrics and /federate are served by it.
    ("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8", Format::Text, true),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=underscores", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=dots", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=values", Format::Text, false),
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8",
        Format::Protobuf,
        true,
    ),
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores",
        Format::Protobuf,
        false,
    ),
    (
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        Format::OpenMetrics,
        true,
    ),
    (
        "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores",
        Format::OpenMetrics,
        true,
    ),
    // Python prometheus_client (choose_encoder): 1.0.0 with the scheme, else 0.0.4 without one.
    ("text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", Format::Text, true),
    ("text/plain; version=0.0.4; charset=utf-8", Format::Text, false),
    (
        "application/openmetrics-text; version=2.0.0; charset=utf-8; escaping=allow-utf-8",
        Format::OpenMetrics,
        true,
    ),
    // client_java 1.x writes quoted names when asked to, but never names the scheme: expfmt
    // reads its bodies with the classic grammar.
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        Format::Protobuf,
        false,
    ),
    ("application/openmetrics-text; version=1.0.0; charset=utf-8", Format::OpenMetrics, true),
    // Prometheus 3's Accept header spelling, echoed without blanks.
    ("text/plain;version=1.0.0;escaping=allow-utf-8", Format::Text, true),
    // What expfmt also reads as allow-utf-8: blanks around the term, the first of two terms,
    // the media type in any case.
    ("text/plain; escaping = allow-utf-8 ", Format::Text, true),
    ("text/plain;\tescaping=allow-utf-8\t", Format::Text, true),
    ("text/plain; escaping=allow-utf-8; escaping=underscores", Format::Text, true),
    ("TEXT/PLAIN; escaping=allow-utf-8", Format::Text, true),
    ("application/vnd.google.protobuf; escaping=allow-utf-8", Format::Protobuf, true),
    // Near misses expfmt refuses (falls back to the classic grammar).
    ("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf8", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=\"allow-utf-8\"", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; Escaping=allow-utf-8", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; ESCAPING=allow-utf-8", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=Allow-UTF-8", Format::Text, false),
    ("text/plain; version=0.0.4; charset=utf-8; escaping=allow_utf_8", Format::Text, false),
    ("text/plain; escaping=underscores; escaping=allow-utf-8", Format::Text, false),
    ("text/plain; escaping=allow-utf-8=", Format::Text, false),
    ("text/plain, escaping=allow-utf-8", Format::Text, false),
    ("text/plain; escaping=", Format::Text, false),
    ("", Format::Text, false),
    (
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf8",
        Format::Protobuf,
        false,
    ),
];

#[test]
fn content_types_decide_utf8_names_as_expfmt_does() {
    let text = b"# HELP \"http.requests\" Requests.\n# TYPE \"http.requests\" counter\n{\"http.requests\",\"http.method\"=\"GET\"} 1\n";
    let openmetrics =
        b"# TYPE \"http.requests\" counter\n{\"http.requests_total\",\"http.method\"=\"GET\"} 1\n# EOF\n";
    let protobuf = dotted_protobuf_body();
    let mut failures = Vec::new();
    for &(content_type, format, utf8_ok) in CONTENT_TYPES {
        let dialect = Dialect::from_content_type(Some(content_type.as_bytes()), Judge::PROMETHEUS_3);
        let body: &[u8] = match format {
            Format::Text => text,
            Format::OpenMetrics => openmetrics,
            Format::Protobuf => &protobuf,
        };
        let verdict = verify(body, dialect, Encoding::Identity, Now::system());
        if dialect.format != format || verdict.is_ok() != utf8_ok {
            failures.push(format!("{content_type:?}: {dialect:?} {verdict:?}"));
        }
    }
    assert!(failures.is_empty(), "{} Content-Types disagree:\n{}", failures.len(), failures.join("\n"));
    // The same bodies with classic names verify whatever the scheme.
    let classic = String::from_utf8_lossy(text).replace('.', "_");
    for &(content_type, format, _) in CONTENT_TYPES.iter().filter(|row| row.1 == Format::Text) {
        let dialect = Dialect::from_content_type(Some(content_type.as_bytes()), Judge::PROMETHEUS_3);
        assert_eq!(dialect.format, format);
        assert!(
            verify(classic.as_bytes(), dialect, Encoding::Identity, Now::system()).is_ok(),
            "{content_type:?}"
        );
    }
}
