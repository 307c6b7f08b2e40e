//! The fatal checks Prometheus's scrape loop and TSDB head make of each sample's labels, after
//! the parser (scrape/scrape.go `mutateSampleLabels` with `honor_labels: false`, the name
//! checks of the append loop, tsdb/head_append.go `getOrCreate`), for each version:
//!
//! 1. every label of a name that has an empty value anywhere in the sample is dropped
//!    (`labels.Builder` deletes them by name), then the target labels `job` and `instance`
//!    are set (an exposed one is kept as `exported_job`, ...);
//! 2. the metric name must remain (`__name__`);
//! 3. every remaining label name must be valid under the judge's name validation, and every
//!    `__name__` value a valid metric name;
//! 4. only for a sample stamped inside the head's window: no label name may repeat. Prometheus
//!    3 replaces only the first exposed `job` or `instance` with the target's, so a repeated
//!    one is a repeated name; Prometheus 2.42 replaces every one.
//!
//! Works on any parser's labels through a closure, without allocating for the usual handful.

use super::judge::{Judge, Version};
use super::lex;

/// Above this many labels, the per-name questions are answered with a set.
const PAIRWISE_LIMIT: usize = 16;

/// A label as the checks see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Label<'a> {
    pub(super) name: &'a [u8],
    pub(super) value: &'a [u8],
    /// Whether the name is known to be a legacy label name (an unquoted token of the text
    /// formats), so valid under either validation and not `__name__`... unless it is.
    pub(super) legacy: bool,
}

/// What the checks found of a sample that passed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Passed {
    /// Whether no label values could make these labels fail: no name repeats, none is
    /// `__name__`, every one is valid. Then a line that repeats the names with other values
    /// passes without the checks.
    pub(super) stable: bool,
}

/// Why a sample fails, and which of its labels (`None`: the metric name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) label: Option<usize>,
    pub(super) message: String,
}

/// A sample's metric name, and whether it is known to be a legacy metric name (an unquoted
/// token at a line's start), so valid under either validation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Name<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) legacy: bool,
}

/// Checks one sample: its metric name `name` and `count` labels (`label(i)` gives each),
/// stamped inside the head's window or not.
#[inline]
pub(super) fn check<'a>(
    judge: Judge,
    name: Name<'a>,
    count: usize,
    label: impl Fn(usize) -> Label<'a>,
    in_window: bool,
) -> Result<Passed, Refusal> {
    if count == 0 {
        // The common case of a sample without labels: only the name can be wrong.
        if !name.legacy {
            check_name(judge, name.bytes)?;
        }
        return Ok(Passed { stable: true });
    }
    if count <= PAIRWISE_LIMIT {
        // Most samples: no empty value and no `__name__` label, so no label is dropped; names
        // already sorted (as client libraries write them), so none repeats.
        let first = label(0);
        let mut dropping = first.value.is_empty() || first.name == b"__name__";
        let mut legacy = first.legacy;
        let mut sorted = true;
        let mut previous = first.name;
        for i in 1..count {
            let l = label(i);
            dropping |= l.value.is_empty() || l.name == b"__name__";
            legacy &= l.legacy;
            sorted &= previous < l.name;
            previous = l.name;
        }
        if !dropping {
            if !name.legacy {
                check_name(judge, name.bytes)?;
            }
            if !legacy {
                for i in 0..count {
                    let l = label(i);
                    if !l.legacy && !valid_label_name(judge, l.name) {
                        return Err(invalid_label(judge, i, l.name));
                    }
                }
            }
            if sorted {
                return Ok(Passed { stable: true });
            }
            let repeat = (1..count).find(|&i| {
                let n = label(i).name;
                (0..i).any(|j| label(j).name == n)
            });
            let Some(i) = repeat else { return Ok(Passed { stable: true }) };
            if in_window {
                // 2.42 replaces every exposed job and instance; another repeat is still there.
                let replaced =
                    |n: &[u8]| judge.version == Version::V2_42 && (n == b"job" || n == b"instance");
                if let Some(i) = (i..count).find(|&i| {
                    let n = label(i).name;
                    !replaced(n) && (0..i).any(|j| label(j).name == n)
                }) {
                    return Err(not_unique(i, label(i).name));
                }
            }
            return Ok(Passed { stable: false });
        }
    }
    check_dropping(judge, name.bytes, count, label, in_window).map(|()| Passed { stable: false })
}

