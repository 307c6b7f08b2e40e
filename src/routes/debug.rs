//! The report a debug scrape (`&debug=true`) answers with instead of the body: the module and
//! what it reached, the deadline and where it came from, the request sent upstream, the
//! answer's head, size and timings, a command's exit and standard error, the verifier's verdict
//! (the format it chose and why; on failure the line and column, the offending line and a caret
//! under the byte at fault), and what the scrape would have answered. Nothing secret is
//! written: credentials and configured header and query values are replaced, and exec
//! environment values never reach the trace.

use std::fmt::Write as _;
use std::time::Duration;

use http::Response;
use http::header::{self, HeaderValue};

use crate::body::Body;
use crate::check;
use crate::config::Module;
use crate::method::MethodConfig;
use crate::method::http::HttpConfig;
use crate::scrape::ScrapeError;
use crate::scrape::trace::Seen;

/// Headers whose values are credentials, never shown.
const CREDENTIALS: [header::HeaderName; 3] =
    [header::AUTHORIZATION, header::PROXY_AUTHORIZATION, header::COOKIE];

/// Where a scrape's deadline came from.
#[derive(Debug)]
pub struct Deadline<'a> {
    /// The module's `timeout`.
    pub module: Option<Duration>,
    /// `X-Prometheus-Scrape-Timeout-Seconds`, as sent.
    pub header: Option<&'a [u8]>,
    /// `-web.timeout-offset`.
    pub offset: Duration,
    /// What applied.
    pub effective: Option<Duration>,
}

