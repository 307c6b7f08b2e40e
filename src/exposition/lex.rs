//! Byte-level building blocks shared by the text parsers: character classes, names, quoted
//! strings and Go's number syntax. Everything here is pure and allocation-free.

pub(super) use super::scan::digit_run_end;
use super::scan::{name_run_end, value_stop};

/// Byte classes, one bit each, in a 256-entry table so a class test is one load and one mask.
const NAME_START: u8 = 1; // [a-zA-Z_:]
const LABEL_START: u8 = 2; // [a-zA-Z_]
const LABEL_BYTE: u8 = 4; // [a-zA-Z0-9_]
const ASCII: u8 = 8;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let mut v = 0;
        if alpha || c == b':' {
            v |= NAME_START;
        }
        if alpha {
            v |= LABEL_START;
        }
        if alpha || c.is_ascii_digit() {
            v |= LABEL_BYTE;
        }
        if c.is_ascii() {
            v |= ASCII;
        }
        t[b] = v;
        b += 1;
    }
    t
};

#[inline]
fn is(class: u8, b: u8) -> bool {
    CLASSES[b as usize] & class != 0
}

/// Index of the first byte at or after `i` that is neither a blank nor a tab.
#[inline(always)]
pub(super) fn skip_blanks(line: &[u8], i: usize) -> usize {
    match line.get(i) {
        Some(b' ' | b'\t') => {}
        _ => return i,
    }
    line[i..].iter().position(|&b| b != b' ' && b != b'\t').map_or(line.len(), |k| i + k)
}

/// The end of a name starting at `i` whose first byte must be in `start`: `[a-zA-Z0-9_]` after
/// that, and `:` too with `colon`.
#[inline]
fn name_end(line: &[u8], i: usize, start: u8, colon: bool) -> usize {
    match line.get(i) {
        Some(&b) if is(start, b) => {}
        _ => return i,
    }
    name_run_end(line, i + 1, colon)
}

/// End of a classic metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) starting at `i`; `i` if none.
#[inline]
pub(super) fn metric_name_end(line: &[u8], i: usize) -> usize {
    name_end(line, i, NAME_START, true)
}

/// End of a classic label name (`[a-zA-Z_][a-zA-Z0-9_]*`) starting at `i`; `i` if none.
#[inline]
pub(super) fn label_name_end(line: &[u8], i: usize) -> usize {
    name_end(line, i, LABEL_START, false)
}

/// Whether `name` is a classic metric name.
pub(super) fn is_legacy_metric_name(name: &[u8]) -> bool {
    !name.is_empty() && metric_name_end(name, 0) == name.len()
}

/// Whether `name` is a classic label name.
pub(super) fn is_legacy_label_name(name: &[u8]) -> bool {
    !name.is_empty() && label_name_end(name, 0) == name.len()
}

/// Of a label name read from protobuf: whether it is all ASCII, and whether it is a classic
/// label name, in one look at each byte (names are short).
#[inline]
pub(super) fn label_name_classes(name: &[u8]) -> (bool, bool) {
    let Some(&first) = name.first() else { return (true, false) };
    let mut all = ASCII | LABEL_BYTE;
    for &b in name {
        all &= CLASSES[b as usize];
    }
    (all & ASCII != 0, all & LABEL_BYTE != 0 && is(LABEL_START, first))
}

/// A quoted string found by [`quoted_end`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Quoted {
    /// Index just past the closing quote.
    pub(super) end: usize,
    /// Whether the content holds a backslash escape (then it differs from its raw bytes).
    pub(super) escaped: bool,
    /// Whether the content holds a byte above 0x7F, so that it needs a UTF-8 check.
    pub(super) non_ascii: bool,
}

impl Quoted {
    /// Whether the content between the quotes at `open` and `self.end - 1` of `line` is UTF-8.
    #[inline(always)]
    pub(super) fn is_utf8(&self, line: &[u8], open: usize) -> bool {
        !self.non_ascii || std::str::from_utf8(&line[open + 1..self.end - 1]).is_ok()
    }
}

