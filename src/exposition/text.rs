//! The Prometheus text format (0.0.4 and 1.0.0), checked as a Prometheus server's scrape path
//! reads it: model/textparse's `PromParser` (its lexer, promlex.l, state by state, NUL bytes
//! included), then the scrape loop's and the head's checks of each sample (scrape.rs), for the
//! version that judges (docs/verification.md). A line is checked without allocating.

use super::fault::Fault;
use super::judge::{Judge, Now, Version};
use super::lex::{
    self, QuoteError, digit_run_end, is_go_float, label_name_end, metric_name_end, quoted_end, skip_blanks,
};
use super::scan;
use super::scrape;
use super::skeleton::Skeleton;
use super::spanning::Spanning;

/// The types a `# TYPE` line may name, byte for byte (PromParser compares them exactly).
const TYPES: [&[u8]; 5] = [b"counter", b"gauge", b"histogram", b"summary", b"untyped"];

/// Where a name's bytes are: in the line, or unescaped into the scratch buffer.
#[derive(Debug, Clone, Copy)]
enum Span {
    Line(usize, usize),
    Scratch(usize, usize),
}

#[derive(Debug, Clone, Copy)]
struct Label {
    name: Span,
    /// Where the name starts in the line (its opening quote, if quoted), for a fault's column.
    at: usize,
    /// The value as Prometheus takes it: from after the opening quote to before the last byte
    /// its lexer took with the value (the closing quote, or the last of the NUL bytes it skips
    /// after it).
    value: (usize, usize),
}

/// Line-by-line checker for one text-format body.
#[derive(Debug)]
pub(super) struct TextParser {
    judge: Judge,
    now: Now,
    /// The metric name of the last sample line that passed every check and started at the
    /// line's first byte: runs of samples mostly share one.
    last_name: Vec<u8>,
    /// The label names of the last sample line whose labels no values could make fail.
    skeleton: Skeleton,
    labels: Vec<Label>,
    scratch: Vec<u8>,
    pub(super) samples: u64,
    /// `# TYPE` lines.
    pub(super) families: u64,
    /// Set when a NUL byte ended the body for Prometheus's lexer: it reads nothing after it.
    pub(super) ended: bool,
    /// Set when a quoted string ran on to the end of the line checked: the newline that ended
    /// it is part of the string, and this finds where the line really ends.
    pub(super) spanning: Option<Spanning>,
    /// Whether the line being checked was framed by [`Spanning`], so it may hold newlines inside
    /// quoted strings, and a string still open at its end is a fault.
    pub(super) multiline: bool,
    /// Tests only: remember nothing between lines, so every line takes the full checks.
    #[cfg(test)]
    pub(super) exact: bool,
}

impl TextParser {
    pub(super) fn new(judge: Judge, now: Now) -> Self {
        TextParser {
            judge,
            now,
            last_name: Vec::new(),
            skeleton: Skeleton::default(),
            labels: Vec::new(),
            scratch: Vec::new(),
            samples: 0,
            families: 0,
            ended: false,
            spanning: None,
            multiline: false,
            #[cfg(test)]
            exact: false,
        }
    }

    fn v3(&self) -> bool {
        self.judge.version == Version::V3
    }

    /// Checks one line, without its `\n`.
    #[inline]
    pub(super) fn line(&mut self, line: &[u8]) -> Result<(), Fault> {
        let i = skip_blanks(line, 0);
        match line.get(i) {
            None => Ok(()),
            Some(0) => {
                // The lexer's `\0` rule: the end of the input, a successful scrape.
                self.ended = true;
                Ok(())
            }
            Some(b'#') => self.comment(line, i),
            Some(b'{') if self.v3() => self.sample(line, i, false),
            Some(&c) if is_name_start(c) => self.sample(line, i, true),
            Some(&c) => Err(Fault::new(
                i,
                format!("expected a metric name, '#' or a blank line, got {}", show_byte(c)),
            )),
        }
    }

