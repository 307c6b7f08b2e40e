//! Unit tests of the verifier: the rules of each format, pieces, gzip, and the Content-Type table.

mod columns;

use super::*;

const TEXT: Dialect = Dialect { format: Format::Text, utf8_names: false };
const OM: Dialect = Dialect { format: Format::OpenMetrics, utf8_names: true };

fn check(body: &str, dialect: Dialect) -> Result<Summary, VerifyError> {
    verify(body.as_bytes(), dialect, Encoding::Identity)
}

#[test]
fn content_types_pick_the_parser_prometheus_would() {
    let d = |ct: &str| Dialect::from_content_type(Some(ct.as_bytes()));
    assert_eq!(d("text/plain; version=0.0.4; charset=utf-8"), TEXT);
    assert_eq!(d("application/openmetrics-text; version=1.0.0; charset=utf-8"), OM);
    assert_eq!(d("Application/OpenMetrics-Text;version=0.0.1"), OM);
    assert_eq!(
        d("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
        Dialect { format: Format::Protobuf, utf8_names: false }
    );
    assert_eq!(d("application/vnd.google.protobuf; encoding=text").format, Format::Text);
    assert_eq!(
        d("text/plain;version=1.0.0;escaping=allow-utf-8"),
        Dialect { format: Format::Text, utf8_names: true }
    );
    assert_eq!(d("text/plain;version=1.0.0;escaping=allow-utf8"), TEXT, "expfmt knows no such scheme");
    assert_eq!(d("application/json"), TEXT);
    assert_eq!(Dialect::from_content_type(None), TEXT);
}

#[test]
fn content_encodings() {
    assert_eq!(Encoding::from_header(None), Ok(Encoding::Identity));
    assert_eq!(Encoding::from_header(Some(b" GZIP ")), Ok(Encoding::Gzip));
    assert_eq!(Encoding::from_header(Some(b"x-gzip")), Ok(Encoding::Gzip));
    assert_eq!(Encoding::from_header(Some(b"br")), Err("br".to_string()));
}

#[test]
fn text_errors_name_the_line() {
    let e = check("a 1\nb 2\nc x\n", TEXT).unwrap_err();
    assert_eq!(e.position, Position::Line { line: 3, column: 3 });
    assert!(e.to_string().starts_with("text format line 3 column 3: expected float"), "{e}");
}

#[test]
fn utf8_names_need_the_escaping_parameter() {
    let body = "{\"my.metric\", a=\"b\"} 1\n";
    assert!(check(body, TEXT).is_err());
    assert!(check(body, Dialect { format: Format::Text, utf8_names: true }).is_ok());
    assert!(check("{\"classic_name\"} 1\n", TEXT).is_ok());
}

#[test]
fn summary_of_a_text_body() {
    let s = check(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\nx 1\n",
        TEXT,
    )
    .unwrap();
    assert_eq!(s, Summary { families: 2, samples: 5 });
}

#[test]
fn histogram_suffixes_resolve_to_the_family() {
    // A second TYPE through a suffixed name hits the histogram itself, as in expfmt.
    assert!(check("# TYPE h histogram\n# TYPE h_bucket gauge\n", TEXT).is_err());
    assert!(check("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", TEXT).is_err(), "le must be a float");
    assert!(
        check("# TYPE h histogram\nh_bucket{le=\"1\"} -1\nh_count -1\n", TEXT).is_ok(),
        "as the original"
    );
    assert!(check("# TYPE s summary\ns_count -1\ns{quantile=\"x\"} 1\n", TEXT).is_err());
    assert!(check("# TYPE s summary\ns_sum{quantile=\"x\"} 1\n", TEXT).is_err(), "s_sum belongs to s");
    // Without the TYPE, `h_bucket` is a family of its own and `le` is an ordinary label.
    assert!(check("h_bucket{le=\"x\"} -1\n", TEXT).is_ok());
    // `x_count` seen before `x` is typed is a family of its own for good, as in expfmt.
    assert!(check("s_count 1\n# TYPE s summary\ns_count{quantile=\"x\"} 1\n", TEXT).is_ok());
}

#[test]
fn streaming_in_any_pieces_matches_one_shot() {
    let bodies: [(&str, Dialect); 4] = [
        ("# HELP a An a.\n# TYPE a counter\na{x=\"1\"} 1 123\na{x=\"2\"} 2\n", TEXT),
        ("# HELP a An a.\n# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\",x=\"2\"} 2\n", TEXT),
        ("# TYPE a counter\na_total 1 # {trace=\"x\"} 1 2.5\n# EOF\n", OM),
        ("# TYPE a counter\na_total 1\n# EOF\nmore\n", OM),
    ];
    for (body, dialect) in bodies {
        let whole = check(body, dialect);
        for split in 1..body.len() {
            let mut check = BodyVerifier::new(dialect, Encoding::Identity, u64::MAX);
            let b = body.as_bytes();
            let piecewise = check.update(&b[..split]).and_then(|()| check.finish(b));
            assert_eq!(piecewise.is_ok(), whole.is_ok(), "split at {split} of {body:?}");
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_bodies_are_verified_after_decoding() {
    let good = gzip(b"a 1\nb 2\n");
    assert_eq!(verify(&good, TEXT, Encoding::Gzip).unwrap().samples, 2);
    let bad = gzip(b"a 1\nb two\n");
    assert_eq!(
        verify(&bad, TEXT, Encoding::Gzip).unwrap_err().position,
        Position::Line { line: 2, column: 3 }
    );
    // Concatenated members are one stream, as Go's reader takes them.
    let mut two = gzip(b"a 1\n");
    two.extend(gzip(b"b 2\n"));
    assert_eq!(verify(&two, TEXT, Encoding::Gzip).unwrap().samples, 2);
    // A body that is not gzip, or is cut short, fails.
    assert!(verify(b"a 1\n", TEXT, Encoding::Gzip).is_err());
    assert!(verify(&good[..good.len() - 4], TEXT, Encoding::Gzip).is_err());
    assert!(verify(&good[..10], TEXT, Encoding::Gzip).is_err());
    assert!(verify(b"", TEXT, Encoding::Gzip).is_err());
    // In pieces, too.
    let mut check = BodyVerifier::new(TEXT, Encoding::Gzip, u64::MAX);
    for end in 1..good.len() {
        check.update(&good[..end]).unwrap();
    }
    assert!(check.finish(&good).is_ok());
}

#[test]
fn gzip_bombs_stop_at_the_decoded_limit() {
    let big = gzip(&b"a 1\n".repeat(100_000));
    let e = BodyVerifier::new(TEXT, Encoding::Gzip, 1000).finish(&big).unwrap_err();
    assert!(e.message.contains("more than 1000 bytes"), "{e}");
}

/// Minimal protobuf encoding for building test messages.
mod pb {
    pub(super) fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    pub(super) fn bytes(field: u64, data: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(data.len() as u64, out);
        out.extend_from_slice(data);
    }
    pub(super) fn double(field: u64, v: f64, out: &mut Vec<u8>) {
        varint(field << 3 | 1, out);
        out.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn uint(field: u64, v: u64, out: &mut Vec<u8>) {
        varint(field << 3, out);
        varint(v, out);
    }
    pub(super) fn label(name: &[u8], value: &[u8]) -> Vec<u8> {
        let mut l = Vec::new();
        bytes(1, name, &mut l);
        bytes(2, value, &mut l);
        l
    }
    /// A counter family with one metric per label set.
    pub(super) fn family(name: &[u8], labels: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut metric = Vec::new();
        for (n, v) in labels {
            bytes(1, &label(n, v), &mut metric);
        }
        let mut counter = Vec::new();
        double(1, 1.0, &mut counter);
        bytes(3, &counter, &mut metric);
        let mut fam = Vec::new();
        bytes(1, name, &mut fam);
        bytes(2, b"help", &mut fam);
        uint(3, 0, &mut fam);
        bytes(4, &metric, &mut fam);
        fam
    }
    pub(super) fn delimited(msgs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            varint(m.len() as u64, &mut out);
            out.extend_from_slice(m);
        }
        out
    }
}

const PROTO: Dialect = Dialect { format: Format::Protobuf, utf8_names: false };

#[test]
fn protobuf_good_bodies() {
    let body = pb::delimited(&[pb::family(b"a_total", &[(b"x", b"1")]), pb::family(b"b", &[])]);
    assert_eq!(verify(&body, PROTO, Encoding::Identity).unwrap(), Summary { families: 2, samples: 2 });
    assert!(verify(b"", PROTO, Encoding::Identity).is_ok());
    // Unknown fields of every wire type are skipped.
    let mut fam = pb::family(b"a", &[]);
    pb::uint(99, 7, &mut fam);
    pb::bytes(100, b"whatever", &mut fam);
    fam.extend_from_slice(&[(101 << 3 | 5) as u8, 1, 1, 1, 1]);
    pb::varint(102 << 3 | 3, &mut fam);
    pb::uint(1, 5, &mut fam);
    pb::varint(102 << 3 | 4, &mut fam);
    assert!(verify(&pb::delimited(&[fam]), PROTO, Encoding::Identity).is_ok());
    // UTF-8 names with the escaping parameter.
    let utf8 = pb::delimited(&[pb::family("a.b".as_bytes(), &[("c.d".as_bytes(), b"")])]);
    assert!(verify(&utf8, PROTO, Encoding::Identity).is_err());
    assert!(verify(&utf8, Dialect { utf8_names: true, ..PROTO }, Encoding::Identity).is_ok());
}

#[test]
fn protobuf_bad_bodies() {
    let good = pb::delimited(&[pb::family(b"a", &[(b"x", b"1")])]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() - 1].to_vec()),
        ("empty name", pb::delimited(&[pb::family(b"", &[])])),
        ("bad name", pb::delimited(&[pb::family(b"1a", &[])])),
        ("bad label name", pb::delimited(&[pb::family(b"a", &[(b"a-b", b"1")])])),
        ("empty label name", pb::delimited(&[pb::family(b"a", &[(b"", b"1")])])),
        ("label value not UTF-8", pb::delimited(&[pb::family(b"a", &[(b"x", b"\xff")])])),
        ("empty message", pb::delimited(&[Vec::new()])),
        ("text", b"a 1\n".to_vec()),
        ("wire type 7", pb::delimited(&[vec![0x0f]])),
        ("field 0", pb::delimited(&[vec![0x02, 0x00]])),
        ("length past the end", pb::delimited(&[vec![0x0a, 0x05, b'a']])),
        ("stray end group", pb::delimited(&[vec![0x0c]])),
        (
            "varint too long",
            pb::delimited(&[vec![0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]]),
        ),
    ];
    for (name, body) in cases {
        assert!(verify(&body, PROTO, Encoding::Identity).is_err(), "{name} should fail");
    }
    // A bad nested message (a Counter with a truncated double) fails too.
    let mut metric = Vec::new();
    pb::bytes(3, &[0x09, 1, 2, 3], &mut metric);
    let mut fam = Vec::new();
    pb::bytes(1, b"a", &mut fam);
    pb::bytes(4, &metric, &mut fam);
    assert!(verify(&pb::delimited(&[fam]), PROTO, Encoding::Identity).is_err());
}

#[test]
fn protobuf_in_pieces() {
    let body = pb::delimited(&[pb::family(b"a", &[(b"x", b"1")]), pb::family(b"b", &[])]);
    for split in 1..body.len() {
        let mut check = BodyVerifier::new(PROTO, Encoding::Identity, u64::MAX);
        check.update(&body[..split]).unwrap();
        assert!(check.finish(&body).is_ok(), "split at {split}");
    }
}

#[test]
fn openmetrics_rules() {
    let ok = [
        "# EOF\n",
        "# EOF",
        "# HELP a Some help.\n# TYPE a counter\n# UNIT a_seconds seconds\na_total 1\na_created 1.6e9\n# EOF\n",
        "a{b=\"c\",} 1\n# EOF\n",
        "{\"a.b\",c=\"d\"} 1 1.5\n# EOF\n",
        "a 1 # {id=\"x\"} 2\n# EOF\n",
        "a 1 1.5 # {id=\"x\"} 2 3\n# EOF\n",
        "# TYPE s stateset\ns{s=\"a\"} 1\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n",
    ];
    for body in ok {
        assert!(check(body, OM).is_ok(), "{body:?}: {:?}", check(body, OM));
    }
    assert!(check("", OM).is_ok(), "an empty body is a scrape of nothing");
    let bad = [
        "a 1\n",
        "# EOF\n\n",
        "# EOF\na 1\n",
        "a 1\n\n# EOF\n",
        " a 1\n# EOF\n",
        "# comment\n# EOF\n",
        "a  1\n# EOF\n",
        "a{b = \"c\"} 1\n# EOF\n",
        "a 1 NaN\n# EOF\n",
        "a 1 \n# EOF\n",
        "# UNIT a_seconds bytes\n# EOF\n",
        "# TYPE a Counter\n# EOF\n",
        "# HELP a\n# EOF\n",
        "a{b=\"1\",b=\"2\"} 1\n# EOF\n",
        "a{__name__=\"x\"} 1\n# EOF\n",
        "{c=\"d\"} 1\n# EOF\n",
        "a{\"b\"} 1\n# EOF\n",
        "a 1 # {\"x\"} 2\n# EOF\n",
        "a 1 # {x=\"y\"}\n# EOF\n",
    ];
    for body in bad {
        assert!(check(body, OM).is_err(), "{body:?} should fail");
    }
    assert!(verify(b"# HELP a \xff\n# EOF\n", OM, Encoding::Identity).is_err());
    assert!(verify(b"a{b=\"\xff\"} 1\n# EOF\n", OM, Encoding::Identity).is_err());
}

#[test]
fn pieces_of_any_size_give_the_one_shot_verdict() {
    let text = "# HELP a An a.\n# TYPE a counter\na{x=\"1\"} 1 123\na{x=\"2\"} 2\nb 3\n";
    let om = "# TYPE a counter\na_total 1 # {trace=\"x\"} 1 2.5\n# EOF\n";
    let proto = pb::delimited(&[pb::family(b"a", &[(b"x", b"1")]), pb::family(b"b", &[])]);
    let cases: [(&[u8], Dialect); 6] = [
        (text.as_bytes(), TEXT),
        (b"a 1\nb x\n", TEXT),
        // HELP escapes are checked only in pieces that hold a backslash: every cut must find it.
        (b"a 1\n# HELP b x\\q y\nb 2\n", TEXT),
        (om.as_bytes(), OM),
        (b"a 1\n# EOF\nx", OM),
        (&proto, Dialect { format: Format::Protobuf, utf8_names: false }),
    ];
    for (body, dialect) in cases {
        let whole = verify(body, dialect, Encoding::Identity).is_ok();
        for size in [1, 2, 3, 5, 7, 16] {
            let mut check = BodyVerifier::new(dialect, Encoding::Identity, u64::MAX);
            let pieces = body.chunks(size).try_for_each(|p| check.push(p));
            let verdict = pieces.and_then(|()| check.end()).is_ok();
            assert_eq!(verdict, whole, "pieces of {size} of {:?}", String::from_utf8_lossy(body));
        }
    }
    assert!(verify(cases[2].0, TEXT, Encoding::Identity).is_err(), "a bad HELP escape fails");
}

/// Bodies whose lines repeat their names and label names, the shape the fast paths serve, each
/// one edit away from a line that repeats a remembered shape but must fail.
const REPEATING: [(&str, Dialect); 5] = [
    (
        "# HELP h A histogram.\n# TYPE h histogram\n\
         h_bucket{code=\"200\",le=\"0.5\"} 1\nh_bucket{code=\"200\",le=\"+Inf\"} 2\n\
         h_sum{code=\"200\"} 3\nh_count{code=\"200\"} 2\n\
         g{a=\"1\",b=\"2\"} 1\ng{a=\"x\\\"y\",b=\"\\\\\"} 2\ng {a=\"1\",b=\"2\"} 3\n\
         g{a=\"1\",b=\"2\"} 4 1700000000\ng{a=\"1\",b=\"2\"} -5 -1700000000\n\
         g{a=\"1\",b=\"2\"} 1.5e3\ng{a=\"\",b=\"2\"} 5\nc{} 1\nc{} 2\n\
         c{} 2.5e+06\nc{} -1E-07 1700000000\nc{} 9e99\n",
        TEXT,
    ),
    // HELP and TYPE lines as encoders write them, one family after another.
    (
        "# HELP a First.\n# TYPE a counter\na 1\n# HELP b Second, with \\\\ and \\n.\n# TYPE b gauge\nb 2\n\
         # HELP c Third.\n# TYPE c summary\nc_sum 3\nc_count 1\n# TYPE d untyped\nd 4\n",
        TEXT,
    ),
    // The same label name under two kinds: only a summary's `quantile` must be a float.
    (
        "# TYPE g gauge\ng{quantile=\"x\"} 1\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"1\"} 2\n",
        TEXT,
    ),
    (
        "# TYPE g gauge\ng{a=\"1\",b=\"2\"} 1\ng{a=\"1\",b=\"2\"} 2 # {t=\"1\"} 1\n\
         # TYPE c counter\nc_total{a=\"1\"} 1\nc_total{a=\"1\"} 2\n# EOF\n",
        OM,
    ),
    // A repeated name is allowed while one of its values is empty, and only then.
    ("# TYPE g gauge\ng{a=\"\",a=\"1\"} 1\ng{a=\"\",a=\"2\"} 2\ng{a=\"1\",b=\"2\"} 3\n# EOF\n", OM),
];
/// Bytes that matter to the grammar, and a few that do not.
const EDIT_BYTES: &[u8] = b"\"\\,{}= \t\n\rabeglq1._+-#\xff";

fn verdict(body: &[u8], dialect: Dialect, exact: bool) -> Result<Summary, VerifyError> {
    let mut verifier = Verifier::new(dialect);
    if exact {
        verifier = verifier.exact();
    }
    let used = verifier.feed(body)?;
    verifier.finish(&body[used..])
}

/// The verdict on `body` given in pieces of `size` bytes, as a proxy receives it.
fn verdict_in_pieces(body: &[u8], dialect: Dialect, size: usize) -> Result<Summary, VerifyError> {
    let mut check = BodyVerifier::new(dialect, Encoding::Identity, u64::MAX);
    body.chunks(size).try_for_each(|piece| check.push(piece))?;
    check.end()
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 8000, ..Default::default() })]

    /// What the parsers remember between lines (the last name, the label skeletons) only saves
    /// work: every body, however damaged, gets the verdict, message, line and column it gets
    /// with every line taking the full checks, whole or in pieces (lines that repeat the last
    /// one's shape are read in place, across what would be their newline in a damaged body).
    #[test]
    fn remembered_lines_never_change_a_verdict(
        seed in 0..REPEATING.len(),
        size in 1..48usize,
        edits in proptest::collection::vec(
            (proptest::arbitrary::any::<proptest::sample::Index>(), 0..3u8, proptest::sample::select(EDIT_BYTES)),
            0..4,
        ),
    ) {
        let (seed, dialect) = REPEATING[seed];
        let mut body = seed.as_bytes().to_vec();
        for (at, op, byte) in edits {
            let i = at.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => body.insert(i, byte),
                _ => {
                    body.remove(i);
                }
            }
        }
        let reference = verdict(&body, dialect, true);
        proptest::prop_assert_eq!(&verdict(&body, dialect, false), &reference);
        proptest::prop_assert_eq!(&verdict_in_pieces(&body, dialect, size), &reference);
    }
}

