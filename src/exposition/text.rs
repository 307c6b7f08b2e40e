//! The Prometheus text format (0.0.4 and 1.0.0), checked line by line with the rules of Go's
//! `expfmt.TextParser` (see docs/verification.md). State is kept per metric family, never per
//! sample, and a line is checked without allocating.

use super::fault::Fault;
use super::names::{INITIAL_NAMES, NameTable};
use super::scan;
use super::skeleton::Skeleton;

use super::lex::{
    self, QuoteError, go_float_end, is_go_float, is_go_int64, label_name_end, metric_name_end, quoted_end,
    skip_blanks, token_end,
};

/// How many kinds there are.
const KINDS: usize = 6;
const _: () = assert!(Kind::GaugeHistogram as usize + 1 == KINDS, "KINDS counts every Kind");

/// A family's declared or implied type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Summary,
    Untyped,
    Histogram,
    GaugeHistogram,
}

impl Kind {
    fn from_type_line(t: &[u8]) -> Option<Self> {
        // The spelling every encoder writes, without the case-insensitive search.
        match t {
            b"counter" => return Some(Kind::Counter),
            b"gauge" => return Some(Kind::Gauge),
            b"histogram" => return Some(Kind::Histogram),
            _ => {}
        }
        const KINDS: [(&[u8], Kind); 7] = [
            (b"COUNTER", Kind::Counter),
            (b"GAUGE", Kind::Gauge),
            (b"SUMMARY", Kind::Summary),
            (b"UNTYPED", Kind::Untyped),
            (b"HISTOGRAM", Kind::Histogram),
            (b"GAUGE_HISTOGRAM", Kind::GaugeHistogram),
            (b"GAUGEHISTOGRAM", Kind::GaugeHistogram),
        ];
        let mut upper = [0u8; 15];
        let n = type_token_upper(t, &mut upper)?;
        KINDS.iter().find(|(name, _)| *name == &upper[..n]).map(|&(_, k)| k)
    }

    fn is_histogram(self) -> bool {
        matches!(self, Kind::Histogram | Kind::GaugeHistogram)
    }
}

#[derive(Debug, Default)]
struct Family {
    kind: Option<Kind>,
    has_help: bool,
}

#[derive(Debug, Clone, Copy)]
struct Resolved {
    family: usize,
    /// Whether the name is the family's own name rather than a suffixed sample name.
    own: bool,
}

/// What a quoted name inside braces turned out to be, which decides its grammar.
#[derive(Debug, Clone, Copy)]
enum NameRole {
    Metric,
    Label,
}

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
    /// Raw value bytes between the quotes (escapes included; see `labels`).
    value: (usize, usize),
}

/// Line-by-line checker for one text-format body.
#[derive(Debug)]
pub(super) struct TextParser {
    utf8_names: bool,
    /// Every name seen in a sample or HELP/TYPE line, with what it resolved to. Resolution is
    /// stable (expfmt looks the exact name up first, and a family's type never changes once a
    /// name has been resolved against it), so each distinct name is resolved once.
    names: NameTable<Resolved>,
    families: Vec<Family>,
    /// The last unquoted name resolved, in a sample or a HELP/TYPE line, with what it resolved
    /// to: a family's HELP, TYPE and samples, and runs of samples, mostly share one name.
    last_name: Vec<u8>,
    last_resolved: Option<Resolved>,
    /// Whether the input being fed holds a backslash: where it holds none, no HELP text can hold
    /// a bad escape, and one search of the whole piece replaces one per HELP line.
    pub(super) backslashes: bool,
    labels: Vec<Label>,
    /// One per kind, so families of different kinds that follow each other (a gauge, then a
    /// counter with the same labels) each find theirs.
    skeletons: [Skeleton; KINDS],
    scratch: Vec<u8>,
    pub(super) samples: u64,
    /// Tests only: remember nothing between lines, so every line takes the full checks.
    #[cfg(test)]
    pub(super) exact: bool,
}

