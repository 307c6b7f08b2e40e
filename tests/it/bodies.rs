//! Generated exposition bodies for the differential tests against the reference programs
//! (refcheck.rs): metric families as exporters write them, in the text format, OpenMetrics and
//! delimited protobuf, most of them carrying one or a few of the quirks where a Prometheus
//! server's scrape path and the client library's decoder part ways (a missing final newline, a
//! second HELP, a TYPE after samples, empty or repeated label names, quoted UTF-8 names,
//! timestamps outside the head's window, native histograms valid and not, ...).
//!
//! Deterministic for a seed. About a third of the bodies carry no quirk at all. Timestamps are
//! either well inside the head's window (now − 1 h … now + 10 min) or far outside it, never near
//! its edges, so a second's difference between two judges cannot change a verdict.

#![allow(dead_code, unreachable_pub)]
#![allow(
    clippy::too_many_lines,
    reason = "the generators are exempt, as the parsers they feed are: each draws a body's quirks in the order they are written"
)]

/// splitmix64: small, fast, and enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// How messy one body is: clean bodies carry no quirk; messy ones draw each quirk with its rate.
struct Mess {
    messy: bool,
}

impl Mess {
    fn new(rng: &mut Rng) -> Mess {
        Mess { messy: !rng.chance(330) }
    }

    /// Whether a quirk of this rate (per mille of its opportunities) applies here.
    fn quirk(&self, rng: &mut Rng, per_mille: u64) -> bool {
        self.messy && rng.chance(per_mille)
    }
}

const BASE_NAMES: &[&str] = &[
    "http_requests",
    "node_cpu_seconds",
    "process_open_fds",
    "rpc_duration_seconds",
    "up",
    "go_gc_duration_seconds",
    "queue_length",
    "build_info",
];

/// Metric names that are not of the classic grammar, so they must be quoted.
const UTF8_NAMES: &[&str] =
    &["http.requests", "métrique_totale", "a b", "1st_metric", "name-with-dash", "über"];

const LABEL_NAMES: &[&str] = &["code", "method", "handler", "mode", "cpu", "path"];
const LABEL_VALUES: &[&str] =
    &["200", "GET", "/api/v1/query", "idle", "0", "", "a\\\"b", "x\\\\y", "line\\nbreak", "日本"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

const KINDS: [Kind; 5] = [Kind::Counter, Kind::Gauge, Kind::Histogram, Kind::Summary, Kind::Untyped];

impl Kind {
    fn text_type(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Untyped => "untyped",
        }
    }

    fn om_type(self) -> &'static str {
        match self {
            Kind::Untyped => "unknown",
            k => k.text_type(),
        }
    }
}