    /// Checks what is left after the last `\n` as a last line: Prometheus appends a newline.
    pub(super) fn finish(&mut self, rest: &[u8]) -> Result<(), Fault> {
        if self.ended || rest.is_empty() {
            return Ok(());
        }
        self.multiline = self.spanning.take().is_some();
        let checked = self.line(rest);
        self.multiline = false;
        if self.spanning.take().is_some() {
            return Err(Fault::new(
                rest.len(),
                "a quoted string is not terminated before the end of the body",
            ));
        }
        checked
    }

    /// Checks the sample line at `start` of `buf` (a piece of the body) if it is written the
    /// way sample lines mostly are, up to its values: a metric name from the line's first byte
    /// (a token, so a valid name), then no labels or the label names and spacing of a line
    /// learnt earlier, whose labels no values could make fail, so that only its label values
    /// and its value (and timestamp) are new; returns the index of its newline. `None` (also
    /// for any fault) leaves the verdict as it was, and the line goes the long way.
    #[inline(always)]
    pub(super) fn repeated_sample(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        #[cfg(test)]
        if self.exact {
            return None;
        }
        // Mostly the last name (a run of name bytes ends at the `{` or space after it). Any
        // other will do: the checks of a sample whose name is a token and whose labels have a
        // learnt shape do not depend on which name it is.
        let known = start + self.last_name.len();
        let repeated = matches!(buf.get(known), Some(b'{' | b' '))
            && !self.last_name.is_empty()
            && lex::same_bytes(&buf[start..known], &self.last_name);
        let open = if repeated { known } else { metric_name_end(buf, start) };
        let braced = match buf.get(open) {
            Some(b'{') if open > start => true,
            Some(b' ') if open > start => false,
            _ => return None,
        };
        let after = if braced { self.skeleton.read(buf, open + 1)? } else { open };
        if buf.get(after) != Some(&b' ') {
            return None;
        }
        let end = lex::plain_float_end(buf, after + 1)?;
        let end = match buf.get(end)? {
            b'\n' => end,
            b' ' => {
                let t = end + 1;
                let t_end = digit_run_end(buf, t);
                if t_end == t || buf.get(t_end) != Some(&b'\n') || !lex::is_go_int64(&buf[t..t_end]) {
                    return None;
                }
                t_end
            }
            _ => return None,
        };
        if !repeated {
            self.last_name.clear();
            self.last_name.extend_from_slice(&buf[start..open]);
        }
        self.samples += 1;
        Some(end)
    }

    /// Checks the HELP or TYPE line at `start` of `buf` (a piece of the body) if it is written
    /// the way encoders write them, `# HELP <name> <text>\n` or `# TYPE <name> <type>\n`;
    /// returns the index of its newline. `None` (also for any fault) leaves the verdict as it
    /// was, and the line goes the long way.
    #[inline(always)]
    pub(super) fn plain_comment(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        #[cfg(test)]
        if self.exact {
            return None;
        }
        let is_type = match buf.get(start..start + 7)? {
            b"# HELP " => false,
            b"# TYPE " => true,
            _ => return None,
        };
        let name = start + 7;
        // A TYPE line mostly names what the HELP line before it did.
        let known = self.last_name.len();
        let end = if known > 0
            && buf.get(name + known) == Some(&b' ')
            && lex::same_bytes(&buf[name..name + known], &self.last_name)
        {
            name + known
        } else {
            let end = metric_name_end(buf, name);
            if end == name || buf.get(end) != Some(&b' ') {
                return None;
            }
            end
        };
        let nl = scan::newline(buf, end)?;
        let text = &buf[end + 1..nl];
        if is_type {
            if !TYPES.contains(&text) {
                return None;
            }
            self.families += 1;
        } else if !utf8(text) {
            return None;
        }
        if end - name != known {
            // The family's samples mostly follow under this name.
            self.last_name.clear();
            self.last_name.extend_from_slice(&buf[name..end]);
        }
        Some(nl)
    }

