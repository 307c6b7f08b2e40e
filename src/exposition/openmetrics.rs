//! OpenMetrics text (1.0.0 and 0.0.1), checked line by line with the rules of Prometheus's own
//! OpenMetrics lexer and parser, then the scrape loop's and head's checks of each sample
//! (scrape.rs), for the version that judges (docs/verification.md).

use super::fault::Fault;
use super::judge::{Judge, Now, Version};
use super::lex::{self, is_go_float, label_name_end, metric_name_end, quoted_end};
use super::scrape;
use super::skeleton::Skeleton;
use super::spanning::Spanning;

const TYPES: [&[u8]; 8] =
    [b"counter", b"gauge", b"histogram", b"gaugehistogram", b"summary", b"info", b"stateset", b"unknown"];

/// Line-by-line checker for one OpenMetrics body.
#[derive(Debug)]
pub(super) struct OpenMetricsParser {
    judge: Judge,
    now: Now,
    eof: bool,
    /// Whether any line was seen: an empty body is a successful scrape of nothing.
    started: bool,
    /// Label names of the current sample.
    labels: Vec<LabelName>,
    /// The metric name of a sample that names it in braces: its span and whether it is in
    /// `scratch`.
    braced_name: Option<(usize, usize, bool)>,
    /// The label names of the last sample whose labels no values could make fail.
    skeleton: Skeleton,
    /// The last metric name read before a `{` or a space: runs of samples share one.
    last_name: Vec<u8>,
    scratch: Vec<u8>,
    /// Set when a quoted name ran on to the end of the line checked: the newline that ended it
    /// is part of the name, and this finds where the line really ends.
    pub(super) spanning: Option<Spanning>,
    /// Whether the line being checked was framed by [`Spanning`], so it may hold newlines inside
    /// quoted names, and a name still open at its end is a fault.
    pub(super) multiline: bool,
    pub(super) samples: u64,
    pub(super) families: u64,
    /// Tests only: remember nothing between lines, so every line takes the full checks.
    #[cfg(test)]
    pub(super) exact: bool,
}

/// Where a label name's bytes are: in the line, or in `scratch` when unescaped.
#[derive(Debug, Clone, Copy)]
struct LabelName {
    /// Where the name starts in the line (its opening quote, if quoted), for a fault's column.
    at: usize,
    in_scratch: bool,
    start: usize,
    end: usize,
    /// The value, from after its opening quote to its closing quote.
    value: (usize, usize),
}

/// What a `{...}` group may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// A sample's labels; `named` says whether the name came before the brace.
    Sample {
        named: bool,
    },
    Exemplar,
}

