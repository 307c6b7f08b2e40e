//! The exposition verifier: decides whether a body is something Prometheus would ingest, in
//! every format it negotiates (docs/verification.md). Pure: bytes in, verdict out, no I/O.
//!
//! Bodies are checked as they arrive: [`BodyVerifier::push`] takes each piece as it comes and
//! checks it where it lies, one line (or protobuf message) at a time, copying only the unit a
//! piece boundary cuts; a verdict is ready when the last byte lands and the body is never read
//! twice or gathered into one buffer.

mod content_type;
mod fault;
mod gzip;
mod histogram;
mod judge;
mod lex;
mod openmetrics;
mod protobuf;
mod scan;
mod scrape;
mod skeleton;
mod spanning;
mod text;
mod verdict;

use openmetrics::OpenMetricsParser;
use protobuf::{Next, ProtobufParser};
use text::TextParser;

pub use content_type::ContentType;
pub use judge::{Judge, Now, Version};
pub use verdict::{Format, Position, Summary, VerifyError};

/// How a body is read: its format, and the Prometheus whose scrape path judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Which parser applies.
    pub format: Format,
    /// The Prometheus that asked (docs/verification.md, "Which Prometheus").
    pub judge: Judge,
}

impl Dialect {
    /// The dialect of a response with this `Content-Type`, judged by `judge`: the format
    /// Prometheus 2.42 reads it as (a missing or unknown type is the text format; see
    /// [`ContentType`] for what Prometheus 3 makes of it).
    pub fn from_content_type(content_type: Option<&[u8]>, judge: Judge) -> Dialect {
        Dialect { format: ContentType::read(content_type).format, judge }
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
    Protobuf(Box<ProtobufParser>),
}

/// Checks a decoded (not compressed) body piece by piece.
#[derive(Debug)]
pub struct Verifier {
    format: Format,
    judge: Judge,
    parser: Parser,
    /// Lines or messages checked so far, for error positions.
    units: u64,
    /// Length of the unconsumed input already searched for a newline in vain, so a long line
    /// arriving in small pieces is searched once, not once per piece.
    scanned: usize,
}

impl Verifier {
    /// A verifier for one body in `dialect`, judged at `now`.
    pub fn new(dialect: Dialect, now: Now) -> Verifier {
        let judge = dialect.judge;
        let parser = match dialect.format {
            Format::Text => Parser::Text(Box::new(TextParser::new(judge, now))),
            Format::OpenMetrics => Parser::OpenMetrics(Box::new(OpenMetricsParser::new(judge, now))),
            Format::Protobuf => Parser::Protobuf(Box::new(ProtobufParser::new(judge, now))),
        };
        Verifier { format: dialect.format, judge, parser, units: 0, scanned: 0 }
    }

    /// Checks every complete line (or message) at the start of `buf`, the unconsumed input, and
    /// returns how many bytes it used. The caller keeps the rest and passes it again, followed
    /// by more input.
    pub fn feed(&mut self, buf: &[u8]) -> Result<usize, VerifyError> {
        let (format, judge) = (self.format, self.judge);
        match &mut self.parser {
            Parser::Text(p) => text_lines(buf, &mut self.scanned, &mut self.units, (format, judge), p),
            Parser::OpenMetrics(p) => {
                openmetrics_lines(buf, &mut self.scanned, &mut self.units, (format, judge), p)
            }
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
                                judge,
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
        let (format, judge, line) = (self.format, self.judge, self.units + 1);
        match &mut self.parser {
            Parser::Text(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families, samples: p.samples })
                .map_err(|fault| fault.locate(format, judge, rest, line)),
            Parser::OpenMetrics(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families, samples: p.samples })
                .map_err(|fault| fault.locate(format, judge, rest, line)),
            Parser::Protobuf(p) => p
                .finish(rest)
                .map(|()| Summary { families: p.families, samples: p.samples })
                .map_err(|message| VerifyError { format, judge, position: Position::Message(line), message }),
        }
    }

