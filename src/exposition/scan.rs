//! Byte searches the checks make on every line: where a quoted value stops, where a line, a
//! name or a run of digits ends. Sixteen bytes per step with SSE2 on x86_64 (part of its
//! baseline, so no runtime detection); elsewhere word arithmetic, `memchr` or a byte loop.
//! Lines, names and values are mostly under a hundred bytes, so a step or a few find the end.

/// The index of the first `"`, `\\`, `\n` or non-ASCII byte at or after `from`: what ends or
/// interrupts a quoted label value (a newline can only be in the way when `buf` is a piece, not
/// a line; a non-ASCII byte means the value needs a UTF-8 check, which ASCII values are spared).
#[inline(always)]
pub(super) fn value_stop(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = buf.get(i..i + 16) {
        let mask = value_stops(load(chunk));
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize);
        }
        i += 16;
    }
    #[cfg(not(target_arch = "x86_64"))]
    while let Some(chunk) = buf.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let found = zero_lanes(x ^ (LO * u64::from(b'"')))
            | zero_lanes(x ^ (LO * u64::from(b'\\')))
            | zero_lanes(x ^ (LO * u64::from(b'\n')))
            | x & HI;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    buf.get(i..)?.iter().position(|&b| is_value_stop(b)).map(|k| i + k)
}

/// A bit for each byte of `v` that stops a quoted label value (see [`value_stop`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn value_stops(v: safe_arch::m128i) -> u32 {
    use safe_arch::{bitor_m128i, cmp_eq_mask_i8_m128i, move_mask_i8_m128i};
    let hit = bitor_m128i(
        bitor_m128i(cmp_eq_mask_i8_m128i(v, splat(b'"')), cmp_eq_mask_i8_m128i(v, splat(b'\\'))),
        bitor_m128i(cmp_eq_mask_i8_m128i(v, splat(b'\n')), v),
    );
    // The high bit of each lane: a match, or a byte of 0x80 and above.
    move_mask_i8_m128i(hit) as u32
}

fn is_value_stop(b: u8) -> bool {
    matches!(b, b'"' | b'\\' | b'\n') || !b.is_ascii()
}

/// The index of the first `\n` at or after `from`. Lines are short (most under 100 bytes), so
/// an inlined 16-byte step beats a call into a wider search that must be set up each time.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
pub(super) fn newline(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i};
        let n = splat(b'\n');
        while let Some(chunk) = buf.get(i..i + 16) {
            let v = load_unaligned_m128i(chunk.try_into().unwrap_or(&[0; 16]));
            let mask = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, n)) as u32;
            if mask != 0 {
                return Some(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    memchr::memchr(b'\n', buf.get(i..)?).map(|k| i + k)
}

/// The end of the run of name bytes at `i`: `[a-zA-Z0-9_]`, and `:` too with `colon` (metric
/// names). Names are the longest runs a body's checks scan byte by byte.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
pub(super) fn name_run_end(s: &[u8], mut i: usize, colon: bool) -> usize {
    let belongs = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || colon && b == b':';
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{
            bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
            sub_i8_m128i,
        };
        let (a, z, zero, digits, underscore, case) = (
            splat(b'a'),
            splat(b'z' - b'a'),
            splat(b'0'),
            splat(if colon { 10 } else { 9 }),
            splat(b'_'),
            splat(0x20),
        );
        // x is in lo..=lo+len exactly when x - lo (wrapping) is at most len.
        let within = |d, len| cmp_eq_mask_i8_m128i(min_u8_m128i(d, len), d);
        // A bit for each of the 16 bytes at `at` that belongs to a name.
        let members = |at: usize| {
            let chunk: &[u8; 16] = s[at..at + 16].try_into().unwrap_or(&[0; 16]);
            let v = load_unaligned_m128i(chunk);
            // Setting bit 5 maps A-Z onto a-z and no other byte into a-z.
            let letter = within(sub_i8_m128i(bitor_m128i(v, case), a), z);
            // `:` follows `9`, so one range covers both for metric names.
            let digit = within(sub_i8_m128i(v, zero), digits);
            let name = bitor_m128i(bitor_m128i(letter, digit), cmp_eq_mask_i8_m128i(v, underscore));
            move_mask_i8_m128i(name) as u32
        };
        while i + 16 <= s.len() {
            let mask = members(i);
            if mask != 0xFFFF {
                return i + (!mask).trailing_zeros() as usize;
            }
            i += 16;
        }
        // The last bytes: the 16 that end the slice, those before `i` counted as members.
        if s.len() >= 16 && i < s.len() {
            let at = s.len() - 16;
            let mask = members(at) | ((1u32 << (i - at)) - 1);
            return if mask == 0xFFFF { s.len() } else { at + (!mask).trailing_zeros() as usize };
        }
    }
    s[i.min(s.len())..].iter().position(|&b| !belongs(b)).map_or(s.len(), |k| i + k)
}

