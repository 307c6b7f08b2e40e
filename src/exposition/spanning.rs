//! Lines that run on past a newline. Prometheus's lexers take a raw newline inside a quoted name
//! (in braces, and in HELP, TYPE and UNIT lines), and the text format's also inside a label
//! value, so such a line ends only at the first newline outside every such quoted string. This
//! finds that newline for the rare line that needs it, in one pass that resumes where it stopped
//! when the line arrives in pieces.

/// Where the search for a line's end stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Within {
    /// Inside a quoted name; `meta` for the name of a HELP, TYPE or UNIT line, after which the
    /// line ends at the next newline. `escape` when the last byte was a backslash.
    Name { meta: bool, escape: bool },
    /// Inside braces, outside quotes; `after_eq` when a `=` came since the last `,`, so that a
    /// quote opens a value (no newline may be in one) rather than a name.
    Braces { after_eq: bool },
    /// Inside a quoted label value (NUL bytes are skipped there, also after a backslash).
    Value { escape: bool },
    /// Past the braces or the HELP/TYPE/UNIT name: the line ends at the next newline.
    Rest,
}

/// The search for the end of one line, from the line's start, whose quoted name at `quote`
/// (an offset from the line's start) was still open at the first newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Spanning {
    /// The offset from the line's start of the next byte to look at.
    at: usize,
    within: Within,
    /// Whether a label value may hold a newline too (the text format), rather than end there.
    values_span: bool,
}

impl Spanning {
    /// Starts after the opening quote at `quote`, of a name in braces or (with `meta`) of a
    /// HELP, TYPE or UNIT line.
    pub(super) fn new(quote: usize, meta: bool) -> Spanning {
        Spanning { at: quote + 1, within: Within::Name { meta, escape: false }, values_span: false }
    }

    /// In the text format: starts after the opening quote at `quote` of a name (in braces or,
    /// with `meta`, of a HELP or TYPE line) or, with `value`, of a label value.
    pub(super) fn text(quote: usize, meta: bool, value: bool) -> Spanning {
        let within =
            if value { Within::Value { escape: false } } else { Within::Name { meta, escape: false } };
        Spanning { at: quote + 1, within, values_span: true }
    }

    /// The offset of the newline that ends the line starting at `line[0]`, or `None` if `line`
    /// ends first; a later call with more of the line goes on from where this one stopped. It
    /// only frames the line: the line's checks find any fault in it, for which a misplaced end
    /// is no excuse (a newline anywhere but inside a quoted name fails them).
    pub(super) fn end(&mut self, line: &[u8]) -> Option<usize> {
        while self.at < line.len() {
            let i = self.at;
            let b = line[i];
            self.at += 1;
            self.within = match self.within {
                Within::Name { meta, escape: true } => Within::Name { meta, escape: false },
                Within::Name { meta, escape: false } => match b {
                    b'"' if meta => Within::Rest,
                    b'"' => Within::Braces { after_eq: false },
                    b'\\' => Within::Name { meta, escape: true },
                    _ => continue,
                },
                Within::Braces { after_eq } => match b {
                    b'\n' => return Some(i),
                    b'"' if after_eq => Within::Value { escape: false },
                    b'"' => Within::Name { meta: false, escape: false },
                    b'=' => Within::Braces { after_eq: true },
                    b',' => Within::Braces { after_eq: false },
                    b'}' => Within::Rest,
                    _ => continue,
                },
                Within::Value { escape: true } if b == 0 => continue,
                Within::Value { escape: true } => Within::Value { escape: false },
                Within::Value { escape: false } => match b {
                    // An unterminated value: the line's checks refuse it.
                    b'\n' if !self.values_span => return Some(i),
                    b'"' => Within::Braces { after_eq: false },
                    b'\\' => Within::Value { escape: true },
                    _ => continue,
                },
                Within::Rest => {
                    let nl = memchr::memchr(b'\n', &line[i..]).map(|k| i + k);
                    self.at = nl.unwrap_or(line.len());
                    return nl;
                }
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of(line: &[u8], quote: usize, meta: bool) -> Option<usize> {
        Spanning::new(quote, meta).end(line)
    }

    #[test]
    fn newlines_inside_quoted_names_do_not_end_the_line() {
        let line = b"{\"a\nb\",\"c\nd\"=\"e\"} 1 # {x=\"y\"} 2\nnext\n";
        assert_eq!(end_of(line, 1, false), Some(31));
        assert_eq!(end_of(b"# HELP \"a\n\\\"\nb\" text \" \n", 7, true), Some(23));
        assert_eq!(end_of(b"{\"a\\\nb\"} 1\n", 1, false), Some(10), "escaped newline: framed, then refused");
        assert_eq!(end_of(b"m{\"a\nb\"=\"c\nd\"} 1\n", 2, false), Some(10), "a value ends at a newline");
        assert_eq!(end_of(b"{\"a\n", 1, false), None);
    }

    #[test]
    fn a_search_in_pieces_goes_on_where_it_stopped() {
        let line = b"{\"a\n\",\"b\n\\\"\n\"=\"\\\"\"} 1\nnext";
        let whole = end_of(line, 1, false);
        for cut in 0..line.len() {
            let mut s = Spanning::new(1, false);
            let first = s.end(&line[..cut]);
            let found = first.or_else(|| s.end(line));
            assert_eq!(found, whole, "cut at {cut}");
        }
    }
}
