//! The exposition verifier: decides whether a body is something Prometheus would ingest, in
//! every format it negotiates (docs/verification.md). Pure: bytes in, verdict out, no I/O.
//!
//! Bodies are checked as they arrive: [`BodyVerifier::push`] takes each piece as it comes and
//! checks it where it lies, one line (or protobuf message) at a time, copying only the unit a
//! piece boundary cuts; a verdict is ready when the last byte lands and the body is never read
//! twice or gathered into one buffer.

mod escaping;
mod fault;
mod gzip;
mod lex;
mod names;
mod openmetrics;
mod protobuf;
mod scan;
mod skeleton;
mod spanning;
mod text;
mod verdict;

use openmetrics::OpenMetricsParser;
use protobuf::{Next, ProtobufParser};
use text::TextParser;
pub use verdict::{Format, Position, Summary, VerifyError};

/// A format plus the name rules that go with it, as read from a `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Which parser applies.
    pub format: Format,
    /// Whether names outside the classic `[a-zA-Z_:][a-zA-Z0-9_:]*` grammar are allowed. The
    /// text and protobuf decoders of expfmt allow them only with `escaping=allow-utf-8`;
    /// Prometheus's OpenMetrics parser always does.
    pub utf8_names: bool,
}

impl Dialect {
    /// The dialect Prometheus (and expfmt) would pick for a response with this `Content-Type`;
    /// a missing or unknown type means the text format.
    pub fn from_content_type(content_type: Option<&[u8]>) -> Dialect {
        let ct = content_type.unwrap_or_default();
        let mut parts = ct.split(|&b| b == b';');
        let media = trim(parts.next().unwrap_or_default());
        let mut proto_ok = true;
        for param in parts {
            let param = trim(param);
            let Some(eq) = param.iter().position(|&b| b == b'=') else { continue };
            let key = trim(&param[..eq]);
            let value = trim(&param[eq + 1..]);
            let value = value.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(value);
            if key.eq_ignore_ascii_case(b"proto") {
                proto_ok &= value == b"io.prometheus.client.MetricFamily";
            } else if key.eq_ignore_ascii_case(b"encoding") {
                proto_ok &= value == b"delimited";
            }
        }
        if media.eq_ignore_ascii_case(b"application/openmetrics-text") {
            return Dialect { format: Format::OpenMetrics, utf8_names: true };
        }
        let format = if media.eq_ignore_ascii_case(b"application/vnd.google.protobuf") && proto_ok {
            Format::Protobuf
        } else {
            Format::Text
        };
        Dialect { format, utf8_names: escaping::allows_utf8_names(ct) }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A `Content-Encoding` the verifier can look through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No content coding.
    Identity,
    /// gzip (one or more concatenated members, as Go's reader accepts).
    Gzip,
}

impl Encoding {
    /// Reads a `Content-Encoding` value; `Err` carries a coding that cannot be verified.
    pub fn from_header(value: Option<&[u8]>) -> Result<Encoding, String> {
        let Some(v) = value.map(trim).filter(|v| !v.is_empty()) else {
            return Ok(Encoding::Identity);
        };
        if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
            Ok(Encoding::Gzip)
        } else if v.eq_ignore_ascii_case(b"identity") {
            Ok(Encoding::Identity)
        } else {
            Err(String::from_utf8_lossy(v).into_owned())
        }
    }
}

#[derive(Debug)]
enum Parser {
    Text(Box<TextParser>),
    OpenMetrics(Box<OpenMetricsParser>),
    Protobuf(ProtobufParser),
}

/// Checks a decoded (not compressed) body piece by piece.
#[derive(Debug)]
pub struct Verifier {
    format: Format,
    parser: Parser,
    /// Lines or messages checked so far, for error positions.
    units: u64,
    /// Length of the unconsumed input already searched for a newline in vain, so a long line
    /// arriving in small pieces is searched once, not once per piece.
    scanned: usize,
}

impl Verifier {
    /// A verifier for one body in `dialect`.
    pub fn new(dialect: Dialect) -> Verifier {
        let parser = match dialect.format {
            Format::Text => Parser::Text(Box::new(TextParser::new(dialect.utf8_names))),
            Format::OpenMetrics => Parser::OpenMetrics(Box::default()),
            Format::Protobuf => Parser::Protobuf(ProtobufParser::new(dialect.utf8_names)),
        };
        Verifier { format: dialect.format, parser, units: 0, scanned: 0 }
    }