/// The end of the run of ASCII digits at `i`: values and `le` bounds are mostly digit runs.
#[inline(always)]
pub(super) fn digit_run_end(s: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use safe_arch::{
            cmp_eq_mask_i8_m128i, load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i, sub_i8_m128i,
        };
        let (zero, nine) = (splat(b'0'), splat(9));
        while let Some(chunk) = s.get(i..i + 16) {
            // b - '0' (wrapping) is at most 9 exactly for a digit.
            let d = sub_i8_m128i(load_unaligned_m128i(chunk.try_into().unwrap_or(&[0; 16])), zero);
            let digits = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(max_u8_m128i(d, nine), nine)) as u32;
            if digits != 0xFFFF {
                return i + (!digits).trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    while let Some(chunk) = s.get(i..i + 8) {
        const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        // Per lane, t = b ^ '0' is below 10 exactly for a digit; adding 0x76 to its low seven
        // bits sets the lane's top bit for 10..=127 without carrying into the next lane.
        let t = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ 0x3030_3030_3030_3030;
        let non_digit = (((t & LOW7) + 0x7676_7676_7676_7676) | t) & HI;
        if non_digit != 0 {
            return i + (non_digit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    s[i.min(s.len())..].iter().position(|b| !b.is_ascii_digit()).map_or(s.len(), |k| i + k)
}

/// The 16 bytes of `chunk` (16 long; zeros otherwise, which no caller passes).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn load(chunk: &[u8]) -> safe_arch::m128i {
    safe_arch::load_unaligned_m128i(chunk.try_into().unwrap_or(&[0; 16]))
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn splat(b: u8) -> safe_arch::m128i {
    safe_arch::set_splat_i8_m128i(b as i8)
}

#[cfg(not(target_arch = "x86_64"))]
const LO: u64 = 0x0101_0101_0101_0101;
#[cfg(not(target_arch = "x86_64"))]
const HI: u64 = 0x8080_8080_8080_8080;

/// The top bit of each zero byte of `x`, and possibly of bytes above the lowest one: the lowest
/// flagged lane is always a real zero.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn zero_lanes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_match_a_byte_loop() {
        // Every byte value in every lane of a step, in runs that end in, at and after a step.
        for len in [1, 7, 8, 9, 15, 16, 17, 31, 32, 33] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'7'; len];
                    s[at] = b;
                    for from in [0, 1, at, len] {
                        let digits = s[from.min(len)..].iter().take_while(|b| b.is_ascii_digit()).count();
                        assert_eq!(digit_run_end(&s, from), from + digits, "digits: {b:#x} at {at} of {len}");
                        let stop = s[from..].iter().position(|&b| is_value_stop(b));
                        let found = value_stop(&s, from);
                        assert_eq!(found, stop.map(|k| from + k), "stop: {b:#x} at {at} of {len}");
                        let newline = s[from..].iter().position(|&b| b == b'\n').map(|k| from + k);
                        assert_eq!(super::newline(&s, from), newline, "newline: {b:#x} at {at} of {len}");
                        for colon in [false, true] {
                            let name =
                                |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || colon && *b == b':';
                            let run = s[from.min(len)..].iter().take_while(|b| name(b)).count();
                            assert_eq!(
                                name_run_end(&s, from, colon),
                                from + run,
                                "name: {b:#x} at {at} of {len}"
                            );
                        }
                    }
                }
            }
        }
    }
}