impl TextParser {
    pub(super) fn new(utf8_names: bool) -> Self {
        TextParser {
            utf8_names,
            names: NameTable::new(),
            // Most families are new names, so the two grow together.
            families: Vec::with_capacity(INITIAL_NAMES),
            last_name: Vec::new(),
            last_resolved: None,
            backslashes: true,
            labels: Vec::new(),
            skeletons: Default::default(),
            scratch: Vec::new(),
            samples: 0,
            #[cfg(test)]
            exact: false,
        }
    }

    pub(super) fn families(&self) -> usize {
        self.families.len()
    }

    /// Checks one line, without its `\n`.
    #[inline]
    pub(super) fn line(&mut self, line: &[u8]) -> Result<(), Fault> {
        let i = skip_blanks(line, 0);
        match line.get(i) {
            None => Ok(()),
            Some(b'#') => self.comment(line, i + 1),
            Some(_) => self.sample(line, i),
        }
    }

    /// Checks the sample line at `start` of `buf` (a piece of the body) if it is written the
    /// way the last sample line was, up to its values: the last name, then no labels or the
    /// label names and spacing of the last line of its kind, so that only its label values and
    /// its value (and timestamp) are new; returns the index of its newline. `None` (also for
    /// any fault) leaves everything as it was, and the line goes the long way.
    #[inline(always)]
    pub(super) fn repeated_sample(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        #[cfg(test)]
        if self.exact {
            return None;
        }
        let resolved = self.last_resolved?;
        let kind = self.families[resolved.family].kind?;
        let open = start + self.last_name.len();
        let braced = match buf.get(open) {
            Some(b'{') => true,
            Some(b' ') => false,
            _ => return None,
        };
        if !lex::same_bytes(&buf[start..open], &self.last_name) {
            return None;
        }
        let after = if braced { self.skeletons[kind as usize].read(buf, open + 1, true)? } else { open };
        if buf.get(after) != Some(&b' ') {
            return None;
        }
        let end = lex::plain_float_end(buf, after + 1)?;
        let end = match buf.get(end)? {
            b'\n' => end,
            b' ' => {
                let t = end + 1;
                let t_end = t + usize::from(buf.get(t) == Some(&b'-'));
                let t_end = lex::digit_run_end(buf, t_end);
                if buf.get(t_end) != Some(&b'\n') || !is_go_int64(&buf[t..t_end]) {
                    return None;
                }
                t_end
            }
            _ => return None,
        };
        self.samples += 1;
        Some(end)
    }

    /// Checks the HELP or TYPE line at `start` of `buf` (a piece of the body) if it is written
    /// the way encoders write them, `# HELP <name> <text>\n` and, right after it,
    /// `# TYPE <the same name> <type>\n`; returns the index of its newline. `None` (also for
    /// any fault) leaves the verdict as it was, and the line goes the long way.
    #[inline(always)]
    pub(super) fn plain_comment(&mut self, buf: &[u8], start: usize) -> Option<usize> {
        #[cfg(test)]
        if self.exact {
            return None;
        }
        match buf.get(start..start + 7)? {
            b"# HELP " => self.plain_help(buf, start + 7),
            b"# TYPE " => self.plain_type(buf, start + 7),
            _ => None,
        }
    }

    /// A HELP line from its name at `name`: an unquoted name, one blank, a text that does not
    /// start with a blank, and a family that has no HELP yet.
    #[inline(always)]
    fn plain_help(&mut self, buf: &[u8], name: usize) -> Option<usize> {
        let end = metric_name_end(buf, name);
        if end == name || buf.get(end) != Some(&b' ') {
            return None;
        }
        let text = end + 1;
        if matches!(buf.get(text), None | Some(b' ' | b'\t' | b'\n')) {
            return None;
        }
        let nl = scan::newline(buf, text)?;
        if self.backslashes && check_help_escapes(&buf[text..nl]).is_err() {
            return None;
        }
        let span = Span::Line(name, end);
        // Resolving again on the long way finds the same family, so this changes nothing there.
        let resolved = self.resolve(buf, span, name).ok()?;
        let family = &mut self.families[resolved.family];
        if family.has_help {
            return None;
        }
        family.has_help = true;
        self.remember_name(buf, name, span, resolved);
        Some(nl)
    }