    /// Checks every complete line (or message) at the start of `buf`, the unconsumed input, and
    /// returns how many bytes it used. The caller keeps the rest and passes it again, followed
    /// by more input.
    pub fn feed(&mut self, buf: &[u8]) -> Result<usize, VerifyError> {
        let format = self.format;
        match &mut self.parser {
            Parser::Text(p) => {
                p.backslashes = memchr::memchr(b'\\', buf).is_some();
                text_lines(buf, &mut self.scanned, &mut self.units, format, p)
            }
            Parser::OpenMetrics(p) => openmetrics_lines(buf, &mut self.scanned, &mut self.units, format, p),
            Parser::Protobuf(p) => {
                let mut pos = 0;
                while pos < buf.len() {
                    match p.next(&buf[pos..]) {
                        Ok(Next::Checked(n)) => {
                            self.units += 1;
                            pos += n;
                        }
                        Ok(Next::Incomplete) => break,
                        Err(message) => {
                            return Err(VerifyError {
                                format,
                                position: Position::Message(self.units + 1),
                                message,
                            });
                        }
                    }
                }
                Ok(pos)
            }
        }
    }

    /// Ends the body: `rest` is what the last [`Verifier::feed`] left unconsumed.
    pub fn finish(mut self, rest: &[u8]) -> Result<Summary, VerifyError> {
        let used = self.feed(rest)?;
        let rest = &rest[used..];
        let (format, line) = (self.format, self.units + 1);
        match &mut self.parser {
            Parser::Text(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families() as u64, samples: p.samples })
                .map_err(|fault| fault.locate(format, rest, line)),
            Parser::OpenMetrics(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families, samples: p.samples })
                .map_err(|fault| fault.locate(format, rest, line)),
            Parser::Protobuf(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families, samples: p.samples })
                .map_err(|message| VerifyError { format, position: Position::Message(line), message }),
        }
    }

    fn body_error(&self, message: String) -> VerifyError {
        VerifyError { format: self.format, position: Position::Body, message }
    }

    /// Tests only: a verifier that remembers nothing between lines (no last-name cache, no label
    /// skeletons), so every line takes the full checks; its verdicts are the reference.
    #[cfg(test)]
    fn exact(mut self) -> Verifier {
        match &mut self.parser {
            Parser::Text(p) => p.exact = true,
            Parser::OpenMetrics(p) => p.exact = true,
            Parser::Protobuf(_) => {}
        }
        self
    }
}

/// Checks the complete OpenMetrics lines at the start of `buf`; returns how many bytes they take.
/// A line ends at its first newline, except the rare one whose quoted name holds a raw newline
/// (Prometheus's lexer allows that): its check stops at that name, and [`spanning::Spanning`]
/// finds the real end, once, going on where it stopped when the line comes in pieces.
#[inline]
fn openmetrics_lines(
    buf: &[u8],
    scanned: &mut usize,
    units: &mut u64,
    format: Format,
    p: &mut OpenMetricsParser,
) -> Result<usize, VerifyError> {
    // buf[..from] is known to hold no newline, unless a spanning line is being framed.
    let mut from = (*scanned).min(buf.len());
    let mut pos = 0;
    loop {
        if let Some(spanning) = p.spanning.as_mut() {
            let Some(k) = spanning.end(&buf[pos..]) else { break };
            p.spanning = None;
            let end = pos + k;
            p.multiline = true;
            let checked = p.line(&buf[pos..end]);
            p.multiline = false;
            checked.map_err(|fault| fault.locate(format, &buf[pos..end], *units + 1))?;
            // Every newline counts as a line, for the positions of later faults.
            *units += 1 + memchr::memchr_iter(b'\n', &buf[pos..end]).count() as u64;
            pos = end + 1;
            from = pos;
            continue;
        }
        let Some(end) = scan::newline(buf, from) else { break };
        if let Err(fault) = p.line(&buf[pos..end]) {
            if p.spanning.is_none() {
                return Err(fault.locate(format, &buf[pos..end], *units + 1));
            }
            // A quoted name runs on past this newline: frame the line again, from its start.
            continue;
        }
        *units += 1;
        pos = end + 1;
        from = pos;
    }
    *scanned = buf.len() - pos;
    Ok(pos)
}

/// The lines of a text-format body, where most sample lines repeat the last one's shape, and most
/// HELP and TYPE lines are written one way, and are checked in place without a newline search
/// first (see [`TextParser::repeated_sample`] and [`TextParser::plain_comment`]).
#[inline]
fn text_lines(
    buf: &[u8],
    scanned: &mut usize,
    units: &mut u64,
    format: Format,
    p: &mut TextParser,
) -> Result<usize, VerifyError> {
    each_text_line(buf, scanned, units, format, p, |h| scan::newline(h, 0))
}

#[inline]
fn each_text_line(
    buf: &[u8],
    scanned: &mut usize,
    units: &mut u64,
    format: Format,
    p: &mut TextParser,
    find: impl Fn(&[u8]) -> Option<usize>,
) -> Result<usize, VerifyError> {
    // buf[..searched] is known to hold no newline.
    let searched = (*scanned).min(buf.len());
    let mut pos = 0;
    loop {
        let repeated =
            if buf.get(pos) == Some(&b'#') { p.plain_comment(buf, pos) } else { p.repeated_sample(buf, pos) };
        if let Some(nl) = repeated {
            *units += 1;
            pos = nl + 1;
            continue;
        }
        let from = pos.max(searched);
        let Some(k) = find(&buf[from..]) else { break };
        let end = from + k;
        *units += 1;
        p.line(&buf[pos..end]).map_err(|fault| fault.locate(format, &buf[pos..end], *units))?;
        pos = end + 1;
    }
    *scanned = buf.len() - pos;
    Ok(pos)
}

