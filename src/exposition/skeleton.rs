//! The label names of the last few sample lines that passed every label check, so a line that
//! repeats one of them (most do: a family's series share their label names, and a page's
//! families repeat a handful of label sets) is read without scanning or checking the names
//! again: only its values are new.

use super::lex::{quoted_end, same_bytes};
use super::scan::value_stop;

/// Label sets remembered at once. A page cycles through a few (a histogram's buckets, its sum
/// and count, the next family's gauges); a line that matches none tries each once, and its
/// first piece mostly differs, so trying more costs little.
const REMEMBERED: usize = 8;

/// A skeleton's prefixes and labels, as tests see them.
#[cfg(test)]
pub(super) type Learnt<'a> = (&'a [u8], &'a [usize]);

/// What a line's labels looked like, up to their values: the bytes between the values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Shape {
    /// The literal pieces around the values, one after another: from just after the `{` to the
    /// first value's opening quote (`code="`), then from each value's closing quote to the
    /// next one's opening quote (`",handler="`), then the last closing quote and the `}`
    /// (`"}`). A line without labels has the one piece `}`.
    bytes: Vec<u8>,
    /// Per label: where the piece before its value ends in `bytes`.
    labels: Vec<usize>,
    /// The pieces one by one, when none is longer than 16 bytes (names are mostly short), to
    /// be compared a load at a time; empty otherwise.
    pieces: Vec<Piece>,
}

/// The label shapes learnt, whatever metric names they came with: whether labels pass the
/// checks whatever their values depends on their names alone (scrape.rs), and a name read as a
/// token is always a valid one.
#[derive(Debug, Default)]
pub(super) struct Skeleton {
    shapes: Vec<Shape>,
    /// The shape the last line was learnt from or read with, tried first; `None` after a line
    /// whose labels could fail with other values.
    current: Option<usize>,
    /// The shape a new one replaces when all are taken (round-robin).
    next: usize,
    /// Where a shape is built before it is compared with those already learnt.
    scratch: Shape,
}

impl Skeleton {
    /// Reads labels from `i`, just after the `{`, if their names and spacing are exactly one
    /// learnt line's, returning the index after the `}`. `None` sends the line the long way,
    /// which finds any fault and may learn the line. `line` may also be the rest of a piece of
    /// the body, of which the line is the start.
    #[inline(always)]
    pub(super) fn read(&mut self, line: &[u8], i: usize) -> Option<usize> {
        let current = self.current.unwrap_or(usize::MAX);
        if let Some(end) = self.shapes.get(current).and_then(|s| s.read(line, i)) {
            return Some(end);
        }
        self.read_other(line, i, current)
    }

    /// [`Skeleton::read`] with the shapes other than `current`: the line starts another family.
    /// They are tried from the one learnt after `current` on: a page's families cycle through
    /// their label sets in the order they were first learnt.
    #[inline(never)]
    fn read_other(&mut self, line: &[u8], i: usize, current: usize) -> Option<usize> {
        let n = self.shapes.len();
        let mut k = if current < n { current } else { n.checked_sub(1)? };
        for _ in 1..n + usize::from(current >= n) {
            k = if k + 1 == n { 0 } else { k + 1 };
            if let Some(end) = self.shapes[k].read(line, i) {
                self.current = Some(k);
                return Some(end);
            }
        }
        None
    }

    /// Learns the labels of a line that passed every label check: they start at `start`, just
    /// after the `{`, and end with the `}` just before `end`; `labels` gives each one's value
    /// (from after its opening quote to its closing quote).
    /// Lines not written the way [`Skeleton::read`] reads them (each closing quote directly
    /// followed by `,` or, for the last, `}`) leave nothing learnt.
    pub(super) fn learn(
        &mut self,
        line: &[u8],
        start: usize,
        end: usize,
        labels: impl ExactSizeIterator<Item = (usize, usize)>,
    ) {
        self.current = None;
        if !self.scratch.build(line, start, end, labels) {
            return;
        }
        if let Some(k) = self.shapes.iter().position(|s| *s == self.scratch) {
            self.current = Some(k);
            return;
        }
        let shape = std::mem::take(&mut self.scratch);
        let k = if self.shapes.len() < REMEMBERED {
            self.shapes.push(shape);
            self.shapes.len() - 1
        } else {
            let k = self.next;
            self.next = (k + 1) % REMEMBERED;
            // The replaced shape's buffers are reused for the next one built.
            self.scratch = std::mem::replace(&mut self.shapes[k], shape);
            k
        };
        self.current = Some(k);
    }

    /// Tries no learnt shape first: the last line's labels could fail with other values.
    pub(super) fn forget(&mut self) {
        self.current = None;
    }

    /// The shape tried first, if any.
    #[cfg(test)]
    pub(super) fn learnt(&self) -> Option<Learnt<'_>> {
        let s = self.shapes.get(self.current?)?;
        Some((&s.bytes, &s.labels))
    }
}