fn is_classic(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// A timestamp in milliseconds: inside the window, long before it, or long after it.
fn timestamp_ms(rng: &mut Rng, now_ms: i64) -> i64 {
    match rng.below(10) {
        0..=5 => now_ms - 20 * 60_000 + rng.below(24 * 60_000) as i64,
        6..=8 => now_ms - 86_400_000 * (1 + rng.below(400) as i64),
        _ => now_ms + 3_600_000 * (1 + rng.below(48) as i64),
    }
}

/// A sample value as a text exposition writes it, now and then one Prometheus refuses.
fn text_value(rng: &mut Rng, mess: &Mess) -> String {
    if mess.quirk(rng, 60) {
        return (rng.pick(&[
            "0x1p3", "1_000", "1e400", "abc", "+nan", "-NaN", "0x10", "1.2.3", "", "1,5", "infinity", "Inf",
            "-inf", ".5", "5.", "+3", "1E+2", "NaN", "1\r",
        ]))
        .to_owned();
    }
    match rng.below(8) {
        0 => "0".to_owned(),
        1 => format!("{}", rng.below(100_000)),
        2 => format!("{}.{}", rng.below(1000), rng.below(1000)),
        3 => format!("{}e-{:02}", 1 + rng.below(9), rng.below(20)),
        4 => (rng.pick(&["+Inf", "-Inf", "NaN"])).to_owned(),
        5 => format!("-{}", rng.below(5000)),
        6 => format!("{}.{}e+{:02}", 1 + rng.below(9), rng.below(100), rng.below(12)),
        _ => format!("{}", rng.below(10)),
    }
}

/// A label value, written escaped; quirks: escapes the text format does not know, a raw
/// newline, bytes that are not UTF-8 (also escaped), a NUL.
fn text_label_value(rng: &mut Rng, mess: &Mess) -> Vec<u8> {
    if mess.quirk(rng, 25) {
        return rng
            .pick(&[
                &b"a\\tb"[..],
                b"raw\nnewline",
                b"\xff\xfe",
                b"esc\\\xa5aped",
                b"\\\xc3\xa9",
                b"nul\0byte",
                b"back\\",
                b"\\q",
            ])
            .to_vec();
    }
    rng.pick(LABEL_VALUES).as_bytes().to_vec()
}

struct Label {
    name: Vec<u8>,
    /// Whether the name is written quoted.
    quoted: bool,
    value: Vec<u8>,
}

fn label(name: &str, value: &[u8]) -> Label {
    Label {
        name: name.as_bytes().to_vec(),
        quoted: !is_classic(name) || name.contains(':'),
        value: value.to_vec(),
    }
}

/// The labels of one series (beside `le` and `quantile`, which the caller adds); `repeats` is
/// the rate of a repeated label name.
fn series_labels(rng: &mut Rng, mess: &Mess, repeats: u64) -> Vec<Label> {
    let mut names: Vec<&str> = LABEL_NAMES.to_vec();
    let count = rng.below(4) as usize;
    let mut labels = Vec::new();
    for _ in 0..count {
        let i = rng.below(names.len() as u64) as usize;
        let name = names.swap_remove(i);
        labels.push(label(name, &text_label_value(rng, mess)));
    }
    if mess.quirk(rng, repeats) {
        // A repeated name: refused, unless one of its values is empty (Prometheus drops every
        // label of a name that has an empty value before it looks for repeated names).
        let name = rng.pick(LABEL_NAMES);
        const REPEATED: &[&[&[u8]]] = &[
            &[b"1", b"2"],
            &[b"", b"1"],
            &[b"x", b""],
            &[b"", b""],
            &[b"same", b"same"],
            &[b"N", b"", b"x"],
            &[b"a", b"b", b"c"],
        ];
        let values = rng.pick(REPEATED);
        for v in values {
            labels.push(label(name, v));
        }
    }
    if mess.quirk(rng, 40) {
        let extra: &[(&str, &[u8])] = &[
            ("job", b"exported"),
            ("instance", b"host:1"),
            ("__name__", b"other"),
            ("__name__", b""),
            ("exported_job", b"x"),
            ("a.b", b"dotted"),
            ("ünï", b"code"),
            ("", b"x"),
            ("", b""),
            ("1abc", b"v"),
            ("a:b", b"colon"),
            ("__reserved", b"v"),
            ("job", b""),
            ("a-b", b"dash"),
        ];
        let (name, value) = rng.pick(extra);
        labels.push(label(name, value));
    }
    labels
}

/// Quirks of how a text-format sample line is written.
#[derive(Default)]
struct Spelling {
    leading_blank: bool,
    name_in_braces: bool,
    blank_before_brace: bool,
    no_comma: bool,
    trailing_comma: bool,
    blanks_in_braces: bool,
    tab_separator: bool,
    glued_value: bool,
    trailing_blank: bool,
    crlf: bool,
    quoted_name_outside: bool,
}

impl Spelling {
    fn draw(rng: &mut Rng, mess: &Mess) -> Spelling {
        Spelling {
            leading_blank: mess.quirk(rng, 15),
            name_in_braces: mess.quirk(rng, 20),
            blank_before_brace: mess.quirk(rng, 10),
            no_comma: mess.quirk(rng, 15),
            trailing_comma: mess.quirk(rng, 15),
            blanks_in_braces: mess.quirk(rng, 10),
            tab_separator: mess.quirk(rng, 10),
            glued_value: mess.quirk(rng, 8),
            trailing_blank: mess.quirk(rng, 10),
            crlf: mess.quirk(rng, 6),
            quoted_name_outside: mess.quirk(rng, 4),
        }
    }
}

fn write_quoted(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'"');
    for &b in name {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// One text-format sample line (without its newline).
fn text_sample(
    out: &mut Vec<u8>,
    name: &str,
    labels: &[Label],
    value: &str,
    ts: Option<String>,
    s: &Spelling,
) {
    if s.leading_blank {
        out.extend_from_slice(b"  ");
    }
    let quoted = !is_classic(name) || s.name_in_braces;
    let sep: &[u8] = if s.blanks_in_braces {
        b" , "
    } else if s.no_comma {
        b" "
    } else {
        b","
    };
    if quoted && !s.quoted_name_outside {
        out.push(b'{');
        write_quoted(out, name.as_bytes());
        for l in labels {
            out.extend_from_slice(sep);
            write_label(out, l);
        }
        if s.trailing_comma {
            out.push(b',');
        }
        out.push(b'}');
    } else {
        if s.quoted_name_outside {
            write_quoted(out, name.as_bytes());
        } else {
            out.extend_from_slice(name.as_bytes());
        }
        if !labels.is_empty() || s.trailing_comma {
            if s.blank_before_brace {
                out.push(b' ');
            }
            out.push(b'{');
            if s.blanks_in_braces {
                out.push(b' ');
            }
            for (i, l) in labels.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(sep);
                }
                write_label(out, l);
            }
            if s.trailing_comma {
                out.push(b',');
            }
            if s.blanks_in_braces {
                out.push(b' ');
            }
            out.push(b'}');
        }
    }
    let blank: &[u8] = if s.tab_separator { b"\t" } else { b" " };
    if !(s.glued_value && out.last() == Some(&b'}')) {
        out.extend_from_slice(blank);
    }
    out.extend_from_slice(value.as_bytes());
    if let Some(ts) = ts {
        out.extend_from_slice(blank);
        out.extend_from_slice(ts.as_bytes());
    }
    if s.trailing_blank {
        out.push(b' ');
    }
    if s.crlf {
        out.push(b'\r');
    }
}

