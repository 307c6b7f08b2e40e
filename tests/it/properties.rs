//! Property tests of the exposition verifier (issue 8, item 3).
//!
//! A model of metric families (names, the five types, labels whose values hold `\`, `"` and
//! newlines, any float including NaN and ±Inf, optional timestamps and exemplars) is encoded the
//! way Go's expfmt encoders write it: the text format (`MetricFamilyToText`), OpenMetrics
//! (`MetricFamilyToOpenMetrics`, with `_total` counters, exemplars and `# EOF`) and delimited
//! protobuf. Properties:
//!
//! * every encoding verifies in its format, with the sample count the model implies;
//! * a single-byte corruption or a truncation never panics, in any format, and gets the same
//!   verdict whole and in two pieces;
//! * gzip of a body verifies as the body does, one-shot and in random pieces through
//!   [`BodyVerifier`].
//!
//! Case counts are kept small so the whole file runs in a few seconds.

use std::collections::BTreeMap;
use std::io::Write;

use exporter_exporter::exposition::{BodyVerifier, Dialect, Encoding, Format, Summary, VerifyError, verify};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use proptest::test_runner::Config;

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Summary,
    Histogram,
    Untyped,
}

#[derive(Debug, Clone)]
struct Exemplar {
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
}

#[derive(Debug, Clone)]
enum Value {
    /// Counter, gauge or untyped; the exemplar is written for counters only.
    Single {
        value: f64,
        exemplar: Option<Exemplar>,
    },
    Summary {
        count: u64,
        sum: f64,
        quantiles: Vec<(f64, f64)>,
    },
    /// Buckets are (upper bound, cumulative count, exemplar), bounds increasing and finite; the
    /// `+Inf` bucket is implied, as Go's encoders add it.
    Histogram {
        count: u64,
        sum: f64,
        buckets: Vec<(f64, u64, Option<Exemplar>)>,
    },
}

#[derive(Debug, Clone)]
struct Metric {
    labels: Vec<(String, String)>,
    value: Value,
    timestamp_ms: Option<i64>,
}

#[derive(Debug, Clone)]
struct Family {
    name: String,
    help: Option<String>,
    kind: Kind,
    metrics: Vec<Metric>,
}

impl Family {
    /// Sample lines in the text formats.
    fn text_samples(&self) -> u64 {
        self.metrics
            .iter()
            .map(|m| match &m.value {
                Value::Single { .. } => 1,
                Value::Summary { quantiles, .. } => quantiles.len() as u64 + 2,
                Value::Histogram { buckets, .. } => buckets.len() as u64 + 3,
            })
            .sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        2 => (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
        2 => (-1000i64..1000, -30i32..30).prop_map(|(m, e)| m as f64 * 10f64.powi(e)),
    ]
}

fn finite_float() -> impl Strategy<Value = f64> {
    float().prop_map(|f| if f.is_finite() { f } else { 1.5 })
}

/// Characters for label values and HELP text: the ones that need escaping, blanks, ASCII and
/// some multi-byte UTF-8. (Other control characters are left out: what Prometheus does with a
/// raw NUL or CR in a label value is a question for the case tables, not for this model.)
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        1 => Just('\\'),
        1 => Just('"'),
        1 => Just('\n'),
        1 => Just(' '),
        1 => Just('\t'),
        1 => Just('#'),
        1 => Just('{'),
        1 => Just('}'),
        1 => Just('='),
        1 => Just(','),
        6 => proptest::char::range(' ', '~'),
        2 => prop_oneof![Just('é'), Just('日'), Just('€'), Just('😀'), Just('\u{a0}')],
    ]
}

fn text_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(text_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn ident(first: &'static str, rest: &'static str, max_rest: usize) -> impl Strategy<Value = String> {
    let first: Vec<char> = first.chars().collect();
    let rest: Vec<char> = rest.chars().collect();
    (proptest::sample::select(first), proptest::collection::vec(proptest::sample::select(rest), 0..max_rest))
        .prop_map(|(f, r)| std::iter::once(f).chain(r).collect())
}

const ALPHA: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
const ALNUM: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
const ALNUM_COLON: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789:";

/// A label name of the classic grammar that is neither reserved (`__` prefix) nor one of the
/// names the encoders add themselves (`le`, `quantile`).
fn label_name() -> impl Strategy<Value = String> {
    ident(ALPHA, ALNUM, 8)
        .prop_filter("reserved label name", |n| !n.starts_with("__") && n != "le" && n != "quantile")
}

fn labels(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(label_name(), text_string(12), 0..max)
        .prop_map(|m: BTreeMap<String, String>| m.into_iter().collect())
}

fn timestamp() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        2 => Just(None),
        1 => (0i64..4_000_000_000_000).prop_map(Some),
        1 => any::<i64>().prop_map(Some),
    ]
}

