//! Delimited protobuf `io.prometheus.client.MetricFamily` messages, checked in place: a walk over
//! the wire format that follows the schema, with expfmt's name and label checks. Nothing is
//! decoded into memory, so checking costs no allocation whatever the body holds.

use super::lex;

/// Deepest nesting of unknown groups we follow (the schema's own nesting is five levels).
const MAX_GROUP_DEPTH: usize = 64;

/// Largest field number protobuf allows.
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// The messages of `metrics.proto` (client_model) whose contents we walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Family,
    Metric,
    LabelPair,
    /// An exemplar's label pair: walked, but expfmt does not check its names.
    ExemplarLabel,
    Gauge,
    Counter,
    Quantile,
    Summary,
    Untyped,
    Histogram,
    Bucket,
    BucketSpan,
    Exemplar,
    Timestamp,
}

/// The wire shape a known field must have; a field of another wire type is an unknown field,
/// skipped as protobuf-go does.
#[derive(Debug, Clone, Copy)]
enum Field {
    Varint,
    Fixed64,
    Bytes,
    Message(Msg),
    /// A repeated scalar, which may come packed (one length-delimited run) or one per field.
    RepeatedVarint,
    RepeatedFixed64,
}

fn field(msg: Msg, number: u64) -> Option<Field> {
    use Field::*;
    Some(match (msg, number) {
        (Msg::Family, 1 | 2 | 5) => Bytes,
        (Msg::Family, 3) => Varint,
        (Msg::Family, 4) => Message(Msg::Metric),
        (Msg::Metric, 1) => Message(Msg::LabelPair),
        (Msg::Metric, 2) => Message(Msg::Gauge),
        (Msg::Metric, 3) => Message(Msg::Counter),
        (Msg::Metric, 4) => Message(Msg::Summary),
        (Msg::Metric, 5) => Message(Msg::Untyped),
        (Msg::Metric, 6) => Varint,
        (Msg::Metric, 7) => Message(Msg::Histogram),
        (Msg::LabelPair | Msg::ExemplarLabel, 1 | 2) => Bytes,
        (Msg::Gauge | Msg::Untyped, 1) => Fixed64,
        (Msg::Counter, 1) => Fixed64,
        (Msg::Counter, 2) => Message(Msg::Exemplar),
        (Msg::Counter, 3) => Message(Msg::Timestamp),
        (Msg::Quantile, 1 | 2) => Fixed64,
        (Msg::Summary, 1) => Varint,
        (Msg::Summary, 2) => Fixed64,
        (Msg::Summary, 3) => Message(Msg::Quantile),
        (Msg::Summary, 4) => Message(Msg::Timestamp),
        (Msg::Histogram, 1 | 5 | 7) => Varint,
        (Msg::Histogram, 2 | 4 | 6 | 8) => Fixed64,
        (Msg::Histogram, 3) => Message(Msg::Bucket),
        (Msg::Histogram, 9 | 12) => Message(Msg::BucketSpan),
        (Msg::Histogram, 10 | 13) => RepeatedVarint,
        (Msg::Histogram, 11 | 14) => RepeatedFixed64,
        (Msg::Histogram, 15) => Message(Msg::Timestamp),
        (Msg::Histogram, 16) => Message(Msg::Exemplar),
        (Msg::Bucket, 1) => Varint,
        (Msg::Bucket, 2 | 4) => Fixed64,
        (Msg::Bucket, 3) => Message(Msg::Exemplar),
        (Msg::BucketSpan, 1 | 2) => Varint,
        (Msg::Exemplar, 1) => Message(Msg::ExemplarLabel),
        (Msg::Exemplar, 2) => Fixed64,
        (Msg::Exemplar, 3) => Message(Msg::Timestamp),
        (Msg::Timestamp, 1 | 2) => Varint,
        _ => return None,
    })
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const BYTES: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// Checker for a delimited protobuf body, one message at a time.
#[derive(Debug)]
pub(super) struct ProtobufParser {
    utf8_names: bool,
    pub(super) families: u64,
    pub(super) samples: u64,
}

/// The outcome of looking for the next delimited message.
pub(super) enum Next {
    /// A complete message was checked; this many bytes (prefix included) were used.
    Checked(usize),
    /// More bytes are needed.
    Incomplete,
}

impl ProtobufParser {
    pub(super) fn new(utf8_names: bool) -> Self {
        ProtobufParser { utf8_names, families: 0, samples: 0 }
    }

    /// Checks the delimited message at the start of `buf`, if all of it is there.
    pub(super) fn next(&mut self, buf: &[u8]) -> Result<Next, String> {
        let (len, prefix) = match varint(buf) {
            Ok(v) => v,
            Err(Wire::Truncated) => return Ok(Next::Incomplete),
            Err(e) => return Err(format!("bad length prefix: {}", e.describe())),
        };
        let Some(total) = usize::try_from(len).ok().and_then(|l| l.checked_add(prefix)) else {
            return Err(format!("message length {len} is too large"));
        };
        if buf.len() < total {
            return Ok(Next::Incomplete);
        }
        self.family(&buf[prefix..total])?;
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

    fn family(&mut self, msg: &[u8]) -> Result<(), String> {
        let utf8_names = self.utf8_names;
        let mut name: &[u8] = &[];
        let (mut pair_name, mut pair_value): (&[u8], &[u8]) = (&[], &[]);
        let mut metrics = 0;
        let mut label_error = None;
        // A label pair's fields are visited before the pair itself, so the pair is checked
        // when it closes. For a non-repeated field given twice, the last one wins, as in Go.
        walk(msg, Msg::Family, 0, &mut |m, number, value| match (m, number) {
            (Msg::Family, 1) => name = value,
            (Msg::Family, 4) => metrics += 1,
            (Msg::LabelPair, 1) => pair_name = value,
            (Msg::LabelPair, 2) => pair_value = value,
            (Msg::Metric, 1) => {
                if label_error.is_none() {
                    label_error = check_label_pair(pair_name, pair_value, utf8_names).err();
                }
                (pair_name, pair_value) = (&[], &[]);
            }
            _ => {}
        })
        .map_err(|e| e.describe())?;
        if !valid_name(name, utf8_names, lex::is_legacy_metric_name) {
            return Err(format!("invalid metric name {:?}", String::from_utf8_lossy(name)));
        }
        if let Some(e) = label_error {
            return Err(e);
        }
        self.samples += metrics;
        Ok(())
    }
}

fn valid_name(name: &[u8], utf8_names: bool, legacy: fn(&[u8]) -> bool) -> bool {
    if utf8_names { !name.is_empty() && std::str::from_utf8(name).is_ok() } else { legacy(name) }
}

fn check_label_pair(name: &[u8], value: &[u8], utf8_names: bool) -> Result<(), String> {
    if !value.is_ascii() && std::str::from_utf8(value).is_err() {
        return Err(format!("invalid label value {:?}", String::from_utf8_lossy(value)));
    }
    if !valid_name(name, utf8_names, lex::is_legacy_label_name) {
        return Err(format!("invalid label name {:?}", String::from_utf8_lossy(name)));
    }
    Ok(())
}

/// A wire-format fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Truncated,
    VarintOverflow,
    FieldNumber,
    BadWireType(u8),
    EndGroup,
    GroupDepth,
    Packed,
}

impl Wire {
    fn describe(self) -> String {
        match self {
            Wire::Truncated => "truncated protobuf message".into(),
            Wire::VarintOverflow => "varint overflows 64 bits".into(),
            Wire::FieldNumber => "invalid field number".into(),
            Wire::BadWireType(t) => format!("invalid wire type {t}"),
            Wire::EndGroup => "unexpected end-group marker".into(),
            Wire::GroupDepth => format!("unknown groups nested deeper than {MAX_GROUP_DEPTH}"),
            Wire::Packed => "malformed packed repeated field".into(),
        }
    }
}

/// Reads a varint; returns its value and length.
#[inline(always)]
fn varint(buf: &[u8]) -> Result<(u64, usize), Wire> {
    // Tags and most lengths are one byte.
    if let Some(&b) = buf.first()
        && b < 0x80
    {
        return Ok((u64::from(b), 1));
    }
    varint_long(buf)
}

fn varint_long(buf: &[u8]) -> Result<(u64, usize), Wire> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return Err(Wire::VarintOverflow);
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok((v, i + 1));
        }
    }
    if buf.len() >= 10 { Err(Wire::VarintOverflow) } else { Err(Wire::Truncated) }
}

