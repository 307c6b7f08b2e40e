//! How a fetch's answer is verified: an upstream's 200 in the dialect its Content-Type names,
//! looking through its Content-Encoding, bounded by the body limit; bare output (a command's,
//! a file's) in the format it is written in, OpenMetrics when it ends with `# EOF` and the text
//! format otherwise. An upstream's other answers, HEAD requests and `verify: false` modules are
//! not verified.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use crate::exposition::{BodyVerifier, Dialect, Encoding, Format};
use crate::method::runner::Answer;
use crate::scrape::{ScrapeError, ScrapeRequest};

/// What every fetch of a module verifies with.
#[derive(Debug, Clone, Copy)]
pub struct Verification {
    /// The most bytes a compressed body may decode to (`-upstream.max-body-bytes`).
    pub max_body: u64,
}

/// One body being verified, piece by piece.
#[derive(Debug)]
pub struct Verifying {
    dialect: Dialect,
    body: BodyVerifier,
}

impl Verification {
    /// The check `answer` goes through, or `None` when it is served unverified: not a 200 from
    /// an upstream, a HEAD request, or a runner that does not verify (`verify: false`).
    pub fn start(
        &self,
        req: &ScrapeRequest<'_>,
        answer: &Answer<'_>,
        verifies: bool,
    ) -> Result<Option<Verifying>, ScrapeError> {
        let (dialect, encoding) = match answer {
            Answer::Http { status, headers, .. } => {
                if *status != StatusCode::OK || !verifies || req.method == Method::HEAD {
                    return Ok(None);
                }
                let header = |name| headers.get(name).map(HeaderValue::as_bytes);
                let encoding =
                    Encoding::from_header(header(header::CONTENT_ENCODING)).map_err(ScrapeError::Encoding)?;
                (Dialect::from_content_type(header(header::CONTENT_TYPE)), encoding)
            }
            Answer::Bare { output, .. } => (dialect_of(output), Encoding::Identity),
        };
        Ok(Some(Verifying { dialect, body: BodyVerifier::new(dialect, encoding, self.max_body) }))
    }
}

impl Verifying {
    /// Checks the next piece of the body.
    pub fn push(&mut self, piece: &[u8]) -> Result<(), ScrapeError> {
        self.body.push(piece).map_err(ScrapeError::from)
    }

    /// The verdict, once every piece is in: the dialect the body was verified in.
    pub fn end(self) -> Result<Dialect, ScrapeError> {
        self.body.end()?;
        Ok(self.dialect)
    }
}

/// The format bare output is written in: OpenMetrics when it ends with a `# EOF` line, the
/// text format otherwise.
pub fn dialect_of(body: &[u8]) -> Dialect {
    let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
    let is_om = trimmed.ends_with(b"# EOF") && (trimmed.len() == 5 || trimmed[trimmed.len() - 6] == b'\n');
    if is_om {
        Dialect { format: Format::OpenMetrics, utf8_names: true }
    } else {
        Dialect { format: Format::Text, utf8_names: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_of_bare_output_follows_the_eof_marker() {
        assert_eq!(dialect_of(b"a 1\n").format, Format::Text);
        assert_eq!(dialect_of(b"a 1\n# EOF\n").format, Format::OpenMetrics);
        assert_eq!(dialect_of(b"# EOF").format, Format::OpenMetrics);
        assert_eq!(dialect_of(b"a 1 # EOF\n").format, Format::Text);
    }
}