    /// A line starting with `#` at `i`: a comment, or (after `#` and blanks) HELP or TYPE.
    fn comment(&mut self, line: &[u8], i: usize) -> Result<(), Fault> {
        if !matches!(line.get(i + 1), Some(b' ' | b'\t')) {
            // `#` then anything else (the lexer's `consumeComment` from the start condition
            // that skips no NUL): a comment, unless a NUL in it ends the body there.
            if memchr::memchr(0, &line[i + 1..]).is_some() {
                self.ended = true;
            }
            return Ok(());
        }
        let k = skip_blanks(line, i + 1);
        let keyword: &[u8] = match line.get(k) {
            None => return Ok(()),
            Some(0) => {
                self.ended = true;
                return Ok(());
            }
            Some(b'H') => b"HELP",
            Some(b'T') => b"TYPE",
            Some(_) => return Ok(()),
        };
        // In this start condition the lexer skips NUL bytes, between the keyword's letters too;
        // anything else makes the line a comment.
        let mut at = k;
        for &expected in &keyword[1..] {
            at = skip_nuls(line, at + 1);
            if line.get(at) != Some(&expected) {
                return Ok(());
            }
        }
        at = skip_nuls(line, at + 1);
        if !matches!(line.get(at), Some(b' ' | b'\t')) {
            return Ok(());
        }
        while matches!(line.get(at), Some(b' ' | b'\t')) {
            at = skip_nuls(line, at + 1);
        }
        self.metadata(line, at, keyword == b"TYPE")
    }

    /// The name and text of a HELP or TYPE line, the name starting at `at`.
    fn metadata(&mut self, line: &[u8], at: usize, is_type: bool) -> Result<(), Fault> {
        let what = if is_type { "TYPE" } else { "HELP" };
        let name_end = match line.get(at) {
            Some(b'"') if self.v3() => self.quoted_name(line, at, true)?.0,
            Some(&c) if is_name_start(c) => metric_name_end(line, at),
            other => {
                return Err(Fault::new(
                    at,
                    format!("expected a metric name after {what}, got {}", show(other)),
                ));
            }
        };
        // The text: the rest of the line without the byte after the name (the lexer's `{C}*`,
        // which takes blanks alone as no text at all).
        let text = match line.get(name_end) {
            None => &[][..],
            Some(0) => {
                return Err(Fault::new(
                    name_end,
                    format!("expected a blank or the end of the line after the {what} name, got a NUL byte"),
                ));
            }
            Some(b' ' | b'\t') if line[name_end..].iter().all(|&b| matches!(b, b' ' | b'\t' | 0)) => &[][..],
            Some(_) => &line[name_end + 1..],
        };
        if is_type {
            if !TYPES.contains(&text) {
                return Err(Fault::new(
                    (name_end + 1).min(line.len()),
                    format!(
                        "invalid metric type {:?} (counter, gauge, histogram, summary or untyped)",
                        String::from_utf8_lossy(text)
                    ),
                ));
            }
            self.families += 1;
        } else if !utf8(text) {
            let at = name_end + 1 + lex::first_non_utf8(text, 0, text.len());
            return Err(Fault::new(at, "HELP text is not valid UTF-8"));
        }
        Ok(())
    }