fn invalid_label(judge: Judge, i: usize, name: &[u8]) -> Refusal {
    Refusal {
        label: Some(i),
        message: format!("invalid label name {:?}{}", String::from_utf8_lossy(name), scheme_note(judge)),
    }
}

fn not_unique(i: usize, name: &[u8]) -> Refusal {
    Refusal {
        label: Some(i),
        message: format!("label name {:?} is not unique", String::from_utf8_lossy(name)),
    }
}

/// The checks of a sample that may drop labels (an empty value, a `__name__` label) or has
/// many.
#[cold]
fn check_dropping<'a>(
    judge: Judge,
    name: &'a [u8],
    count: usize,
    label: impl Fn(usize) -> Label<'a>,
    in_window: bool,
) -> Result<(), Refusal> {
    if count > 64 {
        return check_many(judge, name, count, label, in_window);
    }
    // Which labels go: every one whose name has an empty value somewhere (a bit each).
    let mut dropped = 0u64;
    for i in 0..count {
        let l = label(i);
        if l.value.is_empty() {
            for j in 0..count {
                if label(j).name == l.name {
                    dropped |= 1 << j;
                }
            }
        }
    }
    let is_dropped = |i: usize| dropped & (1 << i) != 0;
    let name_dropped = (0..count).any(|i| is_dropped(i) && label(i).name == b"__name__");
    if name.is_empty() || name_dropped {
        return Err(Refusal { label: None, message: "missing metric name (__name__ label)".into() });
    }
    check_name(judge, name)?;
    for i in (0..count).filter(|&i| !is_dropped(i)) {
        let l = label(i);
        if !valid_label_name(judge, l.name) {
            return Err(invalid_label(judge, i, l.name));
        }
        if l.name == b"__name__" && !valid_metric_name(judge, l.value) {
            return Err(invalid_name_label(judge, i, l.value));
        }
    }
    if !in_window {
        return Ok(());
    }
    // The label names left, the metric name's `__name__` first, looking for one that repeats.
    let replaced = |n: &[u8]| judge.version == Version::V2_42 && (n == b"job" || n == b"instance");
    let kept = |i: usize| !is_dropped(i) && !replaced(label(i).name);
    for i in (0..count).filter(|&i| kept(i)) {
        let n = label(i).name;
        if n == b"__name__" {
            return Err(name_not_unique(i));
        }
        if (0..i).any(|j| kept(j) && label(j).name == n) {
            return Err(not_unique(i, n));
        }
    }
    Ok(())
}

fn invalid_name_label(judge: Judge, i: usize, value: &[u8]) -> Refusal {
    Refusal {
        label: Some(i),
        message: format!(
            "invalid metric name {:?} in a __name__ label{}",
            String::from_utf8_lossy(value),
            scheme_note(judge)
        ),
    }
}

fn name_not_unique(i: usize) -> Refusal {
    Refusal {
        label: Some(i),
        message: "label name \"__name__\" is not unique: the sample's metric name is one".into(),
    }
}

/// [`check_dropping`] for a sample of more than 64 labels, with sets (no hostile line costs
/// quadratic time).
#[cold]
fn check_many<'a>(
    judge: Judge,
    name: &'a [u8],
    count: usize,
    label: impl Fn(usize) -> Label<'a>,
    in_window: bool,
) -> Result<(), Refusal> {
    let labels: Vec<Label<'a>> = (0..count).map(&label).collect();
    let empty_names: std::collections::HashSet<&[u8]> =
        labels.iter().filter(|l| l.value.is_empty()).map(|l| l.name).collect();
    let dropped: Vec<bool> = labels.iter().map(|l| empty_names.contains(l.name)).collect();
    if name.is_empty() || empty_names.contains(&b"__name__"[..]) {
        return Err(Refusal { label: None, message: "missing metric name (__name__ label)".into() });
    }
    check_name(judge, name)?;
    for (i, l) in labels.iter().enumerate() {
        if dropped[i] {
            continue;
        }
        if !valid_label_name(judge, l.name) {
            return Err(invalid_label(judge, i, l.name));
        }
        if l.name == b"__name__" && !valid_metric_name(judge, l.value) {
            return Err(invalid_name_label(judge, i, l.value));
        }
    }
    if !in_window {
        return Ok(());
    }
    // The label names left, the metric name's `__name__` first, looking for one that repeats.
    let replaced = |n: &[u8]| judge.version == Version::V2_42 && (n == b"job" || n == b"instance");
    let mut seen = std::collections::HashSet::new();
    seen.insert(&b"__name__"[..]);
    for (i, l) in labels.iter().enumerate() {
        if dropped[i] || replaced(l.name) {
            continue;
        }
        if !seen.insert(l.name) {
            return Err(if l.name == b"__name__" { name_not_unique(i) } else { not_unique(i, l.name) });
        }
    }
    Ok(())
}