fn write_label(out: &mut Vec<u8>, l: &Label) {
    if l.quoted {
        write_quoted(out, &l.name);
    } else {
        out.extend_from_slice(&l.name);
    }
    out.extend_from_slice(b"=\"");
    out.extend_from_slice(&l.value);
    out.push(b'"');
}

/// A family name: mostly classic, sometimes one that must be quoted.
fn family_name(rng: &mut Rng, mess: &Mess, index: usize) -> String {
    if mess.quirk(rng, 60) {
        return format!("{}{index}", rng.pick(UTF8_NAMES));
    }
    format!("{}_{index}", rng.pick(BASE_NAMES))
}

/// A text-format timestamp: none mostly; quirks: signed, fractional, out of range.
fn text_timestamp(rng: &mut Rng, mess: &Mess, now_ms: i64) -> Option<String> {
    if mess.quirk(rng, 25) {
        return Some(
            (rng.pick(&["-17", "+17", "1.5", "99999999999999999999", "1e3", "0x10", "-1700000000000"]))
                .to_owned(),
        );
    }
    if mess.quirk(rng, 120) {
        return Some(timestamp_ms(rng, now_ms).to_string());
    }
    None
}

/// The HELP text of a text-format family; quirks: escapes expfmt refuses, bytes that are not
/// UTF-8, a NUL.
fn text_help(rng: &mut Rng, mess: &Mess) -> Vec<u8> {
    if mess.quirk(rng, 50) {
        return rng
            .pick(&[
                &b"tab \\t escape"[..],
                b"not utf-8 \xff",
                b"trailing \\",
                b"nul \0 inside",
                b"",
                b" two blanks",
                b"quote \\\" ok",
            ])
            .to_vec();
    }
    rng.pick(&[
        &b"Total number of requests."[..],
        b"Seconds spent.",
        b"A \\\\ backslash and a \\n newline.",
        b"Help.",
    ])
    .to_vec()
}

fn text_type_word(rng: &mut Rng, mess: &Mess, kind: Kind) -> &'static str {
    if mess.quirk(rng, 40) {
        return rng.pick(&[
            "",
            "COUNTER",
            "Gauge",
            "gaugehistogram",
            "gauge_histogram",
            "info",
            "unknown",
            "counter ",
            "histogram\\",
        ]);
    }
    kind.text_type()
}

