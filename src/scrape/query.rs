//! Upstream query strings, built the way the original's Go code builds them (`url.Values`
//! then `Encode`): keys sorted, each key's request values before the configured ones, escaped
//! as Go's `url.QueryEscape` does.

use std::collections::BTreeMap;

/// Merges the request's parameters with the module's configured ones and encodes them.
pub fn encode_merged(request: &[(String, String)], configured: &[(String, String)]) -> String {
    let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (k, v) in request.iter().chain(configured) {
        by_key.entry(k).or_default().push(v);
    }
    let mut out = String::new();
    for (k, values) in by_key {
        for v in values {
            if !out.is_empty() {
                out.push('&');
            }
            escape_into(k, &mut out);
            out.push('=');
            escape_into(v, &mut out);
        }
    }
    out
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
fn escape_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

/// Splits a request's query into pairs, decoding `+` and percent escapes as Go does.
pub fn parse(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn merged_like_go_values_encode() {
        let request = pairs(&[("target", "a b"), ("module", "icmp"), ("x", "1")]);
        let configured = pairs(&[("module", "cfg"), ("format", "prometheus")]);
        assert_eq!(
            encode_merged(&request, &configured),
            "format=prometheus&module=icmp&module=cfg&target=a+b&x=1"
        );
        assert_eq!(encode_merged(&[], &[]), "");
    }

    #[test]
    fn escapes_like_go_query_escape() {
        let mut out = String::new();
        escape_into("a~b*c/d?é&=%", &mut out);
        assert_eq!(out, "a~b%2Ac%2Fd%3F%C3%A9%26%3D%25");
    }
}