fn exemplar() -> impl Strategy<Value = Option<Exemplar>> {
    let some = (
        proptest::collection::btree_map(label_name(), text_string(8), 0..3),
        finite_float(),
        prop_oneof![Just(None), (0i64..4_000_000_000_000).prop_map(Some)],
    )
        .prop_map(|(labels, value, timestamp_ms)| {
            Some(Exemplar { labels: labels.into_iter().collect(), value, timestamp_ms })
        });
    prop_oneof![3 => Just(None), 1 => some]
}

fn value(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Counter | Kind::Gauge | Kind::Untyped => (float(), exemplar())
            .prop_map(move |(value, exemplar)| Value::Single {
                value,
                exemplar: if kind == Kind::Counter { exemplar } else { None },
            })
            .boxed(),
        Kind::Summary => (any::<u32>(), float(), proptest::collection::btree_map(0u32..=1000, float(), 0..4))
            .prop_map(|(count, sum, q)| Value::Summary {
                count: u64::from(count),
                sum,
                quantiles: q.into_iter().map(|(k, v)| (f64::from(k) / 1000.0, v)).collect(),
            })
            .boxed(),
        Kind::Histogram => (
            float(),
            proptest::collection::btree_map(-1000i32..1000, (0u32..1000, exemplar()), 0..5),
            0u32..1000,
        )
            .prop_map(|(sum, b, extra)| {
                let mut cumulative = 0u64;
                let buckets: Vec<_> = b
                    .into_iter()
                    .map(|(bound, (n, ex))| {
                        cumulative += u64::from(n);
                        (f64::from(bound) / 10.0, cumulative, ex)
                    })
                    .collect();
                Value::Histogram { count: cumulative + u64::from(extra), sum, buckets }
            })
            .boxed(),
    }
}

fn family(index: usize) -> impl Strategy<Value = Family> {
    let kind = prop_oneof![
        Just(Kind::Counter),
        Just(Kind::Gauge),
        Just(Kind::Summary),
        Just(Kind::Histogram),
        Just(Kind::Untyped),
    ];
    (ident(ALPHA, ALNUM_COLON, 10), prop_oneof![Just(None), text_string(20).prop_map(Some)], kind)
        .prop_flat_map(move |(base, help, kind)| {
            // The suffix keeps family names distinct, and no name ends in a suffix the encoders
            // add (`_total`, `_sum`, `_count`, `_bucket`), so no two families' samples collide.
            let name = format!("{base}_f{index}");
            let metric = (labels(4), value(kind), timestamp())
                .prop_map(|(labels, value, timestamp_ms)| Metric { labels, value, timestamp_ms });
            proptest::collection::vec(metric, 1..4).prop_map(move |metrics| {
                // One series per label set, as a registry would hold them.
                let mut seen = std::collections::HashSet::new();
                let metrics = metrics.into_iter().filter(|m| seen.insert(m.labels.clone())).collect();
                Family { name: name.clone(), help: help.clone(), kind, metrics }
            })
        })
}

