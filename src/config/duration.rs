//! Go's duration syntax (`time.ParseDuration`), which the original's YAML uses for `timeout`.

use std::time::Duration;

/// Nanoseconds per unit, as Go spells them (`µs` in both of its Unicode forms).
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses `s` exactly as Go's `time.ParseDuration` does: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` or
/// `0`. Returns the signed number of nanoseconds.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let invalid = || format!("invalid duration {s:?} (use Go syntax such as 500ms, 5s, 1m30s)");
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac = &r[..n];
            rest = &r[n..];
        } else if int.is_empty() {
            return Err(invalid());
        }
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(format!("missing unit in duration {s:?}"));
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let Some(&(_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(format!("unknown unit {unit:?} in duration {s:?}"));
        };
        let overflow = || format!("duration {s:?} is out of range");
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| overflow())? };
        let mut v = whole.checked_mul(scale).ok_or_else(overflow)?;
        if !frac.is_empty() {
            // Go keeps at most the digits that fit; the extra precision does not matter here.
            let digits = &frac[..frac.len().min(18)];
            let f: u64 = digits.parse().map_err(|_| overflow())?;
            let denom = 10f64.powi(digits.len() as i32);
            v = v.checked_add((f as f64 * (scale as f64 / denom)) as u64).ok_or_else(overflow)?;
        }
        total = total.checked_add(v).filter(|t| *t <= 1 << 63).ok_or_else(overflow)?;
    }
    if negative {
        Ok((total as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(total).map_err(|_| format!("duration {s:?} is out of range"))
    }
}

/// A module timeout: positive, or absent. Go treats zero as "no timeout".
pub fn parse_timeout(s: &str) -> Result<Option<Duration>, String> {
    let ns = parse_go_duration(s)?;
    match ns {
        0 => Ok(None),
        n if n < 0 => Err(format!("{s:?} is negative")),
        n => Ok(Some(Duration::from_nanos(n as u64))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let cases: [(&str, i64); 14] = [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("500ms", 500_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5s", 1_500_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("100us", 100_000),
            ("100\u{b5}s", 100_000),
            ("100\u{3bc}s", 100_000),
            ("10ns", 10),
            ("1h2m3s4ms", 3_723_004_000_000),
            ("-1s", -1_000_000_000),
            ("+2h", 7_200_000_000_000),
        ];
        for (s, ns) in cases {
            assert_eq!(parse_go_duration(s), Ok(ns), "{s}");
        }
        for bad in ["", "1", "s", ".s", "1d", "5 s", "1sec", "-", "1.5.5s", "3000000h", "1s ", "0s1"] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("0s"), Ok(None));
        assert_eq!(parse_timeout("2s"), Ok(Some(Duration::from_secs(2))));
        assert!(parse_timeout("-2s").unwrap_err().contains("negative"));
    }
}
