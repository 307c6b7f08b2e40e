//! The last failed scrapes of each module, for the landing page and the JSON listing: when,
//! status, cause (the text the log line has) and duration. A bounded ring per module; causes are
//! cut to a bounded length. No secret can be in them: they are the log's texts, which never hold
//! one.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Failed scrapes kept per module.
pub const RECENT_FAILURES: usize = 10;
/// Longest cause kept, in bytes; longer ones are cut with ` …`.
pub const MAX_CAUSE_BYTES: usize = 512;

/// One failed scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// When it ended.
    pub at: SystemTime,
    /// The status the client got.
    pub status: u16,
    /// Why, as logged.
    pub cause: String,
    /// How long it took.
    pub duration: Duration,
}

/// The last [`RECENT_FAILURES`] failures of one module, newest last.
#[derive(Debug, Default)]
pub struct RecentFailures(Mutex<VecDeque<Failure>>);

impl RecentFailures {
    /// Records a failure, dropping the oldest beyond the bound.
    pub fn push(&self, status: u16, cause: &str, duration: Duration) {
        let mut cause = cause.to_owned();
        if cause.len() > MAX_CAUSE_BYTES {
            let mut end = MAX_CAUSE_BYTES;
            while !cause.is_char_boundary(end) {
                end -= 1;
            }
            cause.truncate(end);
            cause.push_str(" …");
        }
        let mut ring = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() == RECENT_FAILURES {
            ring.pop_front();
        }
        ring.push_back(Failure { at: SystemTime::now(), status, cause, duration });
    }

    /// The failures kept, newest first.
    pub fn newest_first(&self) -> Vec<Failure> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_count_and_length() {
        let r = RecentFailures::default();
        for i in 0..15 {
            r.push(500, &format!("cause {i}"), Duration::from_millis(i));
        }
        let kept = r.newest_first();
        assert_eq!(kept.len(), RECENT_FAILURES);
        assert_eq!((kept[0].cause.as_str(), kept[9].cause.as_str()), ("cause 14", "cause 5"));
        r.push(502, &"é".repeat(MAX_CAUSE_BYTES), Duration::ZERO);
        let long = &r.newest_first()[0].cause;
        assert!(long.len() <= MAX_CAUSE_BYTES + " …".len() && long.ends_with(" …"), "{long}");
    }
}