    /// A sample line whose first token, at `i`, is its metric name (`name_first`) or the `{`
    /// of labels that hold the name.
    fn sample(&mut self, line: &[u8], i: usize, name_first: bool) -> Result<(), Fault> {
        self.scratch.clear();
        self.labels.clear();
        let (name, name_at, braces, after) = if name_first {
            // PromParser takes the name from the line's first byte, blanks before it included.
            let known = self.last_name.len();
            let end = if i == 0
                && known > 0
                && line.len() > known
                && !is_name_byte(line[known])
                && lex::same_bytes(&line[..known], &self.last_name)
            {
                known
            } else {
                metric_name_end(line, i)
            };
            let j = skip_blanks(line, end);
            if line.get(j) == Some(&b'{') {
                let close = self.labels(line, j + 1, None)?;
                (Span::Line(0, end), i, Some((j, close)), close)
            } else {
                (Span::Line(0, end), i, None, j)
            }
        } else {
            let mut name = None;
            let close = self.labels(line, i + 1, Some(&mut name))?;
            let Some((name, at)) = name else {
                return Err(Fault::new(i, "metric name not set: the labels hold no quoted name alone"));
            };
            (name, at, Some((i, close)), close)
        };
        let j = skip_blanks(line, after);
        let v_end = match lex::plain_float_end(line, j) {
            // Nearly every value: a plain decimal, with a short exponent or none.
            Some(end) if matches!(line.get(end), None | Some(b' ' | b'\t' | b'{' | 0)) => end,
            _ => other_value(line, j)?,
        };
        let k = skip_blanks(line, v_end);
        let ts = match line.get(k) {
            None => None,
            Some(b'0'..=b'9') => {
                let t_end = digit_run_end(line, k);
                let Some(ts) = parse_i64(&line[k..t_end]) else {
                    return Err(Fault::new(
                        k,
                        format!("timestamp {:?} is out of range", String::from_utf8_lossy(&line[k..t_end])),
                    ));
                };
                let after = skip_blanks(line, t_end);
                if after != line.len() {
                    return Err(Fault::new(
                        after,
                        format!(
                            "expected the end of the line after the timestamp, got {}",
                            show(line.get(after))
                        ),
                    ));
                }
                Some(ts)
            }
            Some(&c) => {
                return Err(Fault::new(
                    k,
                    format!(
                        "expected a timestamp (digits only) or the end of the line, got {}",
                        show_byte(c)
                    ),
                ));
            }
        };
        self.samples += 1;
        let in_window = ts.is_none_or(|t| self.now.earliest() <= t && t <= self.now.latest());
        let name_bytes = self.span(line, name);
        let label = |k: usize| {
            let l = &self.labels[k];
            scrape::Label {
                name: self.span(line, l.name),
                value: &line[l.value.0..l.value.1],
                legacy: line[l.at] != b'"',
            }
        };
        // A name read as a token from the line's first byte is a legacy one.
        let name = scrape::Name { bytes: name_bytes, legacy: name_first && i == 0 };
        let passed = scrape::check(self.judge, name, self.labels.len(), label, in_window)
            .map_err(|r| Fault::new(r.label.map_or(name_at, |k| self.labels[k].at), r.message))?;
        if name_first && i == 0 {
            // The name runs from the line's first byte.
            self.remember(line, name.bytes.len(), braces, passed.stable);
        } else {
            self.last_name.clear();
        }
        Ok(())
    }

    /// Remembers the name of a line that passed (its first token at the line's start), and the
    /// label names of its labels (`{` and the index after `}` in `braces`) when no values could
    /// make them fail (`stable`: no name repeats, none is `__name__`, all are valid).
    fn remember(&mut self, line: &[u8], name_end: usize, braces: Option<(usize, usize)>, stable: bool) {
        #[cfg(test)]
        if self.exact {
            return;
        }
        self.last_name.clear();
        self.last_name.extend_from_slice(&line[..name_end]);
        let Some((open, close)) = braces else { return };
        if stable {
            self.skeleton.learn(line, open + 1, close, self.labels.iter().map(|l| l.value));
        } else {
            self.skeleton.forget();
        }
    }

    /// Reads labels from `p` (just after a `{`) up to and including the `}`; returns the index
    /// after it. With `name` (a line that starts with its `{`), one item may be a quoted name
    /// alone, the metric name, which goes there with where it is.
    fn labels(
        &mut self,
        line: &[u8],
        mut p: usize,
        mut name: Option<&mut Option<(Span, usize)>>,
    ) -> Result<usize, Fault> {
        p = skip_blanks(line, p);
        loop {
            let at = p;
            let (label, after, quoted) = match line.get(p) {
                Some(b'}') => return Ok(p + 1),
                Some(b'"') if self.v3() => {
                    let (end, escaped) = self.quoted_name(line, p, false)?;
                    (self.unreplaced(line, p + 1, end - 1, escaped), end, true)
                }
                Some(&c) if is_label_start(c) => {
                    let end = label_name_end(line, p);
                    (Span::Line(p, end), end, false)
                }
                other => return Err(Fault::new(p, format!("expected a label name, got {}", show(other)))),
            };
            let q = skip_blanks(line, after);
            if quoted && matches!(line.get(q), Some(b',' | b'}')) {
                match name.as_deref_mut() {
                    Some(slot @ None) => *slot = Some((label, at)),
                    _ => {
                        return Err(Fault::new(
                            at,
                            "metric name already set: a quoted name alone in braces names the metric",
                        ));
                    }
                }
                if line[q] == b'}' {
                    return Ok(q + 1);
                }
                p = skip_blanks(line, q + 1);
                continue;
            }
            if line.get(q) != Some(&b'=') {
                return Err(Fault::new(
                    q,
                    format!("expected '=' after the label name, got {}", show(line.get(q))),
                ));
            }
            let mut r = q + 1;
            if matches!(line.get(r), Some(b' ' | b'\t')) {
                // Blanks before a value, with the NUL bytes among them (this start condition
                // skips them).
                while matches!(line.get(r), Some(b' ' | b'\t' | 0)) {
                    r += 1;
                }
            }
            if line.get(r) != Some(&b'"') {
                return Err(Fault::new(
                    r,
                    format!("expected a quoted label value, got {}", show(line.get(r))),
                ));
            }
            let (value, after_value) = self.label_value(line, r)?;
            self.labels.push(Label { name: label, at, value });
            p = skip_blanks(line, after_value);
            if line.get(p) == Some(&b',') {
                p = skip_blanks(line, p + 1);
            }
        }
    }