impl OpenMetricsParser {
    pub(super) fn new(judge: Judge, now: Now) -> Self {
        OpenMetricsParser {
            judge,
            now,
            eof: false,
            started: false,
            labels: Vec::new(),
            braced_name: None,
            skeleton: Skeleton::default(),
            last_name: Vec::new(),
            scratch: Vec::new(),
            spanning: None,
            multiline: false,
            samples: 0,
            families: 0,
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
        self.started = true;
        if self.eof {
            return Err(Fault::new(0, "unexpected data after # EOF"));
        }
        match line.first() {
            None => Err(Fault::new(0, "empty line (OpenMetrics allows none)")),
            Some(b'#') => self.comment(line),
            Some(_) => self.sample(line),
        }
    }

    /// Checks what is left after the last `\n` and that the body ended with `# EOF` (Prometheus
    /// takes an empty body as a scrape of nothing, before any parser runs).
    pub(super) fn finish(&mut self, rest: &[u8]) -> Result<(), Fault> {
        // Prometheus 3 takes an empty body as a successful scrape before any parser runs.
        if !self.started && rest.is_empty() && self.v3() {
            return Ok(());
        }
        if !rest.is_empty() {
            if self.eof {
                return Err(Fault::new(0, "unexpected data after # EOF"));
            }
            if rest != b"# EOF" {
                return Err(Fault::new(
                    rest.len(),
                    "data does not end with # EOF (the last line has no newline)",
                ));
            }
            self.eof = true;
        }
        if !self.eof {
            return Err(Fault::new(0, "data does not end with # EOF"));
        }
        Ok(())
    }

    fn comment(&mut self, line: &[u8]) -> Result<(), Fault> {
        if line == b"# EOF" {
            self.eof = true;
            return Ok(());
        }
        let keyword = line.get(..7).unwrap_or(line);
        let kind = match keyword {
            b"# HELP " => b'H',
            b"# TYPE " => b'T',
            b"# UNIT " => b'U',
            _ => {
                return Err(Fault::new(
                    keyword_fault(line),
                    format!(
                        "expected '# HELP ', '# TYPE ', '# UNIT ' or '# EOF', got {:?} (OpenMetrics has no other comments)",
                        String::from_utf8_lossy(&line[..line.len().min(20)])
                    ),
                ));
            }
        };
        let (name_start, name_end) = if line.get(7) == Some(&b'"') {
            if !self.v3() {
                return Err(Fault::new(
                    7,
                    "expected metric name after the keyword (Prometheus 2.42 reads no quoted names)",
                ));
            }
            let (end, _) = self.quoted_name(line, 7, true)?;
            (8, end - 1)
        } else {
            let end = metric_name_end(line, 7);
            if end == 7 {
                return Err(Fault::new(7, "expected metric name after the keyword"));
            }
            (7, end)
        };
        let after = if line[name_start - 1] == b'"' { name_end + 1 } else { name_end };
        if line.get(after) != Some(&b' ') {
            return Err(Fault::new(after, "expected a space and text after the metric name"));
        }
        let text = &line[after + 1..];
        if self.multiline
            && let Some(nl) = memchr::memchr(b'\n', text)
        {
            return Err(Fault::new(after + 1 + nl, "raw newline in the text after the metric name"));
        }
        match kind {
            b'H' => {
                if let Err(e) = std::str::from_utf8(text) {
                    return Err(Fault::new(after + 1 + e.valid_up_to(), "HELP text is not valid UTF-8"));
                }
            }
            b'T' => {
                if !TYPES.contains(&text) {
                    return Err(Fault::new(
                        after + 1,
                        format!("invalid metric type {:?}", String::from_utf8_lossy(text)),
                    ));
                }
                self.families += 1;
            }
            _ => {
                let name = &line[name_start..name_end];
                let suffix_ok = name.len() > text.len()
                    && name.ends_with(text)
                    && name[name.len() - text.len() - 1] == b'_';
                if !text.is_empty() && !suffix_ok {
                    return Err(Fault::new(
                        after + 1,
                        format!(
                            "unit {:?} not a suffix of metric {:?}",
                            String::from_utf8_lossy(text),
                            String::from_utf8_lossy(name)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn sample(&mut self, line: &[u8]) -> Result<(), Fault> {
        let mut i = self.sample_name_end(line);
        let named = i > 0;
        if !named && (line[0] != b'{' || !self.v3()) {
            return Err(Fault::new(0, format!("expected a metric name or '{{', got {:?}", line[0] as char)));
        }
        // Whether the labels are those of the last line no values could make fail.
        let mut known = named && line.get(i) != Some(&b'{');
        let mut braces = None;
        if line.get(i) == Some(&b'{') {
            let start = i + 1;
            i = match named.then(|| self.skeleton.read(line, start)).flatten() {
                Some(end) => {
                    known = true;
                    end
                }
                None => {
                    // What the group reads, for the checks below (a line read from its skeleton
                    // or without braces needs none of it).
                    self.labels.clear();
                    self.scratch.clear();
                    self.braced_name = None;
                    let end = self.group(line, start, Group::Sample { named })?;
                    braces = Some((start, end));
                    end
                }
            };
        }
        self.samples += 1;
        i = value(line, i, "metric")?;
        if known && i == line.len() {
            return Ok(());
        }
        let mut ts = None;
        if i < line.len() && !line[i..].starts_with(b" # {") {
            let end = token(line, i)?;
            ts = Some(check_timestamp(line, i + 1, end, "timestamp")?);
            i = end;
            if i < line.len() && !line[i..].starts_with(b" # {") {
                return Err(Fault::new(
                    i + 1,
                    "expected the end of the line or an exemplar after the timestamp",
                ));
            }
        }
        if i < line.len() {
            self.exemplar(line, i, named)?;
        }
        if !known {
            let stable = self.check_labels(line, ts)?;
            match braces.filter(|_| named && stable) {
                Some((start, end)) => self.learn_skeleton(line, start, end),
                None => self.skeleton.forget(),
            }
        }
        Ok(())
    }

    /// An exemplar, ` # {labels} value [timestamp]` from `i` to the end of the line.
    fn exemplar(&mut self, line: &[u8], i: usize, named: bool) -> Result<(), Fault> {
        if !self.v3() {
            // Prometheus 2.42 takes exemplars on counters' and histogram buckets' series only.
            let name = &line[..if named { metric_name_end(line, 0) } else { 0 }];
            if !name.ends_with(b"_total") && !name.ends_with(b"_bucket") {
                return Err(Fault::new(
                    i + 1,
                    format!(
                        "metric name {:?} does not support exemplars (Prometheus 2.42: only names ending in _total or _bucket)",
                        String::from_utf8_lossy(name)
                    ),
                ));
            }
        }
        let mut i = self.group(line, i + 4, Group::Exemplar)?;
        i = value(line, i, "exemplar labels")?;
        if i == line.len() {
            return Ok(());
        }
        let end = token(line, i)?;
        check_timestamp(line, i + 1, end, "exemplar timestamp")?;
        if end != line.len() {
            return Err(Fault::new(end + 1, "expected the end of the line after the exemplar timestamp"));
        }
        Ok(())
    }

    /// The scrape loop's and head's checks of the sample's name and labels, stamped `ts`;
    /// whether no values could make these labels fail.
    fn check_labels(&self, line: &[u8], ts: Option<i64>) -> Result<bool, Fault> {
        let in_window = ts.is_none_or(|t| self.now.earliest() <= t && t <= self.now.latest());
        let (name, at): (scrape::Name<'_>, usize) = match self.braced_name {
            Some((start, end, true)) => (scrape::Name { bytes: &self.scratch[start..end], legacy: false }, 0),
            Some((start, end, false)) => {
                (scrape::Name { bytes: &line[start..end], legacy: false }, start.saturating_sub(1))
            }
            None => (scrape::Name { bytes: &line[..metric_name_end(line, 0)], legacy: true }, 0),
        };
        let label = |k: usize| {
            let l = &self.labels[k];
            scrape::Label {
                name: self.bytes(line, l),
                value: &line[l.value.0..l.value.1],
                legacy: line[l.at] != b'"',
            }
        };
        scrape::check(self.judge, name, self.labels.len(), label, in_window)
            .map(|passed| passed.stable)
            .map_err(|r| Fault::new(r.label.map_or(at, |k| self.labels[k].at), r.message))
    }

    fn bytes<'a>(&'a self, line: &'a [u8], l: &LabelName) -> &'a [u8] {
        if l.in_scratch { &self.scratch[l.start..l.end] } else { &line[l.start..l.end] }
    }

    /// Reads a `{...}` group whose `{` is just before `i`; returns the index after its `}`.
    fn group(&mut self, line: &[u8], mut i: usize, group: Group) -> Result<usize, Fault> {
        let mut has_name = matches!(group, Group::Sample { named: true });
        let mut after_comma = false;
        loop {
            match line.get(i) {
                Some(b'}') if after_comma && !self.v3() => {
                    return Err(Fault::new(
                        i,
                        "expected a label name after ',' (Prometheus 2.42 takes no trailing comma)",
                    ));
                }
                Some(b'}') => break,
                Some(b'"') if !self.v3() => {
                    return Err(Fault::new(
                        i,
                        "expected a label name (Prometheus 2.42 reads no quoted names)",
                    ));
                }
                Some(b'"') => {
                    let (after, escaped) = if group == Group::Exemplar {
                        // Exemplar names take neither a NUL nor a newline (state sExemplar).
                        let q = quoted_end(line, i)
                            .map_err(|e| Fault::new(e.at(), "unterminated quoted name"))?;
                        refuse_nul(line, i + 1, q.end - 1, "a quoted name")?;
                        (q.end, q.escaped)
                    } else {
                        self.quoted_name(line, i, false)?
                    };
                    // The name's opening quote is at `start - 1`.
                    let (start, end) = (i + 1, after - 1);
                    i = after;
                    if matches!(line.get(i), Some(b',' | b'}')) {
                        if group == Group::Exemplar {
                            return Err(Fault::new(
                                start - 1,
                                "expected label name in exemplar, got a bare quoted name",
                            ));
                        }
                        if has_name {
                            return Err(Fault::new(start - 1, "metric name already set"));
                        }
                        has_name = true;
                        self.braced_name = Some(if escaped {
                            let s = self.scratch.len();
                            lex::unreplace_into(&line[start..end], &mut self.scratch);
                            (s, self.scratch.len(), true)
                        } else {
                            (start, end, false)
                        });
                        after_comma = line[i] == b',';
                        i += usize::from(after_comma);
                        continue;
                    }
                    if group != Group::Exemplar {
                        self.push_label(line, start - 1, start, end, escaped);
                    }
                }
                Some(_) => {
                    let end = label_name_end(line, i);
                    if end == i {
                        return Err(Fault::new(
                            i,
                            format!("expected label name, got {:?}", String::from_utf8_lossy(&line[i..])),
                        ));
                    }
                    if group != Group::Exemplar {
                        self.push_label(line, i, i, end, false);
                    }
                    i = end;
                }
                None => return Err(Fault::new(i, "unexpected end of line inside labels")),
            }
            if line.get(i) != Some(&b'=') {
                return Err(Fault::new(i, "expected '=' after label name"));
            }
            i += 1;
            if line.get(i) != Some(&b'"') {
                return Err(Fault::new(i, "expected quoted label value after '='"));
            }
            let q = quoted_end(line, i).map_err(|e| Fault::new(e.at(), "unterminated label value"))?;
            if !q.is_utf8(line, i) {
                return Err(Fault::new(
                    lex::first_non_utf8(line, i + 1, q.end - 1),
                    "invalid UTF-8 label value",
                ));
            }
            if group == Group::Exemplar {
                refuse_nul(line, i + 1, q.end - 1, "an exemplar's label value")?;
            } else if let Some(last) = self.labels.last_mut() {
                last.value = (i + 1, q.end - 1);
            }
            i = q.end;
            match line.get(i) {
                Some(b',') => {
                    after_comma = true;
                    i += 1;
                }
                Some(b'}') => after_comma = false,
                _ => return Err(Fault::new(i, "expected ',' or '}' after label value")),
            }
        }
        if !has_name && group != Group::Exemplar {
            // Only a line that starts with its `{` has no name before it.
            return Err(Fault::new(0, "metric name not set"));
        }
        Ok(i + 1)
    }

    /// Reads the quoted name whose opening quote is at `open` as Prometheus's lexer reads one in
    /// braces (`sLabels`) and in HELP, TYPE and UNIT lines (`sMeta1`, with `meta`): any byte but
    /// NUL, a raw newline included, and a backslash before any byte but NUL and newline. Returns
    /// the index after the closing quote and whether the name holds an escape.
    fn quoted_name(&mut self, line: &[u8], open: usize, meta: bool) -> Result<(usize, bool), Fault> {
        let mut i = open + 1;
        let mut escaped = false;
        loop {
            let Some(k) = memchr::memchr3(b'"', b'\\', 0, &line[i..]) else {
                if !self.multiline {
                    self.spanning = Some(Spanning::new(open, meta));
                }
                return Err(Fault::new(line.len(), "quoted name not terminated before the end of the line"));
            };
            let at = i + k;
            match (line[at], line.get(at + 1)) {
                (b'"', _) => return Ok((at + 1, escaped)),
                (0, _) => return Err(Fault::new(at, "NUL byte in a quoted name")),
                (_, None | Some(0 | b'\n')) => {
                    return Err(Fault::new(at, "backslash before a NUL byte or a newline in a quoted name"));
                }
                (_, Some(_)) => {
                    escaped = true;
                    i = at + 2;
                }
            }
        }
    }

    /// The end of the metric name that starts the line (0 if none), remembered while lines
    /// repeat it: a name's run of name bytes ends at the `{` or space after it, so a line that
    /// starts with the last name and then one of those holds that very name.
    #[inline]
    fn sample_name_end(&mut self, line: &[u8]) -> usize {
        let n = self.last_name.len();
        if n > 0 && matches!(line.get(n), Some(b'{' | b' ')) && lex::same_bytes(&line[..n], &self.last_name) {
            return n;
        }
        let end = metric_name_end(line, 0);
        #[cfg(test)]
        if self.exact {
            return end;
        }
        self.last_name.clear();
        self.last_name.extend_from_slice(&line[..end]);
        end
    }

    /// Remembers the label names of a named sample whose labels (from `start`, just after the
    /// `{`, to the `}` before `end`) passed the checks and no values could make fail.
    fn learn_skeleton(&mut self, line: &[u8], start: usize, end: usize) {
        #[cfg(test)]
        if self.exact {
            return;
        }
        self.skeleton.learn(line, start, end, self.labels.iter().map(|l| l.value));
    }

    /// Adds the label whose name, written at `at`, is `line[start..end]` (without its quotes).
    fn push_label(&mut self, line: &[u8], at: usize, start: usize, end: usize, escaped: bool) {
        let name = if escaped {
            let s = self.scratch.len();
            lex::unreplace_into(&line[start..end], &mut self.scratch);
            LabelName { at, in_scratch: true, start: s, end: self.scratch.len(), value: (0, 0) }
        } else {
            LabelName { at, in_scratch: false, start, end, value: (0, 0) }
        };
        self.labels.push(name);
    }
}

/// Reads ` value` at `i`; returns the index after it. Nearly every value is a plain decimal,
/// read here; the rest, and every fault, in [`other_value`].
#[inline(always)]
fn value(line: &[u8], i: usize, after: &str) -> Result<usize, Fault> {
    if line.get(i) == Some(&b' ')
        && let Some(end) = lex::plain_decimal_end(line, i + 1)
        && matches!(line.get(end), None | Some(b' '))
    {
        return Ok(end);
    }
    other_value(line, i, after)
}

/// Reads ` value` at `i` that is not a plain decimal (see [`value`]).
fn other_value(line: &[u8], i: usize, after: &str) -> Result<usize, Fault> {
    if line.get(i) != Some(&b' ') {
        return Err(Fault::new(i, format!("expected a space and a value after {after}")));
    }
    let end = token(line, i)?;
    let v = &line[i + 1..end];
    if !is_go_float(v) {
        return Err(Fault::new(
            i + 1,
            format!("invalid value {:?} after {after}", String::from_utf8_lossy(v)),
        ));
    }
    Ok(end)
}

/// The end of a ` token` starting with its space at `i`: the token must not be empty.
fn token(line: &[u8], i: usize) -> Result<usize, Fault> {
    if line.get(i) != Some(&b' ') {
        return Err(Fault::new(i, "expected a single space"));
    }
    let end = memchr::memchr(b' ', &line[i + 1..]).map_or(line.len(), |o| i + 1 + o);
    if end == i + 1 {
        return Err(Fault::new(i + 1, "expected a token after a single space, got another space"));
    }
    Ok(end)
}

/// Checks the timestamp `line[start..end]` (seconds); returns it in milliseconds as
/// Prometheus's parser makes it (Go's `int64(ts * 1000)`).
fn check_timestamp(line: &[u8], start: usize, end: usize, what: &str) -> Result<i64, Fault> {
    let ts = &line[start..end];
    if !is_go_float(ts) {
        return Err(Fault::new(start, format!("invalid {what} {:?}", String::from_utf8_lossy(ts))));
    }
    let seconds = lex::parse_go_float(ts);
    if !seconds.is_finite() {
        return Err(Fault::new(
            start,
            format!("invalid {what} {:?}: must be finite", String::from_utf8_lossy(ts)),
        ));
    }
    Ok(lex::go_f64_to_i64(seconds * 1000.0))
}

/// Prometheus's lexer takes a NUL byte in no quoted string but a sample's label value (and
/// HELP text): its generated automaton has no transition for NUL, and only in those two places
/// does it skip NULs before the automaton sees them (`openMetricsLexer.next`). Quoted names in
/// braces and in HELP, TYPE and UNIT lines are refused theirs by `quoted_name`. Checks
/// `line[start..end]`.
fn refuse_nul(line: &[u8], start: usize, end: usize, what: &str) -> Result<(), Fault> {
    match memchr::memchr(0, &line[start..end]) {
        Some(k) => Err(Fault::new(start + k, format!("NUL byte in {what}"))),
        None => Ok(()),
    }
}

/// Where a comment line that is none of OpenMetrics' four goes wrong: the first byte where it
/// stops being the start of `# HELP `, `# TYPE `, `# UNIT ` or (ending there) `# EOF`.
fn keyword_fault(line: &[u8]) -> usize {
    let common = |k: &[u8]| line.iter().zip(k).take_while(|(a, b)| a == b).count();
    let eof = common(b"# EOF");
    [b"# HELP ", b"# TYPE ", b"# UNIT "].iter().map(|k| common(*k)).fold(eof, usize::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_learnt_only_when_none_repeats() {
        let mut p = OpenMetricsParser::new(Judge::PROMETHEUS_3, Now(0));
        p.line(br#"g{a="1",b="2"} 1"#).expect("valid");
        assert_eq!(p.skeleton.learnt(), Some((&b"a=\"\",b=\"\"}"[..], &[3, 8][..])));
        assert_eq!(p.skeleton.read(br#"g{a="",b="x"} 2"#, 2), Some(13));
        // Valid only because the repeated name has an empty value: another value would not be.
        p.line(br#"g{a="",a="1"} 3"#).expect("valid");
        assert_eq!(p.skeleton.learnt(), None);
        assert!(p.line(br#"g{a="2",a="1"} 4"#).is_err());
    }
}
