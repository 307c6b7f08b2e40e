//! Delimited protobuf `io.prometheus.client.MetricFamily` messages, checked as a Prometheus
//! server's scrape path reads them: the gogo-generated decoders of its copy of the messages
//! (Prometheus 3's streaming decoder, which decodes each metric when it reaches it, or 2.42's,
//! which decodes a whole family first), textparse's `ProtobufParser` and the series it makes of
//! each metric, the scrape loop's and head's checks of each (scrape.rs), and the validation of
//! native histograms (histogram.rs). Judging as Prometheus 3, it also follows 2.42's reading as
//! far as 2.42 would go, so a native histogram that would crash 2.42 is never served.
//!
//! Everything is read where it lies; the buffers a family and a histogram need are kept between
//! messages, so a body costs no allocation per sample.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::histogram::{Compaction, Crash, Fields, Span, Work};
use super::judge::{Judge, Now, Version};
use super::scrape;

/// Field numbers and their wire types, per message, in both versions' copies of metrics.proto.
/// Fields only Prometheus 3's copy has are unknown fields to 2.42, skipped whatever their type.
mod field {
    pub(super) const VARINT: u8 = 0;
    pub(super) const FIXED64: u8 = 1;
    pub(super) const BYTES: u8 = 2;
    pub(super) const START_GROUP: u8 = 3;
    pub(super) const END_GROUP: u8 = 4;
    pub(super) const FIXED32: u8 = 5;
}
use field::{BYTES, END_GROUP, FIXED32, FIXED64, START_GROUP, VARINT};

/// Series expected in a typical body, to size the scrape cache's table once.
const EXPECTED_SERIES: usize = 1024;

/// Checker for a delimited protobuf body, one message at a time.
#[derive(Debug)]
pub(super) struct ProtobufParser {
    judge: Judge,
    now: Now,
    pub(super) families: u64,
    pub(super) samples: u64,
    /// Whether Prometheus 2.42 would still be reading this body: until it meets a fault, a
    /// native histogram that crashes it refuses the body, whoever asks.
    v2_reading: bool,
    /// Prometheus 3's scrape cache: a sample without a timestamp whose series key was appended
    /// earlier in the scrape is a duplicate, dropped unchecked (not even a native histogram's
    /// validation). The keys (see `fingerprint`) of the series appended, hashed with a seed of
    /// this process's, for Prometheus 3 only (2.42 keys series by their labels in the order
    /// written, so a duplicate there has the labels that passed).
    appended: HashTable<u64>,
    /// The metrics of the family being read (where each lies in it).
    metrics: Vec<(usize, usize)>,
    metric: Metric,
    work: Work,
    /// The current series' metric name (the family's, with `_count`, `_sum` or `_bucket`).
    name: Vec<u8>,
    /// The seed of the scrape cache keys' hashes, random per process.
    seed: u64,
    /// The cache key's hash as far as `0xff` and the family's name, for the family being read.
    family_key: Stream,
    /// The order of a series' labels, for its cache key.
    order: Vec<usize>,
}

/// The outcome of looking for the next delimited message.
pub(super) enum Next {
    /// A complete message was checked; this many bytes (prefix included) were used.
    Checked(usize),
    /// More bytes are needed.
    Incomplete,
}

/// A family's own fields.
#[derive(Debug, Default, Clone, Copy)]
struct Family {
    name: (usize, usize),
    help: (usize, usize),
    kind: i32,
}

/// Metric types (client_model's `MetricType`).
const COUNTER: i32 = 0;
const SUMMARY: i32 = 2;
const HISTOGRAM: i32 = 4;
const GAUGE_HISTOGRAM: i32 = 5;

fn is_histogram(kind: i32) -> bool {
    kind == HISTOGRAM || kind == GAUGE_HISTOGRAM
}

/// A hash of a byte stream that depends on its bytes alone, not on the pieces it comes in.
#[derive(Debug, Clone, Copy)]
struct Stream {
    h: u64,
    pending: u64,
    filled: u32,
}

impl Stream {
    fn new(seed: u64) -> Stream {
        Stream { h: seed, pending: 0, filled: 0 }
    }

