//! A fault found in one line of a text format: the byte it is at and what is wrong. The byte is
//! known where the fault is found, so a column costs nothing until a line fails.

use super::judge::Judge;
use super::verdict::{Format, Position, VerifyError};

/// What is wrong with a line, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fault {
    /// The offset in the line of the first byte of the token that is wrong, or of the byte where
    /// a required one is missing (the line's length when the line ends too soon).
    pub(super) at: usize,
    /// What is wrong.
    pub(super) message: String,
}

impl Fault {
    /// A fault at offset `at` of the line. Out of line and cold: a fault ends the body, and the
    /// checks that find one stay small on the way that finds none.
    #[cold]
    #[inline(never)]
    pub(super) fn new(at: usize, message: impl Into<String>) -> Fault {
        Fault { at, message: message.into() }
    }

    /// The error for this fault in `line`, the line counted `number` from 1 in the body. A line
    /// may hold newlines (an OpenMetrics quoted name may), so the fault's own line and column
    /// are counted from the newlines before it.
    #[cold]
    #[inline(never)]
    pub(super) fn locate(self, format: Format, judge: Judge, line: &[u8], number: u64) -> VerifyError {
        let before = &line[..self.at.min(line.len())];
        let newlines = memchr::memchr_iter(b'\n', before).count() as u64;
        let start = memchr::memrchr(b'\n', before).map_or(0, |nl| nl + 1);
        let column = (self.at - start) as u64 + 1;
        VerifyError {
            format,
            judge,
            position: Position::Line { line: number + newlines, column },
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_after_a_newline_in_the_line_is_on_the_next_line() {
        let at = |line: &[u8], at: usize| match Fault::new(at, "x")
            .locate(Format::OpenMetrics, Judge::PROMETHEUS_3, line, 4)
            .position
        {
            Position::Line { line, column } => (line, column),
            Position::Message(_) | Position::Body => (0, 0),
        };
        assert_eq!(at(b"abc", 0), (4, 1));
        assert_eq!(at(b"abc", 3), (4, 4), "one past the end: the line ends too soon");
        assert_eq!(at(b"{\"a\nb\"} x", 8), (5, 5));
        assert_eq!(at(b"{\"a\nb\"} x", 3), (4, 4), "the newline itself ends its line");
    }
}