fn families() -> impl Strategy<Value = Vec<Family>> {
    (0usize..5).prop_flat_map(|n| (0..n).map(family).collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------------------------
// Encoders, after expfmt.

/// `strconv.FormatFloat(f, 'g', -1, 64)`, with expfmt's spelling of the special values.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Shortest round-trip digits and exponent, from Rust's `{:e}` ("-1.2345e-7").
    let e = format!("{:e}", f.abs());
    let (mantissa, exp) = e.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let nd = digits.len() as i32;
    let dp = exp + 1;
    // strconv: "%e is used if the exponent from the conversion is less than -4 or greater than
    // or equal to the precision. if precision was the shortest possible, use precision 6 for
    // this decision."
    let use_exp = !(-4..6).contains(&exp);
    if use_exp {
        let mut out = String::from(sign);
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
        out
    } else if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= nd {
        format!("{sign}{digits}{}", "0".repeat((dp - nd) as usize))
    } else {
        format!("{sign}{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

/// expfmt's `writeOpenMetricsFloat`: as `go_float`, with `.0` on integral values.
fn om_float(f: f64) -> String {
    let s = go_float(f);
    if f.is_finite() && !s.contains(['e', '.']) { s + ".0" } else { s }
}

/// Label values (and OpenMetrics HELP text) escape `\`, `"` and newline; text-format HELP
/// escapes only `\` and newline.
fn escape(s: &str, quote: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn write_labels(out: &mut String, labels: &[(String, String)], extra: Option<(&str, &str)>) {
    if labels.is_empty() && extra.is_none() {
        return;
    }
    out.push('{');
    let all = labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(extra);
    for (i, (name, value)) in all.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape(value, true, out);
        out.push('"');
    }
    out.push('}');
}

/// A family's HELP and TYPE lines, as both Go encoders write them: OpenMetrics also escapes
/// quotes in HELP, and calls an untyped family `unknown`.
fn family_head(f: &Family, openmetrics: bool, out: &mut String) {
    if let Some(help) = &f.help {
        out.push_str(&format!("# HELP {} ", f.name));
        escape(help, openmetrics, out);
        out.push('\n');
    }
    let kind = match f.kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Summary => "summary",
        Kind::Histogram => "histogram",
        Kind::Untyped if openmetrics => "unknown",
        Kind::Untyped => "untyped",
    };
    out.push_str(&format!("# TYPE {} {kind}\n", f.name));
}

/// Go's `MetricFamilyToText`.
fn encode_text(families: &[Family]) -> Vec<u8> {
    let mut out = String::new();
    for f in families {
        family_head(f, false, &mut out);
        for m in &f.metrics {
            let mut sample = |suffix: &str, extra: Option<(&str, &str)>, value: String| {
                out.push_str(&f.name);
                out.push_str(suffix);
                write_labels(&mut out, &m.labels, extra);
                out.push(' ');
                out.push_str(&value);
                if let Some(ts) = m.timestamp_ms {
                    out.push_str(&format!(" {ts}"));
                }
                out.push('\n');
            };
            match &m.value {
                Value::Single { value, .. } => sample("", None, go_float(*value)),
                Value::Summary { count, sum, quantiles } => {
                    for (q, v) in quantiles {
                        sample("", Some(("quantile", &go_float(*q))), go_float(*v));
                    }
                    sample("_sum", None, go_float(*sum));
                    sample("_count", None, go_float(*count as f64));
                }
                Value::Histogram { count, sum, buckets } => {
                    for (bound, cumulative, _) in buckets {
                        sample("_bucket", Some(("le", &go_float(*bound))), go_float(*cumulative as f64));
                    }
                    sample("_bucket", Some(("le", "+Inf")), go_float(*count as f64));
                    sample("_sum", None, go_float(*sum));
                    sample("_count", None, go_float(*count as f64));
                }
            }
        }
    }
    out.into_bytes()
}

fn om_exemplar(out: &mut String, e: &Exemplar) {
    out.push_str(" # {");
    for (i, (name, value)) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape(value, true, out);
        out.push('"');
    }
    out.push_str("} ");
    out.push_str(&om_float(e.value));
    if let Some(ts) = e.timestamp_ms {
        out.push(' ');
        out.push_str(&om_float(ts as f64 / 1000.0));
    }
}

/// Go's `MetricFamilyToOpenMetrics`, then the `# EOF` that `expfmt.FinalizeOpenMetrics` adds.
fn encode_openmetrics(families: &[Family]) -> Vec<u8> {
    let mut out = String::new();
    for f in families {
        family_head(f, true, &mut out);
        for m in &f.metrics {
            let mut sample =
                |suffix: &str, extra: Option<(&str, &str)>, value: String, exemplar: Option<&Exemplar>| {
                    out.push_str(&f.name);
                    out.push_str(suffix);
                    write_labels(&mut out, &m.labels, extra);
                    out.push(' ');
                    out.push_str(&value);
                    if let Some(ts) = m.timestamp_ms {
                        out.push(' ');
                        out.push_str(&om_float(ts as f64 / 1000.0));
                    }
                    if let Some(e) = exemplar {
                        om_exemplar(&mut out, e);
                    }
                    out.push('\n');
                };
            match &m.value {
                Value::Single { value, exemplar } => {
                    let suffix = if f.kind == Kind::Counter { "_total" } else { "" };
                    sample(suffix, None, om_float(*value), exemplar.as_ref());
                }
                Value::Summary { count, sum, quantiles } => {
                    for (q, v) in quantiles {
                        sample("", Some(("quantile", &om_float(*q))), om_float(*v), None);
                    }
                    sample("_sum", None, om_float(*sum), None);
                    sample("_count", None, count.to_string(), None);
                }
                Value::Histogram { count, sum, buckets } => {
                    for (bound, cumulative, exemplar) in buckets {
                        let le = om_float(*bound);
                        sample("_bucket", Some(("le", &le)), cumulative.to_string(), exemplar.as_ref());
                    }
                    sample("_bucket", Some(("le", "+Inf")), count.to_string(), None);
                    sample("_sum", None, om_float(*sum), None);
                    sample("_count", None, count.to_string(), None);
                }
            }
        }
    }
    out.push_str("# EOF\n");
    out.into_bytes()
}

// Protobuf wire format of client_model's metrics.proto.

fn pb_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn pb_key(out: &mut Vec<u8>, field: u64, wire: u64) {
    pb_varint(out, field << 3 | wire);
}

fn pb_uint(out: &mut Vec<u8>, field: u64, n: u64) {
    pb_key(out, field, 0);
    pb_varint(out, n);
}

fn pb_double(out: &mut Vec<u8>, field: u64, f: f64) {
    pb_key(out, field, 1);
    out.extend_from_slice(&f.to_le_bytes());
}

fn pb_bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    pb_key(out, field, 2);
    pb_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn pb_label(name: &str, value: &str) -> Vec<u8> {
    let mut m = Vec::new();
    pb_bytes(&mut m, 1, name.as_bytes());
    pb_bytes(&mut m, 2, value.as_bytes());
    m
}

fn pb_exemplar(e: &Exemplar) -> Vec<u8> {
    let mut m = Vec::new();
    for (n, v) in &e.labels {
        pb_bytes(&mut m, 1, &pb_label(n, v));
    }
    pb_double(&mut m, 2, e.value);
    if let Some(ms) = e.timestamp_ms {
        let mut ts = Vec::new();
        pb_uint(&mut ts, 1, ms.div_euclid(1000) as u64);
        pb_uint(&mut ts, 2, (ms.rem_euclid(1000) * 1_000_000) as u64);
        pb_bytes(&mut m, 3, &ts);
    }
    m
}

/// `pbutil.WriteDelimited` of each family, as expfmt's protobuf encoder writes them.
fn encode_protobuf(families: &[Family]) -> Vec<u8> {
    let mut body = Vec::new();
    for f in families {
        let mut fam = Vec::new();
        pb_bytes(&mut fam, 1, f.name.as_bytes());
        if let Some(help) = &f.help {
            pb_bytes(&mut fam, 2, help.as_bytes());
        }
        let kind = match f.kind {
            Kind::Counter => 0,
            Kind::Gauge => 1,
            Kind::Summary => 2,
            Kind::Untyped => 3,
            Kind::Histogram => 4,
        };
        pb_uint(&mut fam, 3, kind);
        for m in &f.metrics {
            let mut metric = Vec::new();
            for (n, v) in &m.labels {
                pb_bytes(&mut metric, 1, &pb_label(n, v));
            }
            let mut inner = Vec::new();
            let field = match (&m.value, f.kind) {
                (Value::Single { value, exemplar }, kind) => {
                    pb_double(&mut inner, 1, *value);
                    if let Some(e) = exemplar.as_ref().filter(|_| kind == Kind::Counter) {
                        pb_bytes(&mut inner, 2, &pb_exemplar(e));
                    }
                    match kind {
                        Kind::Counter => 3,
                        Kind::Gauge => 2,
                        _ => 5,
                    }
                }
                (Value::Summary { count, sum, quantiles }, _) => {
                    pb_uint(&mut inner, 1, *count);
                    pb_double(&mut inner, 2, *sum);
                    for (q, v) in quantiles {
                        let mut quantile = Vec::new();
                        pb_double(&mut quantile, 1, *q);
                        pb_double(&mut quantile, 2, *v);
                        pb_bytes(&mut inner, 3, &quantile);
                    }
                    4
                }
                (Value::Histogram { count, sum, buckets }, _) => {
                    pb_uint(&mut inner, 1, *count);
                    pb_double(&mut inner, 2, *sum);
                    for (bound, cumulative, exemplar) in buckets {
                        let mut bucket = Vec::new();
                        pb_uint(&mut bucket, 1, *cumulative);
                        pb_double(&mut bucket, 2, *bound);
                        if let Some(e) = exemplar {
                            pb_bytes(&mut bucket, 3, &pb_exemplar(e));
                        }
                        pb_bytes(&mut inner, 3, &bucket);
                    }
                    7
                }
            };
            pb_bytes(&mut metric, field, &inner);
            if let Some(ts) = m.timestamp_ms {
                pb_uint(&mut metric, 6, ts as u64);
            }
            pb_bytes(&mut fam, 4, &metric);
        }
        pb_varint(&mut body, fam.len() as u64);
        body.extend_from_slice(&fam);
    }
    body
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const TEXT: Dialect = Dialect { format: Format::Text, utf8_names: false };
const TEXT_UTF8: Dialect = Dialect { format: Format::Text, utf8_names: true };
const OPENMETRICS: Dialect = Dialect { format: Format::OpenMetrics, utf8_names: true };
const PROTOBUF: Dialect = Dialect { format: Format::Protobuf, utf8_names: false };
const DIALECTS: [Dialect; 4] = [TEXT, TEXT_UTF8, OPENMETRICS, PROTOBUF];

fn encode(families: &[Family], format: Format) -> Vec<u8> {
    match format {
        Format::Text => encode_text(families),
        Format::OpenMetrics => encode_openmetrics(families),
        Format::Protobuf => encode_protobuf(families),
    }
}

fn dialect_of(format: Format) -> Dialect {
    match format {
        Format::Text => TEXT,
        Format::OpenMetrics => OPENMETRICS,
        Format::Protobuf => PROTOBUF,
    }
}

fn any_format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Text), Just(Format::OpenMetrics), Just(Format::Protobuf)]
}