/// A verifier fed pieces of a body in any sizes: each piece is checked where it lies, and only
/// the unit (line or message) cut by a piece boundary is copied, to be completed by the next.
#[derive(Debug)]
pub(crate) struct Feeder {
    verifier: Verifier,
    /// The start of a line or message that a piece boundary cut.
    pending: Vec<u8>,
}

impl gzip::Decoded for Feeder {
    fn push(&mut self, piece: &[u8]) -> Result<(), VerifyError> {
        Feeder::push(self, piece)
    }

    fn finish(self) -> Result<Summary, VerifyError> {
        Feeder::finish(self)
    }

    fn body_error(&self, message: String) -> VerifyError {
        Feeder::body_error(self, message)
    }
}

impl Feeder {
    fn new(verifier: Verifier) -> Feeder {
        Feeder { verifier, pending: Vec::new() }
    }

    /// Checks one more piece of the (decoded) body.
    pub(crate) fn push(&mut self, mut piece: &[u8]) -> Result<(), VerifyError> {
        if !self.pending.is_empty() {
            if self.verifier.format == Format::Protobuf {
                self.pending.extend_from_slice(piece);
                let used = self.verifier.feed(&self.pending)?;
                self.pending.drain(..used);
                return Ok(());
            }
            // Complete the cut line with the start of this piece, check it, go on in place. An
            // OpenMetrics line whose quoted name holds a newline may take more than one.
            loop {
                let Some(nl) = memchr::memchr(b'\n', piece) else {
                    self.pending.extend_from_slice(piece);
                    return Ok(());
                };
                self.pending.extend_from_slice(&piece[..=nl]);
                piece = &piece[nl + 1..];
                let used = self.verifier.feed(&self.pending)?;
                self.pending.drain(..used);
                if self.pending.is_empty() {
                    break;
                }
            }
        }
        let used = self.verifier.feed(piece)?;
        self.pending.extend_from_slice(&piece[used..]);
        Ok(())
    }

    /// Ends the body.
    pub(crate) fn finish(self) -> Result<Summary, VerifyError> {
        self.verifier.finish(&self.pending)
    }

    fn body_error(&self, message: String) -> VerifyError {
        self.verifier.body_error(message)
    }
}

/// Verifies one response body as it arrives, looking through its content coding.
#[derive(Debug)]
pub struct BodyVerifier {
    inner: Inner,
    /// Bytes received so far, for [`BodyVerifier::update`].
    received: usize,
}

#[derive(Debug)]
enum Inner {
    Identity(Feeder),
    Gzip(Box<gzip::GzipCheck<Feeder>>),
}

impl BodyVerifier {
    /// Starts checking a body in `dialect` with `encoding`; a gzip body may decode to at most
    /// `max_decoded` bytes.
    pub fn new(dialect: Dialect, encoding: Encoding, max_decoded: u64) -> BodyVerifier {
        let feeder = Feeder::new(Verifier::new(dialect));
        let inner = match encoding {
            Encoding::Identity => Inner::Identity(feeder),
            Encoding::Gzip => Inner::Gzip(Box::new(gzip::GzipCheck::new(feeder, max_decoded))),
        };
        BodyVerifier { inner, received: 0 }
    }

    /// Checks the next piece of the body as received (a frame, say).
    pub fn push(&mut self, piece: &[u8]) -> Result<(), VerifyError> {
        self.received += piece.len();
        match &mut self.inner {
            Inner::Identity(feeder) => feeder.push(piece),
            Inner::Gzip(decoder) => decoder.write(piece),
        }
    }

    /// Checks what `body` (everything received so far, in one buffer) holds beyond the
    /// previous call.
    pub fn update(&mut self, body: &[u8]) -> Result<(), VerifyError> {
        let new = &body[self.received.min(body.len())..];
        self.push(new)
    }

    /// Ends a body given piece by piece with [`BodyVerifier::push`].
    pub fn end(self) -> Result<Summary, VerifyError> {
        match self.inner {
            Inner::Identity(feeder) => feeder.finish(),
            Inner::Gzip(decoder) => decoder.finish(),
        }
    }

    /// Ends a body given whole so far with [`BodyVerifier::update`]: `body` is now complete.
    pub fn finish(mut self, body: &[u8]) -> Result<Summary, VerifyError> {
        self.update(body)?;
        self.end()
    }
}

/// Verifies a complete body in one call.
pub fn verify(body: &[u8], dialect: Dialect, encoding: Encoding) -> Result<Summary, VerifyError> {
    BodyVerifier::new(dialect, encoding, u64::MAX).finish(body)
}

#[cfg(test)]
mod tests;