    /// A TYPE line from its name at `name`: the last name remembered, one blank, the type, and
    /// a family that has no type yet.
    #[inline(always)]
    fn plain_type(&mut self, buf: &[u8], name: usize) -> Option<usize> {
        let resolved = self.last_resolved?;
        let t = name + self.last_name.len() + 1;
        if buf.get(t - 1) != Some(&b' ') || !lex::same_bytes(&buf[name..t - 1], &self.last_name) {
            return None;
        }
        let family = &mut self.families[resolved.family];
        if family.kind.is_some() {
            return None;
        }
        let nl = scan::newline(buf, t)?;
        family.kind = Some(Kind::from_type_line(&buf[t..nl])?);
        Some(nl)
    }

    /// Checks what is left after the last `\n`: only blanks may be there.
    pub(super) fn finish(&mut self, rest: &[u8]) -> Result<(), Fault> {
        if skip_blanks(rest, 0) == rest.len() {
            Ok(())
        } else {
            Err(Fault::new(rest.len(), "unexpected end of input stream (the last line has no newline)"))
        }
    }

    fn comment(&mut self, line: &[u8], i: usize) -> Result<(), Fault> {
        // The way every encoder writes them, first; any other spacing the long way.
        let (is_help, start) = match line.get(i..i + 6) {
            Some(b" HELP ") => (true, skip_blanks(line, i + 6)),
            Some(b" TYPE ") => (false, skip_blanks(line, i + 6)),
            _ => {
                let i = skip_blanks(line, i);
                let kw_end = token_end(line, i);
                if kw_end == line.len() {
                    return Ok(());
                }
                let is_help = match &line[i..kw_end] {
                    b"HELP" => true,
                    b"TYPE" => false,
                    _ => return Ok(()),
                };
                (is_help, skip_blanks(line, kw_end))
            }
        };
        // A HELP line mostly opens a family, so its name is seldom the last one seen.
        let cached = if is_help { None } else { self.cached_name(line, start) };
        let (name, end, resolved) = match cached {
            Some((end, resolved)) => (Span::Line(start, end), end, resolved),
            None => {
                let (name, end) = self.metric_name(line, start)?;
                if end == line.len() {
                    return Ok(());
                }
                if line[end] != b' ' && line[end] != b'\t' {
                    return Err(Fault::new(end, "invalid metric name in comment"));
                }
                let resolved = self.resolve(line, name, start)?;
                self.remember_name(line, start, name, resolved);
                (name, end, resolved)
            }
        };
        if line[end] == b'{' {
            return Err(Fault::new(end, "invalid metric name in comment"));
        }
        let rest = skip_blanks(line, end);
        if rest == line.len() {
            return Ok(());
        }
        let family = &mut self.families[resolved.family];
        if is_help {
            if family.has_help {
                return Err(Fault::new(
                    start,
                    format!("second HELP line for metric name {}", show_span(line, &self.scratch, name)),
                ));
            }
            if self.backslashes {
                check_help_escapes(&line[rest..]).map_err(|(at, message)| Fault::new(rest + at, message))?;
            }
            self.families[resolved.family].has_help = true;
        } else {
            if family.kind.is_some() {
                return Err(Fault::new(
                    start,
                    format!(
                        "second TYPE line for metric name {}, or TYPE reported after samples",
                        show_span(line, &self.scratch, name)
                    ),
                ));
            }
            let Some(kind) = Kind::from_type_line(&line[rest..]) else {
                return Err(Fault::new(
                    rest,
                    format!("unknown metric type {:?}", String::from_utf8_lossy(&line[rest..])),
                ));
            };
            self.families[resolved.family].kind = Some(kind);
        }
        Ok(())
    }