/// A text-format body (0.0.4), as exporters write it, with `utf8` names now and then.
pub fn text(rng: &mut Rng, now_ms: i64) -> Vec<u8> {
    let mess = Mess::new(rng);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let families = 1 + rng.below(5) as usize;
    for f in 0..families {
        let kind = rng.pick(&KINDS);
        let name = family_name(rng, &mess, f);
        let meta_name = |out: &mut Vec<u8>| {
            if is_classic(&name) {
                out.extend_from_slice(name.as_bytes());
            } else {
                write_quoted(out, name.as_bytes());
            }
        };
        let mut help = None;
        if !rng.chance(200) {
            let mut line = b"# HELP ".to_vec();
            meta_name(&mut line);
            let text = text_help(rng, &mess);
            if !text.is_empty() || mess.quirk(rng, 500) {
                line.push(b' ');
                line.extend_from_slice(&text);
            }
            help = Some(line);
        }
        let mut type_line = None;
        if !rng.chance(200) {
            let mut line = b"# TYPE ".to_vec();
            meta_name(&mut line);
            let word = text_type_word(rng, &mess, kind);
            if !word.is_empty() {
                line.push(if mess.quirk(rng, 30) { b'\t' } else { b' ' });
                line.extend_from_slice(word.as_bytes());
            }
            type_line = Some(line);
        }
        let type_after = mess.quirk(rng, 60);
        if let Some(h) = &help {
            lines.push(h.clone());
        }
        if !type_after && let Some(t) = &type_line {
            lines.push(t.clone());
        }
        let series = 1 + rng.below(3) as usize;
        for _ in 0..series {
            let labels = series_labels(rng, &mess, 40);
            let spelling = Spelling::draw(rng, &mess);
            let ts = text_timestamp(rng, &mess, now_ms);
            match kind {
                Kind::Histogram => {
                    let bounds: &[&str] = if mess.quirk(rng, 60) {
                        rng.pick(&[&["", "+Inf"][..], &["x", "+Inf"], &["0x1p3"], &["1", "1"], &["0.5"]])
                    } else {
                        &["0.1", "1", "+Inf"]
                    };
                    for (i, le) in bounds.iter().enumerate() {
                        let mut ls: Vec<Label> = labels
                            .iter()
                            .map(|l| Label { name: l.name.clone(), quoted: l.quoted, value: l.value.clone() })
                            .collect();
                        ls.push(label("le", le.as_bytes()));
                        if i == 0 && mess.quirk(rng, 30) {
                            ls.push(label("le", b"2"));
                        }
                        let mut line = Vec::new();
                        text_sample(
                            &mut line,
                            &format!("{name}_bucket"),
                            &ls,
                            &(i * 3).to_string(),
                            ts.clone(),
                            &spelling,
                        );
                        lines.push(line);
                    }
                    for suffix in ["_sum", "_count"] {
                        let mut line = Vec::new();
                        text_sample(
                            &mut line,
                            &format!("{name}{suffix}"),
                            &labels,
                            &text_value(rng, &mess),
                            ts.clone(),
                            &spelling,
                        );
                        lines.push(line);
                    }
                }
                Kind::Summary => {
                    let quantiles: &[&str] = if mess.quirk(rng, 40) { &["x", ""] } else { &["0.5", "0.99"] };
                    for q in quantiles {
                        let mut ls: Vec<Label> = labels
                            .iter()
                            .map(|l| Label { name: l.name.clone(), quoted: l.quoted, value: l.value.clone() })
                            .collect();
                        ls.push(label("quantile", q.as_bytes()));
                        let mut line = Vec::new();
                        text_sample(&mut line, &name, &ls, &text_value(rng, &mess), ts.clone(), &spelling);
                        lines.push(line);
                    }
                    for suffix in ["_sum", "_count"] {
                        let mut line = Vec::new();
                        text_sample(
                            &mut line,
                            &format!("{name}{suffix}"),
                            &labels,
                            &text_value(rng, &mess),
                            ts.clone(),
                            &spelling,
                        );
                        lines.push(line);
                    }
                }
                _ => {
                    let sample_name = if kind == Kind::Counter && rng.chance(500) {
                        format!("{name}_total")
                    } else {
                        name.clone()
                    };
                    let mut line = Vec::new();
                    text_sample(
                        &mut line,
                        &sample_name,
                        &labels,
                        &text_value(rng, &mess),
                        ts.clone(),
                        &spelling,
                    );
                    lines.push(line);
                    if mess.quirk(rng, 40) {
                        // The same series again, with another value or timestamp.
                        let mut line = Vec::new();
                        text_sample(
                            &mut line,
                            &sample_name,
                            &labels,
                            &text_value(rng, &mess),
                            text_timestamp(rng, &mess, now_ms),
                            &spelling,
                        );
                        lines.push(line);
                    }
                }
            }
        }
        if type_after && let Some(t) = type_line {
            lines.push(t);
        }
        if mess.quirk(rng, 40)
            && let Some(h) = help
        {
            lines.push(h);
        }
        if mess.quirk(rng, 30) {
            lines.push(
                rng.pick(&[
                    &b"# a comment"[..],
                    b"#no blank",
                    b"",
                    b"   ",
                    b"# HELP",
                    b"# TYPE",
                    b"#\tHELP x y",
                    b"# HELPx y",
                ])
                .to_vec(),
            );
        }
    }
    if mess.quirk(rng, 10) {
        let at = rng.below(lines.len() as u64) as usize;
        lines.insert(at, rng.pick(&[&b"\0"[..], b"#x\0rest", b"# c\0d", b"a\0 1"]).to_vec());
    }
    let mut body = lines.join(&b'\n');
    if !mess.quirk(rng, 80) {
        body.push(b'\n');
    }
    body
}

