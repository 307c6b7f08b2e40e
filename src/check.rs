//! The offline checker, `-check.metrics FILE` (or `-` for standard input): verifies a body
//! with the verifier the proxy runs, in the dialect the proxy would pick, and words the verdict
//! for a person: `OK` with the counts, or where the first fault is, with the offending line and
//! a caret under the byte at fault.

mod excerpt;

use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::PathBuf;

use flate2::read::MultiGzDecoder;

use crate::exposition::{BodyVerifier, Dialect, Encoding, Format, Position, Summary, VerifyError};
use crate::modules::verification::dialect_of;
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

/// How the dialect was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// From `-check.content-type`, read as the proxy reads an upstream's `Content-Type`.
    ContentType(String),
    /// Sniffed as exec and file output is: OpenMetrics when it ends with `# EOF`.
    Sniffed,
}

/// A verdict, with what it was reached on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The dialect checked.
    pub dialect: Dialect,
    /// How it was chosen.
    pub chosen: Chosen,
    /// Whether the body was gzip-compressed (and verified through the decoder, as the proxy
    /// does for `Content-Encoding: gzip`).
    pub encoding: Encoding,
    /// The verifier's verdict.
    pub result: Result<Summary, VerifyError>,
    /// The offending line as shown (decoded, escaped, cut at [`MAX_SHOWN_LINE_BYTES`]) with the
    /// caret under the byte at fault, for a fault on a line.
    pub line: Option<Excerpt>,
}

/// Verifies `body` as the proxy would: in the dialect `content_type` gives (as an upstream's
/// `Content-Type` header), or else the one exec output is sniffed as; looking through gzip when
/// the body starts with gzip's magic bytes, decoding at most `max_bytes`.
pub fn check(body: &[u8], content_type: Option<&str>, max_bytes: u64) -> Checked {
    let encoding = if body.starts_with(&GZIP_MAGIC) { Encoding::Gzip } else { Encoding::Identity };
    // The decoded text, needed to sniff the dialect and to show a faulty line; the verdict
    // itself comes from the verifier reading `body` through its own decoder.
    let decoded = match encoding {
        Encoding::Gzip => Some(gunzip(body, max_bytes)),
        Encoding::Identity => None,
    };
    let text = decoded.as_deref().unwrap_or(body);
    let (dialect, chosen) = match content_type {
        Some(ct) => (Dialect::from_content_type(Some(ct.as_bytes())), Chosen::ContentType(ct.to_owned())),
        None => (dialect_of(text), Chosen::Sniffed),
    };
    // As the http module checks a body: the same decoder bound as the body bound.
    let result = BodyVerifier::new(dialect, encoding, max_bytes).finish(body);
    let line = match &result {
        Err(VerifyError { position: Position::Line { line, column }, .. }) => {
            Excerpt::of(text, *line, *column)
        }
        Err(VerifyError { position: Position::Message(_) | Position::Body, .. }) | Ok(_) => None,
    };
    Checked { dialect, chosen, encoding, result, line }
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
    /// Whether the body verifies.
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The report printed for a person: one `OK` line with the counts, or `FAIL` with where,
    /// why and the offending line.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let names = match (self.dialect.format, self.dialect.utf8_names) {
            (Format::OpenMetrics, _) => "",
            (Format::Text | Format::Protobuf, true) => ", UTF-8 names allowed",
            (Format::Text | Format::Protobuf, false) => ", classic names only",
        };
        let gzip = match self.encoding {
            Encoding::Gzip => ", gzip",
            Encoding::Identity => "",
        };
        let how = match &self.chosen {
            Chosen::ContentType(ct) => format!("Content-Type {ct:?}"),
            Chosen::Sniffed if self.dialect.format == Format::OpenMetrics => {
                "sniffed: ends with # EOF".into()
            }
            Chosen::Sniffed => "sniffed: no # EOF at the end".into(),
        };
        let checked_as = format!("{}{names}{gzip} ({how})", self.dialect.format);
        match &self.result {
            Ok(summary) => {
                let _ = writeln!(
                    out,
                    "OK: {checked_as}: {} {}, {} {}",
                    summary.families,
                    plural(summary.families, "family", "families"),
                    summary.samples,
                    plural(summary.samples, "sample", "samples"),
                );
            }
            Err(e) => {
                let _ = writeln!(out, "FAIL: {checked_as}");
                let _ = match e.position {
                    Position::Line { line, column } => {
                        writeln!(out, "line {line}, column {column}: {}", e.message)
                    }
                    Position::Message(n) => writeln!(out, "message {n}: {}", e.message),
                    Position::Body => writeln!(out, "body: {}", e.message),
                };
                if let (Position::Line { line, column }, Some(excerpt)) = (e.position, &self.line) {
                    out.push_str(&excerpt.render(line, column));
                }
            }
        }
        out
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ok_report_gives_the_counts_and_how_the_dialect_was_chosen() {
        let c = check(b"# TYPE a gauge\na 1\na{x=\"y\"} 2\n", None, u64::MAX);
        assert_eq!(
            c.report(),
            "OK: text format, classic names only (sniffed: no # EOF at the end): 1 family, 2 samples\n"
        );
        let c = check(b"# TYPE a gauge\na 1\n# EOF\n", None, u64::MAX);
        assert_eq!(c.report(), "OK: OpenMetrics (sniffed: ends with # EOF): 1 family, 1 sample\n");
    }

    #[test]
    fn a_fault_is_reported_with_its_line_column_and_a_caret() {
        let c = check(b"a 1\nb zero\n", Some("text/plain; version=0.0.4"), u64::MAX);
        assert_eq!(
            c.report(),
            "FAIL: text format, classic names only (Content-Type \"text/plain; version=0.0.4\")\n\
             line 2, column 3: expected float as value, got \"zero\"\n\
             \x20 2 | b zero\n\
             \x20   |   ^\n"
        );
    }

    /// The report's lines after `FAIL: ...`.
    fn where_and_caret(body: &[u8], content_type: &str) -> String {
        let report = check(body, Some(content_type), u64::MAX).report();
        report.split_once('\n').map(|(_, rest)| rest.to_owned()).unwrap_or_default()
    }

    #[test]
    fn the_caret_stands_under_the_byte_as_the_terminal_shows_the_line() {
        const TEXT: &str = "text/plain; version=0.0.4";
        const OM: &str = "application/openmetrics-text; version=1.0.0";
        // A carriage return and an escape byte before the fault take their escapes' width.
        assert_eq!(
            where_and_caret(b"up{a=\"\r\x1b[31m\"} one\n", TEXT),
            "line 1, column 16: expected float as value, got \"one\"\n  \
             1 | up{a=\"\\r\\u{1b}[31m\"} one\n    | "
                .to_owned()
                + &" ".repeat(6 + 2 + 6 + 4 + 3)
                + "^\n"
        );
        // Multi-byte characters before the fault: é is two bytes and one cell, 日 three and two.
        assert_eq!(
            where_and_caret("up{a=\"é日\",a=\"x\"} 1\n".as_bytes(), TEXT),
            "line 1, column 14: duplicate label name \"a\"\n  1 | up{a=\"é日\",a=\"x\"} 1\n    | ".to_owned()
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