    #[inline(always)]
    fn mix(&mut self, word: u64) {
        self.h = (self.h ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(27);
    }

    /// Appends the low `n` bytes (1 to 8) of `word`, whose higher bytes are zero.
    #[inline(always)]
    fn push(&mut self, word: u64, n: u32) {
        let filled = self.filled;
        self.pending |= word << (8 * filled);
        let total = filled + n;
        if total >= 8 {
            self.mix(self.pending);
            self.pending = if filled == 0 { 0 } else { word >> (8 * (8 - filled)) };
            self.filled = total - 8;
        } else {
            self.filled = total;
        }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.push(u64::from(b), 1);
    }

    /// Pads the stream with zero bytes to a whole word, so what follows is read a word at a
    /// time.
    #[inline(always)]
    fn align(&mut self) {
        if self.filled != 0 {
            self.mix(self.pending);
            self.pending = 0;
            self.filled = 0;
        }
    }

    #[inline]
    fn bytes(&mut self, s: &[u8]) {
        let mut words = s.chunks_exact(8);
        if self.filled == 0 {
            for w in &mut words {
                self.mix(u64::from_le_bytes(w.try_into().unwrap_or_default()));
            }
        }
        for w in &mut words {
            self.push(u64::from_le_bytes(w.try_into().unwrap_or_default()), 8);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.push(u64::from_le_bytes(last), rest.len() as u32);
        }
    }

    fn finish(mut self) -> u64 {
        self.mix(self.pending ^ (u64::from(self.filled) << 61));
        let mut x = self.h;
        x ^= x >> 32;
        x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        x ^ (x >> 32)
    }
}

/// A label written as a protobuf label pair field (`0x0a` length `0x0a` length name `0x12`
/// length value), the lengths as varints.
fn write_pair(key: &mut Stream, name: &[u8], value: &[u8]) {
    let varint = |key: &mut Stream, mut v: usize| {
        while v >= 0x80 {
            key.byte((v as u8) | 0x80);
            v >>= 7;
        }
        key.byte(v as u8);
    };
    let width = |v: usize| (usize::BITS - v.max(1).leading_zeros()).div_ceil(7) as usize;
    let pair = 2 + width(name.len()) + name.len() + width(value.len()) + value.len();
    key.byte(0x0a);
    varint(key, pair);
    key.byte(0x0a);
    varint(key, name.len());
    key.bytes(name);
    key.byte(0x12);
    varint(key, value.len());
    key.bytes(value);
}

/// What the checks need of one decoded metric.
#[derive(Debug, Default)]
struct Metric {
    /// Where each label pair's message lies in the metric.
    labels: Vec<(usize, usize)>,
    /// The label pairs, decoded: where the name and the value lie in the metric.
    pairs: Vec<((usize, usize), (usize, usize))>,
    /// What Prometheus 3's checks need to know of the pairs, found as they are decoded.
    shape: Shape,
    timestamp_ms: i64,
    /// A summary's quantiles (each one's `quantile`).
    quantiles: Vec<f64>,
    /// A classic histogram's buckets' upper bounds.
    bounds: Vec<f64>,
    histogram: Fields,
}

/// The label pairs of a metric, as far as the checks and the scrape cache key care.
#[derive(Debug, Default, Clone, Copy)]
struct Shape {
    /// Names in strictly increasing order, so none repeats.
    sorted: bool,
    /// A label with an empty value, one named `__name__` or one without a name: labels are
    /// dropped, the name repeats, or a name is invalid; the full checks decide.
    dropping: bool,
    /// A label named `le` or `quantile`, as textparse adds to classic series.
    magic_named: bool,
    /// A name that sorts before `__name__` (an upper-case letter, a digit...).
    before_name: bool,
    /// Every name a legacy label name.
    legacy: bool,
    /// Where the label pairs lie, when they are one run of label fields, each written as
    /// client libraries write them (`0x0a` length `0x0a` length name `0x12` length value, with
    /// one-byte lengths).
    region: Option<(usize, usize)>,
    /// The last name read, for `sorted`.
    last: (usize, usize),
}

impl Metric {
    fn clear(&mut self) {
        self.labels.clear();
        self.pairs.clear();
        self.shape = Shape { sorted: true, legacy: true, ..Shape::default() };
        self.timestamp_ms = 0;
        self.quantiles.clear();
        self.bounds.clear();
        self.histogram.clear();
    }
}

/// A wire-format fault, as the gogo decoders word it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wire {
    Eof,
    Overflow,
    NegativeLength,
    EndGroup(&'static str),
    IllegalTag(&'static str, i32),
    WrongType(&'static str, u8),
    IllegalWireType(u8),
}

impl Wire {
    fn describe(&self) -> String {
        match self {
            Wire::Eof => "proto: unexpected EOF (a field runs past the end of its message)".into(),
            Wire::Overflow => "proto: integer overflow (a varint longer than 10 bytes)".into(),
            Wire::NegativeLength => "proto: negative length found during unmarshaling".into(),
            Wire::EndGroup(msg) => format!("proto: {msg}: wiretype end group for non-group"),
            Wire::IllegalTag(msg, n) => format!("proto: {msg}: illegal tag {n}"),
            Wire::WrongType(field, t) => format!("proto: wrong wireType = {t} for field {field}"),
            Wire::IllegalWireType(t) => format!("proto: illegal wireType {t}"),
        }
    }
}

/// A message being read with the gogo decoders' rules.
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, i: 0 }
    }

    fn more(&self) -> bool {
        self.i < self.b.len()
    }

    /// A varint of up to 10 bytes (a continuation bit on the tenth is an overflow).
    #[inline(always)]
    fn varint(&mut self) -> Result<u64, Wire> {
        if let Some(&b) = self.b.get(self.i)
            && b < 0x80
        {
            self.i += 1;
            return Ok(u64::from(b));
        }
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(Wire::Overflow);
            }
            let &b = self.b.get(self.i).ok_or(Wire::Eof)?;
            self.i += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A varint read into a 32-bit integer as Go does (`v |= int32(b&0x7F) << shift`, where a
    /// shift past 31 bits adds nothing).
    fn varint32(&mut self) -> Result<u32, Wire> {
        let mut v = 0u32;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(Wire::Overflow);
            }
            let &b = self.b.get(self.i).ok_or(Wire::Eof)?;
            self.i += 1;
            if shift < 32 {
                v |= u32::from(b & 0x7f) << shift;
            }
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A tag: the field number (Go's `int32(wire >> 3)`) and wire type; an end-group tag and a
    /// field number below 1 are faults, named after message `msg`.
    #[inline(always)]
    fn tag(&mut self, msg: &'static str) -> Result<(i32, u8), Wire> {
        let wire = self.varint()?;
        let wire_type = (wire & 7) as u8;
        let number = (wire >> 3) as u32 as i32;
        if wire_type == END_GROUP {
            return Err(Wire::EndGroup(msg));
        }
        if number <= 0 {
            return Err(Wire::IllegalTag(msg, number));
        }
        Ok((number, wire_type))
    }

    /// A length-delimited value: where it lies.
    #[inline(always)]
    fn delimited(&mut self) -> Result<(usize, usize), Wire> {
        let len = self.varint()? as i64;
        if len < 0 {
            return Err(Wire::NegativeLength);
        }
        let end = (self.i as i64).checked_add(len).ok_or(Wire::NegativeLength)?;
        if end > self.b.len() as i64 {
            return Err(Wire::Eof);
        }
        let start = self.i;
        self.i = end as usize;
        Ok((start, self.i))
    }

    fn fixed64(&mut self) -> Result<u64, Wire> {
        let bytes = self.b.get(self.i..self.i + 8).ok_or(Wire::Eof)?;
        self.i += 8;
        Ok(u64::from_le_bytes(bytes.try_into().unwrap_or_default()))
    }

    fn double(&mut self) -> Result<f64, Wire> {
        self.fixed64().map(f64::from_bits)
    }

    /// Skips an unknown field whose tag started at `start` (gogo's `skipMetrics`: groups are
    /// followed to the end group that closes them, whatever its field number).
    fn skip(&mut self, start: usize) -> Result<(), Wire> {
        self.i = start;
        let mut depth = 0u32;
        loop {
            if !self.more() {
                return Err(Wire::Eof);
            }
            let wire = self.varint()?;
            match (wire & 7) as u8 {
                VARINT => {
                    self.varint()?;
                }
                FIXED64 => self.i += 8,
                BYTES => {
                    let len = self.varint()? as i64;
                    if len < 0 {
                        return Err(Wire::NegativeLength);
                    }
                    self.i = usize::try_from(len)
                        .ok()
                        .and_then(|l| self.i.checked_add(l))
                        .ok_or(Wire::NegativeLength)?;
                }
                START_GROUP => depth += 1,
                END_GROUP => {
                    if depth == 0 {
                        return Err(Wire::EndGroup("group"));
                    }
                    depth -= 1;
                }
                FIXED32 => self.i += 4,
                other => return Err(Wire::IllegalWireType(other)),
            }
            if depth == 0 {
                return if self.i > self.b.len() { Err(Wire::Eof) } else { Ok(()) };
            }
        }
    }

    /// A field of the wire type `want` (else a fault naming `field`).
    fn expect(&self, wire_type: u8, want: u8, field: &'static str) -> Result<(), Wire> {
        if wire_type == want { Ok(()) } else { Err(Wire::WrongType(field, wire_type)) }
    }
}

/// gogo's `DecodeVarint` on a length prefix: the value and its length, `None` if the bytes
/// there cannot be one, or `Some(Err(()))` if more bytes could still make one.
fn prefix(buf: &[u8]) -> Option<Result<(u64, usize), ()>> {
    let mut v = 0u64;
    for (n, &b) in buf.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * n);
        if b < 0x80 {
            return Some(Ok((v, n + 1)));
        }
    }
    if buf.len() < 10 { Some(Err(())) } else { None }
}