    fn body_error(&self, message: String) -> VerifyError {
        VerifyError { format: self.format, judge: self.judge, position: Position::Body, message }
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

/// The format and judge of a body, for its errors.
type Judged = (Format, Judge);

/// Checks the complete OpenMetrics lines at the start of `buf`; returns how many bytes they take.
/// A line ends at its first newline, except the rare one whose quoted name holds a raw newline
/// (Prometheus's lexer allows that): its check stops at that name, and [`spanning::Spanning`]
/// finds the real end, once, going on where it stopped when the line comes in pieces.
#[inline]
fn openmetrics_lines(
    buf: &[u8],
    scanned: &mut usize,
    units: &mut u64,
    (format, judge): Judged,
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
            checked.map_err(|fault| fault.locate(format, judge, &buf[pos..end], *units + 1))?;
            // Every newline counts as a line, for the positions of later faults.
            *units += 1 + memchr::memchr_iter(b'\n', &buf[pos..end]).count() as u64;
            pos = end + 1;
            from = pos;
            continue;
        }
        let Some(end) = scan::newline(buf, from) else { break };
        if let Err(fault) = p.line(&buf[pos..end]) {
            if p.spanning.is_none() {
                return Err(fault.locate(format, judge, &buf[pos..end], *units + 1));
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
/// first (see [`TextParser::repeated_sample`] and [`TextParser::plain_comment`]). A line whose
/// quoted string holds a raw newline is framed again as for OpenMetrics; once a NUL byte has
/// ended the body for Prometheus's lexer, the rest is not read.
#[inline]
fn text_lines(
    buf: &[u8],
    scanned: &mut usize,
    units: &mut u64,
    (format, judge): Judged,
    p: &mut TextParser,
) -> Result<usize, VerifyError> {
    // buf[..searched] is known to hold no newline.
    let searched = (*scanned).min(buf.len());
    let mut pos = 0;
    loop {
        if p.ended {
            *scanned = 0;
            return Ok(buf.len());
        }
        if let Some(spanning) = p.spanning.as_mut() {
            let Some(k) = spanning.end(&buf[pos..]) else { break };
            p.spanning = None;
            let end = pos + k;
            p.multiline = true;
            let checked = p.line(&buf[pos..end]);
            p.multiline = false;
            checked.map_err(|fault| fault.locate(format, judge, &buf[pos..end], *units + 1))?;
            *units += 1 + memchr::memchr_iter(b'\n', &buf[pos..end]).count() as u64;
            pos = end + 1;
            continue;
        }
        let repeated =
            if buf.get(pos) == Some(&b'#') { p.plain_comment(buf, pos) } else { p.repeated_sample(buf, pos) };
        if let Some(nl) = repeated {
            *units += 1;
            pos = nl + 1;
            continue;
        }
        let from = pos.max(searched);
        let Some(end) = scan::newline(buf, from) else { break };
        if let Err(fault) = p.line(&buf[pos..end]) {
            if p.spanning.is_none() {
                return Err(fault.locate(format, judge, &buf[pos..end], *units + 1));
            }
            continue;
        }
        *units += 1;
        pos = end + 1;
    }
    *scanned = if p.spanning.is_some() { 0 } else { buf.len() - pos };
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
    /// Starts checking a body in `dialect` with `encoding`, judged at `now`; a gzip body may
    /// decode to at most `max_decoded` bytes.
    pub fn new(dialect: Dialect, encoding: Encoding, max_decoded: u64, now: Now) -> BodyVerifier {
        let feeder = Feeder::new(Verifier::new(dialect, now));
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

/// Verifies a complete body in one call, judged at `now`.
pub fn verify(body: &[u8], dialect: Dialect, encoding: Encoding, now: Now) -> Result<Summary, VerifyError> {
    BodyVerifier::new(dialect, encoding, u64::MAX, now).finish(body)
}

#[cfg(test)]
mod tests;