/// Feeds `body` through [`BodyVerifier`] in pieces ending at `cuts` (fractions of the length), as
/// the proxy does while a response arrives.
fn verify_in_pieces(
    body: &[u8],
    cuts: &[f64],
    dialect: Dialect,
    encoding: Encoding,
) -> Result<Summary, VerifyError> {
    let mut ends: Vec<usize> = cuts.iter().map(|c| (c * body.len() as f64) as usize).collect();
    ends.sort_unstable();
    let mut check = BodyVerifier::new(dialect, encoding, u64::MAX);
    for end in ends {
        check.update(&body[..end.min(body.len())])?;
    }
    check.finish(body)
}

fn same_verdict(
    a: &Result<Summary, VerifyError>,
    b: &Result<Summary, VerifyError>,
) -> Result<(), TestCaseError> {
    match (a, b) {
        (Ok(x), Ok(y)) => prop_assert_eq!(x, y),
        (Err(_), Err(_)) => {}
        _ => prop_assert!(false, "verdicts differ: {:?} vs {:?}", a, b),
    }
    Ok(())
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
    enc.write_all(data).expect("gzip into a Vec");
    enc.finish().expect("gzip into a Vec")
}

#[derive(Debug, Clone)]
enum Damage {
    /// Overwrite the byte at this fraction of the length.
    Set(f64, u8),
    Insert(f64, u8),
    Delete(f64),
    /// Keep this fraction of the body.
    Truncate(f64),
}

