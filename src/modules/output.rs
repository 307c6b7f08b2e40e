//! Serving what a script printed or a file holds: verified in the format it is written in
//! (OpenMetrics when it ends with `# EOF`, the text format otherwise), served byte for byte
//! with the matching Content-Type, gzip-compressed when the client accepts it.

use std::io::Write as _;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::error::ScrapeError;
use crate::body::Body;
use crate::exposition::{Dialect, Encoding, Format, Judge, Now, verify};

/// Content-Type of text-format output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content-Type of OpenMetrics output.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Bodies smaller than this are not worth compressing.
const MIN_GZIP_BYTES: usize = 1024;
/// Above this size, compression runs on a blocking thread instead of the async workers.
const BLOCKING_GZIP_BYTES: usize = 256 << 10;

/// The format a script's output is written in.
pub fn dialect_of(body: &[u8]) -> Dialect {
    let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
    let is_om = trimmed.ends_with(b"# EOF") && (trimmed.len() == 5 || trimmed[trimmed.len() - 6] == b'\n');
    if is_om {
        Dialect { format: Format::OpenMetrics, judge: Judge::PROMETHEUS_3 }
    } else {
        Dialect { format: Format::Text, judge: Judge::PROMETHEUS_3 }
    }
}

/// Verifies `body` in its own format.
pub fn check(body: &[u8]) -> Result<Dialect, ScrapeError> {
    let dialect = dialect_of(body);
    verify(body, dialect, Encoding::Identity, Now::system())?;
    Ok(dialect)
}

/// Whether the client accepts gzip (`Accept-Encoding` lists it with a non-zero q).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

/// A 200 response for verified output, compressed if the client wants it.
pub async fn respond(body: Vec<u8>, dialect: Dialect, gzip: bool) -> Response<Body> {
    let content_type = match dialect.format {
        Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        Format::Text | Format::Protobuf => TEXT_CONTENT_TYPE,
    };
    let mut response = Response::builder().status(StatusCode::OK).header(header::CONTENT_TYPE, content_type);
    let body = if gzip && body.len() >= MIN_GZIP_BYTES {
        response = response.header(header::CONTENT_ENCODING, "gzip");
        if body.len() >= BLOCKING_GZIP_BYTES {
            tokio::task::spawn_blocking(move || compress(&body)).await.unwrap_or_default()
        } else {
            compress(&body)
        }
    } else {
        body
    };
    let len = body.len();
    response
        .header(header::CONTENT_LENGTH, HeaderValue::from(len))
        .header(header::VARY, "Accept-Encoding")
        .body(Body::full(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn compress(body: &[u8]) -> Vec<u8> {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_eof_marker() {
        assert_eq!(dialect_of(b"a 1\n").format, Format::Text);
        assert_eq!(dialect_of(b"a 1\n# EOF\n").format, Format::OpenMetrics);
        assert_eq!(dialect_of(b"# EOF").format, Format::OpenMetrics);
        assert_eq!(dialect_of(b"a 1 # EOF\n").format, Format::Text);
    }

    #[test]
    fn gzip_negotiation() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&m)
        };
        assert!(h("gzip"));
        assert!(h("deflate, GZIP;q=0.5"));
        assert!(!h("gzip;q=0"));
        assert!(!h("identity"));
        assert!(h("*"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