impl ProtobufParser {
    pub(super) fn new(judge: Judge, now: Now) -> Self {
        ProtobufParser {
            judge,
            now,
            families: 0,
            samples: 0,
            v2_reading: true,
            appended: HashTable::with_capacity(EXPECTED_SERIES),
            metrics: Vec::new(),
            metric: Metric::default(),
            work: Work::default(),
            name: Vec::new(),
            seed: RandomState::default().hash_one(0u8),
            family_key: Stream::new(0),
            order: Vec::new(),
        }
    }

    /// Checks the delimited message at the start of `buf`, if all of it is there.
    pub(super) fn next(&mut self, buf: &[u8]) -> Result<Next, String> {
        let (len, n) = match prefix(buf) {
            Some(Ok(v)) => v,
            Some(Err(())) => return Ok(Next::Incomplete),
            None => return Err("invalid varint encountered (a length prefix of more than 10 bytes)".into()),
        };
        if n > 5 {
            return Err(format!("invalid varint encountered (a length prefix of {n} bytes, more than 5)"));
        }
        let Some(total) = usize::try_from(len).ok().and_then(|l| l.checked_add(n)) else {
            return Err(format!("message length {len} is too large"));
        };
        if buf.len() < total {
            return Ok(Next::Incomplete);
        }
        let msg = &buf[n..total];
        let crash = |c: Crash| {
            format!(
                "this body would crash Prometheus 2.42 (its scrape loop panics: {c}), so it is served to no one"
            )
        };
        match self.judge.version {
            Version::V2_42 => match self.family_v2_42(msg) {
                Ok(()) => {}
                Err(Fault::Refused(e)) => return Err(e),
                Err(Fault::Crash(c)) => return Err(crash(c)),
            },
            Version::V3 => self.family_v3(msg).map_err(|f| match f {
                Fault::Refused(e) => e,
                Fault::Crash(c) => crash(c),
            })?,
        }
        self.families += 1;
        Ok(Next::Checked(total))
    }

    /// Checks what is left at the end of the body: a partial message is an error.
    pub(super) fn finish(&mut self, rest: &[u8]) -> Result<(), String> {
        if rest.is_empty() {
            Ok(())
        } else {
            Err(format!("unexpected end of body inside a message ({} bytes left over)", rest.len()))
        }
    }
}

/// The family's own fields as Prometheus 2.42 reads them once it has decoded the family: a
/// legacy metric name, UTF-8 help and a known type.
fn family_fields_v2_42(msg: &[u8], family: &Family) -> Result<(), String> {
    let name = &msg[family.name.0..family.name.1];
    if !super::lex::is_legacy_metric_name(name) {
        return Err(format!(
            "invalid metric name {:?} (Prometheus 2.42 takes legacy names only)",
            String::from_utf8_lossy(name)
        ));
    }
    if !utf8(&msg[family.help.0..family.help.1]) {
        return Err(format!("invalid help for metric {:?}: not UTF-8", String::from_utf8_lossy(name)));
    }
    if !(COUNTER..=GAUGE_HISTOGRAM).contains(&family.kind) {
        return Err(format!(
            "unknown metric type {} for metric {:?}",
            family.kind,
            String::from_utf8_lossy(name)
        ));
    }
    Ok(())
}

/// Why 2.42 stops reading a body.
enum Fault {
    Refused(String),
    Crash(Crash),
}

impl From<String> for Fault {
    fn from(e: String) -> Fault {
        Fault::Refused(e)
    }
}