/// An OpenMetrics body, as exporters write it; quirks include what Prometheus 2.42's parser does
/// not know (quoted names, a trailing comma, exemplars on any series).
pub fn openmetrics(rng: &mut Rng, now_ms: i64) -> Vec<u8> {
    let mess = Mess::new(rng);
    let mut out = Vec::new();
    let families = 1 + rng.below(4) as usize;
    for f in 0..families {
        let kind = rng.pick(&KINDS);
        let name = family_name(rng, &mess, f);
        let meta = |out: &mut Vec<u8>, keyword: &str, rest: &[u8]| {
            out.extend_from_slice(keyword.as_bytes());
            if is_classic(&name) {
                out.extend_from_slice(name.as_bytes());
            } else {
                write_quoted(out, name.as_bytes());
            }
            out.push(b' ');
            out.extend_from_slice(rest);
            out.push(b'\n');
        };
        let type_word = if mess.quirk(rng, 30) {
            rng.pick(&["untyped", "Counter", "gauge_histogram", ""])
        } else {
            kind.om_type()
        };
        meta(&mut out, "# TYPE ", type_word.as_bytes());
        if rng.chance(700) {
            let help: &[u8] = if mess.quirk(rng, 40) {
                rng.pick(&[&b"bad \xff"[..], b"any \\q escape", b""])
            } else {
                b"Some help."
            };
            meta(&mut out, "# HELP ", help);
        }
        if mess.quirk(rng, 20) {
            meta(&mut out, "# UNIT ", rng.pick(&[&b"seconds"[..], b"", b"bytes"]));
        }
        let series = 1 + rng.below(3) as usize;
        for _ in 0..series {
            let labels = series_labels(rng, &mess, 200);
            let ts = if mess.quirk(rng, 150) {
                let ms = timestamp_ms(rng, now_ms);
                Some(format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000)))
            } else if mess.quirk(rng, 15) {
                Some((rng.pick(&["NaN", "Inf", "x", "-1.5"])).to_owned())
            } else {
                None
            };
            let sample =
                |out: &mut Vec<u8>, sname: &str, extra: Option<(&str, &str)>, value: &str, rng: &mut Rng| {
                    let trailing_comma = mess.quirk(rng, 20);
                    if is_classic(sname) && !mess.quirk(rng, 20) {
                        out.extend_from_slice(sname.as_bytes());
                        if !labels.is_empty() || extra.is_some() || rng.chance(100) {
                            out.push(b'{');
                            let mut first = true;
                            for l in &labels {
                                if !first {
                                    out.push(b',');
                                }
                                first = false;
                                write_label(out, l);
                            }
                            if let Some((n, v)) = extra {
                                if !first {
                                    out.push(b',');
                                }
                                write_label(out, &label(n, v.as_bytes()));
                            }
                            if trailing_comma {
                                out.push(b',');
                            }
                            out.push(b'}');
                        }
                    } else {
                        out.push(b'{');
                        write_quoted(out, sname.as_bytes());
                        for l in &labels {
                            out.push(b',');
                            write_label(out, l);
                        }
                        if let Some((n, v)) = extra {
                            out.push(b',');
                            write_label(out, &label(n, v.as_bytes()));
                        }
                        out.push(b'}');
                    }
                    out.push(b' ');
                    out.extend_from_slice(value.as_bytes());
                    if let Some(ts) = &ts {
                        out.push(b' ');
                        out.extend_from_slice(ts.as_bytes());
                    }
                    if (sname.ends_with("_total") || sname.ends_with("_bucket") || mess.quirk(rng, 30))
                        && rng.chance(200)
                    {
                        out.extend_from_slice(b" # {trace_id=\"abc\"} 1.5");
                        if rng.chance(500) {
                            out.extend_from_slice(format!(" {}.5", now_ms / 1000).as_bytes());
                        }
                    }
                    out.push(b'\n');
                };
            let value = |rng: &mut Rng| -> String { text_value(rng, &mess) };
            match kind {
                Kind::Counter => {
                    let v = value(rng);
                    sample(&mut out, &format!("{name}_total"), None, &v, rng);
                    if rng.chance(300) {
                        sample(
                            &mut out,
                            &format!("{name}_created"),
                            None,
                            &format!("{}", now_ms / 1000 - 100),
                            rng,
                        );
                    }
                }
                Kind::Histogram => {
                    for (i, le) in ["0.1", "1", "+Inf"].iter().enumerate() {
                        let le = if mess.quirk(rng, 30) { "" } else { le };
                        sample(
                            &mut out,
                            &format!("{name}_bucket"),
                            Some(("le", le)),
                            &(i * 2).to_string(),
                            rng,
                        );
                    }
                    sample(&mut out, &format!("{name}_count"), None, "4", rng);
                    sample(&mut out, &format!("{name}_sum"), None, "2.5", rng);
                }
                Kind::Summary => {
                    let v = value(rng);
                    sample(&mut out, &name, Some(("quantile", "0.5")), &v, rng);
                    sample(&mut out, &format!("{name}_count"), None, "4", rng);
                    sample(&mut out, &format!("{name}_sum"), None, "2.5", rng);
                }
                _ => {
                    let v = value(rng);
                    sample(&mut out, &name, None, &v, rng);
                }
            }
        }
        if mess.quirk(rng, 20) {
            out.extend_from_slice(rng.pick(&[
                &b"\n"[..],
                b"# comment\n",
                b"a  1\n",
                b" a 1\n",
                b"a{b=\"N\",b=\"\",b=\"x\"} 1\n",
            ]));
        }
    }
    if !mess.quirk(rng, 40) {
        out.extend_from_slice(b"# EOF");
        if !mess.quirk(rng, 100) {
            out.push(b'\n');
        }
    }
    if mess.quirk(rng, 10) {
        out.extend_from_slice(b"after 1\n");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Protobuf.

/// The protobuf wire format, as far as the bodies need it.
pub mod wire {
    pub fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    pub fn tag(field: u64, wire: u64, out: &mut Vec<u8>) {
        varint(field << 3 | wire, out);
    }
    pub fn bytes(field: u64, data: &[u8], out: &mut Vec<u8>) {
        tag(field, 2, out);
        varint(data.len() as u64, out);
        out.extend_from_slice(data);
    }
    pub fn double(field: u64, v: f64, out: &mut Vec<u8>) {
        tag(field, 1, out);
        out.extend_from_slice(&v.to_le_bytes());
    }
    pub fn uint(field: u64, v: u64, out: &mut Vec<u8>) {
        tag(field, 0, out);
        varint(v, out);
    }
    pub fn sint(field: u64, v: i64, out: &mut Vec<u8>) {
        uint(field, ((v << 1) ^ (v >> 63)) as u64, out);
    }
    pub fn packed_sint(field: u64, vs: &[i64], out: &mut Vec<u8>) {
        let mut p = Vec::new();
        for &v in vs {
            varint(((v << 1) ^ (v >> 63)) as u64, &mut p);
        }
        bytes(field, &p, out);
    }
    pub fn packed_double(field: u64, vs: &[f64], out: &mut Vec<u8>) {
        let mut p = Vec::new();
        for v in vs {
            p.extend_from_slice(&v.to_le_bytes());
        }
        bytes(field, &p, out);
    }
    pub fn delimited(msg: &[u8], out: &mut Vec<u8>) {
        varint(msg.len() as u64, out);
        out.extend_from_slice(msg);
    }
}

/// One delimited protobuf family `h`, a native histogram whose one span holds one bucket but
/// which carries three bucket deltas: Prometheus 2.42 with native histograms on indexes past
/// its spans and panics in its scrape loop, and the whole server exits (issue 23). The proxy
/// refuses it whoever asks.
pub fn crashing_native_histogram() -> Vec<u8> {
    let mut span = Vec::new();
    wire::uint(2, 1, &mut span);
    let mut h = Vec::new();
    wire::uint(1, 1, &mut h);
    wire::double(2, 1.0, &mut h);
    wire::sint(5, 0, &mut h);
    wire::bytes(12, &span, &mut h);
    wire::packed_sint(13, &[1, -1, 0], &mut h);
    let mut metric = Vec::new();
    wire::bytes(7, &h, &mut metric);
    let mut family = Vec::new();
    wire::bytes(1, b"h", &mut family);
    wire::uint(3, 4, &mut family);
    wire::bytes(4, &metric, &mut family);
    let mut out = Vec::new();
    wire::delimited(&family, &mut out);
    out
}

/// Protobuf metric type numbers (client_model's `MetricType`).
fn proto_type(kind: Kind) -> u64 {
    match kind {
        Kind::Counter => 0,
        Kind::Gauge => 1,
        Kind::Summary => 2,
        Kind::Untyped => 3,
        Kind::Histogram => 4,
    }
}

fn proto_labels(rng: &mut Rng, mess: &Mess, metric: &mut Vec<u8>) {
    for l in series_labels(rng, mess, 40) {
        let mut pair = Vec::new();
        if !mess.quirk(rng, 10) {
            wire::bytes(1, &l.name, &mut pair);
        }
        // Label values in protobuf are raw: undo the text escapes the model writes.
        let mut value = Vec::new();
        let mut i = 0;
        while i < l.value.len() {
            if l.value[i] == b'\\' && i + 1 < l.value.len() {
                value.push(if l.value[i + 1] == b'n' { b'\n' } else { l.value[i + 1] });
                i += 2;
            } else {
                value.push(l.value[i]);
                i += 1;
            }
        }
        wire::bytes(2, &value, &mut pair);
        wire::bytes(1, &pair, metric);
    }
}

/// A native histogram's fields: valid ones of every shape, and now and then one that is not.
fn native_histogram(rng: &mut Rng, mess: &Mess, h: &mut Vec<u8>, shapes: &mut Shapes) {
    let float = rng.chance(300);
    let schema: i64 = if mess.quirk(rng, 30) {
        rng.pick(&[9, -5, 52, -53, 100])
    } else if rng.chance(80) {
        -53
    } else {
        rng.below(13) as i64 - 4
    };
    // Buckets per side, as (spans, absolute counts).
    let side = |rng: &mut Rng| -> (Vec<(i64, u64)>, Vec<u64>) {
        let mut spans = Vec::new();
        let mut counts = Vec::new();
        for s in 0..rng.below(3) {
            let len = rng.below(4);
            let offset = if s == 0 { rng.below(7) as i64 - 3 } else { rng.below(3) as i64 };
            spans.push((offset, len));
            for _ in 0..len {
                counts.push(rng.below(5));
            }
        }
        (spans, counts)
    };
    let (mut pos_spans, mut pos) = side(rng);
    let (mut neg_spans, mut neg) = if schema == -53 { (Vec::new(), Vec::new()) } else { side(rng) };
    if schema == -53 {
        // Custom buckets: one span from 0, at most one bucket (no bounds travel in this schema).
        pos_spans = vec![(0, pos.len().min(1) as u64)];
        pos.truncate(1);
    }
    let zero_count = if schema == -53 { 0 } else { rng.below(3) };
    let zero_threshold = if schema == -53 {
        0.0
    } else if rng.chance(500) {
        1e-128
    } else {
        0.0
    };
    if pos_spans.is_empty() && neg_spans.is_empty() && zero_count == 0 && zero_threshold == 0.0 {
        // A no-op span marks an empty native histogram.
        pos_spans.push((0, 0));
    }
    let mut count: u64 = pos.iter().chain(&neg).sum::<u64>() + zero_count;
    let mut sum = 1.5;
    // Quirks that make it invalid, or crash Prometheus 2.42.
    match if mess.quirk(rng, 250) { rng.below(9) } else { 99 } {
        0 => pos.push(1),
        1 => {
            if let Some(s) = pos_spans.last_mut() {
                s.1 += 1;
            }
        }
        2 => count += 1,
        3 => count = count.saturating_sub(1),
        4 => {
            if let Some(c) = pos.first_mut() {
                *c = 0;
            }
            pos.push(0);
        }
        5 => neg_spans.push((-2, 1)),
        6 => sum = f64::NAN,
        7 => {
            pos_spans.clear();
            neg_spans.clear();
        }
        8 => neg.push(0),
        _ => {}
    }
    if float {
        wire::double(4, count as f64, h);
    } else {
        wire::uint(1, count, h);
    }
    wire::double(2, sum, h);
    wire::sint(5, schema, h);
    if zero_threshold > 0.0 {
        wire::double(6, zero_threshold, h);
    }
    if float {
        if zero_count > 0 {
            wire::double(8, zero_count as f64, h);
        }
    } else if zero_count > 0 {
        wire::uint(7, zero_count, h);
    }
    let spans = |field: u64, spans: &[(i64, u64)], h: &mut Vec<u8>| {
        for &(offset, len) in spans {
            let mut s = Vec::new();
            wire::sint(1, offset, &mut s);
            wire::uint(2, len, &mut s);
            wire::bytes(field, &s, h);
        }
    };
    let buckets = |delta_field: u64, count_field: u64, counts: &[u64], h: &mut Vec<u8>| {
        if counts.is_empty() {
            return;
        }
        if float {
            let fs: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
            wire::packed_double(count_field, &fs, h);
        } else {
            let mut last = 0i64;
            let deltas: Vec<i64> = counts
                .iter()
                .map(|&c| {
                    let d = c as i64 - last;
                    last = c as i64;
                    d
                })
                .collect();
            wire::packed_sint(delta_field, &deltas, h);
        }
    };
    shapes.native += 1;
    shapes.float += usize::from(float);
    shapes.custom += usize::from(schema == -53);
    shapes.zero_bucket += usize::from(zero_count > 0 || zero_threshold > 0.0);
    shapes.negative += usize::from(!neg.is_empty());
    shapes.spans += usize::from(pos_spans.len() + neg_spans.len() > 1);
    spans(9, &neg_spans, h);
    buckets(10, 11, &neg, h);
    spans(12, &pos_spans, h);
    buckets(13, 14, &pos, h);
}

/// The native histograms a protobuf body holds, by shape.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shapes {
    pub native: usize,
    pub float: usize,
    pub custom: usize,
    pub zero_bucket: usize,
    pub negative: usize,
    /// More than one span.
    pub spans: usize,
}