impl Shape {
    #[inline(always)]
    fn read(&self, line: &[u8], mut i: usize) -> Option<usize> {
        if let Some((last, before)) = self.pieces.split_last() {
            for piece in before {
                let open = i + piece.len();
                let stop = piece.then_value_stop(line, i)?;
                i = if line[stop] == b'"' { stop } else { escaped_value_end(line, open)? };
            }
            return last.at(line, i).then_some(i + last.len());
        }
        let mut from = 0;
        for &to in &self.labels {
            let piece = &self.bytes[from..to];
            let open = i + piece.len();
            if !same_bytes(line.get(i..open)?, piece) {
                return None;
            }
            // Most values hold no escape and no byte above 0x7F: their first stop is the closing
            // quote. `line` may run on past the line's end: a newline ends the value as
            // unterminated.
            let stop = value_stop(line, open)?;
            i = if line[stop] == b'"' { stop } else { escaped_value_end(line, open)? };
            from = to;
        }
        let piece = &self.bytes[from..];
        let end = i + piece.len();
        same_bytes(line.get(i..end)?, piece).then_some(end)
    }

    /// The pieces of `bytes`, if all are short.
    fn split(&mut self) {
        self.pieces.clear();
        let mut from = 0;
        for end in self.labels.iter().copied().chain([self.bytes.len()]) {
            let Some(piece) = Piece::new(&self.bytes[from..end]) else {
                self.pieces.clear();
                return;
            };
            self.pieces.push(piece);
            from = end;
        }
    }

    /// Builds the shape of labels (see [`Skeleton::learn`]); whether they have one.
    fn build(
        &mut self,
        line: &[u8],
        start: usize,
        end: usize,
        labels: impl ExactSizeIterator<Item = (usize, usize)>,
    ) -> bool {
        self.bytes.clear();
        self.labels.clear();
        let count = labels.len();
        let mut item = start;
        for (k, (open, close)) in labels.enumerate() {
            let delimiter = if k + 1 == count { b'}' } else { b',' };
            if line.get(close) != Some(&b'"') || line.get(close + 1) != Some(&delimiter) || open < item {
                return false;
            }
            self.bytes.extend_from_slice(&line[item..open]);
            self.labels.push(self.bytes.len());
            item = close;
        }
        // The last closing quote and the `}`, or the `}` alone.
        if end != item + 1 + usize::from(count > 0) {
            return false;
        }
        self.bytes.extend_from_slice(&line[item..end]);
        self.split();
        true
    }
}

/// The index of the closing quote of a label value opened at `open - 1` whose first stop is
/// not that quote (an escape, a byte above 0x7F, a newline), if the value is valid.
#[cold]
fn escaped_value_end(line: &[u8], open: usize) -> Option<usize> {
    let q = quoted_end(line, open - 1).ok()?;
    q.is_utf8(line, open - 1).then_some(q.end - 1)
}

/// A piece of a line's labels as learnt (`",code="`), padded to 16 bytes so that it is
/// compared with one load.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    bytes: [u8; 16],
    len: usize,
}

impl Piece {
    /// The piece `bytes`, if it is at most 16 bytes long.
    pub(super) fn new(bytes: &[u8]) -> Option<Piece> {
        let mut piece = Piece { bytes: [0; 16], len: bytes.len() };
        piece.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(piece)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether `buf` holds the piece at `i`.
    #[inline(always)]
    pub(super) fn at(&self, buf: &[u8], i: usize) -> bool {
        #[cfg(target_arch = "x86_64")]
        if let Some(chunk) = buf.get(i..i + 16) {
            let want = (1u32 << self.len) - 1;
            return self.same_lanes(super::scan::load(chunk)) & want == want;
        }
        buf.get(i..i + self.len).is_some_and(|s| same_bytes(s, &self.bytes[..self.len]))
    }

    /// If `buf` holds the piece at `i`, the index of the first [`value_stop`] after it (what
    /// ends the label value the piece opens); `None` if it does not, or nothing stops the
    /// value. One load mostly does both: a short value ends in the 16 bytes of its piece.
    #[inline(always)]
    pub(super) fn then_value_stop(&self, buf: &[u8], i: usize) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(chunk) = buf.get(i..i + 16) {
            let v = super::scan::load(chunk);
            let want = (1u32 << self.len) - 1;
            if self.same_lanes(v) & want != want {
                return None;
            }
            let stops = super::scan::value_stops(v) >> self.len;
            return if stops != 0 {
                Some(i + self.len + stops.trailing_zeros() as usize)
            } else {
                value_stop(buf, i + 16)
            };
        }
        if !same_bytes(buf.get(i..i + self.len)?, &self.bytes[..self.len]) {
            return None;
        }
        value_stop(buf, i + self.len)
    }

    /// A bit for each byte of `v` equal to the piece's byte in that lane.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn same_lanes(&self, v: safe_arch::m128i) -> u32 {
        use safe_arch::{cmp_eq_mask_i8_m128i, move_mask_i8_m128i};
        move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, super::scan::load(&self.bytes))) as u32
    }
}