/// Why a quoted string is malformed, and the offset in the line of the byte at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QuoteError {
    /// The line ended before the closing quote; the offset is the line's end (or its newline),
    /// where the quote is missing.
    Unterminated(usize),
    /// The backslash at the offset escapes a newline, which no lexer takes.
    EscapedNewline(usize),
    /// The backslash at the offset is the line's last byte.
    TrailingBackslash(usize),
}

impl QuoteError {
    /// The offset in the line of the byte at fault.
    pub(super) fn at(self) -> usize {
        match self {
            QuoteError::Unterminated(at)
            | QuoteError::EscapedNewline(at)
            | QuoteError::TrailingBackslash(at) => at,
        }
    }
}

/// Scans a quoted label value whose opening quote is at `open`, as Prometheus's lexers read one
/// (`"(\\.|[^\\"])*"` in the states that skip NUL bytes): any byte may be escaped but a
/// newline, and NUL bytes count for nothing, also between a backslash and the byte it escapes.
#[inline(always)]
pub(super) fn quoted_end(line: &[u8], open: usize) -> Result<Quoted, QuoteError> {
    let mut i = open + 1;
    let mut escaped = false;
    let mut non_ascii = false;
    loop {
        let Some(at) = value_stop(line, i) else {
            return Err(QuoteError::Unterminated(line.len()));
        };
        match line[at] {
            b'"' => return Ok(Quoted { end: at + 1, escaped, non_ascii }),
            // Only where `line` is a piece of the body running on past the line's end.
            b'\n' => return Err(QuoteError::Unterminated(at)),
            b'\\' => {}
            _ => {
                non_ascii = true;
                i = at + 1;
                continue;
            }
        }
        let mut next = at + 1;
        while line.get(next) == Some(&0) {
            next += 1;
        }
        match line.get(next) {
            None => return Err(QuoteError::TrailingBackslash(at)),
            Some(b'\n') => return Err(QuoteError::EscapedNewline(at)),
            // An escaped byte is still part of the value, whose UTF-8 is checked.
            Some(&b) => non_ascii |= !b.is_ascii(),
        }
        escaped = true;
        i = next + 1;
    }
}

/// The offset of the first byte of `line[start..end]` that is not part of valid UTF-8 (`end`
/// if there is none), where a fault's column points.
pub(super) fn first_non_utf8(line: &[u8], start: usize, end: usize) -> usize {
    start + std::str::from_utf8(&line[start..end]).map_or_else(|e| e.valid_up_to(), str::len)
}

/// Whether two short byte strings (names, label prefixes) are equal, compared a word at a time
/// in line: most are under 32 bytes, where a call to `memcmp` costs more than the comparison.
#[inline(always)]
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        if n < 4 {
            return a.iter().zip(b).all(|(x, y)| x == y);
        }
        let word = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or_default());
        return word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4);
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    // The last word may overlap the one before it.
    word(a, n - 8) == word(b, n - 8)
}