/// A delimited protobuf body of `io.prometheus.client.MetricFamily` messages.
pub fn protobuf(rng: &mut Rng, now_ms: i64) -> Vec<u8> {
    protobuf_shapes(rng, now_ms).0
}

/// A protobuf body, and the shapes of the native histograms in it.
pub fn protobuf_shapes(rng: &mut Rng, now_ms: i64) -> (Vec<u8>, Shapes) {
    let mut shapes = Shapes::default();
    let mess = Mess::new(rng);
    let mut body = Vec::new();
    let families = 1 + rng.below(4) as usize;
    for f in 0..families {
        let kind = rng.pick(&KINDS);
        let name = family_name(rng, &mess, f);
        let mut fam = Vec::new();
        let name_bytes: &[u8] =
            if mess.quirk(rng, 15) { rng.pick(&[&b""[..], b"bad\xffname"]) } else { name.as_bytes() };
        wire::bytes(1, name_bytes, &mut fam);
        if !rng.chance(300) {
            wire::bytes(2, if mess.quirk(rng, 20) { b"help \xff" } else { b"Some help." }, &mut fam);
        }
        let type_number = if mess.quirk(rng, 10) { rng.pick(&[5, 9]) } else { proto_type(kind) };
        wire::uint(3, type_number, &mut fam);
        let metrics = if mess.quirk(rng, 20) { 0 } else { 1 + rng.below(3) };
        let native = kind == Kind::Histogram && rng.chance(600);
        let mut previous: Option<Vec<u8>> = None;
        for _ in 0..metrics {
            let mut metric = Vec::new();
            if mess.quirk(rng, 40)
                && let Some(p) = &previous
            {
                // The same series again.
                metric = p.clone();
            } else {
                proto_labels(rng, &mess, &mut metric);
                let mut value = Vec::new();
                match kind {
                    Kind::Counter | Kind::Gauge | Kind::Untyped => {
                        wire::double(1, rng.below(1000) as f64 / 4.0, &mut value);
                        let field = match kind {
                            Kind::Counter => 3,
                            Kind::Gauge => 2,
                            _ => 5,
                        };
                        if kind == Kind::Counter && rng.chance(150) {
                            let mut ex = Vec::new();
                            let mut pair = Vec::new();
                            wire::bytes(1, b"trace_id", &mut pair);
                            wire::bytes(2, b"abc", &mut pair);
                            wire::bytes(1, &pair, &mut ex);
                            wire::double(2, 1.0, &mut ex);
                            wire::bytes(2, &ex, &mut value);
                        }
                        wire::bytes(field, &value, &mut metric);
                    }
                    Kind::Summary => {
                        wire::uint(1, rng.below(100), &mut value);
                        wire::double(2, 12.5, &mut value);
                        for _ in 0..rng.below(3) {
                            let mut q = Vec::new();
                            wire::double(1, rng.pick(&[0.5, 0.9, 0.99, f64::NAN]), &mut q);
                            wire::double(2, 1.0, &mut q);
                            wire::bytes(3, &q, &mut value);
                        }
                        wire::bytes(4, &value, &mut metric);
                    }
                    Kind::Histogram => {
                        wire::uint(1, 4, &mut value);
                        wire::double(2, 2.5, &mut value);
                        if !native || rng.chance(400) {
                            for (bound, c) in [(0.1, 1u64), (1.0, 3), (f64::INFINITY, 4)] {
                                if bound.is_infinite() && rng.chance(500) {
                                    continue;
                                }
                                let mut b = Vec::new();
                                wire::uint(1, c, &mut b);
                                wire::double(2, bound, &mut b);
                                wire::bytes(3, &b, &mut value);
                            }
                        }
                        if native {
                            value.clear();
                            native_histogram(rng, &mess, &mut value, &mut shapes);
                        }
                        wire::bytes(7, &value, &mut metric);
                    }
                }
                if mess.quirk(rng, 120) {
                    wire::tag(6, 0, &mut metric);
                    wire::varint(timestamp_ms(rng, now_ms) as u64, &mut metric);
                }
                if mess.quirk(rng, 15) {
                    // Wire-level quirks: an unknown field, a known field of the wrong wire type.
                    match rng.below(3) {
                        0 => wire::uint(99, 7, &mut metric),
                        1 => wire::uint(2, 7, &mut metric),
                        _ => wire::bytes(6, b"x", &mut metric),
                    }
                }
            }
            previous = Some(metric.clone());
            wire::bytes(4, &metric, &mut fam);
        }
        if mess.quirk(rng, 10) {
            wire::bytes(5, b"seconds", &mut fam);
        }
        wire::delimited(&fam, &mut body);
    }
    if mess.quirk(rng, 15) {
        let cut = rng.below(body.len() as u64) as usize;
        body.truncate(cut);
    }
    (body, shapes)
}
