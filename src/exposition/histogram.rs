//! Native histograms as each Prometheus version takes them from a protobuf body: compacted
//! (model/histogram `compactBuckets`, where Prometheus 2.42 indexes past its spans and crashes
//! on buckets its spans do not hold) and then validated by the head (`Validate` in 3.x,
//! `ValidateHistogram` in 2.42). Works in buffers kept between histograms.

use std::fmt;

/// A span of buckets: the gap before it and how many it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Span {
    pub(super) offset: i32,
    pub(super) length: u32,
}

/// A native histogram's fields as decoded (client_model's `Histogram`).
#[derive(Debug, Default)]
pub(super) struct Fields {
    pub(super) sample_count: u64,
    pub(super) sample_count_float: f64,
    pub(super) sum: f64,
    pub(super) schema: i32,
    pub(super) zero_threshold: f64,
    pub(super) zero_count: u64,
    pub(super) zero_count_float: f64,
    pub(super) negative_spans: Vec<Span>,
    pub(super) negative_deltas: Vec<i64>,
    pub(super) negative_counts: Vec<f64>,
    pub(super) positive_spans: Vec<Span>,
    pub(super) positive_deltas: Vec<i64>,
    pub(super) positive_counts: Vec<f64>,
}

impl Fields {
    pub(super) fn clear(&mut self) {
        self.sample_count = 0;
        self.sample_count_float = 0.0;
        self.sum = 0.0;
        self.schema = 0;
        self.zero_threshold = 0.0;
        self.zero_count = 0;
        self.zero_count_float = 0.0;
        self.negative_spans.clear();
        self.negative_deltas.clear();
        self.negative_counts.clear();
        self.positive_spans.clear();
        self.positive_deltas.clear();
        self.positive_counts.clear();
    }

    /// Whether it is a float histogram (`SampleCountFloat` or `ZeroCountFloat` above zero).
    pub(super) fn is_float(&self) -> bool {
        self.sample_count_float > 0.0 || self.zero_count_float > 0.0
    }

    /// Prometheus 3's `isNativeHistogram`: spans, or a zero bucket.
    pub(super) fn native_v3(&self) -> bool {
        !self.positive_spans.is_empty()
            || !self.negative_spans.is_empty()
            || self.zero_threshold > 0.0
            || self.zero_count > 0
    }

    /// Prometheus 2.42's `isNativeHistogram`: integer buckets, or a zero bucket.
    pub(super) fn native_v2_42(&self) -> bool {
        !self.negative_deltas.is_empty()
            || !self.positive_deltas.is_empty()
            || self.zero_count > 0
            || self.zero_threshold > 0.0
    }

    /// Prometheus 3's `checkNativeHistogramConsistency`: the spans hold as many buckets as
    /// there are, on each side.
    pub(super) fn consistent(&self) -> Result<(), String> {
        let (positive, negative) = if self.is_float() {
            (self.positive_counts.len(), self.negative_counts.len())
        } else {
            (self.positive_deltas.len(), self.negative_deltas.len())
        };
        for (side, spans, buckets) in
            [("positive", &self.positive_spans, positive), ("negative", &self.negative_spans, negative)]
        {
            let total: usize = spans.iter().map(|s| s.length as usize).sum();
            if total != buckets {
                return Err(format!("{side} side: spans require {total} buckets, have {buckets}"));
            }
        }
        Ok(())
    }
}

/// A Go runtime panic that Prometheus would hit: the scrape loop does not recover it, and the
/// whole server exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Crash(pub(super) String);

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Buffers a histogram is compacted in.
#[derive(Debug, Default)]
pub(super) struct Work {
    positive_spans: Vec<Span>,
    negative_spans: Vec<Span>,
    positive_deltas: Vec<i64>,
    negative_deltas: Vec<i64>,
    positive_counts: Vec<f64>,
    negative_counts: Vec<f64>,
}

/// The versions' `compactBuckets` differ where the spans do not hold the buckets: Prometheus 3
/// stops at the last span, Prometheus 2.42 indexes past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compaction {
    V3,
    V2_42,
}

/// A bucket count, integer (deltas) or float (absolute counts).
trait Count: Copy + PartialEq {
    const ZERO: Self;
    fn plus(self, other: Self) -> Self;
    fn negated(self) -> Self;
}

impl Count for i64 {
    const ZERO: i64 = 0;
    fn plus(self, other: i64) -> i64 {
        self.wrapping_add(other)
    }
    fn negated(self) -> i64 {
        self.wrapping_neg()
    }
}

impl Count for f64 {
    const ZERO: f64 = 0.0;
    fn plus(self, other: f64) -> f64 {
        self + other
    }
    fn negated(self) -> f64 {
        -self
    }
}

