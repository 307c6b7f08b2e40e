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

/// A label as the checks see it: its name and whether its value is empty.
#[derive(Debug, Clone, Copy)]
pub(super) struct Label<'a> {
    pub(super) name: &'a [u8],
    pub(super) value: &'a [u8],
}

/// Why a sample fails, and which of its labels (`None`: the metric name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) label: Option<usize>,
    pub(super) message: String,
}

/// Checks one sample: its metric name `name` and `count` labels (`label(i)` gives each),
/// stamped inside the head's window or not.
#[inline]
pub(super) fn check<'a>(
    judge: Judge,
    name: &'a [u8],
    count: usize,
    label: impl Fn(usize) -> Label<'a>,
    in_window: bool,
) -> Result<(), Refusal> {
    if count == 0 {
        // The common case of a sample without labels: only the name can be wrong.
        return check_name(judge, name);
    }
    let set = Names::new(count, &label);
    let dropped = |n: &[u8]| set.has_empty(n, count, &label);
    if name.is_empty() || dropped(b"__name__") {
        return Err(Refusal { label: None, message: "missing metric name (__name__ label)".into() });
    }
    check_name(judge, name)?;
    for i in 0..count {
        let l = label(i);
        if dropped(l.name) {
            continue;
        }
        if !valid_label_name(judge, l.name) {
            return Err(Refusal {
                label: Some(i),
                message: format!(
                    "invalid label name {:?}{}",
                    String::from_utf8_lossy(l.name),
                    scheme_note(judge)
                ),
            });
        }
        if l.name == b"__name__" && !valid_metric_name(judge, l.value) {
            return Err(Refusal {
                label: Some(i),
                message: format!(
                    "invalid metric name {:?} in a __name__ label{}",
                    String::from_utf8_lossy(l.value),
                    scheme_note(judge)
                ),
            });
        }
    }
    if !in_window {
        return Ok(());
    }
    // The label names left, the metric name's `__name__` first, looking for one that repeats.
    let replaced = |n: &[u8]| judge.version == Version::V2_42 && (n == b"job" || n == b"instance");
    let kept = |i: usize| {
        let l = label(i);
        !dropped(l.name) && !replaced(l.name)
    };
    if let Some(i) = (0..count).find(|&i| kept(i) && label(i).name == b"__name__") {
        return Err(Refusal {
            label: Some(i),
            message: "label name \"__name__\" is not unique: the sample's metric name is one".into(),
        });
    }
    if let Some(i) = set.second_of_a_repeat(count, &label, kept) {
        return Err(Refusal {
            label: Some(i),
            message: format!("label name {:?} is not unique", String::from_utf8_lossy(label(i).name)),
        });
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

/// The per-name questions, pairwise for a handful of labels, with a set for many.
enum Names<'a> {
    Pairwise,
    Set { empty: std::collections::HashSet<&'a [u8]> },
}

impl<'a> Names<'a> {
    fn new(count: usize, label: &impl Fn(usize) -> Label<'a>) -> Names<'a> {
        if count <= PAIRWISE_LIMIT {
            return Names::Pairwise;
        }
        let empty = (0..count).map(label).filter(|l| l.value.is_empty()).map(|l| l.name).collect();
        Names::Set { empty }
    }

    /// Whether some label named `name` has an empty value.
    #[inline]
    fn has_empty(&self, name: &[u8], count: usize, label: &impl Fn(usize) -> Label<'a>) -> bool {
        match self {
            Names::Pairwise => (0..count).any(|j| {
                let l = label(j);
                l.value.is_empty() && l.name == name
            }),
            Names::Set { empty } => empty.contains(name),
        }
    }

    /// The second label of the first name that repeats among the labels `kept` says count.
    fn second_of_a_repeat(
        &self,
        count: usize,
        label: &impl Fn(usize) -> Label<'a>,
        kept: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        match self {
            Names::Pairwise => (0..count)
                .filter(|&i| kept(i))
                .find(|&i| (0..i).any(|j| kept(j) && label(j).name == label(i).name)),
            Names::Set { .. } => {
                let mut seen = std::collections::HashSet::new();
                (0..count).filter(|&i| kept(i)).find(|&i| !seen.insert(label(i).name))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(judge: Judge, name: &str, labels: &[(&str, &str)], in_window: bool) -> Result<(), Option<usize>> {
        let label = |i: usize| Label { name: labels[i].0.as_bytes(), value: labels[i].1.as_bytes() };
        check(judge, name.as_bytes(), labels.len(), label, in_window).map_err(|e| e.label)
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