    /// The label value whose opening quote is at `open`: its span as Prometheus takes it, and
    /// the index after what its lexer took.
    fn label_value(&mut self, line: &[u8], open: usize) -> Result<((usize, usize), usize), Fault> {
        let mut from = open;
        let mut check_utf8 = false;
        let end = loop {
            match quoted_end(line, from) {
                Ok(q) => {
                    check_utf8 |= q.non_ascii;
                    break q.end;
                }
                // A newline inside the value is part of it.
                Err(QuoteError::Unterminated(at)) if at < line.len() => {
                    check_utf8 = true;
                    from = at;
                }
                Err(QuoteError::Unterminated(_) | QuoteError::TrailingBackslash(_)) => {
                    if !self.multiline {
                        self.spanning = Some(Spanning::text(open, false, true));
                    }
                    return Err(Fault::new(
                        line.len(),
                        "label value is not terminated by '\"' before the end of the body",
                    ));
                }
                Err(e @ QuoteError::EscapedNewline(_)) => {
                    return Err(Fault::new(e.at(), "a backslash escapes a newline in a label value"));
                }
            }
        };
        // The lexer skips NUL bytes after the closing quote too, and takes them with the value.
        let mut after = end;
        while line.get(after) == Some(&0) {
            after += 1;
        }
        if check_utf8 && std::str::from_utf8(&line[open..after]).is_err() {
            return Err(Fault::new(
                lex::first_non_utf8(line, open, after),
                format!("invalid UTF-8 label value {:?}", String::from_utf8_lossy(&line[open + 1..end - 1])),
            ));
        }
        Ok(((open + 1, after - 1), after))
    }

    /// A quoted name (in braces, or with `meta` in a HELP or TYPE line) whose opening quote is
    /// at `open`: any byte but NUL, a newline included, and a backslash before any byte but
    /// NUL and newline. Returns the index after the closing quote and whether it holds a
    /// backslash.
    fn quoted_name(&mut self, line: &[u8], open: usize, meta: bool) -> Result<(usize, bool), Fault> {
        let mut i = open + 1;
        let mut escaped = false;
        loop {
            let Some(k) = memchr::memchr3(b'"', b'\\', 0, &line[i..]) else {
                if !self.multiline {
                    self.spanning = Some(Spanning::text(open, meta, false));
                }
                return Err(Fault::new(
                    line.len(),
                    "quoted name is not terminated by '\"' before the end of the body",
                ));
            };
            let at = i + k;
            match (line[at], line.get(at + 1)) {
                (b'"', _) => return Ok((at + 1, escaped)),
                (0, _) => return Err(Fault::new(at, "NUL byte in a quoted name")),
                (_, Some(0 | b'\n')) => {
                    return Err(Fault::new(
                        at,
                        "a backslash escapes a NUL byte or a newline in a quoted name",
                    ));
                }
                (_, None) => {
                    if !self.multiline {
                        self.spanning = Some(Spanning::text(open, meta, false));
                    }
                    return Err(Fault::new(at, "a backslash ends the line in a quoted name"));
                }
                (_, Some(_)) => {
                    escaped = true;
                    i = at + 2;
                }
            }
        }
    }