fn scheme_note(judge: Judge) -> &'static str {
    if judge.legacy_names { " (legacy name validation)" } else { "" }
}

/// The metric name alone (it is never empty here for a parser that found one).
#[inline]
fn check_name(judge: Judge, name: &[u8]) -> Result<(), Refusal> {
    if name.is_empty() {
        return Err(Refusal { label: None, message: "missing metric name (__name__ label)".into() });
    }
    if valid_metric_name(judge, name) {
        Ok(())
    } else {
        Err(Refusal {
            label: None,
            message: format!("invalid metric name {:?}{}", String::from_utf8_lossy(name), scheme_note(judge)),
        })
    }
}

/// A valid metric name: legacy `[a-zA-Z_:][a-zA-Z0-9_:]*`, or any non-empty UTF-8.
#[inline]
pub(super) fn valid_metric_name(judge: Judge, name: &[u8]) -> bool {
    if judge.legacy_names { lex::is_legacy_metric_name(name) } else { !name.is_empty() && utf8(name) }
}

/// A valid label name: legacy `[a-zA-Z_][a-zA-Z0-9_]*`, or any non-empty UTF-8.
#[inline]
pub(super) fn valid_label_name(judge: Judge, name: &[u8]) -> bool {
    if judge.legacy_names { lex::is_legacy_label_name(name) } else { !name.is_empty() && utf8(name) }
}

#[inline]
fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(judge: Judge, name: &str, labels: &[(&str, &str)], in_window: bool) -> Result<(), Option<usize>> {
        let label =
            |i: usize| Label { name: labels[i].0.as_bytes(), value: labels[i].1.as_bytes(), legacy: false };
        check(judge, Name { bytes: name.as_bytes(), legacy: false }, labels.len(), label, in_window)
            .map(drop)
            .map_err(|e| e.label)
    }

    #[test]
    fn empty_values_drop_every_label_of_their_name_first() {
        let v3 = Judge::PROMETHEUS_3;
        assert_eq!(run(v3, "a", &[("b", "N"), ("b", ""), ("b", "x")], true), Ok(()));
        assert_eq!(run(v3, "a", &[("b", "N"), ("b", "x")], true), Err(Some(1)));
        assert_eq!(run(v3, "a", &[("b", "N"), ("b", "x")], false), Ok(()), "outside the window");
        assert_eq!(run(v3, "a", &[("\u{ff}", ""), ("", "")], true), Ok(()));
        assert_eq!(run(v3, "a", &[("", "x")], true), Err(Some(0)));
        assert_eq!(run(v3, "a", &[("__name__", "")], true), Err(None));
        assert_eq!(run(v3, "a", &[("__name__", "b")], true), Err(Some(0)));
        assert_eq!(run(v3, "a", &[("__name__", "b")], false), Ok(()));
        assert_eq!(run(v3, "a", &[("__name__", "")], false), Err(None));
    }

    #[test]
    fn the_versions_differ_on_names_and_target_labels() {
        let (v3, v2) = (Judge::PROMETHEUS_3, Judge::PROMETHEUS_2_42);
        assert_eq!(run(v3, "a.b", &[("c.d", "1")], true), Ok(()));
        assert_eq!(run(v2, "a.b", &[], true), Err(None));
        assert_eq!(run(v2, "a", &[("c.d", "1")], true), Err(Some(0)));
        assert_eq!(run(Judge::PROMETHEUS_3_LEGACY, "  a", &[], true), Err(None));
        assert_eq!(run(v3, "  a", &[], true), Ok(()));
        assert_eq!(run(v3, "a", &[("job", "x"), ("job", "y")], true), Err(Some(1)));
        assert_eq!(run(v2, "a", &[("job", "x"), ("job", "y")], true), Ok(()));
        let many: Vec<(String, String)> = (0..40).map(|i| (format!("l{}", i % 39), i.to_string())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(run(v3, "a", &many, true), Err(Some(39)));
    }
}