/// Decodes a family's own fields and where its metrics lie.
fn decode_family(msg: &[u8], version: Version, metrics: &mut Vec<(usize, usize)>) -> Result<Family, Wire> {
    metrics.clear();
    let mut family = Family::default();
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("MetricFamily")?;
        match number {
            1 => {
                r.expect(wt, BYTES, "Name")?;
                family.name = r.delimited()?;
            }
            2 => {
                r.expect(wt, BYTES, "Help")?;
                family.help = r.delimited()?;
            }
            3 => {
                r.expect(wt, VARINT, "Type")?;
                family.kind = r.varint32()? as i32;
            }
            4 => {
                r.expect(wt, BYTES, "Metric")?;
                metrics.push(r.delimited()?);
            }
            5 if version == Version::V3 => {
                r.expect(wt, BYTES, "Unit")?;
                r.delimited()?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(family)
}

/// Decodes one metric as Prometheus 3 does, and its label pairs with the checks
/// its `parseLabel` makes (they are decoded once here, though Prometheus decodes them for each
/// series: the outcome is the same).
fn decode_metric_v3(msg: &[u8], m: &mut Metric) -> Result<(), String> {
    decode_metric(msg, Version::V3, m).map_err(|e| e.describe())?;
    let mut shape = m.shape;
    let mut run_end = None;
    for k in 0..m.labels.len() {
        let (a, b) = m.labels[k];
        let pair = &msg[a..b];
        // The usual encoding, read in place; anything else through the decoder.
        let canonical = canonical_pair(pair);
        let ((n0, n1), (v0, v1)) = match canonical {
            Some(spans) => spans,
            // The decoder checks each name and value it reads; a pair without a name has the
            // empty one, unchecked.
            None => decode_pair(pair, true).map_err(|f| f.describe())?,
        };
        let (name, value) = ((a + n0, a + n1), (a + v0, a + v1));
        let (n, v) = (&msg[name.0..name.1], &msg[value.0..value.1]);
        let (ascii, classic) = super::lex::label_name_classes(n);
        if canonical.is_some() {
            if n.is_empty() || !ascii && !utf8(n) {
                return Err(PairFault::Name(n.to_vec()).describe());
            }
            if !utf8(v) {
                return Err(PairFault::Value(v.to_vec()).describe());
            }
        }
        // The run of label fields, while each is written the usual way, one after another.
        let canonical =
            canonical.is_some() && a >= 2 && msg[a - 2] == 0x0a && usize::from(msg[a - 1]) == b - a;
        run_end = match run_end {
            _ if !canonical => None,
            None if k == 0 => Some((a - 2, b)),
            Some((start, end)) if end == a - 2 => Some((start, b)),
            _ => None,
        };
        if run_end.is_none() {
            shape.region = None;
        }
        // A pair without a name (left unchecked by the decoder) needs the full checks too.
        shape.dropping |= value.0 == value.1 || n.is_empty() || n == b"__name__";
        shape.magic_named |= n == b"le" || n == b"quantile";
        // Names mostly start with a lower-case letter, which sorts after `__name__`'s `_`.
        let first = n.first().copied().unwrap_or_default();
        shape.before_name |= first < b'_' || first == b'_' && n < &b"__name__"[..];
        shape.legacy &= classic;
        if k > 0 {
            let last = &msg[shape.last.0..shape.last.1];
            let last_first = last.first().copied().unwrap_or_default();
            shape.sorted &= if last_first == first { last < n } else { last_first < first };
        }
        shape.last = name;
        m.pairs.push((name, value));
    }
    shape.region = if m.labels.is_empty() { Some((0, 0)) } else { run_end };
    m.shape = shape;
    Ok(())
}

/// The name and value of a label pair written as client libraries write one: `0x0a` length
/// name `0x12` length value, with one-byte lengths.
#[inline]
fn canonical_pair(pair: &[u8]) -> Option<((usize, usize), (usize, usize))> {
    let [0x0a, n, rest @ ..] = pair else { return None };
    let n = usize::from(*n);
    if n >= 0x80 || rest.len() < n + 2 {
        return None;
    }
    let [0x12, v, value @ ..] = &rest[n..] else { return None };
    if *v >= 0x80 || value.len() != usize::from(*v) {
        return None;
    }
    Some(((2, 2 + n), (4 + n, pair.len())))
}

/// Decodes one metric into `m` with `version`'s copy of the messages.
fn decode_metric(msg: &[u8], version: Version, m: &mut Metric) -> Result<(), Wire> {
    m.clear();
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Metric")?;
        match number {
            1 => {
                r.expect(wt, BYTES, "Label")?;
                let at = r.delimited()?;
                m.labels.push(at);
                if version == Version::V2_42 {
                    // 2.42 decodes label pairs with the rest.
                    let (name, value) = decode_pair_wire(&msg[at.0..at.1])?;
                    m.pairs.push(((at.0 + name.0, at.0 + name.1), (at.0 + value.0, at.0 + value.1)));
                }
            }
            2 | 5 => {
                r.expect(wt, BYTES, if number == 2 { "Gauge" } else { "Untyped" })?;
                let (a, b) = r.delimited()?;
                decode_value(&msg[a..b], if number == 2 { "Gauge" } else { "Untyped" })?;
            }
            3 => {
                r.expect(wt, BYTES, "Counter")?;
                let (a, b) = r.delimited()?;
                decode_counter(&msg[a..b], version)?;
            }
            4 => {
                r.expect(wt, BYTES, "Summary")?;
                let (a, b) = r.delimited()?;
                decode_summary(&msg[a..b], version, m)?;
            }
            6 => {
                r.expect(wt, VARINT, "TimestampMs")?;
                m.timestamp_ms = r.varint()? as i64;
            }
            7 => {
                r.expect(wt, BYTES, "Histogram")?;
                let (a, b) = r.delimited()?;
                decode_histogram(&msg[a..b], version, m)?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

/// Why a label pair cannot be read.
enum PairFault {
    Wire(Wire),
    /// Prometheus 3's `parseLabel` checks each name and value it reads.
    Name(Vec<u8>),
    Value(Vec<u8>),
}

impl PairFault {
    fn describe(&self) -> String {
        match self {
            PairFault::Wire(w) => w.describe(),
            PairFault::Name(n) => format!("invalid label name {:?}", String::from_utf8_lossy(n)),
            PairFault::Value(v) => format!("invalid label value {:?}", String::from_utf8_lossy(v)),
        }
    }
}

impl From<Wire> for PairFault {
    fn from(w: Wire) -> PairFault {
        PairFault::Wire(w)
    }
}

/// Where a field's bytes lie in its message: start and end.
type Place = (usize, usize);

/// A label pair: where its name and value lie (the last of each, as gogo keeps them); with
/// `checked`, each name read must be non-empty UTF-8 and each value UTF-8, as Prometheus 3's
/// `parseLabel` checks them.
fn decode_pair(msg: &[u8], checked: bool) -> Result<(Place, Place), PairFault> {
    let mut r = Reader::new(msg);
    let (mut name, mut value) = ((0, 0), (0, 0));
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("LabelPair")?;
        match number {
            1 => {
                r.expect(wt, BYTES, "Name")?;
                name = r.delimited()?;
                let n = &msg[name.0..name.1];
                if checked && (n.is_empty() || !utf8(n)) {
                    return Err(PairFault::Name(n.to_vec()));
                }
            }
            2 => {
                r.expect(wt, BYTES, "Value")?;
                value = r.delimited()?;
                let v = &msg[value.0..value.1];
                if checked && !utf8(v) {
                    return Err(PairFault::Value(v.to_vec()));
                }
            }
            _ => r.skip(start)?,
        }
    }
    Ok((name, value))
}

/// A label pair of an exemplar or, in 2.42, of a metric: its wire format only.
fn decode_pair_wire(msg: &[u8]) -> Result<(Place, Place), Wire> {
    decode_pair(msg, false).map_err(|f| match f {
        PairFault::Wire(w) => w,
        PairFault::Name(_) | PairFault::Value(_) => Wire::Eof,
    })
}

fn decode_value(msg: &[u8], what: &'static str) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag(what)?;
        if number == 1 {
            r.expect(wt, FIXED64, "Value")?;
            r.double()?;
        } else {
            r.skip(start)?;
        }
    }
    Ok(())
}

fn decode_counter(msg: &[u8], version: Version) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Counter")?;
        match number {
            1 => {
                r.expect(wt, FIXED64, "Value")?;
                r.double()?;
            }
            2 => {
                r.expect(wt, BYTES, "Exemplar")?;
                let (a, b) = r.delimited()?;
                decode_exemplar(&msg[a..b])?;
            }
            3 if version == Version::V3 => {
                r.expect(wt, BYTES, "StartTimestamp")?;
                let (a, b) = r.delimited()?;
                decode_timestamp(&msg[a..b])?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

fn decode_exemplar(msg: &[u8]) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Exemplar")?;
        match number {
            1 => {
                r.expect(wt, BYTES, "Label")?;
                let (a, b) = r.delimited()?;
                decode_pair_wire(&msg[a..b])?;
            }
            2 => {
                r.expect(wt, FIXED64, "Value")?;
                r.double()?;
            }
            3 => {
                r.expect(wt, BYTES, "Timestamp")?;
                let (a, b) = r.delimited()?;
                decode_timestamp(&msg[a..b])?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

fn decode_timestamp(msg: &[u8]) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Timestamp")?;
        match number {
            1 => {
                r.expect(wt, VARINT, "Seconds")?;
                r.varint()?;
            }
            2 => {
                r.expect(wt, VARINT, "Nanos")?;
                r.varint32()?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

fn decode_summary(msg: &[u8], version: Version, m: &mut Metric) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Summary")?;
        match number {
            1 => {
                r.expect(wt, VARINT, "SampleCount")?;
                r.varint()?;
            }
            2 => {
                r.expect(wt, FIXED64, "SampleSum")?;
                r.double()?;
            }
            3 => {
                r.expect(wt, BYTES, "Quantile")?;
                let (a, b) = r.delimited()?;
                let mut q = Reader::new(&msg[a..b]);
                let mut quantile = 0.0;
                while q.more() {
                    let s = q.i;
                    let (n, w) = q.tag("Quantile")?;
                    match n {
                        1 | 2 => {
                            q.expect(w, FIXED64, if n == 1 { "Quantile" } else { "Value" })?;
                            let v = q.double()?;
                            if n == 1 {
                                quantile = v;
                            }
                        }
                        _ => q.skip(s)?,
                    }
                }
                m.quantiles.push(quantile);
            }
            4 if version == Version::V3 => {
                r.expect(wt, BYTES, "StartTimestamp")?;
                let (a, b) = r.delimited()?;
                decode_timestamp(&msg[a..b])?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

/// A repeated scalar, packed (one length-delimited run, whose items gogo reads up to the end of
/// the message rather than of the run) or one per field.
fn repeated(
    r: &mut Reader<'_>,
    wt: u8,
    field: &'static str,
    fixed: bool,
    mut each: impl FnMut(u64),
) -> Result<(), Wire> {
    let scalar = if fixed { FIXED64 } else { VARINT };
    if wt == scalar {
        each(if fixed { r.fixed64()? } else { r.varint()? });
        return Ok(());
    }
    if wt != BYTES {
        return Err(Wire::WrongType(field, wt));
    }
    let len = r.varint()? as i64;
    if len < 0 {
        return Err(Wire::NegativeLength);
    }
    let end = (r.i as i64).checked_add(len).ok_or(Wire::NegativeLength)?;
    if end > r.b.len() as i64 {
        return Err(Wire::Eof);
    }
    while (r.i as i64) < end {
        each(if fixed { r.fixed64()? } else { r.varint()? });
    }
    Ok(())
}

fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn zigzag32(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn decode_span(msg: &[u8]) -> Result<Span, Wire> {
    let mut r = Reader::new(msg);
    let mut span = Span::default();
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("BucketSpan")?;
        match number {
            1 => {
                r.expect(wt, VARINT, "Offset")?;
                span.offset = zigzag32(r.varint32()?);
            }
            2 => {
                r.expect(wt, VARINT, "Length")?;
                span.length = r.varint32()?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(span)
}

fn decode_histogram(msg: &[u8], version: Version, m: &mut Metric) -> Result<(), Wire> {
    let mut r = Reader::new(msg);
    let h = &mut m.histogram;
    while r.more() {
        let start = r.i;
        let (number, wt) = r.tag("Histogram")?;
        match number {
            1 => {
                r.expect(wt, VARINT, "SampleCount")?;
                h.sample_count = r.varint()?;
            }
            2 => {
                r.expect(wt, FIXED64, "SampleSum")?;
                h.sum = r.double()?;
            }
            3 => {
                r.expect(wt, BYTES, "Bucket")?;
                let (a, b) = r.delimited()?;
                let mut bucket = Reader::new(&msg[a..b]);
                let mut upper = 0.0;
                while bucket.more() {
                    let s = bucket.i;
                    let (n, w) = bucket.tag("Bucket")?;
                    match n {
                        1 => {
                            bucket.expect(w, VARINT, "CumulativeCount")?;
                            bucket.varint()?;
                        }
                        2 | 4 => {
                            bucket.expect(
                                w,
                                FIXED64,
                                if n == 2 { "UpperBound" } else { "CumulativeCountFloat" },
                            )?;
                            let v = bucket.double()?;
                            if n == 2 {
                                upper = v;
                            }
                        }
                        3 => {
                            bucket.expect(w, BYTES, "Exemplar")?;
                            let (x, y) = bucket.delimited()?;
                            decode_exemplar(&msg[a..b][x..y])?;
                        }
                        _ => bucket.skip(s)?,
                    }
                }
                m.bounds.push(upper);
            }
            4 => {
                r.expect(wt, FIXED64, "SampleCountFloat")?;
                h.sample_count_float = r.double()?;
            }
            5 => {
                r.expect(wt, VARINT, "Schema")?;
                h.schema = zigzag32(r.varint32()?);
            }
            6 => {
                r.expect(wt, FIXED64, "ZeroThreshold")?;
                h.zero_threshold = r.double()?;
            }
            7 => {
                r.expect(wt, VARINT, "ZeroCount")?;
                h.zero_count = r.varint()?;
            }
            8 => {
                r.expect(wt, FIXED64, "ZeroCountFloat")?;
                h.zero_count_float = r.double()?;
            }
            9 | 12 => {
                r.expect(wt, BYTES, if number == 9 { "NegativeSpan" } else { "PositiveSpan" })?;
                let (a, b) = r.delimited()?;
                let span = decode_span(&msg[a..b])?;
                if number == 9 { h.negative_spans.push(span) } else { h.positive_spans.push(span) }
            }
            10 => repeated(&mut r, wt, "NegativeDelta", false, |v| h.negative_deltas.push(zigzag64(v)))?,
            13 => repeated(&mut r, wt, "PositiveDelta", false, |v| h.positive_deltas.push(zigzag64(v)))?,
            11 => repeated(&mut r, wt, "NegativeCount", true, |v| h.negative_counts.push(f64::from_bits(v)))?,
            14 => repeated(&mut r, wt, "PositiveCount", true, |v| h.positive_counts.push(f64::from_bits(v)))?,
            15 if version == Version::V3 => {
                r.expect(wt, BYTES, "StartTimestamp")?;
                let (a, b) = r.delimited()?;
                decode_timestamp(&msg[a..b])?;
            }
            16 if version == Version::V3 => {
                r.expect(wt, BYTES, "Exemplars")?;
                let (a, b) = r.delimited()?;
                decode_exemplar(&msg[a..b])?;
            }
            _ => r.skip(start)?,
        }
    }
    Ok(())
}

fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

/// A series a metric makes: its name's suffix and the label textparse adds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Series {
    /// The family's name, no label added (counters, gauges, untyped, native histograms).
    Plain,
    /// `_count`, `_sum`.
    Suffix(&'static str),
    /// A summary's quantile, with `quantile` set to this.
    Quantile(f64),
    /// A classic histogram's bucket (`_bucket` with `le` set to this upper bound).
    Bucket(f64),
}

impl Series {
    /// What textparse adds to the family's name.
    fn suffix(self) -> &'static [u8] {
        match self {
            Series::Suffix(s) => s.as_bytes(),
            Series::Bucket(_) => b"_bucket",
            Series::Plain | Series::Quantile(_) => b"",
        }
    }

    /// The added label's value in the cache key: equal floats alike (0 and -0, every NaN), as
    /// textparse formats them, others apart.
    fn magic_value(self) -> [u8; 8] {
        match self {
            Series::Quantile(v) | Series::Bucket(v) if v == 0.0 => 0u64.to_le_bytes(),
            Series::Quantile(v) | Series::Bucket(v) if v.is_nan() => f64::NAN.to_bits().to_le_bytes(),
            Series::Quantile(v) | Series::Bucket(v) => v.to_bits().to_le_bytes(),
            Series::Plain | Series::Suffix(_) => [0; 8],
        }
    }

    /// The label textparse adds, if any: its name.
    fn magic(self) -> Option<&'static [u8]> {
        match self {
            Series::Quantile(_) => Some(b"quantile"),
            Series::Bucket(_) => Some(b"le"),
            Series::Plain | Series::Suffix(_) => None,
        }
    }
}

/// How many series a summary's quantiles or a classic histogram's buckets make: one per
/// quantile; one per bucket up to the first whose bound is +Inf, or all of them and a +Inf one.
fn classic_count(kind: i32, m: &Metric) -> usize {
    if kind == SUMMARY {
        return m.quantiles.len();
    }
    m.bounds.iter().position(|&b| b == f64::INFINITY).map_or(m.bounds.len() + 1, |i| i + 1)
}

/// The `i`th of those series.
fn classic_at(kind: i32, m: &Metric, i: usize) -> Series {
    if kind == SUMMARY {
        Series::Quantile(m.quantiles[i])
    } else {
        Series::Bucket(m.bounds.get(i).copied().unwrap_or(f64::INFINITY))
    }
}

impl ProtobufParser {
    /// Prometheus 3's reading of one family: its streaming decoder and `ProtobufParser.Next`.
    fn family_v3(&mut self, msg: &[u8]) -> Result<(), Fault> {
        let mut metrics = std::mem::take(&mut self.metrics);
        let read = self.family_v3_metrics(msg, &mut metrics);
        self.metrics = metrics;
        read
    }

    fn family_v3_metrics(&mut self, msg: &[u8], metrics: &mut Vec<(usize, usize)>) -> Result<(), Fault> {
        let family = decode_family(msg, Version::V3, metrics).map_err(|e| e.describe())?;
        if metrics.is_empty() {
            // An empty family is skipped unread.
            return Ok(());
        }
        if self.v2_reading {
            self.follow_v2_42(msg, metrics, &family)?;
        }
        self.family_v3_series(msg, metrics, family).map_err(Fault::Refused)
    }

    /// Judging as Prometheus 3, what 2.42 would do with a family as far as it matters: whether
    /// it stops reading there, before a crash it could meet later. Where Prometheus 3 reads a
    /// family without a fault, 2.42 finds one only in a name that is not a legacy one (the
    /// family's here, label names as Prometheus 3 reads them) or in a family of histograms it
    /// reads as native ones (read here in full, as that is where it can crash). Its wire
    /// format faults are Prometheus 3's too, its repeated-label rule is laxer (every job and
    /// instance replaced), and its other checks are alike.
    fn follow_v2_42(&mut self, msg: &[u8], metrics: &[(usize, usize)], family: &Family) -> Result<(), Fault> {
        let native = is_histogram(family.kind)
            && decode_metric(&msg[metrics[0].0..metrics[0].1], Version::V2_42, &mut self.metric).is_ok()
            && self.metric.histogram.native_v2_42();
        let outcome = if native {
            let mut taken = std::mem::take(&mut self.metrics);
            let read = self.family_v2_42_metrics(msg, &mut taken);
            self.metrics = taken;
            read
        } else if !super::lex::is_legacy_metric_name(&msg[family.name.0..family.name.1]) {
            Err(Fault::Refused(String::new()))
        } else {
            Ok(())
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Fault::Refused(_)) => {
                self.v2_reading = false;
                Ok(())
            }
            Err(crash @ Fault::Crash(_)) => Err(crash),
        }
    }

    fn family_v3_series(
        &mut self,
        msg: &[u8],
        metrics: &[(usize, usize)],
        family: Family,
    ) -> Result<(), String> {
        self.family_key = Stream::new(self.seed);
        self.family_key.byte(0xff);
        self.family_key.bytes(&msg[family.name.0..family.name.1]);
        let metric = |k: usize| &msg[metrics[k].0..metrics[k].1];
        decode_metric_v3(metric(0), &mut self.metric)?;
        self.v2_reading &= self.metric.shape.legacy;
        let name = &msg[family.name.0..family.name.1];
        if name.is_empty() || !utf8(name) {
            return Err(format!("invalid metric name {:?}", String::from_utf8_lossy(name)));
        }
        let help = &msg[family.help.0..family.help.1];
        if !utf8(help) {
            return Err(format!("invalid help for metric {:?}: not UTF-8", String::from_utf8_lossy(name)));
        }
        let kind = family.kind;
        if !(COUNTER..=GAUGE_HISTOGRAM).contains(&kind) {
            return Err(format!("unknown metric type {kind} for metric {:?}", String::from_utf8_lossy(name)));
        }
        let inconsistent = |e: String| format!("histogram {:?}: {e}", String::from_utf8_lossy(name));
        // textparse's `ProtobufParser.Next` from EntryType on. A metric is read as a native
        // histogram in its histogram state, else through its classic series (`_count`, `_sum`,
        // then quantiles or buckets). That state starts with a native first metric, ends at a
        // metric that is not native, and starts again after the classic series of one that is:
        // the metric after that is read as a native histogram, whatever it is.
        let mut histogram_state = is_histogram(kind) && self.metric.histogram.native_v3();
        if histogram_state {
            self.metric.histogram.consistent().map_err(inconsistent)?;
        }
        let mut k = 0;
        loop {
            if histogram_state {
                self.series_v3(metric(k), name, Series::Plain, true)?;
            } else {
                match kind {
                    SUMMARY | HISTOGRAM | GAUGE_HISTOGRAM => {
                        self.series_v3(metric(k), name, Series::Suffix("_count"), false)?;
                        self.series_v3(metric(k), name, Series::Suffix("_sum"), false)?;
                        for i in 0..classic_count(kind, &self.metric) {
                            let series = classic_at(kind, &self.metric, i);
                            self.series_v3(metric(k), name, series, false)?;
                        }
                        if is_histogram(kind) && self.metric.histogram.native_v3() {
                            self.metric.histogram.consistent().map_err(inconsistent)?;
                            histogram_state = true;
                            k += 1;
                            if k == metrics.len() {
                                return Ok(());
                            }
                            decode_metric_v3(metric(k), &mut self.metric)?;
                            self.v2_reading &= self.metric.shape.legacy;
                            continue;
                        }
                    }
                    _ => self.series_v3(metric(k), name, Series::Plain, false)?,
                }
            }
            k += 1;
            if k == metrics.len() {
                return Ok(());
            }
            decode_metric_v3(metric(k), &mut self.metric)?;
            self.v2_reading &= self.metric.shape.legacy;
            if histogram_state && !self.metric.histogram.native_v3() {
                histogram_state = false;
            }
        }
    }

    /// One series of Prometheus 3's reading: what the scrape loop and the head do with the
    /// sample (scrape_append_v2.go), its labels decoded and checked with the metric.
    fn series_v3(
        &mut self,
        msg: &[u8],
        family: &[u8],
        series: Series,
        histogram: bool,
    ) -> Result<(), String> {
        self.samples += 1;
        let ts = (self.metric.timestamp_ms != 0).then_some(self.metric.timestamp_ms);
        let t = ts.unwrap_or(self.now.0);
        // The scrape cache: a series appended earlier in this scrape and stamped with no
        // timestamp is a duplicate sample, dropped unchecked.
        let key = self.cache_key(msg, family, series);
        // A series in the window is appended unless the body fails, so it goes in at once.
        let in_window = self.now.earliest() <= t && t <= self.now.latest();
        let seen = if in_window {
            match self.appended.entry(key, |&k| k == key, |&k| k) {
                hashbrown::hash_table::Entry::Occupied(_) => true,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(key);
                    false
                }
            }
        } else {
            self.appended.find(key, |&k| k == key).is_some()
        };
        if seen && ts.is_none() {
            return Ok(());
        }
        // Labels no check can fail: sorted (so none repeats), none dropped, all valid, and no
        // added `le` or `quantile` that one of them would repeat.
        let shape = self.metric.shape;
        let plain = shape.sorted
            && !shape.dropping
            && (shape.legacy || !self.judge.legacy_names)
            && !(shape.magic_named && series.magic().is_some())
            && (!self.judge.legacy_names || super::lex::is_legacy_metric_name(family));
        if !seen && !plain {
            self.check_labels(msg, family, series, false)?;
        }
        if histogram && !self.metric.histogram.native_v3() {
            return Err(format!(
                "the parser returned no histogram for {:?} (a metric that is no native histogram follows one read through its classic series)",
                String::from_utf8_lossy(family)
            ));
        }
        if t > self.now.latest() {
            return Ok(());
        }
        if histogram {
            self.work.compact(&self.metric.histogram, Compaction::V3).map_err(|c| c.to_string())?;
            self.work
                .validate_v3(&self.metric.histogram)
                .map_err(|e| format!("histogram {:?}: {e}", String::from_utf8_lossy(family)))?;
        }
        if seen || t < self.now.earliest() {
            return Ok(());
        }
        if !plain {
            self.check_labels(msg, family, series, true)?;
        }
        Ok(())
    }

    /// The series' name: the family's and its suffix.
    fn set_name(&mut self, family: &[u8], series: Series) {
        self.name.clear();
        self.name.extend_from_slice(family);
        self.name.extend_from_slice(series.suffix());
    }

    /// The series' key in Prometheus 3's scrape cache, hashed. textparse's key (`entryBytes`)
    /// is the labels sorted by name (the family's `__name__` first, the added `le` or
    /// `quantile` last among equal names), each written as `0xff name 0xff value`, except
    /// `__name__` labels, whose value alone is written: so `{__name__=""}` of family `x` has
    /// the key of a plain `x`, and is its duplicate. This hashes the same sequence with the
    /// labels written as protobuf pairs (length-prefixed), the metric name and the values of
    /// `__name__` labels as one run between `0xff` bytes (then zeros to a whole word). Most
    /// metrics' label pairs are that very encoding already, in order, and are hashed where they
    /// lie.
    fn cache_key(&mut self, msg: &[u8], family: &[u8], series: Series) -> u64 {
        let mut key = Stream::new(self.seed);
        let shape = self.metric.shape;
        let magic = series.magic();
        let magic_value = series.magic_value();
        if let (Some((start, end)), false, false) = (shape.region, shape.dropping, shape.before_name)
            && shape.sorted
        {
            // No `__name__` pair (that would set `dropping`), none before it, sorted.
            key = self.family_key;
            key.bytes(series.suffix());
            key.byte(0xff);
            key.align();
            let Some(magic) = magic else {
                key.bytes(&msg[start..end]);
                return key.finish();
            };
            // The added label goes before the first name above it.
            let at = self
                .metric
                .pairs
                .iter()
                .zip(&self.metric.labels)
                .find(|(((n0, n1), _), _)| &msg[*n0..*n1] > magic)
                .map_or(end, |(_, &(a, _))| a - 2);
            key.bytes(&msg[start..at]);
            write_pair(&mut key, magic, &magic_value);
            key.bytes(&msg[at..end]);
            return key.finish();
        }
        // Any other shape: the pairs sorted (stable) with the added label, written out.
        let pairs = &self.metric.pairs;
        let count = pairs.len() + usize::from(magic.is_some());
        let name_of = |k: usize| -> &[u8] {
            match pairs.get(k) {
                Some(&((a, b), _)) => &msg[a..b],
                None => magic.unwrap_or_default(),
            }
        };
        let value_of = |k: usize| -> &[u8] {
            match pairs.get(k) {
                Some(&(_, (c, d))) => &msg[c..d],
                None => &magic_value,
            }
        };
        let order = &mut self.order;
        order.clear();
        order.extend(0..count);
        order.sort_by(|&a, &b| name_of(a).cmp(name_of(b)));
        let dunder: &[u8] = b"__name__";
        for &k in order.iter().filter(|&&k| name_of(k) < dunder) {
            write_pair(&mut key, name_of(k), value_of(k));
        }
        key.byte(0xff);
        key.bytes(family);
        key.bytes(series.suffix());
        for &k in order.iter().filter(|&&k| name_of(k) == dunder) {
            key.bytes(value_of(k));
        }
        key.byte(0xff);
        key.align();
        for &k in order.iter().filter(|&&k| name_of(k) > dunder) {
            write_pair(&mut key, name_of(k), value_of(k));
        }
        key.finish()
    }

    /// The scrape loop's and head's checks of the current series.
    fn check_labels(
        &mut self,
        msg: &[u8],
        family: &[u8],
        series: Series,
        in_window: bool,
    ) -> Result<(), String> {
        self.set_name(family, series);
        let magic = series.magic();
        let pairs = &self.metric.pairs;
        let count = pairs.len() + usize::from(magic.is_some());
        let label = |k: usize| match pairs.get(k) {
            Some(&((a, b), (c, d))) => scrape::Label { name: &msg[a..b], value: &msg[c..d], legacy: false },
            None => scrape::Label { name: magic.unwrap_or_default(), value: b"+Inf", legacy: true },
        };
        let name = scrape::Name { bytes: &self.name, legacy: false };
        scrape::check(self.judge, name, count, label, in_window).map(drop).map_err(|r| r.message)
    }

    /// Prometheus 2.42's reading of one family: the whole family decoded, then its series.
    fn family_v2_42(&mut self, msg: &[u8]) -> Result<(), Fault> {
        let mut metrics = std::mem::take(&mut self.metrics);
        let read = self.family_v2_42_metrics(msg, &mut metrics);
        self.metrics = metrics;
        read
    }

    fn family_v2_42_metrics(&mut self, msg: &[u8], metrics: &mut Vec<(usize, usize)>) -> Result<(), Fault> {
        let family = decode_family(msg, Version::V2_42, metrics).map_err(|e| e.describe())?;
        if metrics.is_empty() {
            return Ok(());
        }
        // 2.42 decodes a whole family before it reads any of it, so a fault of decoding anywhere
        // in the family is the one it reports. Each metric is decoded once here and read as it
        // is decoded, up to the first fault of reading; the rest is then only decoded.
        let name = &msg[family.name.0..family.name.1];
        let mut fault = family_fields_v2_42(msg, &family).err().map(Fault::Refused);
        let mut native = false;
        for (k, &(a, b)) in metrics.iter().enumerate() {
            let metric = &msg[a..b];
            decode_metric(metric, Version::V2_42, &mut self.metric).map_err(|e| e.describe())?;
            if fault.is_some() {
                continue;
            }
            if k == 0 {
                // 2.42 reads every metric of a family as a native histogram when the first one is.
                native = is_histogram(family.kind) && self.metric.histogram.native_v2_42();
            }
            fault = self.metric_v2_42(metric, name, family.kind, native).err();
        }
        fault.map_or(Ok(()), Err)
    }

    /// The series Prometheus 2.42 reads of the metric just decoded (`msg`) of a family `name`
    /// of type `kind`.
    fn metric_v2_42(&mut self, msg: &[u8], name: &[u8], kind: i32, native: bool) -> Result<(), Fault> {
        // updateMetricBytes, for each series: every label name legacy, every value UTF-8. The
        // labels are the same for every series of a metric, so once for its first is the same.
        // Labels whose names are in order, none empty-valued, `__name__`, `le` or `quantile`,
        // pass every check of every series (no label dropped or repeated, every name valid).
        let mut plain = true;
        let mut previous: &[u8] = &[];
        for &((a, b), (c, d)) in &self.metric.pairs {
            let (n, v) = (&msg[a..b], &msg[c..d]);
            plain &= previous < n && !v.is_empty() && !matches!(n, b"__name__" | b"le" | b"quantile");
            previous = n;
            if !super::lex::is_legacy_label_name(n) {
                return Err(format!(
                    "invalid label name {:?} (Prometheus 2.42 takes legacy names only)",
                    String::from_utf8_lossy(n)
                )
                .into());
            }
            if !utf8(v) {
                return Err(format!("invalid label value {:?}", String::from_utf8_lossy(v)).into());
            }
        }
        if native {
            return self.series_v2_42(msg, name, Series::Plain, true, plain);
        }
        if matches!(kind, SUMMARY | HISTOGRAM | GAUGE_HISTOGRAM) {
            self.series_v2_42(msg, name, Series::Suffix("_count"), false, plain)?;
            self.series_v2_42(msg, name, Series::Suffix("_sum"), false, plain)?;
            for i in 0..classic_count(kind, &self.metric) {
                self.series_v2_42(msg, name, classic_at(kind, &self.metric, i), false, plain)?;
            }
            return Ok(());
        }
        self.series_v2_42(msg, name, Series::Plain, false, plain)
    }

    /// One series of Prometheus 2.42's reading, of a metric whose labels passed
    /// `updateMetricBytes` (and are `plain`: see [`ProtobufParser::metric_v2_42`]).
    fn series_v2_42(
        &mut self,
        msg: &[u8],
        family: &[u8],
        series: Series,
        histogram: bool,
        plain: bool,
    ) -> Result<(), Fault> {
        if self.judge.version == Version::V2_42 {
            self.samples += 1;
        }
        if !plain {
            self.set_name(family, series);
        }
        let t = if self.metric.timestamp_ms != 0 { self.metric.timestamp_ms } else { self.now.0 };
        let judge = Judge::PROMETHEUS_2_42;
        let check = |p: &ProtobufParser, in_window: bool| -> Result<(), Fault> {
            if plain {
                return Ok(());
            }
            let magic = series.magic();
            let pairs = &p.metric.pairs;
            let count = pairs.len() + usize::from(magic.is_some());
            // Every name is a legacy one: the family's (family_fields_v2_42) with a legacy
            // suffix, and the labels' (metric_v2_42).
            let label = |k: usize| match pairs.get(k) {
                Some(&((a, b), (c, d))) => {
                    scrape::Label { name: &msg[a..b], value: &msg[c..d], legacy: true }
                }
                None => scrape::Label { name: magic.unwrap_or_default(), value: b"+Inf", legacy: true },
            };
            let name = scrape::Name { bytes: &p.name, legacy: true };
            scrape::check(judge, name, count, label, in_window)
                .map(drop)
                .map_err(|r| Fault::Refused(r.message))
        };
        if histogram {
            // Histogram() compacts before any check: where 2.42's compaction indexes past the
            // spans, the server crashes.
            self.work.compact(&self.metric.histogram, Compaction::V2_42).map_err(Fault::Crash)?;
            check(self, false)?;
            if self.judge.version == Version::V2_42 && !self.judge.native_histograms {
                // The head appender's first check, before its time window (ErrNativeHistogramsDisabled,
                // fatal to the scrape).
                return Err(Fault::Refused(format!(
                    "native histograms are disabled: {:?} is one (Prometheus 2.42 without --enable-feature=native-histograms)",
                    String::from_utf8_lossy(family)
                )));
            }
            if t >= self.now.earliest() {
                self.work.validate_v2_42(&self.metric.histogram).map_err(|e| {
                    Fault::Refused(format!("histogram {:?}: {e}", String::from_utf8_lossy(family)))
                })?;
                check(self, true)?;
            }
            return Ok(());
        }
        check(self, self.now.earliest() <= t && t <= self.now.latest())
    }
}