fn index_crash<T>(what: &str, index: usize, len: usize) -> Result<T, Crash> {
    Err(Crash(format!(
        "runtime error: index out of range [{index}] with length {len} (compacting the {what})"
    )))
}

/// `compactBuckets(buckets, nil, spans, 0, delta)`: drops empty buckets and merges spans.
fn compact<T: Count>(
    buckets: &mut Vec<T>,
    spans: &mut Vec<Span>,
    delta: bool,
    version: Compaction,
) -> Result<(), Crash> {
    // The fast path: no empty bucket, no span with an offset of zero or less or a length of 0.
    let mut current = T::ZERO;
    let mut nothing_to_do = true;
    for &b in buckets.iter() {
        current = if delta { current.plus(b) } else { b };
        if current == T::ZERO {
            nothing_to_do = false;
            break;
        }
    }
    if nothing_to_do && spans.iter().all(|s| s.offset > 0 && s.length != 0) {
        return Ok(());
    }
    // Spans with a zero offset join the one before.
    let mut span_index = 0;
    if spans.len() > 1 {
        for i in 1..spans.len() {
            let span = spans[i];
            if span.offset == 0 {
                spans[span_index].length = spans[span_index].length.wrapping_add(span.length);
                continue;
            }
            span_index += 1;
            if i != span_index {
                spans[span_index] = span;
            }
        }
        spans.truncate(span_index + 1);
        span_index = 0;
    }
    // Spans of length zero go, their offset moving to the next.
    for i in 0..spans.len() {
        let span = spans[i];
        if span.length == 0 {
            if i + 1 < spans.len() {
                spans[i + 1].offset = spans[i + 1].offset.wrapping_add(span.offset);
            }
            continue;
        }
        if i != span_index {
            spans[span_index] = span;
        }
        span_index += 1;
    }
    spans.truncate(span_index);
    span_index = 0;
    if version == Compaction::V3 && spans.is_empty() {
        buckets.clear();
        return Ok(());
    }
    let span = |spans: &[Span], i: usize| match spans.get(i) {
        Some(&s) => Ok(s),
        None => index_crash("spans", i, spans.len()),
    };
    let mut bucket = 0;
    let mut in_span: u32 = 0;
    current = T::ZERO;
    while bucket < buckets.len() && (version == Compaction::V2_42 || span_index < spans.len()) {
        current = if delta { current.plus(buckets[bucket]) } else { buckets[bucket] };
        // How many empty buckets start here, within the span.
        let mut empty = 0usize;
        let mut absolute = current;
        while (empty as u32).wrapping_add(in_span) < span(spans, span_index)?.length && absolute == T::ZERO {
            empty += 1;
            if empty + bucket >= buckets.len() {
                break;
            }
            absolute = buckets[empty + bucket];
        }
        if empty > 0 {
            if delta && bucket + empty < buckets.len() {
                current = buckets[bucket].negated();
                buckets[bucket + empty] = buckets[bucket + empty].plus(buckets[bucket]);
            }
            buckets.drain(bucket..bucket + empty);
            let here = span(spans, span_index)?;
            if in_span == 0 {
                if empty == here.length as usize {
                    spans.remove(span_index);
                    if let Some(next) = spans.get_mut(span_index) {
                        next.offset = next.offset.wrapping_add(here.offset).wrapping_add(empty as i32);
                    }
                    continue;
                }
                spans[span_index].length = here.length.wrapping_sub(empty as u32);
                spans[span_index].offset = here.offset.wrapping_add(empty as i32);
                continue;
            }
            let rest = Span {
                offset: empty as i32,
                length: here.length.wrapping_sub(in_span).wrapping_sub(empty as u32),
            };
            spans[span_index].length = in_span;
            span_index += 1;
            in_span = 0;
            if rest.length == 0 {
                if let Some(next) = spans.get_mut(span_index) {
                    next.offset = next.offset.wrapping_add(empty as i32);
                }
                continue;
            }
            spans.insert(span_index, rest);
            continue;
        }
        bucket += 1;
        in_span += 1;
        if in_span >= span(spans, span_index)?.length {
            in_span = 0;
            span_index += 1;
        }
    }
    Ok(())
}