/// Writes the report.
pub fn report(
    module: &Module,
    deadline: &Deadline<'_>,
    seen: &Seen,
    result: &Result<Response<Body>, ScrapeError>,
    max_body: u64,
) -> String {
    let mut out = String::new();
    // Only an http module has configured headers and query values to keep out of the report,
    // and an HTTP answer whose status and Content-Type decide its verdict.
    let http = if let MethodConfig::Http(h) = &module.method { Some(&**h) } else { None };
    let _ = writeln!(out, "debug scrape of module {:?} (method {})", module.name, module.method.name());
    let _ = writeln!(out, "upstream: {}", seen.upstream.as_deref().unwrap_or("(not reached)"));
    let _ = writeln!(out, "deadline: {}", describe_deadline(deadline));
    if let Some((method, uri, headers)) = &seen.request {
        let _ = writeln!(out, "\nrequest sent upstream:");
        let _ = writeln!(out, "  {method} {}", redact_query(uri, http));
        for (name, value) in headers {
            let _ = writeln!(out, "  {name}: {}", redact_header(name, value, http));
        }
    }
    if let Some(reused) = seen.reused {
        let kind = if reused { "a kept-alive connection" } else { "a new connection" };
        let _ = writeln!(out, "connection: {kind}");
    }
    if let Some((status, headers)) = &seen.response {
        let header = |h: &header::HeaderName| {
            headers
                .get(h)
                .map_or_else(|| "none".to_owned(), |v| format!("{:?}", String::from_utf8_lossy(v.as_bytes())))
        };
        let _ = writeln!(
            out,
            "answer: {status}, Content-Type {}, Content-Encoding {}, {} bytes",
            header(&header::CONTENT_TYPE),
            header(&header::CONTENT_ENCODING),
            seen.body_len
        );
    }
    let timings: Vec<String> =
        [("connected", seen.connected), ("first byte", seen.first_byte), ("complete", seen.complete)]
            .into_iter()
            .filter_map(|(what, t)| t.map(|t| format!("{what} after {}", ms(t))))
            .collect();
    if !timings.is_empty() {
        let _ = writeln!(out, "timings: {}", timings.join(", "));
    }
    if let Some((status, stderr, _)) = &seen.exit {
        let _ = writeln!(out, "command ended: {status}");
        if !stderr.is_empty() {
            let _ = writeln!(out, "standard error (its start):");
            for line in stderr.lines().take(20) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let _ = writeln!(out, "\nverification: {}", verdict(http, seen, max_body).trim_end());
    let _ = match result {
        Ok(r) => writeln!(out, "\nresult: the scrape answers {} (the body is not shown here)", r.status()),
        Err(e) => writeln!(out, "\nresult: the scrape answers {}: {e}", e.status()),
    };
    out
}

/// The verifier's verdict on what was read, worded as `-check.metrics` words it.
fn verdict(http: Option<&HttpConfig>, seen: &Seen, max_body: u64) -> String {
    let body: Vec<u8> = seen.body.iter().flat_map(|b| b.iter().copied()).collect();
    match http {
        Some(h) => {
            let Some((status, headers)) = &seen.response else {
                return "none: no answer came".into();
            };
            if *status != 200 {
                return format!("none: a {status} answer is passed through unverified");
            }
            if !h.verify {
                return "none: the module has verify: false".into();
            }
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .map_or_else(String::new, |v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            check::check(&body, Some(&content_type), max_body).report()
        }
        None if seen.exit.as_ref().is_some_and(|(_, _, ok)| !ok) => {
            "none: the command failed; its output is not verified".into()
        }
        None if seen.body.is_empty() && seen.body_len == 0 && seen.complete.is_none() => {
            "none: no output was read".into()
        }
        None => check::check(&body, None, max_body).report(),
    }
}

/// The request's path and query, with the module's configured query values replaced.
fn redact_query(uri: &str, http: Option<&HttpConfig>) -> String {
    let Some((path, query)) = uri.split_once('?') else { return uri.to_owned() };
    let configured: Vec<&str> =
        http.map(|h| h.query.iter().map(|(k, _)| k.as_str()).collect()).unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let v = if configured.contains(&k.as_ref()) {
                "<configured, not shown>".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let shown: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", shown.join("&"))
}

/// A header value as shown: credentials and configured values replaced.
fn redact_header(name: &header::HeaderName, value: &HeaderValue, http: Option<&HttpConfig>) -> String {
    if CREDENTIALS.contains(name) {
        // An Authorization scheme tells what kind of credentials went, not what they are; a
        // value without a scheme (a cookie, a bare token) shows nothing.
        let mut words = value.to_str().unwrap_or("").split_whitespace();
        let scheme = match (words.next(), words.next()) {
            (Some(s), Some(_))
                if *name != header::COOKIE && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
            {
                s
            }
            _ => return "<redacted>".into(),
        };
        return format!("{scheme} <redacted>");
    }
    if http.is_some_and(|h| h.headers.iter().any(|(n, _)| n == name)) {
        return "<configured, not shown>".into();
    }
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

fn describe_deadline(d: &Deadline<'_>) -> String {
    let header = d.header.map(|h| String::from_utf8_lossy(h).into_owned());
    let Some(effective) = d.effective else {
        return "none: the module has no timeout and the request no X-Prometheus-Scrape-Timeout-Seconds"
            .into();
    };
    let mut parts = Vec::new();
    if let Some(m) = d.module {
        parts.push(format!("the module's timeout {}", ms(m)));
    }
    if let Some(h) = &header {
        parts.push(format!(
            "X-Prometheus-Scrape-Timeout-Seconds {h:?} minus -web.timeout-offset {}",
            ms(d.offset)
        ));
    }
    format!("{} (the shorter of: {})", ms(effective), parts.join("; "))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_say_where_they_come_from() {
        let d = Deadline {
            module: Some(Duration::from_secs(5)),
            header: Some(b"10"),
            offset: Duration::from_millis(500),
            effective: Some(Duration::from_secs(5)),
        };
        let text = describe_deadline(&d);
        assert!(
            text.starts_with("5000.0 ms") && text.contains("module's timeout") && text.contains("\"10\""),
            "{text}"
        );
        let none = Deadline { module: None, header: None, offset: Duration::ZERO, effective: None };
        assert!(describe_deadline(&none).starts_with("none"));
    }

    #[test]
    fn credentials_show_only_their_scheme() {
        let v = HeaderValue::from_static("Bearer s3cr3t");
        assert_eq!(redact_header(&header::AUTHORIZATION, &v, None), "Bearer <redacted>");
        let c = HeaderValue::from_static("session=s3cr3t");
        assert_eq!(redact_header(&header::COOKIE, &c, None), "<redacted>");
        let bare = HeaderValue::from_static("s3cr3t");
        assert_eq!(redact_header(&header::AUTHORIZATION, &bare, None), "<redacted>");
    }
}
