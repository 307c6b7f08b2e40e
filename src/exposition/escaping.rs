//! The `escaping` term of a `Content-Type`, which says whether an upstream writes metric and
//! label names outside the classic grammar. Read exactly as expfmt's `Format.ToEscapingScheme`
//! reads it when its decoder is given the Content-Type (docs/verification.md, "Which parser").

/// The one value that lets names be any UTF-8 (`model.AllowUTF8` in prometheus/common).
const ALLOW_UTF8: &str = "allow-utf-8";

/// Whether `content_type` selects expfmt's `NoEscaping` scheme, under which its text and
/// protobuf decoders accept any non-empty UTF-8 name.
///
/// expfmt splits the whole value at every `;`, skips a part that does not split at `=` into
/// exactly two, trims both sides with Go's `strings.TrimSpace` and stops at the first part whose
/// key is `escaping`, byte for byte. That part decides: `allow-utf-8`, byte for byte, allows
/// UTF-8 names; any other value (another scheme, a misspelling such as `allow-utf8`, a quoted
/// `"allow-utf-8"`, an empty one) falls back to the classic grammar. So the key and the value
/// are case-sensitive, quotes are kept, a later `escaping` term is never read, and the media
/// type itself counts as a part. `mime.ParseMediaType` plays no role here.
pub(super) fn allows_utf8_names(content_type: &[u8]) -> bool {
    // Go's strings work on bytes and treat invalid UTF-8 as U+FFFD, which is not a space and
    // matches neither `escaping` nor the value; `;` and `=` survive the lossy conversion.
    let content_type = String::from_utf8_lossy(content_type);
    for part in content_type.split(';') {
        let mut tokens = part.split('=');
        let (Some(key), Some(value), None) = (tokens.next(), tokens.next(), tokens.next()) else {
            continue;
        };
        // `str::trim` strips the Unicode White_Space set, which is Go's `unicode.IsSpace`.
        if key.trim() == "escaping" {
            return value.trim() == ALLOW_UTF8;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_as_expfmt_reads_it() {
        let utf8 = |ct: &str| allows_utf8_names(ct.as_bytes());
        for yes in [
            "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
            "text/plain;escaping=allow-utf-8",
            "text/plain; escaping = allow-utf-8 ",
            "text/plain; escaping=\tallow-utf-8\u{a0}",
            "text/plain; escaping=allow-utf-8; escaping=underscores",
            "escaping=allow-utf-8",
            "text/plain; a=b=c; escaping=allow-utf-8",
        ] {
            assert!(utf8(yes), "{yes:?}");
        }
        for no in [
            "",
            "text/plain; version=0.0.4; charset=utf-8",
            "text/plain; escaping=allow-utf8",
            "text/plain; escaping=\"allow-utf-8\"",
            "text/plain; Escaping=allow-utf-8",
            "text/plain; ESCAPING=allow-utf-8",
            "text/plain; escaping=Allow-UTF-8",
            "text/plain; escaping=underscores; escaping=allow-utf-8",
            "text/plain; escaping=allow-utf-8=",
            "text/plain; escaping=",
            "text/plain; escaping",
            "text/plain, escaping=allow-utf-8",
            "text/plain; escaping=allow-utf-8,",
            "text/plain; escaping=allow_utf_8",
        ] {
            assert!(!utf8(no), "{no:?}");
        }
        assert!(allows_utf8_names(b"text/\xff; escaping=allow-utf-8"), "invalid UTF-8 elsewhere");
        assert!(!allows_utf8_names(b"text/plain; escaping=allow-utf-8\xff"));
    }
}