impl Work {
    /// Copies `h` and compacts it as `version` does (`Histogram.Compact(0)` or
    /// `FloatHistogram.Compact(0)`, as `is_float` says).
    pub(super) fn compact(&mut self, h: &Fields, version: Compaction) -> Result<(), Crash> {
        for (to, from) in
            [(&mut self.positive_spans, &h.positive_spans), (&mut self.negative_spans, &h.negative_spans)]
        {
            to.clear();
            to.extend_from_slice(from);
        }
        if h.is_float() {
            for (to, from) in [
                (&mut self.positive_counts, &h.positive_counts),
                (&mut self.negative_counts, &h.negative_counts),
            ] {
                to.clear();
                to.extend_from_slice(from);
            }
            compact(&mut self.positive_counts, &mut self.positive_spans, false, version)?;
            compact(&mut self.negative_counts, &mut self.negative_spans, false, version)
        } else {
            for (to, from) in [
                (&mut self.positive_deltas, &h.positive_deltas),
                (&mut self.negative_deltas, &h.negative_deltas),
            ] {
                to.clear();
                to.extend_from_slice(from);
            }
            compact(&mut self.positive_deltas, &mut self.positive_spans, true, version)?;
            compact(&mut self.negative_deltas, &mut self.negative_spans, true, version)
        }
    }

    /// Prometheus 3's head: `Histogram.Validate` or `FloatHistogram.Validate` of the compacted
    /// histogram (`h` gives the counts and schema).
    pub(super) fn validate_v3(&self, h: &Fields) -> Result<(), String> {
        const CUSTOM: i32 = -53;
        let float = h.is_float();
        let (positive, negative) = if float {
            (self.positive_counts.len(), self.negative_counts.len())
        } else {
            (self.positive_deltas.len(), self.negative_deltas.len())
        };
        let (zero_count_nonzero, zero_count_negative) = if float {
            (h.zero_count_float != 0.0, h.zero_count_float < 0.0)
        } else {
            (h.zero_count != 0, false)
        };
        let mut negative_count = 0u64;
        if h.schema == CUSTOM {
            // No bounds travel in protobuf: the spans may cover one bucket, from 0.
            let mut total_span = 0i64;
            let mut held = 0usize;
            for (n, s) in self.positive_spans.iter().enumerate() {
                if s.offset < 0 {
                    return Err(format!(
                        "custom buckets: span number {} with offset {}: histogram has a span whose offset is negative",
                        n + 1,
                        s.offset
                    ));
                }
                held += s.length as usize;
                total_span += i64::from(s.length) + i64::from(s.offset);
            }
            if held != positive {
                return Err(format!("custom buckets: spans need {held} buckets, have {positive} buckets"));
            }
            if total_span > 1 {
                return Err(format!(
                    "custom buckets: only 0 custom bounds defined which is insufficient to cover total span length of {total_span}"
                ));
            }
            if zero_count_nonzero {
                return Err("custom buckets: must have zero count of 0".into());
            }
            if h.zero_threshold != 0.0 {
                return Err("custom buckets: must have zero threshold of 0".into());
            }
            if !self.negative_spans.is_empty() {
                return Err("custom buckets: must not have negative spans".into());
            }
            if negative > 0 {
                return Err("custom buckets: must not have negative buckets".into());
            }
        } else if (-4..=8).contains(&h.schema) {
            check_spans("positive", &self.positive_spans, positive)?;
            check_spans("negative", &self.negative_spans, negative)?;
            if float {
                check_float_buckets("negative", &self.negative_counts)?;
                if zero_count_negative {
                    return Err(format!(
                        "zero bucket has observation count of {}: histogram has a bucket whose observation count is negative",
                        h.zero_count_float
                    ));
                }
            } else {
                negative_count = check_delta_buckets("negative", &self.negative_deltas)?;
            }
        } else {
            return Err(format!(
                "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema {}",
                h.schema
            ));
        }
        if float {
            if h.sample_count_float < 0.0 {
                return Err(format!(
                    "observation count is {}: histogram's observation count is negative",
                    h.sample_count_float
                ));
            }
            check_float_buckets("positive", &self.positive_counts)?;
            return Ok(());
        }
        let positive_count = check_delta_buckets("positive", &self.positive_deltas)?;
        let in_buckets = negative_count.wrapping_add(positive_count).wrapping_add(h.zero_count);
        if h.sum.is_nan() {
            if in_buckets > h.sample_count {
                return Err(format!(
                    "{in_buckets} observations found in buckets, but the Count field is {}: histogram's observation count should be at least the number of observations found in the buckets",
                    h.sample_count
                ));
            }
        } else if in_buckets != h.sample_count {
            return Err(format!(
                "{in_buckets} observations found in buckets, but the Count field is {}: histogram's observation count should equal the number of observations found in the buckets (in absence of NaN)",
                h.sample_count
            ));
        }
        Ok(())
    }

