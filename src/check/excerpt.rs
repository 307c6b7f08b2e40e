//! The offending line as a report shows it: cut, escaped for a terminal, and a caret under the
//! byte at fault, placed by what the terminal displays rather than by bytes.

use unicode_width::UnicodeWidthChar as _;

/// The longest part of an offending line that a report shows, in bytes.
pub const MAX_SHOWN_LINE_BYTES: usize = 256;

/// An offending line as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// At most [`MAX_SHOWN_LINE_BYTES`] of the line, control characters and backslashes escaped
    /// (so a stray carriage return or escape sequence is visible rather than acted on), bytes
    /// that are not UTF-8 shown as U+FFFD, and ` …` after a cut.
    pub text: String,
    /// Where the byte at fault is shown.
    pub caret: Caret,
}

/// Where the caret goes under an [`Excerpt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caret {
    /// Under the cell this many terminal cells into the shown line: the first cell of what
    /// shows the byte at fault (an escape, a wide character), or just past the line's end when
    /// the fault is that the line ends too soon.
    Under(usize),
    /// The byte at fault is past the bytes shown; the caret goes under the ` …`, this many
    /// cells in, with a word that says so.
    PastTheCut(usize),
}

impl Excerpt {
    /// Line `number` (from 1) of `text`, as the verifier counts them, with the caret under its
    /// byte `column` (from 1, in bytes); `None` if there is no such line.
    pub fn of(text: &[u8], number: u64, column: u64) -> Option<Excerpt> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        let line = text.split(|&b| b == b'\n').nth(index)?;
        // The byte at fault, from 0; one past the end when the line ends too soon.
        let at = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
        let cut = line.len() > MAX_SHOWN_LINE_BYTES;
        let shown = &line[..line.len().min(MAX_SHOWN_LINE_BYTES)];
        let mut out = String::with_capacity(shown.len() + 4);
        let mut cells = 0;
        let mut caret = None;
        let mut offset = 0;
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                if caret.is_none() && at < offset + c.len_utf8() {
                    caret = Some(cells);
                }
                offset += c.len_utf8();
                if c.is_control() || c == '\\' {
                    for e in c.escape_default() {
                        out.push(e);
                        cells += 1;
                    }
                } else {
                    out.push(c);
                    cells += c.width().unwrap_or(0);
                }
            }
            let invalid = chunk.invalid();
            if !invalid.is_empty() {
                if caret.is_none() && at < offset + invalid.len() {
                    caret = Some(cells);
                }
                offset += invalid.len();
                out.push(char::REPLACEMENT_CHARACTER);
                cells += 1;
            }
        }
        let caret = match caret {
            Some(cells) => Caret::Under(cells),
            None if cut => {
                out.push_str(" …");
                Caret::PastTheCut(cells + 1)
            }
            None => Caret::Under(cells),
        };
        if cut && matches!(caret, Caret::Under(_)) {
            out.push_str(" …");
        }
        Some(Excerpt { text: out, caret })
    }

    /// The excerpt as a report prints it: `  N | line`, then the caret aligned under it.
    pub fn render(&self, number: u64, column: u64) -> String {
        let gutter = format!("  {number}");
        let blank = " ".repeat(gutter.len());
        match self.caret {
            Caret::Under(cells) => {
                format!("{gutter} | {}\n{blank} | {}^\n", self.text, " ".repeat(cells))
            }
            Caret::PastTheCut(cells) => format!(
                "{gutter} | {}\n{blank} | {}^ column {column} is past the {MAX_SHOWN_LINE_BYTES} bytes shown\n",
                self.text,
                " ".repeat(cells)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, number: u64, column: u64) -> String {
        Excerpt::of(text.as_bytes(), number, column).expect("a line").render(number, column)
    }

    #[test]
    fn the_caret_is_under_the_byte_at_fault() {
        assert_eq!(shown("a 1\nb zero\n", 2, 3), "  2 | b zero\n    |   ^\n");
        assert_eq!(shown("a 1\nb{x=\"1\"\n", 2, 8), "  2 | b{x=\"1\"\n    |        ^\n", "past the end");
    }

    #[test]
    fn escapes_and_wide_characters_before_the_fault_move_the_caret() {
        // `\r` shows as two cells, ESC as `\u{1b}` (six), a backslash as two.
        let caret = |cells: usize| format!("    | {}^\n", " ".repeat(cells));
        let text = shown("m{a=\"\r\x1b\\\\\"} x\n", 1, 13);
        assert_eq!(
            text,
            format!("  1 | m{{a=\"\\r\\u{{1b}}\\\\\\\\\"}} x\n{}", caret(5 + 2 + 6 + 2 + 2 + 3))
        );
        // `é` is two bytes and one cell; `日` three bytes and two cells.
        assert_eq!(
            shown("m{a=\"é日\"} x\n", 1, 14),
            format!("  1 | m{{a=\"é日\"}} x\n{}", caret(5 + 1 + 2 + 3))
        );
        // A fault inside a multi-byte character points at the character.
        assert_eq!(shown("é", 1, 2), "  1 | é\n    | ^\n");
        // Bytes that are not UTF-8 show as one replacement character.
        let e = Excerpt::of(b"m{a=\"\xff\xfe\"} 1", 1, 6).expect("line");
        assert_eq!((e.text.as_str(), e.caret), ("m{a=\"\u{fffd}\u{fffd}\"} 1", Caret::Under(5)));
        let e = Excerpt::of(b"m{a=\"\xe6\x97\"} 1", 1, 8).expect("line");
        assert_eq!((e.text.as_str(), e.caret), ("m{a=\"\u{fffd}\"} 1", Caret::Under(6)), "one cut character");
    }

    #[test]
    fn a_fault_past_the_cut_says_so() {
        let line = format!("m{{a=\"{}\"}} x", "v".repeat(300));
        let column = line.len() as u64;
        let text = shown(&line, 1, column);
        let (first, second) = text.split_once('\n').expect("two lines");
        assert!(first.ends_with(" …") && first.len() == "  1 | ".len() + MAX_SHOWN_LINE_BYTES + " …".len());
        let caret = " ".repeat(MAX_SHOWN_LINE_BYTES + 1);
        assert_eq!(second, format!("    | {caret}^ column {column} is past the 256 bytes shown\n"));
        // Within the cut, the caret is where it belongs and the line still says it was cut.
        let text = shown(&line, 1, 7);
        assert!(text.ends_with(" …\n    |       ^\n"), "{text}");
    }

    #[test]
    fn lines_are_found_as_the_verifier_counts_them() {
        assert_eq!(Excerpt::of(b"a", 3, 1), None);
        assert_eq!(Excerpt::of(b"a", 0, 1), None);
        assert_eq!(Excerpt::of(b"a\n", 2, 1), Some(Excerpt { text: String::new(), caret: Caret::Under(0) }));
    }
}
