//! The label names of the last sample line that passed every label check, so the next line
//! that repeats them (most do: a family's series share their label names) is read without
//! scanning or checking the names again: only its values are new.

use super::lex::{quoted_end, same_bytes};
use super::scan::value_stop;

/// A skeleton's prefixes and labels, as tests see them.
#[cfg(test)]
pub(super) type Learnt<'a> = (&'a [u8], &'a [usize]);

/// What a line's labels looked like, up to their values: the bytes between the values.
#[derive(Debug, Default)]
pub(super) struct Skeleton {
    learnt: bool,
    /// The literal pieces around the values, one after another: from just after the `{` to the
    /// first value's opening quote (`code="`), then from each value's closing quote to the
    /// next one's opening quote (`",handler="`), then the last closing quote and the `}`
    /// (`"}`). A line without labels has the one piece `}`.
    bytes: Vec<u8>,
    /// Per label: where the piece before its value ends in `bytes`.
    labels: Vec<usize>,
}

impl Skeleton {
    /// Reads labels from `i`, just after the `{`, if their names and spacing are exactly the
    /// learnt line's, returning the index after the `}`. `None` sends the line the long way,
    /// which finds any fault and may learn the line. `line` may also be the rest of a piece of
    /// the body, of which the line is the start.
    #[inline(always)]
    pub(super) fn read(&self, line: &[u8], mut i: usize) -> Option<usize> {
        if !self.learnt {
            return None;
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
            i = if line[stop] == b'"' {
                stop
            } else {
                let q = quoted_end(line, open - 1).ok()?;
                if !q.is_utf8(line, open - 1) {
                    return None;
                }
                q.end - 1
            };
            from = to;
        }
        let piece = &self.bytes[from..];
        let end = i + piece.len();
        same_bytes(line.get(i..end)?, piece).then_some(end)
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
        self.learnt = false;
        self.bytes.clear();
        self.labels.clear();
        let count = labels.len();
        let mut item = start;
        for (k, (open, close)) in labels.enumerate() {
            let delimiter = if k + 1 == count { b'}' } else { b',' };
            if line.get(close) != Some(&b'"') || line.get(close + 1) != Some(&delimiter) || open < item {
                self.labels.clear();
                return;
            }
            self.bytes.extend_from_slice(&line[item..open]);
            self.labels.push(self.bytes.len());
            item = close;
        }
        // The last closing quote and the `}`, or the `}` alone.
        if end != item + 1 + usize::from(count > 0) {
            self.labels.clear();
            self.bytes.clear();
            return;
        }
        self.bytes.extend_from_slice(&line[item..end]);
        self.learnt = true;
    }

    /// Forgets what was learnt.
    pub(super) fn forget(&mut self) {
        self.learnt = false;
    }

    /// The learnt pieces and labels, if any.
    #[cfg(test)]
    pub(super) fn learnt(&self) -> Option<Learnt<'_>> {
        self.learnt.then_some((&self.bytes, &self.labels))
    }
}
