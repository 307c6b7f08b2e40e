//! The offline checker, `-check.metrics FILE` (or `-` for standard input): verifies a body
//! with the verifier the proxy runs, in the format the proxy would pick, as each Prometheus
//! version would judge it (3 and 2.42; a scrape is judged as the one that asked), and words the
//! verdicts for a person: `OK` with the counts, or where the first fault is, with the offending
//! line and a caret under the byte at fault. The debug scrape words its verdicts the same way.

mod excerpt;

use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::PathBuf;

use flate2::read::MultiGzDecoder;

use crate::exposition::{
    BodyVerifier, ContentType, Dialect, Encoding, Format, Judge, Now, Position, Summary, VerifyError,
};
use crate::modules::verification::format_of;
pub use excerpt::{Caret, Excerpt, MAX_SHOWN_LINE_BYTES};

/// The first bytes of every gzip stream (magic and the deflate method).
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Where the body comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// Reads `-check.metrics`'s value: `-` is standard input, anything else a file.
    pub fn from_flag(value: &str) -> Input {
        if value == "-" { Input::Stdin } else { Input::File(PathBuf::from(value)) }
    }

    /// Reads the body, refusing one longer than `max_bytes` (the proxy's
    /// `-upstream.max-body-bytes`: it answers 502 for such a body without verifying it).
    pub fn read(&self, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        let taken = match self {
            Input::Stdin => io::stdin().lock().take(max_bytes.saturating_add(1)).read_to_end(&mut body),
            Input::File(path) => std::fs::File::open(path)
                .and_then(|f| f.take(max_bytes.saturating_add(1)).read_to_end(&mut body)),
        };
        match taken {
            Err(source) => Err(ReadError::Io { input: self.to_string(), source }),
            Ok(n) if n as u64 > max_bytes => Err(ReadError::TooLarge { input: self.to_string(), max_bytes }),
            Ok(_) => Ok(body),
        }
    }
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Stdin => f.write_str("standard input"),
            Input::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why the body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file or standard input failed.
    #[error("cannot read {input}: {source}")]
    Io {
        /// What was read.
        input: String,
        /// Why it failed.
        source: io::Error,
    },
    /// Longer than the proxy would read.
    #[error(
        "{input} is larger than {max_bytes} bytes (-upstream.max-body-bytes): the proxy answers 502 \
         for such a body without verifying it"
    )]
    TooLarge {
        /// What was read.
        input: String,
        /// The bound.
        max_bytes: u64,
    },
}

/// How the format was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// From `-check.content-type`, read as the proxy reads an upstream's `Content-Type`.
    ContentType(String),
    /// Sniffed as exec and file output is: OpenMetrics when it ends with `# EOF`.
    Sniffed,
}

/// The verdicts on one body, with what they were reached on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The format checked.
    pub format: Format,
    /// How it was chosen.
    pub chosen: Chosen,
    /// Whether the body was gzip-compressed (and verified through the decoder, as the proxy
    /// does for `Content-Encoding: gzip`).
    pub encoding: Encoding,
    /// One verdict per Prometheus judged as, in the order asked for.
    pub verdicts: Vec<Verdict>,
}

/// What one Prometheus makes of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The Prometheus.
    pub judge: Judge,
    /// The verifier's verdict as that Prometheus.
    pub result: Result<Summary, VerifyError>,
    /// The offending line as shown (decoded, escaped, cut at [`MAX_SHOWN_LINE_BYTES`]) with the
    /// caret under the byte at fault, for a fault on a line.
    pub line: Option<Excerpt>,
}

/// Verifies `body` as the proxy would for each Prometheus of `judges` (`-check.metrics` asks
/// for [`Judge::BOTH`]): in the format `content_type` gives (as an upstream's `Content-Type`
/// header), or else the one exec output is sniffed as; looking through gzip when the body
/// starts with gzip's magic bytes, decoding at most `max_bytes`.
pub fn check(body: &[u8], content_type: Option<&str>, max_bytes: u64, judges: &[Judge]) -> Checked {
    let encoding = if body.starts_with(&GZIP_MAGIC) { Encoding::Gzip } else { Encoding::Identity };
    // The decoded text, needed to sniff the format and to show a faulty line; the verdict
    // itself comes from the verifier reading `body` through its own decoder.
    let decoded = match encoding {
        Encoding::Gzip => Some(gunzip(body, max_bytes)),
        Encoding::Identity => None,
    };
    let text = decoded.as_deref().unwrap_or(body);
    let (format, chosen) = match content_type {
        Some(ct) => (ContentType::read(Some(ct.as_bytes())).format, Chosen::ContentType(ct.to_owned())),
        None => (format_of(text), Chosen::Sniffed),
    };
    let now = Now::system();
    let verdicts = judges
        .iter()
        .map(|&judge| {
            // As the http module checks a body: the same decoder bound as the body bound.
            let result = BodyVerifier::new(Dialect { format, judge }, encoding, max_bytes, now).finish(body);
            let line = match &result {
                Err(VerifyError { position: Position::Line { line, column }, .. }) => {
                    Excerpt::of(text, *line, *column)
                }
                Err(VerifyError { position: Position::Message(_) | Position::Body, .. }) | Ok(_) => None,
            };
            Verdict { judge, result, line }
        })
        .collect();
    Checked { format, chosen, encoding, verdicts }
}