fn damage() -> impl Strategy<Value = Damage> {
    let interesting = prop_oneof![
        4 => any::<u8>(),
        1 => prop_oneof![
            Just(b'\n'), Just(b'"'), Just(b'\\'), Just(b'{'), Just(b'}'), Just(b' '), Just(b'#'),
            Just(0u8), Just(0x80), Just(0xff), Just(b'\r'),
        ],
    ];
    prop_oneof![
        3 => (0.0..1.0, interesting.clone()).prop_map(|(p, b)| Damage::Set(p, b)),
        1 => (0.0..1.0, interesting).prop_map(|(p, b)| Damage::Insert(p, b)),
        1 => (0.0..1.0).prop_map(Damage::Delete),
        2 => (0.0..1.0).prop_map(Damage::Truncate),
    ]
}

fn apply(body: &mut Vec<u8>, d: &Damage) {
    let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len.saturating_sub(1));
    match *d {
        Damage::Set(p, b) if !body.is_empty() => {
            let i = at(p, body.len());
            body[i] = b;
        }
        Damage::Insert(p, b) => {
            let i = at(p, body.len() + 1);
            body.insert(i, b);
        }
        Damage::Delete(p) if !body.is_empty() => {
            let i = at(p, body.len());
            body.remove(i);
        }
        Damage::Truncate(p) => body.truncate((p * body.len() as f64) as usize),
        _ => {}
    }
}

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(256))]

    /// What Go's encoders write verifies in its format, with the samples the model holds, and
    /// in two pieces gets the same verdict.
    #[test]
    fn encoded_bodies_verify(families in families(), cut in 0.0..1.0f64) {
        let text_samples: u64 = families.iter().map(Family::text_samples).sum();
        let metrics: u64 = families.iter().map(|f| f.metrics.len() as u64).sum();

        let text = encode_text(&families);
        for dialect in [TEXT, TEXT_UTF8] {
            let verdict = verify(&text, dialect, Encoding::Identity);
            let summary = verdict.as_ref().map_err(|e| {
                TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&text)))
            })?;
            prop_assert_eq!(summary.samples, text_samples);
            prop_assert_eq!(summary.families, families.len() as u64);
            same_verdict(&verdict, &verify_in_pieces(&text, &[cut], dialect, Encoding::Identity))?;
        }

        let om = encode_openmetrics(&families);
        let verdict = verify(&om, OPENMETRICS, Encoding::Identity);
        let summary = verdict.as_ref().map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&om)))
        })?;
        prop_assert_eq!(summary.samples, text_samples);
        same_verdict(&verdict, &verify_in_pieces(&om, &[cut], OPENMETRICS, Encoding::Identity))?;

        let pb = encode_protobuf(&families);
        for utf8_names in [false, true] {
            let dialect = Dialect { format: Format::Protobuf, utf8_names };
            let verdict = verify(&pb, dialect, Encoding::Identity);
            let summary = verdict.as_ref().map_err(|e| TestCaseError::fail(format!("{e}: {pb:?}")))?;
            prop_assert_eq!(summary.samples, metrics);
            prop_assert_eq!(summary.families, families.len() as u64);
            same_verdict(&verdict, &verify_in_pieces(&pb, &[cut], dialect, Encoding::Identity))?;
        }
    }

    /// One damaged byte, or a cut, never panics in any format, and the verdict does not depend
    /// on how the body arrives.
    #[test]
    fn damaged_bodies_never_panic(
        families in families(),
        format in any_format(),
        damage in damage(),
        cuts in proptest::collection::vec(0.0..1.0f64, 0..4),
    ) {
        let mut body = encode(&families, format);
        apply(&mut body, &damage);
        for dialect in DIALECTS {
            let whole = verify(&body, dialect, Encoding::Identity);
            same_verdict(&whole, &verify_in_pieces(&body, &cuts, dialect, Encoding::Identity))?;
        }
    }

    /// A gzipped body verifies as the body does, whole or in pieces; also across two gzip
    /// members, which Go's reader reads as one stream.
    #[test]
    fn gzip_bodies_agree(
        families in families(),
        format in any_format(),
        damage in proptest::option::of(damage()),
        level in 0u32..=9,
        member_split in proptest::option::of(0.0..1.0f64),
        cuts in proptest::collection::vec(0.0..1.0f64, 0..6),
    ) {
        let mut body = encode(&families, format);
        if let Some(d) = &damage {
            apply(&mut body, d);
        }
        let compressed = match member_split {
            None => gzip(&body, level),
            Some(p) => {
                let (a, b) = body.split_at((p * body.len() as f64) as usize);
                [gzip(a, level), gzip(b, level)].concat()
            }
        };
        let dialect = dialect_of(format);
        let plain = verify(&body, dialect, Encoding::Identity);
        if damage.is_none() {
            prop_assert!(plain.is_ok(), "{:?}", plain);
        }
        let whole = verify(&compressed, dialect, Encoding::Gzip);
        same_verdict(&plain, &whole)?;
        same_verdict(&whole, &verify_in_pieces(&compressed, &cuts, dialect, Encoding::Gzip))?;
    }
}

/// The float spelling matches strconv's shortest 'g' format on values whose Go output is known.
#[test]
fn go_float_matches_strconv() {
    for (f, go) in [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (-2.5, "-2.5"),
        (1e21, "1e+21"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (0.1, "0.1"),
        (100.0, "100"),
    ] {
        assert_eq!(go_float(f), go, "{f:e}");
    }
    assert_eq!(om_float(1.0), "1.0");
    assert_eq!(om_float(1e6), "1e+06");
    assert_eq!(om_float(2.5), "2.5");
}
