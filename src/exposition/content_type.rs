//! Which parser a Prometheus server picks for a response's `Content-Type`, read as Go's
//! `mime.ParseMediaType` reads it (textparse's `New` in both versions): Prometheus 2.42 falls
//! back to the text format for a blank, unparseable or unknown type, Prometheus 3 (without a
//! `fallback_scrape_protocol`) fails such a scrape.

use super::verdict::Format;

/// What a `Content-Type` says to the Prometheus servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType {
    /// The format Prometheus 2.42 parses the body as (and the verifier checks it as).
    pub format: Format,
    /// Whether Prometheus 3 reads the type at all: it parses and names one of the three media
    /// types. Otherwise Prometheus 3 fails the scrape, and the proxy serves the body with the
    /// `Content-Type` of the format it verified (docs/verification.md).
    pub known: bool,
}

/// The media types Prometheus's parsers are chosen by.
const OPENMETRICS: &str = "application/openmetrics-text";
const PROTOBUF: &str = "application/vnd.google.protobuf";
const TEXT: &str = "text/plain";

impl ContentType {
    /// Reads a response's `Content-Type` header (absent: blank).
    pub fn read(header: Option<&[u8]>) -> ContentType {
        let media = header.and_then(|h| media_type(&String::from_utf8_lossy(h)));
        let format = match media.as_deref() {
            Some(OPENMETRICS) => Format::OpenMetrics,
            Some(PROTOBUF) => Format::Protobuf,
            _ => Format::Text,
        };
        let known = matches!(media.as_deref(), Some(OPENMETRICS | PROTOBUF | TEXT));
        ContentType { format, known }
    }
}

/// The lower-cased media type, if Go's `mime.ParseMediaType` parses `v` without an error.
fn media_type(v: &str) -> Option<String> {
    let (base, mut rest) = v.split_at(v.find(';').unwrap_or(v.len()));
    let media = base.to_lowercase().trim().to_owned();
    let (kind, after) = token(&media);
    if kind.is_empty() {
        return None;
    }
    if !after.is_empty() {
        let sub = after.strip_prefix('/')?;
        let (subtype, end) = token(sub);
        if subtype.is_empty() || !end.is_empty() {
            return None;
        }
    }
    // Parameters: each must parse, and a name may repeat only with the same value. Names
    // holding a `*` (RFC 2231 continuations) are compared among themselves, as Go keeps them
    // apart; either way only an exact duplicate with another value is an error.
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let Some((key, value, after)) = parameter(rest) else {
            if rest.trim() == ";" {
                break;
            }
            return None;
        };
        if let Some((_, v)) = seen.iter().find(|(k, _)| *k == key) {
            if *v != value {
                return None;
            }
        } else {
            seen.push((key, value));
        }
        rest = after;
    }
    Some(media)
}

fn is_token_char(c: char) -> bool {
    c > ' ' && c < '\x7f' && !"()<>@,;:\\\"/[]?=".contains(c)
}

fn is_special(c: char) -> bool {
    "()<>@,;:\\\"/[]?=".contains(c)
}

/// The token at the start of `v` and what follows it.
fn token(v: &str) -> (&str, &str) {
    let end = v.find(|c: char| !is_token_char(c)).unwrap_or(v.len());
    v.split_at(end)
}

/// `; name = value` at the start of `v` (Go's `consumeMediaParam`): the lower-cased name, the
/// value (a quoted string unescaped) and the rest.
fn parameter(v: &str) -> Option<(String, String, &str)> {
    let rest = v.trim_start().strip_prefix(';')?.trim_start();
    let (name, rest) = token(rest);
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let (value, after) = value(rest)?;
    Some((name.to_lowercase(), value, after))
}

/// A parameter's value (Go's `consumeValue`): a token, or a quoted string in which a backslash
/// escapes only a special character (any other backslash is kept, as Go does for MSIE).
fn value(v: &str) -> Option<(String, &str)> {
    let Some(quoted) = v.strip_prefix('"') else {
        let (t, rest) = token(v);
        return (!t.is_empty()).then(|| (t.to_owned(), rest));
    };
    let mut out = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &quoted[i + 1..])),
            '\\' if quoted[i + 1..].chars().next().is_some_and(is_special) => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            '\r' | '\n' => return None,
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_picks_the_parser_by_media_type() {
        let read = |ct: &str| ContentType::read(Some(ct.as_bytes()));
        let text = ContentType { format: Format::Text, known: true };
        let om = ContentType { format: Format::OpenMetrics, known: true };
        let pb = ContentType { format: Format::Protobuf, known: true };
        let unknown = ContentType { format: Format::Text, known: false };
        assert_eq!(read("text/plain; version=0.0.4; charset=utf-8"), text);
        assert_eq!(read("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8"), text);
        assert_eq!(read("Text/Plain"), text);
        assert_eq!(read("application/openmetrics-text; version=1.0.0; charset=utf-8"), om);
        assert_eq!(read(" Application/OpenMetrics-Text;version=0.0.1 "), om);
        assert_eq!(
            read(
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            ),
            pb
        );
        assert_eq!(
            read("application/vnd.google.protobuf; encoding=text"),
            pb,
            "Prometheus does not read the parameters"
        );
        assert_eq!(read("text/plain;"), text, "a trailing semicolon is allowed");
        assert_eq!(read("text/plain; a=\"x\\\"y\""), text);
        assert_eq!(read("text/plain; a=1; A=1"), text, "a repeat with the same value is allowed");
        // What Prometheus 3 fails and 2.42 reads as text.
        assert_eq!(ContentType::read(None), unknown);
        assert_eq!(read(""), unknown);
        assert_eq!(read("application/json"), unknown);
        assert_eq!(read("text/html; charset=utf-8"), unknown);
        assert_eq!(read("text"), unknown, "a type without a subtype parses, but is no metrics type");
        assert_eq!(read("text/plain; version"), unknown, "a parameter without a value");
        assert_eq!(read("text/plain; a=1; a=2"), unknown, "a repeated parameter");
        assert_eq!(read("text/plain extra"), unknown);
        assert_eq!(read("application/openmetrics-text; version=\"1.0.0"), unknown, "an open quote");
        assert_eq!(read("text/plain; =x"), unknown);
    }
}