/// As much of the decompressed body as fits in `max_bytes`.
fn gunzip(body: &[u8], max_bytes: u64) -> Vec<u8> {
    let mut out = Vec::new();
    // A corrupt stream still yields what came before the fault, which is enough to show lines;
    // the fault itself is the verifier's to report.
    let _ = MultiGzDecoder::new(body).take(max_bytes).read_to_end(&mut out);
    out
}

impl Checked {
    /// Whether every Prometheus judged as ingests the body.
    pub fn ok(&self) -> bool {
        self.verdicts.iter().all(|v| v.result.is_ok())
    }

    /// The verdict as `judge`, if it was judged as that one.
    pub fn verdict(&self, judge: Judge) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.judge == judge)
    }

    /// The report printed for a person: a first line saying `OK` (every Prometheus ingests the
    /// body) or `FAIL` and what was checked, then one verdict per Prometheus: `OK` with the
    /// counts, or `FAIL` with where, why and the offending line under it.
    pub fn report(&self) -> String {
        self.report_applied(None)
    }

    /// The report, with the verdict that `applied` (the Prometheus a scrape was judged as) so
    /// marked.
    pub fn report_applied(&self, applied: Option<Judge>) -> String {
        let mut out = String::new();
        let gzip = match self.encoding {
            Encoding::Gzip => ", gzip",
            Encoding::Identity => "",
        };
        let how = match &self.chosen {
            Chosen::ContentType(ct) => format!("Content-Type {ct:?}"),
            Chosen::Sniffed if self.format == Format::OpenMetrics => "sniffed: ends with # EOF".into(),
            Chosen::Sniffed => "sniffed: no # EOF at the end".into(),
        };
        let overall = if self.ok() { "OK" } else { "FAIL" };
        let _ = writeln!(out, "{overall}: {}{gzip} ({how})", self.format);
        for verdict in &self.verdicts {
            let mark = if applied == Some(verdict.judge) { " (applied)" } else { "" };
            let who = format!("{}{mark}", verdict.judge);
            let _ = match &verdict.result {
                Ok(summary) => writeln!(out, "{who}: OK: {}", counts(self.format, summary)),
                Err(e) => match e.position {
                    Position::Line { line, column } => {
                        writeln!(out, "{who}: FAIL: line {line}, column {column}: {}", e.message)
                    }
                    Position::Message(n) => writeln!(out, "{who}: FAIL: message {n}: {}", e.message),
                    Position::Body => writeln!(out, "{who}: FAIL: body: {}", e.message),
                },
            };
            if let (Err(VerifyError { position: Position::Line { line, column }, .. }), Some(excerpt)) =
                (&verdict.result, &verdict.line)
            {
                out.push_str(&excerpt.render(*line, *column));
            }
        }
        out
    }
}