#[test]
fn the_repeating_bodies_are_valid() {
    for (body, dialect) in REPEATING {
        verdict(body.as_bytes(), dialect, false).expect("the seed is valid");
    }
}

#[test]
fn openmetrics_quoted_names_may_hold_raw_newlines() {
    let ok = [
        ("{\"\n\"} 9\n# EOF\n", 1),
        (
            "# HELP \"a\nb\" x\n# TYPE \"a\nb\" counter\n# UNIT \"a\nb_s\" s\n{\"a\nb_total\",\"c\nd\"=\"e\"} 1\n# EOF\n",
            1,
        ),
        ("m{\"\n\"=\"v\",a=\"b\"} 1 # {x=\"y\"} 2\nm{\"\n\"=\"w\",a=\"c\"} 2\n# EOF\n", 2),
        ("{\"a\n\\\"\n\",\"b\"=\"\\\"\"} 1\n# EOF", 1),
    ];
    for (body, samples) in ok {
        assert_eq!(check(body, OM).map(|s| s.samples), Ok(samples), "{body:?}");
    }
    let bad = [
        "m{a=\"b\nc\"} 1\n# EOF\n",
        "{\"a\\\nb\"} 1\n# EOF\n",
        "a_total 1 # {\"b\nc\"=\"d\"} 1\n# EOF\n",
        "# HELP \"a\nb\" x\ny\n# EOF\n",
        "{\"a\nb\"} 1",
        "{\"a\n\"\n} 1\n# EOF\n",
        "{\"a\nb\x00\"} 1\n# EOF\n",
    ];
    for body in bad {
        assert!(check(body, OM).is_err(), "{body:?} should fail");
    }
    // A line that holds newlines counts every one of them, for the positions of later faults,
    // and a fault after one of them is on the line that newline starts.
    let e = check("{\"a\nb\"} 1\n{\"c\nd\"} x\n# EOF\n", OM).unwrap_err();
    assert_eq!(e.position, Position::Line { line: 4, column: 5 }, "{e}");
    let e = check("{\"a\nb\"} 1\n{\"c\nd\"} 2\nx\n# EOF\n", OM).unwrap_err();
    assert_eq!(e.position, Position::Line { line: 5, column: 2 }, "{e}");
    for body in ok.iter().map(|(body, _)| body).chain(&bad) {
        let whole = verdict(body.as_bytes(), OM, false);
        for size in 1..body.len() {
            assert_eq!(verdict_in_pieces(body.as_bytes(), OM, size), whole, "pieces of {size} of {body:?}");
        }
    }
}

#[test]
fn a_name_holding_many_newlines_is_read_once_in_any_pieces() {
    // Framed from where the last piece stopped: a re-read from the line's start at each newline
    // (or each piece) would take minutes here.
    let body = format!("{{\"{}\",\"{}\"=\"v\"}} 1\n# EOF\n", "\n".repeat(100_000), "a\n".repeat(100_000));
    let started = std::time::Instant::now();
    for size in [1, 7, 4096, body.len()] {
        assert_eq!(
            verdict_in_pieces(body.as_bytes(), OM, size).map(|s| s.samples),
            Ok(1),
            "pieces of {size}"
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}