/// Appends the content of a quoted string (without its quotes) as Prometheus's parsers read it
/// (Go's `unreplace`: `\"`, `\\` and `\n` replaced, any other backslash kept as it is).
pub(super) fn unreplace_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], raw.get(i + 1)) {
            (b'\\', Some(&c @ (b'"' | b'\\'))) => {
                out.push(c);
                i += 2;
            }
            (b'\\', Some(b'n')) => {
                out.push(b'\n');
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// The end of a plain decimal at `i` (optional sign, digits, optional fraction, at least one
/// digit, no exponent), the form of nearly every sample value, which [`is_go_float`] accepts;
/// `None` if there is none.
#[inline(always)]
pub(super) fn plain_decimal_end(line: &[u8], i: usize) -> Option<usize> {
    let start = i + usize::from(matches!(line.get(i), Some(b'+' | b'-')));
    let int_end = digit_run_end(line, start);
    let (end, digits) = if line.get(int_end) == Some(&b'.') {
        let end = digit_run_end(line, int_end + 1);
        (end, end - start - 1)
    } else {
        (int_end, int_end - start)
    };
    // Without an exponent, fewer than 300 integer digits cannot overflow (see is_go_float).
    (digits > 0 && int_end - start < 300).then_some(end)
}

/// The end of a plain decimal (as [`plain_decimal_end`]) with an optional short exponent: `e`
/// or `E`, an optional sign and one or two digits, as encoders write floats (`1.5e+06`). With
/// fewer than 200 integer digits such a number cannot overflow (see [`is_go_float`]).
#[inline(always)]
pub(super) fn plain_float_end(line: &[u8], i: usize) -> Option<usize> {
    let end = plain_decimal_end(line, i)?;
    if !matches!(line.get(end), Some(b'e' | b'E')) {
        return Some(end);
    }
    let digits = end + 1 + usize::from(matches!(line.get(end + 1), Some(b'+' | b'-')));
    let exp_end = digit_run_end(line, digits);
    let int_start = i + usize::from(matches!(line.get(i), Some(b'+' | b'-')));
    (matches!(exp_end - digits, 1 | 2) && digit_run_end(line, int_start) - int_start < 200).then_some(exp_end)
}

/// Checks `s` with Go's `strconv.ParseFloat(s, 64)` rules, as Prometheus's parsers call it:
/// `p`, `P` and `_` refused up front, then a decimal number with optional sign, fraction and
/// exponent, or `inf`/`infinity` (optional sign) or `nan`, case-insensitive, and no overflow.
#[inline]
pub(super) fn is_go_float(s: &[u8]) -> bool {
    let n = s.len();
    let Some(&first) = s.first() else {
        return false;
    };
    let signed = first == b'+' || first == b'-';
    let mut i = usize::from(signed);
    let int_start = i;
    i = digit_run_end(s, i);
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < n && s[i] == b'.' {
        let frac_start = i + 1;
        i = digit_run_end(s, frac_start);
        frac_digits = i - frac_start;
    }
    if int_digits + frac_digits == 0 {
        // Not a decimal: Go accepts "inf"/"infinity" with an optional sign, "nan" without.
        let body = &s[usize::from(signed)..];
        return body.eq_ignore_ascii_case(b"inf")
            || body.eq_ignore_ascii_case(b"infinity")
            || (!signed && s.eq_ignore_ascii_case(b"nan"));
    }
    let mut exp: i64 = 0;
    if i < n {
        if s[i] != b'e' && s[i] != b'E' {
            return false;
        }
        i += 1;
        let negative = s.get(i) == Some(&b'-');
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < n && s[i].is_ascii_digit() {
            exp = exp.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
            i += 1;
        }
        if i == exp_start || i != n {
            return false;
        }
        if negative {
            exp = -exp;
        }
    }
    // Overflow is an error in Go (ErrRange); underflow to zero is not. Only a number whose
    // decimal magnitude may exceed f64::MAX needs the exact check.
    if exp.saturating_add(int_digits as i64) < 300 {
        return true;
    }
    std::str::from_utf8(s).ok().and_then(|t| t.parse::<f64>().ok()).is_some_and(f64::is_finite)
}

/// Parses a float already accepted by [`is_go_float`].
pub(super) fn parse_go_float(s: &[u8]) -> f64 {
    let t = std::str::from_utf8(s).unwrap_or("NaN");
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// Go's conversion of a float64 to int64 on amd64 (`CVTTSD2SQ`): truncation toward zero, and
/// the "integer indefinite" value, `i64::MIN`, for NaN and anything out of range.
pub(super) fn go_f64_to_i64(f: f64) -> i64 {
    // ±2⁶³: the bounds of i64 as floats (the upper one is not an i64).
    const BOUND: f64 = 9_223_372_036_854_775_808.0;
    if !(-BOUND..BOUND).contains(&f) { i64::MIN } else { f as i64 }
}

/// Checks `s` with Go's `strconv.ParseInt(s, 10, 64)`: optional sign, digits, fits in i64.
#[inline]
pub(super) fn is_go_int64(s: &[u8]) -> bool {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = match v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d - b'0'))) {
            Some(v) => v,
            None => return false,
        };
    }
    let limit = if negative { 1u64 << 63 } else { (1u64 << 63) - 1 };
    v <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_floats() {
        for ok in [
            "1",
            "-1",
            "+1",
            "1.5",
            ".5",
            "1.",
            "1e5",
            "1E-5",
            "1e+05",
            "0",
            "-0",
            "Inf",
            "+Inf",
            "-inf",
            "INFINITY",
            "-Infinity",
            "NaN",
            "nan",
            "NAN",
            "1e308",
            "1.7976931348623157e308",
            "1e-400",
            "0.000001e-320",
            "123456789012345678901234567890",
            "00001",
        ] {
            assert!(is_go_float(ok.as_bytes()), "{ok} should be a Go float");
        }
        for bad in [
            "", "+", "-", ".", "e5", "1e", "1e+", "1x", "0x1p3", "0x10", "1_000", "+NaN", "-nan", "infin",
            "in", "1e400", "-1e400", "1.8e308", "1..2", "1.2.3", " 1", "1 ", "--1", "1e5.5",
        ] {
            assert!(!is_go_float(bad.as_bytes()), "{bad:?} should not be a Go float");
        }
    }

    #[test]
    fn same_bytes_finds_a_difference_anywhere() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|k| b'a' + k % 26).collect();
            assert!(same_bytes(&a, &a.clone()), "{n} bytes");
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0, "lengths differ at {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "byte {at} of {n}");
            }
        }
    }

    #[test]
    fn go_int64() {
        for ok in ["0", "-1", "+5", "9223372036854775807", "-9223372036854775808"] {
            assert!(is_go_int64(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", "1.0", "9223372036854775808", "-9223372036854775809", "1e3", "0x1"] {
            assert!(!is_go_int64(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn quoted_strings() {
        let q = quoted_end(br#""a\"b" rest"#, 0).expect("terminated");
        assert_eq!(q.end, 6);
        assert!(q.escaped);
        assert_eq!(quoted_end(br#""abc"#, 0).unwrap_err(), QuoteError::Unterminated(4));
        assert_eq!(quoted_end(b"\"ab\nc\"", 0).unwrap_err(), QuoteError::Unterminated(3));
        assert_eq!(quoted_end(b"\"a\\\nb\"", 0).unwrap_err(), QuoteError::EscapedNewline(2));
        assert_eq!(quoted_end(br#"x "ab\"#, 2).unwrap_err(), QuoteError::TrailingBackslash(5));
        assert!(quoted_end(br#""a\tb""#, 0).is_ok());
        // NUL bytes are skipped, also between a backslash and what it escapes.
        assert_eq!(quoted_end(b"\"a\\\0\"b\" x", 0).map(|q| q.end), Ok(7));
        assert_eq!(quoted_end(b"\"a\0b\"", 0).map(|q| q.end), Ok(5));
        let mut out = Vec::new();
        unreplace_into(br#"a\"b\\c\nd\t\\n"#, &mut out);
        assert_eq!(out, b"a\"b\\c\nd\\t\\n");
    }

    #[test]
    fn plain_floats_take_short_exponents_only() {
        for (value, end) in [("1.5e+06 ", 7), ("-2E-7\n", 5), ("3e12", 4), ("7.25 ", 4), ("1.e5", 4)] {
            assert_eq!(plain_float_end(value.as_bytes(), 0), Some(end), "{value:?}");
            assert!(is_go_float(&value.as_bytes()[..end]), "{value:?}");
        }
        // Left to the full rules: no digits, three exponent digits, 200 integer digits.
        for value in ["1e", "1e+", "1e-x", "1e308", "Inf"] {
            assert_eq!(plain_float_end(value.as_bytes(), 0), None, "{value:?}");
        }
        let long = format!("{}e99", "9".repeat(200));
        assert_eq!(plain_float_end(long.as_bytes(), 0), None);
        let long = format!("{}e99", "9".repeat(199));
        assert_eq!(plain_float_end(long.as_bytes(), 0), Some(long.len()));
        assert!(is_go_float(long.as_bytes()));
    }

    #[test]
    fn names() {
        assert!(is_legacy_metric_name(b"node_cpu:rate5m"));
        assert!(!is_legacy_metric_name(b"0abc"));
        assert!(!is_legacy_metric_name(b"a.b"));
        assert!(is_legacy_label_name(b"_x9"));
        assert!(!is_legacy_label_name(b"a:b"));
    }
}