/// What an accepted body holds, as the report words it: its families (protobuf messages; in
/// the text formats, TYPE lines, which is all a Prometheus reads of families there) and its
/// samples.
pub fn counts(format: Format, summary: &Summary) -> String {
    let families = match format {
        Format::Protobuf => plural(summary.families, "family", "families"),
        Format::Text | Format::OpenMetrics => plural(summary.families, "TYPE line", "TYPE lines"),
    };
    let samples = plural(summary.samples, "sample", "samples");
    format!("{} {families}, {} {samples}", summary.families, summary.samples)
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ok_report_gives_the_counts_and_how_the_format_was_chosen() {
        let c = check(b"# TYPE a gauge\na 1\na{x=\"y\"} 2\n", None, u64::MAX, &Judge::BOTH);
        assert_eq!(
            c.report(),
            "OK: text format (sniffed: no # EOF at the end)\n\
             Prometheus 3: OK: 1 TYPE line, 2 samples\n\
             Prometheus 2.42: OK: 1 TYPE line, 2 samples\n"
        );
        let c = check(b"# TYPE a gauge\na 1\n# EOF\n", None, u64::MAX, &[Judge::PROMETHEUS_3]);
        assert_eq!(
            c.report_applied(Some(Judge::PROMETHEUS_3)),
            "OK: OpenMetrics (sniffed: ends with # EOF)\nPrometheus 3 (applied): OK: 1 TYPE line, 1 sample\n"
        );
    }

    #[test]
    fn a_fault_is_reported_with_its_line_column_and_a_caret() {
        let c = check(b"a 1\nb zero\n", Some("text/plain; version=0.0.4"), u64::MAX, &Judge::BOTH);
        assert!(!c.ok());
        assert_eq!(
            c.report(),
            "FAIL: text format (Content-Type \"text/plain; version=0.0.4\")\n\
             Prometheus 3: FAIL: line 2, column 3: expected a float as value, got \"zero\"\n\
             \x20 2 | b zero\n\
             \x20   |   ^\n\
             Prometheus 2.42: FAIL: line 2, column 3: expected a float as value, got \"zero\"\n\
             \x20 2 | b zero\n\
             \x20   |   ^\n"
        );
    }

    #[test]
    fn one_version_refusing_fails_the_check_and_says_which() {
        // Quoted names are Prometheus 3's syntax; 2.42 reads `{` as a sample without a name.
        let c = check(b"{\"a.b\"} 1\n", Some("text/plain; version=0.0.4"), u64::MAX, &Judge::BOTH);
        assert!(!c.ok());
        assert!(c.verdict(Judge::PROMETHEUS_3).is_some_and(|v| v.result.is_ok()));
        let report = c.report_applied(Some(Judge::PROMETHEUS_2_42));
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "FAIL: text format (Content-Type \"text/plain; version=0.0.4\")", "{report}");
        assert_eq!(lines[1], "Prometheus 3: OK: 0 TYPE lines, 1 sample", "{report}");
        assert!(lines[2].starts_with("Prometheus 2.42 (applied): FAIL: line 1, column 1: "), "{report}");
    }

    /// The report's lines after `FAIL: ...` and the verdict's name, as Prometheus 3.
    fn where_and_caret(body: &[u8], content_type: &str) -> String {
        let report = check(body, Some(content_type), u64::MAX, &[Judge::PROMETHEUS_3]).report();
        let (_, rest) = report.split_once('\n').unwrap_or_default();
        rest.strip_prefix("Prometheus 3: FAIL: ").unwrap_or(rest).to_owned()
    }

    #[test]
    fn the_caret_stands_under_the_byte_as_the_terminal_shows_the_line() {
        const TEXT: &str = "text/plain; version=0.0.4";
        const OM: &str = "application/openmetrics-text; version=1.0.0";
        // A carriage return and an escape byte before the fault take their escapes' width.
        assert_eq!(
            where_and_caret(b"up{a=\"\r\x1b[31m\"} one\n", TEXT),
            "line 1, column 16: expected a float as value, got \"one\"\n  \
             1 | up{a=\"\\r\\u{1b}[31m\"} one\n    | "
                .to_owned()
                + &" ".repeat(6 + 2 + 6 + 4 + 3)
                + "^\n"
        );
        // Multi-byte characters before the fault: é is two bytes and one cell, 日 three and two.
        assert_eq!(
            where_and_caret("up{a=\"é日\",a=\"x\"} 1\n".as_bytes(), TEXT),
            "line 1, column 14: label name \"a\" is not unique\n  1 | up{a=\"é日\",a=\"x\"} 1\n    | "
                .to_owned()
                + &" ".repeat(6 + 1 + 2 + 2)
                + "^\n"
        );
        // A fault past the bytes shown is said to be there.
        let body = format!("m{{a=\"{}\"}} 1 2 3\n# EOF\n", "v".repeat(300));
        let report = where_and_caret(body.as_bytes(), OM);
        let column = body.find(" 3").expect("the third token") + 2;
        assert!(
            report.starts_with(&format!(
                "line 1, column {column}: expected the end of the line or an exemplar after the timestamp\n"
            )),
            "{report}"
        );
        assert!(
            report.ends_with(&format!(
                " …\n    | {}^ column {column} is past the {MAX_SHOWN_LINE_BYTES} bytes shown\n",
                " ".repeat(MAX_SHOWN_LINE_BYTES + 1)
            )),
            "{report}"
        );
    }
}
