//! The label names of the last sample line that passed every label check, so the next line
//! that repeats them (most do: a family's series share their label names) is read without
//! scanning or checking the names again: only its values are new.

use super::lex::{is_go_float, quoted_end, same_bytes};

/// A skeleton's prefixes and labels, as tests see them.
#[cfg(test)]
pub(super) type Learnt<'a> = (&'a [u8], &'a [(usize, bool)]);

/// What a line's labels looked like, up to their values.
#[derive(Debug, Default)]
pub(super) struct Skeleton {
    learnt: bool,
    /// Each label's bytes from the end of the previous item (the `{` or `,`) to its value's
    /// opening quote, e.g. `code="`, one after another.
    bytes: Vec<u8>,
    /// Per label: where its bytes end in `bytes`, and whether its value must be a float
    /// (`le` of a histogram, `quantile` of a summary in the text format).
    labels: Vec<(usize, bool)>,
}

/// How the parser reading a skeleton checks values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Values {
    /// Only `\\`, `\"` and `\n` may be escaped (the text format); otherwise any byte may.
    pub(super) strict_escapes: bool,
    /// The input is all ASCII, so values need no UTF-8 check.
    pub(super) ascii: bool,
}

impl Skeleton {
    /// Reads labels from `i`, just after the `{`, if their names and spacing are exactly the
    /// learnt line's, returning the index after the `}`. `None` sends the line the long way,
    /// which finds any fault and may learn the line.
    #[inline(always)]
    pub(super) fn read(&self, line: &[u8], mut i: usize, values: Values) -> Option<usize> {
        if !self.learnt {
            return None;
        }
        let Some(last) = self.labels.len().checked_sub(1) else {
            return (line.get(i) == Some(&b'}')).then_some(i + 1);
        };
        let mut from = 0;
        for (k, &(to, float)) in self.labels.iter().enumerate() {
            let open = i + (to - from);
            if !same_bytes(line.get(i..open)?, &self.bytes[from..to]) {
                return None;
            }
            from = to;
            let q = quoted_end(line, open - 1, values.strict_escapes).ok()?;
            let value = &line[open..q.end - 1];
            if float && !is_go_float(value) || !values.ascii && std::str::from_utf8(value).is_err() {
                return None;
            }
            let delimiter = if k == last { b'}' } else { b',' };
            if line.get(q.end) != Some(&delimiter) {
                return None;
            }
            i = q.end + 1;
        }
        Some(i)
    }

    /// Learns the labels of a line that passed every label check: they start at `start`, just
    /// after the `{`, and end with the `}` just before `end`; `labels` gives each one's value
    /// (from after its opening quote to its closing quote) and whether it must be a float.
    /// Lines not written the way [`Skeleton::read`] reads them (each closing quote directly
    /// followed by `,` or, for the last, `}`) leave nothing learnt.
    pub(super) fn learn(
        &mut self,
        line: &[u8],
        start: usize,
        end: usize,
        labels: impl ExactSizeIterator<Item = ((usize, usize), bool)>,
    ) {
        self.learnt = false;
        self.bytes.clear();
        self.labels.clear();
        let count = labels.len();
        if count == 0 && end != start + 1 {
            return;
        }
        let mut item = start;
        for (k, ((open, close), float)) in labels.enumerate() {
            let delimiter = if k + 1 == count { b'}' } else { b',' };
            if line.get(close + 1) != Some(&delimiter) || open < item {
                self.labels.clear();
                return;
            }
            self.bytes.extend_from_slice(&line[item..open]);
            self.labels.push((self.bytes.len(), float));
            item = close + 2;
        }
        self.learnt = true;
    }

    /// Forgets what was learnt.
    pub(super) fn forget(&mut self) {
        self.learnt = false;
    }

    /// The learnt prefixes and labels, if any.
    #[cfg(test)]
    pub(super) fn learnt(&self) -> Option<Learnt<'_>> {
        self.learnt.then_some((&self.bytes, &self.labels))
    }
}