/// Walks every field of `msg` as message type `kind`, recursing into known nested messages.
/// `visit` sees each length-delimited known field with its payload, after its contents.
fn walk<'a, F: FnMut(Msg, u64, &'a [u8])>(
    msg: &'a [u8],
    kind: Msg,
    depth: usize,
    visit: &mut F,
) -> Result<(), Wire> {
    let mut i = 0;
    while i < msg.len() {
        let (number, wire, value) = read_tag(msg, i)?;
        if wire != BYTES {
            i = skip_value(msg, value, number, wire, depth)?;
            continue;
        }
        let (start, end) = delimited(msg, value)?;
        let payload = &msg[start..end];
        match field(kind, number) {
            Some(Field::Message(inner)) => {
                walk(payload, inner, depth, visit)?;
                visit(kind, number, payload);
            }
            Some(Field::Bytes) => visit(kind, number, payload),
            Some(Field::RepeatedVarint) => {
                let mut j = 0;
                while j < payload.len() {
                    j += varint(&payload[j..]).map_err(|_| Wire::Packed)?.1;
                }
            }
            Some(Field::RepeatedFixed64) if !payload.len().is_multiple_of(8) => return Err(Wire::Packed),
            _ => {}
        }
        i = end;
    }
    Ok(())
}

/// Reads the tag at `i`: the field number, the wire type, and where the value starts.
#[inline(always)]
fn read_tag(msg: &[u8], i: usize) -> Result<(u64, u8, usize), Wire> {
    let (tag, n) = varint(&msg[i..])?;
    let number = tag >> 3;
    if number == 0 || number > MAX_FIELD_NUMBER {
        return Err(Wire::FieldNumber);
    }
    Ok((number, (tag & 7) as u8, i + n))
}