    /// Prometheus 2.42's head: `ValidateHistogram` or `ValidateFloatHistogram` of the compacted
    /// histogram.
    pub(super) fn validate_v2_42(&self, h: &Fields) -> Result<(), String> {
        if h.is_float() {
            check_spans("negative", &self.negative_spans, self.negative_counts.len())?;
            check_spans("positive", &self.positive_spans, self.positive_counts.len())?;
            let n: f64 = check_float_buckets("negative", &self.negative_counts)?;
            let p: f64 = check_float_buckets("positive", &self.positive_counts)?;
            if n + p > h.sample_count_float {
                return Err(format!(
                    "{} observations found in buckets, but the Count field is {}: histogram's observation count should be at least the number of observations found in the buckets",
                    n + p,
                    h.sample_count_float
                ));
            }
            return Ok(());
        }
        check_spans("negative", &self.negative_spans, self.negative_deltas.len())?;
        check_spans("positive", &self.positive_spans, self.positive_deltas.len())?;
        let n = check_delta_buckets("negative", &self.negative_deltas)?;
        let p = check_delta_buckets("positive", &self.positive_deltas)?;
        let c = n.wrapping_add(p);
        if c > h.sample_count {
            return Err(format!(
                "{c} observations found in buckets, but the Count field is {}: histogram's observation count should be at least the number of observations found in the buckets",
                h.sample_count
            ));
        }
        Ok(())
    }
}

fn check_spans(side: &str, spans: &[Span], buckets: usize) -> Result<(), String> {
    let mut held = 0usize;
    for (n, s) in spans.iter().enumerate() {
        if n > 0 && s.offset < 0 {
            return Err(format!(
                "{side} side: span number {} with offset {}: histogram has a span whose offset is negative",
                n + 1,
                s.offset
            ));
        }
        held += s.length as usize;
    }
    if held != buckets {
        return Err(format!(
            "{side} side: spans need {held} buckets, have {buckets} buckets: histogram spans specify different number of buckets than provided"
        ));
    }
    Ok(())
}

/// Integer buckets (deltas): each absolute count must not be negative; returns their sum.
fn check_delta_buckets(side: &str, deltas: &[i64]) -> Result<u64, String> {
    let (mut last, mut sum) = (0i64, 0u64);
    for (i, &d) in deltas.iter().enumerate() {
        let c = last.wrapping_add(d);
        if c < 0 {
            return Err(format!(
                "{side} side: bucket number {} has observation count of {c}: histogram has a bucket whose observation count is negative",
                i + 1
            ));
        }
        last = c;
        sum = sum.wrapping_add(c as u64);
    }
    Ok(sum)
}

/// Float buckets (absolute counts): none negative; returns their sum.
fn check_float_buckets(side: &str, counts: &[f64]) -> Result<f64, String> {
    let mut sum = 0.0;
    for (i, &c) in counts.iter().enumerate() {
        if c < 0.0 {
            return Err(format!(
                "{side} side: bucket number {} has observation count of {c}: histogram has a bucket whose observation count is negative",
                i + 1
            ));
        }
        sum += c;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(spans: &[(i32, u32)], deltas: &[i64], count: u64) -> Fields {
        Fields {
            sample_count: count,
            sum: 1.0,
            positive_spans: spans.iter().map(|&(offset, length)| Span { offset, length }).collect(),
            positive_deltas: deltas.to_vec(),
            ..Fields::default()
        }
    }

    #[test]
    fn more_buckets_than_spans_hold_crash_2_42_only() {
        // An empty bucket beyond the spans sends 2.42 past the end of its spans.
        let h = fields(&[(0, 1)], &[1, -1, 0], 1);
        let mut work = Work::default();
        assert!(work.compact(&h, Compaction::V2_42).is_err(), "2.42 crashes");
        assert!(work.compact(&h, Compaction::V3).is_ok());
        assert!(h.consistent().is_err(), "and Prometheus 3 refuses it before compacting");
    }

    #[test]
    fn valid_histograms_validate_after_compaction() {
        let h = fields(&[(-2, 2), (1, 2)], &[1, -1, 2, 0], 5);
        let mut work = Work::default();
        work.compact(&h, Compaction::V3).expect("no crash");
        assert_eq!(work.validate_v3(&h), Ok(()));
        work.compact(&h, Compaction::V2_42).expect("no crash");
        assert_eq!(work.validate_v2_42(&h), Ok(()));
        let wrong_count = fields(&[(0, 1)], &[2], 3);
        work.compact(&wrong_count, Compaction::V3).expect("no crash");
        assert!(work.validate_v3(&wrong_count).is_err(), "3.x wants the count to equal the buckets'");
        work.compact(&wrong_count, Compaction::V2_42).expect("no crash");
        assert_eq!(work.validate_v2_42(&wrong_count), Ok(()), "2.42 wants it at least as large");
    }
}