    /// The name `line[start..end]` as Prometheus takes it (escapes replaced).
    fn unreplaced(&mut self, line: &[u8], start: usize, end: usize, escaped: bool) -> Span {
        if !escaped {
            return Span::Line(start, end);
        }
        let s = self.scratch.len();
        lex::unreplace_into(&line[start..end], &mut self.scratch);
        Span::Scratch(s, self.scratch.len())
    }

    fn span<'a>(&'a self, line: &'a [u8], span: Span) -> &'a [u8] {
        match span {
            Span::Line(a, b) => &line[a..b],
            Span::Scratch(a, b) => &self.scratch[a..b],
        }
    }
}

#[inline]
fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

#[inline]
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

#[inline]
fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

#[inline]
fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

/// The index of the first byte at or after `i` that is not NUL.
#[inline]
fn skip_nuls(line: &[u8], mut i: usize) -> usize {
    while line.get(i) == Some(&0) {
        i += 1;
    }
    i
}

/// The end of the value at `i` that is not a plain decimal (see [`TextParser::sample`]).
#[cold]
fn other_value(line: &[u8], j: usize) -> Result<usize, Fault> {
    let v_end = value_end(line, j);
    if v_end == j {
        return Err(Fault::new(j, format!("expected a value after the metric, got {}", show(line.get(j)))));
    }
    let value = &line[j..v_end];
    if !is_go_float(value) {
        return Err(Fault::new(
            j,
            format!("expected a float as value, got {:?}", String::from_utf8_lossy(value)),
        ));
    }
    Ok(v_end)
}

/// The end of a value token at `i` (the lexer's `[^{ \t\n]+`, which takes no NUL byte either).
#[inline]
fn value_end(line: &[u8], i: usize) -> usize {
    line[i.min(line.len())..]
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'{' | 0))
        .map_or(line.len(), |k| i + k)
}

/// Go's `strconv.ParseInt(s, 10, 64)` on a run of digits.
fn parse_i64(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |v, &d| v.checked_mul(10)?.checked_add(i64::from(d - b'0')))
}

fn show_byte(c: u8) -> String {
    match c {
        0 => "a NUL byte".into(),
        c if c.is_ascii_graphic() => format!("'{}'", c as char),
        c => format!("byte {c:#04x}"),
    }
}

fn show(c: Option<&u8>) -> String {
    c.map_or_else(|| "the end of the line".into(), |&c| show_byte(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser() -> TextParser {
        TextParser::new(Judge::PROMETHEUS_3, Now(1_000_000_000_000))
    }

    fn feed(p: &mut TextParser, body: &str) -> Result<(), Fault> {
        body.lines().try_for_each(|l| p.line(l.as_bytes()))
    }

    #[test]
    fn label_names_are_learnt_from_a_line_no_values_could_make_fail() {
        let mut p = parser();
        feed(&mut p, "h_bucket{code=\"200\",le=\"0.5\"} 1\n").expect("valid");
        assert_eq!(p.skeleton.learnt(), Some((&b"code=\"\",le=\"\"}"[..], &[6, 12][..])));
        assert_eq!(
            p.skeleton.read(br#"h_bucket{code="404",le="x"} 2"#, 9),
            Some(27),
            "le is any string here"
        );
        for line in ["g{a=\"1\",a=\"\"} 1", "g{__name__=\"g\"} 1 1"] {
            let mut p = parser();
            feed(&mut p, line).expect("valid");
            assert_eq!(p.skeleton.learnt(), None, "{line}");
        }
    }

    #[test]
    fn label_names_written_loosely_are_not_learnt() {
        for line in ["g{a=\"1\",} 1", "g{a=\"1\" } 1", "g{ } 1", "g{a=\"1\" ,b=\"2\"} 1", "g{a=\"1\"\0} 1"] {
            let mut p = parser();
            feed(&mut p, line).expect("valid");
            assert_eq!(p.skeleton.learnt(), None, "{line:?}");
        }
        let mut p = parser();
        feed(&mut p, "g{} 1\n").expect("valid");
        assert_eq!(p.skeleton.learnt(), Some((&b"}"[..], &[][..])));
    }
}
