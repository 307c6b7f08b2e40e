//! The response layer: what an answer is served as. Bare exposition (a command's output, a file)
//! gets the Content-Type of the format it was verified in, the family the proxy adds to it, and
//! gzip when the client accepts it (content negotiation); our own short answers are plain text,
//! as Go's `http.Error` writes them. An upstream's answer keeps the upstream's headers.

use std::io::Write as _;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use crate::body::Body;
use crate::exposition::Format;

/// Content-Type of text-format output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content-Type of OpenMetrics output.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Content-Type of our own short answers.
pub const PLAIN_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Bodies smaller than this are not worth compressing.
const MIN_GZIP_BYTES: usize = 1024;
/// Above this size, compression runs on a blocking thread instead of the async workers.
const BLOCKING_GZIP_BYTES: usize = 256 << 10;

/// A gauge family the proxy adds to bare output after verifying it (a file's mtime), written in
/// the output's format; left out when the output defines a family of that name itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedFamily {
    /// The family's name.
    pub name: &'static str,
    /// Its `# HELP` and `# TYPE` lines and its samples, each ending in a newline (the same
    /// lines in the text format and in OpenMetrics).
    pub lines: String,
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

/// The Content-Type a body verified in `format` is served with.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        Format::Text | Format::Protobuf => TEXT_CONTENT_TYPE,
    }
}

/// Verified bare output as served (with a 200): the headers, and the body with `added` in it,
/// compressed if the client accepts gzip.
pub async fn bare(
    mut output: Vec<u8>,
    format: Format,
    added: Option<&AddedFamily>,
    gzip: bool,
) -> (HeaderMap, Bytes) {
    if let Some(added) = added
        && !defines_family(&output, added.name.as_bytes())
    {
        add_family(&mut output, format, added);
    }
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(format)));
    let body = if gzip && output.len() >= MIN_GZIP_BYTES {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        if output.len() >= BLOCKING_GZIP_BYTES {
            tokio::task::spawn_blocking(move || compress(&output)).await.unwrap_or_default()
        } else {
            compress(&output)
        }
    } else {
        output
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    (headers, Bytes::from(body))
}

/// A short plain-text response, as Go's `http.Error` writes them.
pub fn plain(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Body::full(body.to_owned()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PLAIN_CONTENT_TYPE));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn compress(body: &[u8]) -> Vec<u8> {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

/// Whether a sample or HELP/TYPE/UNIT line of `body` names the family `name`.
fn defines_family(body: &[u8], name: &[u8]) -> bool {
    memchr::memmem::find_iter(body, name).any(|at| {
        let line_start = body[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let before = &body[line_start..at];
        let after = body.get(at + name.len()).copied();
        let whole_name = matches!(after, None | Some(b' ' | b'\t' | b'{' | b'\n'));
        let at_start = before.iter().all(|&b| b == b' ' || b == b'\t')
            || [&b"# HELP "[..], b"# TYPE ", b"# UNIT "].contains(&before);
        whole_name && at_start
    })
}

/// Adds `added` at the end of `body`, in OpenMetrics before the `# EOF` line that ends it.
fn add_family(body: &mut Vec<u8>, format: Format, added: &AddedFamily) {
    if format == Format::OpenMetrics {
        let eof_at = memchr::memmem::rfind(body, b"# EOF").unwrap_or(body.len());
        body.splice(eof_at..eof_at, added.lines.bytes());
    } else {
        body.extend_from_slice(added.lines.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn finds_an_existing_family() {
        let name = b"expexp_file_mtime_timestamp";
        assert!(defines_family(b"expexp_file_mtime_timestamp 1\n", name));
        assert!(defines_family(b"a 1\n# TYPE expexp_file_mtime_timestamp gauge\n", name));
        assert!(!defines_family(b"expexp_file_mtime_timestamp_x 1\n", name));
        assert!(!defines_family(b"a{l=\"expexp_file_mtime_timestamp\"} 1\n", name));
    }

    #[tokio::test]
    async fn an_added_family_goes_in_the_output_format() {
        let added = AddedFamily { name: "m", lines: "# TYPE m gauge\nm 1\n".into() };
        let (headers, text) = bare(b"a 1\n".to_vec(), Format::Text, Some(&added), false).await;
        assert_eq!(&text[..], b"a 1\n# TYPE m gauge\nm 1\n");
        assert_eq!(headers[header::CONTENT_TYPE], TEXT_CONTENT_TYPE);
        let (headers, om) = bare(b"a 1\n# EOF\n".to_vec(), Format::OpenMetrics, Some(&added), false).await;
        assert_eq!(&om[..], b"a 1\n# TYPE m gauge\nm 1\n# EOF\n");
        assert_eq!(headers[header::CONTENT_TYPE], OPENMETRICS_CONTENT_TYPE);
        let (_, own) = bare(b"m 2\n".to_vec(), Format::Text, Some(&added), false).await;
        assert_eq!(&own[..], b"m 2\n", "a family the output defines is not added again");
    }
}