    fn sample(&mut self, line: &[u8], i: usize) -> Result<(), Fault> {
        self.scratch.clear();
        self.labels.clear();
        let after = if line[i] == b'{' {
            self.braced_sample_head(line, i + 1)?
        } else {
            let (end, resolved) = match self.cached_name(line, i) {
                Some(hit) => hit,
                None => {
                    let (name, end) = self.metric_name(line, i)?;
                    if span_is_empty(name) {
                        return Err(Fault::new(i, "invalid metric name"));
                    }
                    let resolved = self.resolve(line, name, i)?;
                    self.remember_name(line, i, name, resolved);
                    (end, resolved)
                }
            };
            let kind = self.kind_of(resolved);
            let mut j = skip_blanks(line, end);
            if line.get(j) == Some(&b'{') {
                j = match self.labels_like_last(line, j + 1, kind) {
                    Some(j) => j,
                    None => {
                        let end = self.labels(line, j + 1, false)?.1;
                        self.check_labels(line, kind)?;
                        self.learn_skeleton(line, kind, j + 1, end);
                        end
                    }
                };
                j = skip_blanks(line, j);
            }
            j
        };
        self.samples += 1;

        let Some(v_end) = go_float_end(line, after) else {
            let value = &line[after..token_end(line, after)];
            return Err(Fault::new(
                after,
                format!("expected float as value, got {:?}", String::from_utf8_lossy(value)),
            ));
        };
        if v_end == line.len() {
            return Ok(());
        }
        let t_start = skip_blanks(line, v_end);
        let t_end = token_end(line, t_start);
        let ts = &line[t_start..t_end];
        if !is_go_int64(ts) {
            return Err(Fault::new(
                t_start,
                format!("expected integer as timestamp, got {:?}", String::from_utf8_lossy(ts)),
            ));
        }
        if t_end != line.len() {
            return Err(Fault::new(
                skip_blanks(line, t_end),
                format!("spurious string after timestamp: {:?}", String::from_utf8_lossy(&line[t_end..])),
            ));
        }
        Ok(())
    }

    /// A sample line that starts with `{`: the metric name is a bare item inside the braces.
    /// Returns the index of the value.
    fn braced_sample_head(&mut self, line: &[u8], i: usize) -> Result<usize, Fault> {
        let (name, end) = self.labels(line, i, true)?;
        let Some(name) = name else {
            return Err(Fault::new(i - 1, "invalid metric name: the sample has labels but no name"));
        };
        let resolved = self.resolve(line, name, i - 1)?;
        let kind = self.kind_of(resolved);
        self.check_labels(line, kind)?;
        Ok(skip_blanks(line, end))
    }

    /// The kind of a sample's family: a family without a TYPE line is untyped from its first
    /// sample on, and a kind never changes once set.
    #[inline]
    fn kind_of(&mut self, resolved: Resolved) -> Kind {
        *self.families[resolved.family].kind.get_or_insert(Kind::Untyped)
    }

    /// Reads labels after the `{` at `i - 1` if their names and spacing are exactly those of
    /// the last line of the same kind that passed the label checks (which depend only on the
    /// names and the kind); returns the index after the `}`.
    #[inline]
    fn labels_like_last(&self, line: &[u8], i: usize, kind: Kind) -> Option<usize> {
        self.skeletons[kind as usize].read(line, i, true)
    }

    /// Remembers the label names of a line whose labels, from `start` (just after the `{`) to
    /// the `}` before `end`, passed [`Self::check_labels`] for `kind`.
    fn learn_skeleton(&mut self, line: &[u8], kind: Kind, start: usize, end: usize) {
        #[cfg(test)]
        if self.exact {
            return;
        }
        let scratch = &self.scratch;
        let labels = self.labels.iter().map(|label| {
            let name = match label.name {
                Span::Line(a, b) => &line[a..b],
                Span::Scratch(a, b) => &scratch[a..b],
            };
            let float =
                (kind == Kind::Summary && name == b"quantile") || (kind.is_histogram() && name == b"le");
            (label.value, float)
        });
        self.skeletons[kind as usize].learn(line, start, end, labels);
    }