/// The span of the length-delimited value at `i`.
#[inline(always)]
fn delimited(msg: &[u8], i: usize) -> Result<(usize, usize), Wire> {
    let (len, n) = varint(&msg[i..])?;
    let start = i + n;
    let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l)).ok_or(Wire::Truncated)?;
    if end > msg.len() { Err(Wire::Truncated) } else { Ok((start, end)) }
}

/// Skips the value of field `number` of wire type `wire` starting at `i`; returns its end.
fn skip_value(msg: &[u8], i: usize, number: u64, wire: u8, depth: usize) -> Result<usize, Wire> {
    let fixed = |n: usize| if msg.len() - i < n { Err(Wire::Truncated) } else { Ok(i + n) };
    match wire {
        VARINT => Ok(i + varint(&msg[i..])?.1),
        FIXED64 => fixed(8),
        FIXED32 => fixed(4),
        BYTES => Ok(delimited(msg, i)?.1),
        START_GROUP => skip_group(msg, i, number, depth + 1),
        END_GROUP => Err(Wire::EndGroup),
        other => Err(Wire::BadWireType(other)),
    }
}

/// Skips an unknown group that started before `i`, up to its matching end marker.
fn skip_group(msg: &[u8], mut i: usize, number: u64, depth: usize) -> Result<usize, Wire> {
    if depth > MAX_GROUP_DEPTH {
        return Err(Wire::GroupDepth);
    }
    loop {
        if i >= msg.len() {
            return Err(Wire::Truncated);
        }
        let (inner, wire, value) = read_tag(msg, i)?;
        if wire == END_GROUP && inner == number {
            return Ok(value);
        }
        i = skip_value(msg, value, inner, wire, depth)?;
    }
}