    /// Reads labels after a `{` up to and including the `}`. With `braced_name`, one item may be
    /// a bare name (the metric name), which is returned. Returns the index after the `}`.
    fn labels(
        &mut self,
        line: &[u8],
        mut i: usize,
        braced_name: bool,
    ) -> Result<(Option<Span>, usize), Fault> {
        let mut name_item: Option<Span> = None;
        loop {
            i = skip_blanks(line, i);
            match line.get(i) {
                None => return Err(Fault::new(i, "unexpected end of input stream inside labels")),
                Some(b'}') => return Ok((name_item, i + 1)),
                Some(_) => {}
            }
            let at = i;
            let quoted = line[i] == b'"';
            let (label, end) = self.label_name(line, i)?;
            if span_is_empty(label) {
                return Err(Fault::new(
                    i,
                    format!("invalid label name at {:?}", String::from_utf8_lossy(&line[i..])),
                ));
            }
            i = skip_blanks(line, end);
            match line.get(i) {
                Some(b'=') if quoted => self.check_quoted_name(line, label, at, NameRole::Label)?,
                Some(b'=') => {}
                Some(&c @ (b',' | b'}')) if braced_name && quoted => {
                    if name_item.is_some() {
                        return Err(Fault::new(at, "multiple metric names in braces"));
                    }
                    self.check_quoted_name(line, label, at, NameRole::Metric)?;
                    name_item = Some(label);
                    i += usize::from(c == b',');
                    continue;
                }
                Some(&c) => {
                    return Err(Fault::new(
                        i,
                        format!("expected '=' after label name, found {:?}", c as char),
                    ));
                }
                None => return Err(Fault::new(i, "unexpected end of input stream after label name")),
            }
            i = skip_blanks(line, i + 1);
            if line.get(i) != Some(&b'"') {
                return Err(Fault::new(i, "expected '\"' at start of label value"));
            }
            let q = quoted_end(line, i, true).map_err(|e| quote_error("label value", e))?;
            let value = (i + 1, q.end - 1);
            if !q.is_utf8(line, i) {
                return Err(Fault::new(
                    lex::first_non_utf8(line, value.0, value.1),
                    format!(
                        "invalid label value {:?}: not UTF-8",
                        String::from_utf8_lossy(&line[value.0..value.1])
                    ),
                ));
            }
            self.labels.push(Label { name: label, at, value });
            i = skip_blanks(line, q.end);
            match line.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                Some(_) => return Err(Fault::new(i, "unexpected end of label value: expected ',' or '}'")),
                None => return Err(Fault::new(i, "unexpected end of input stream inside labels")),
            }
        }
    }

    /// Checks the labels collected for one sample against its family's kind.
    fn check_labels(&self, line: &[u8], kind: Kind) -> Result<(), Fault> {
        let mut count = 0;
        for l in &self.labels {
            let name = self.span(line, l.name);
            if name == b"__name__" {
                return Err(Fault::new(l.at, "label name \"__name__\" is reserved"));
            }
            let value = &line[l.value.0..l.value.1];
            if kind == Kind::Summary && name == b"quantile" {
                if !is_go_float(value) {
                    return Err(Fault::new(
                        l.value.0,
                        format!(
                            "expected float as value for 'quantile' label, got {:?}",
                            String::from_utf8_lossy(value)
                        ),
                    ));
                }
                continue;
            }
            if kind.is_histogram() && name == b"le" {
                if !is_go_float(value) {
                    return Err(Fault::new(
                        l.value.0,
                        format!(
                            "expected float as value for 'le' label, got {:?}",
                            String::from_utf8_lossy(value)
                        ),
                    ));
                }
                continue;
            }
            count += 1;
        }
        if count > 1 {
            self.check_duplicates(line, kind)?;
        }
        Ok(())
    }

    fn check_duplicates(&self, line: &[u8], kind: Kind) -> Result<(), Fault> {
        let exempt = |name: &[u8]| {
            (kind == Kind::Summary && name == b"quantile") || (kind.is_histogram() && name == b"le")
        };
        let names = self.labels.iter().map(|l| self.span(line, l.name)).filter(|n| !exempt(n));
        let Some(duplicate) = lex::find_duplicate(names, self.labels.len()) else {
            return Ok(());
        };
        // The second label of that name is the one at fault.
        let at =
            self.labels.iter().filter(|l| self.span(line, l.name) == duplicate).nth(1).map_or(0, |l| l.at);
        Err(Fault::new(at, format!("duplicate label name {:?}", String::from_utf8_lossy(duplicate))))
    }

    /// The end of the name at `i` and what it resolves to, when it is the last name remembered
    /// and a delimiter follows it, so it is already checked and resolved.
    #[inline(always)]
    fn cached_name(&self, line: &[u8], i: usize) -> Option<(usize, Resolved)> {
        let resolved = self.last_resolved?;
        let end = i + self.last_name.len();
        match line.get(end) {
            Some(b' ' | b'\t' | b'{') if lex::same_bytes(&line[i..end], &self.last_name) => {
                Some((end, resolved))
            }
            _ => None,
        }
    }

    /// Remembers a name that was written unquoted at `i`; quoted names are rare and their span
    /// does not start where the line's bytes do.
    #[inline(always)]
    fn remember_name(&mut self, line: &[u8], i: usize, name: Span, resolved: Resolved) {
        self.last_resolved = None;
        #[cfg(test)]
        if self.exact {
            return;
        }
        if let Span::Line(s, e) = name
            && s == i
            && e > s
            && line[i] != b'"'
        {
            self.last_name.clear();
            self.last_name.extend_from_slice(&line[s..e]);
            self.last_resolved = Some(resolved);
        }
    }

    /// Reads a metric name (classic or quoted) at `i`; an empty span if there is none.
    fn metric_name(&mut self, line: &[u8], i: usize) -> Result<(Span, usize), Fault> {
        if line.get(i) == Some(&b'"') {
            let (name, end) = self.quoted_name(line, i, "metric name")?;
            self.check_quoted_name(line, name, i, NameRole::Metric)?;
            return Ok((name, end));
        }
        let end = metric_name_end(line, i);
        Ok((Span::Line(i, end), end))
    }

    /// Reads a name inside braces at `i`, classic or quoted; a quoted one is not yet checked
    /// against a grammar: it is a label name if `=` follows it, and the metric name if it stands
    /// alone, and the caller checks it with [`Self::check_quoted_name`] once it knows which.
    fn label_name(&mut self, line: &[u8], i: usize) -> Result<(Span, usize), Fault> {
        if line.get(i) == Some(&b'"') {
            return self.quoted_name(line, i, "name in braces");
        }
        let end = label_name_end(line, i);
        Ok((Span::Line(i, end), end))
    }

    /// Reads the quoted name at `i`: terminated, escapes valid, not empty, and UTF-8 where
    /// UTF-8 names are allowed (either role needs that much).
    fn quoted_name(&mut self, line: &[u8], i: usize, what: &str) -> Result<(Span, usize), Fault> {
        let q = quoted_end(line, i, true).map_err(|e| quote_error(what, e))?;
        let raw = &line[i + 1..q.end - 1];
        if raw.is_empty() {
            return Err(Fault::new(i, format!("empty quoted {what}")));
        }
        if self.utf8_names && !q.is_utf8(line, i) {
            return Err(Fault::new(
                lex::first_non_utf8(line, i + 1, q.end - 1),
                format!("invalid {what} {:?}: not UTF-8", String::from_utf8_lossy(raw)),
            ));
        }
        if !q.escaped {
            return Ok((Span::Line(i + 1, q.end - 1), q.end));
        }
        let start = self.scratch.len();
        lex::unescape_into(raw, &mut self.scratch);
        Ok((Span::Scratch(start, self.scratch.len()), q.end))
    }

    /// Without UTF-8 names, a quoted name must still be a classic name of its role, as expfmt's
    /// `ValidationScheme` checks it: `{"a:b"} 1` names a metric, `{"a:b"="c"}` is refused. The
    /// name's opening quote is at `quote`.
    fn check_quoted_name(&self, line: &[u8], span: Span, quote: usize, role: NameRole) -> Result<(), Fault> {
        if self.utf8_names {
            return Ok(());
        }
        let name = self.span(line, span);
        let (valid_end, what) = match role {
            NameRole::Metric => (lex::metric_name_end(name, 0), "metric name"),
            NameRole::Label => (lex::label_name_end(name, 0), "label name"),
        };
        if !name.is_empty() && valid_end == name.len() {
            return Ok(());
        }
        // The first byte outside the grammar; an unescaped name's bytes are the line's own.
        let at = match span {
            Span::Line(a, _) => a + valid_end,
            Span::Scratch(..) => quote + 1,
        };
        Err(Fault::new(
            at,
            format!(
                "invalid {what} {:?} (UTF-8 names need escaping=allow-utf-8 in the Content-Type)",
                String::from_utf8_lossy(name)
            ),
        ))
    }

    fn span<'a>(&'a self, line: &'a [u8], span: Span) -> &'a [u8] {
        match span {
            Span::Line(a, b) => &line[a..b],
            Span::Scratch(a, b) => &self.scratch[a..b],
        }
    }

    /// Finds the family a name belongs to, creating it if needed, as expfmt's
    /// `setOrCreateCurrentMF` does; the name is written at `at` in the line.
    fn resolve(&mut self, line: &[u8], name: Span, at: usize) -> Result<Resolved, Fault> {
        let name = match name {
            Span::Line(a, b) => &line[a..b],
            Span::Scratch(a, b) => &self.scratch[a..b],
        };
        if name.is_empty() {
            return Err(Fault::new(at, "invalid metric name \"\""));
        }
        let hash = self.names.hash(name);
        let resolved = match self.names.get_hashed(hash, name) {
            Some(r) => r,
            None => {
                let r = Self::resolve_new(&self.names, &mut self.families, name);
                self.names.insert_hashed(hash, name, r);
                r
            }
        };
        Ok(resolved)
    }

    fn resolve_new(names: &NameTable<Resolved>, families: &mut Vec<Family>, name: &[u8]) -> Resolved {
        let suffixed = |suffix: &[u8]| {
            (name.len() > suffix.len() && name.ends_with(suffix)).then(|| &name[..name.len() - suffix.len()])
        };
        // The kind of the family that is really named `base` (not a name resolved to a family).
        let family_named =
            |base: &[u8]| names.get(base).filter(|r| r.own).map(|r| (r.family, families[r.family].kind));
        let base = suffixed(b"_count").or_else(|| suffixed(b"_sum"));
        if let Some((family, Some(Kind::Summary))) = base.and_then(family_named) {
            return Resolved { family, own: false };
        }
        let base = base.or_else(|| suffixed(b"_bucket"));
        if let Some((family, Some(kind))) = base.and_then(family_named)
            && kind.is_histogram()
        {
            return Resolved { family, own: false };
        }
        families.push(Family::default());
        Resolved { family: families.len() - 1, own: true }
    }
}

fn span_is_empty(span: Span) -> bool {
    match span {
        Span::Line(a, b) | Span::Scratch(a, b) => a == b,
    }
}

fn show_span(line: &[u8], scratch: &[u8], span: Span) -> String {
    let bytes = match span {
        Span::Line(a, b) => &line[a..b],
        Span::Scratch(a, b) => &scratch[a..b],
    };
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn quote_error(what: &str, e: QuoteError) -> Fault {
    let message = match e {
        QuoteError::Unterminated(_) => format!("{what} is not terminated by '\"' before the end of the line"),
        QuoteError::BadEscape(_, b) => format!("invalid escape sequence '\\{}' in {what}", b as char),
        QuoteError::TrailingBackslash(_) => format!("{what} ends with a lone backslash"),
    };
    Fault::new(e.at(), message)
}

/// The type token as expfmt compares it, written into `out`; `None` if it is longer than any
/// type. expfmt reads it with `readTokenUntilNewline(false)`, which drops every backslash, and
/// then applies Go's `strings.ToUpper`, which also turns `ı` (U+0131) into `I` and `ſ` (U+017F)
/// into `S`: the only characters outside ASCII whose upper case is ASCII.
fn type_token_upper(t: &[u8], out: &mut [u8; 15]) -> Option<usize> {
    // The backslashes go first: `\` between the two bytes of `ı` does not keep it from being one.
    let mut bytes = [0u8; 30];
    let mut len = 0;
    for &b in t.iter().filter(|&&b| b != b'\\') {
        *bytes.get_mut(len)? = b;
        len += 1;
    }
    let (mut n, mut i) = (0, 0);
    while i < len {
        let (upper, width) = match (bytes[i], bytes.get(i + 1)) {
            (0xC4, Some(0xB1)) if i + 1 < len => (b'I', 2),
            (0xC5, Some(0xBF)) if i + 1 < len => (b'S', 2),
            (b, _) => (b.to_ascii_uppercase(), 1),
        };
        *out.get_mut(n)? = upper;
        n += 1;
        i += width;
    }
    Some(n)
}

/// HELP text escapes: `\\`, `\n` and `\"`; anything else after a backslash fails, at the
/// offset in `text` of that backslash.
fn check_help_escapes(text: &[u8]) -> Result<(), (usize, String)> {
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', &text[i..]) {
        let at = i + off;
        match text.get(at + 1) {
            Some(b'\\' | b'n' | b'"') => i = at + 2,
            Some(&b) => return Err((at, format!("invalid escape sequence '\\{}' in HELP", b as char))),
            None => return Err((at, "HELP text ends with a lone backslash".into())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &mut TextParser, body: &str) -> Result<(), Fault> {
        body.lines().try_for_each(|l| p.line(l.as_bytes()))
    }

    #[test]
    fn label_names_are_learnt_from_a_line_written_plainly() {
        let mut p = TextParser::new(false);
        feed(&mut p, "# TYPE h histogram\nh_bucket{code=\"200\",le=\"0.5\"} 1\n").expect("valid");
        let learnt = p.skeletons[Kind::Histogram as usize].learnt();
        assert_eq!(learnt, Some((&b"code=\"\",le=\"\"}"[..], &[(6, false), (12, true)][..])));
        let line = br#"h_bucket{code="404",le="+Inf"} 2"#;
        assert_eq!(p.labels_like_last(line, 9, Kind::Histogram), Some(30), "same names, new values");
        assert_eq!(p.labels_like_last(line, 9, Kind::Gauge), None, "another kind checks names again");
        assert_eq!(p.labels_like_last(br#"h_bucket{code="404",le="x"} 2"#, 9, Kind::Histogram), None);
        assert_eq!(p.labels_like_last(br#"h_bucket{code="404",lf="1"} 2"#, 9, Kind::Histogram), None);
        feed(&mut p, "c{code=\"200\"} 1\n").expect("valid");
        assert_eq!(p.labels_like_last(line, 9, Kind::Histogram), Some(30), "a counter has its own");
    }

    #[test]
    fn label_names_written_loosely_are_not_learnt() {
        for line in ["g{a=\"1\",} 1", "g{a=\"1\" } 1", "g{ } 1", "g{a=\"1\" ,b=\"2\"} 1"] {
            let mut p = TextParser::new(false);
            feed(&mut p, line).expect("valid");
            assert_eq!(p.skeletons[Kind::Untyped as usize].learnt(), None, "{line}");
        }
        let mut p = TextParser::new(false);
        feed(&mut p, "g{} 1\n").expect("valid");
        assert_eq!(p.skeletons[Kind::Untyped as usize].learnt(), Some((&b"}"[..], &[][..])));
    }
}
