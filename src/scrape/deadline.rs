//! How long a scrape may take: the module's timeout, or Prometheus's own scrape timeout (sent in
//! `X-Prometheus-Scrape-Timeout-Seconds`) minus an offset, whichever is shorter, as
//! blackbox_exporter does (pure arithmetic); and [`in_time`], the one place a deadline is
//! applied to work.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::ScrapeError;

/// The shortest deadline a scrape-timeout header can produce, however small it is.
pub const MIN_SCRAPE_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest a shared fetch waits for the last answer of the same scrape to be sent
/// (coalesce.rs): a client that reads slowly, or not at all, delays the next fetch by at most
/// this, and never fails it.
pub const FOLLOW_MAX_WAIT: Duration = Duration::from_secs(1);

/// How long a fetch with `left` until its deadline (None: no deadline) may wait for an earlier
/// answer to be sent: [`FOLLOW_MAX_WAIT`] at most, and never more than half of `left`, so the
/// fetch keeps the other half.
pub fn follow_wait(left: Option<Duration>) -> Duration {
    left.map_or(FOLLOW_MAX_WAIT, |left| (left / 2).min(FOLLOW_MAX_WAIT))
}

/// Runs the work `start` makes until `deadline` (None: for as long as it takes). Past the
/// deadline the work is dropped, which ends whatever it holds (a connection, a command's
/// process group), and the scrape has timed out after `timeout`. The work is made here rather
/// than passed in made, so that its (large) future is stored once, inside this one.
pub async fn in_time<T, F: Future<Output = Result<T, ScrapeError>>>(
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    start: impl FnOnce() -> F,
) -> Result<T, ScrapeError> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, start())
            .await
            .unwrap_or_else(|_| Err(ScrapeError::Timeout(timeout.unwrap_or_default()))),
        None => start().await,
    }
}

/// The time allowed for one scrape, if any. A missing or malformed header leaves the module
/// timeout alone.
pub fn effective_timeout(
    module: Option<Duration>,
    header: Option<&[u8]>,
    offset: Duration,
) -> Option<Duration> {
    let from_header = header
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(|t| t.saturating_sub(offset).max(MIN_SCRAPE_TIMEOUT));
    match (module, from_header) {
        (Some(m), Some(h)) => Some(m.min(h)),
        (m, h) => m.or(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: Duration = Duration::from_millis(500);

    fn t(module: Option<u64>, header: Option<&str>) -> Option<Duration> {
        effective_timeout(module.map(Duration::from_millis), header.map(str::as_bytes), HALF)
    }

    #[test]
    fn the_shorter_of_module_timeout_and_header_minus_offset() {
        assert_eq!(t(None, None), None);
        assert_eq!(t(Some(5000), None), Some(Duration::from_secs(5)));
        assert_eq!(t(None, Some("10")), Some(Duration::from_millis(9500)));
        assert_eq!(t(Some(5000), Some("10")), Some(Duration::from_secs(5)));
        assert_eq!(t(Some(20_000), Some("10")), Some(Duration::from_millis(9500)));
        assert_eq!(t(None, Some("2.5")), Some(Duration::from_secs(2)));
    }

    #[test]
    fn never_below_the_floor() {
        assert_eq!(t(None, Some("0.2")), Some(MIN_SCRAPE_TIMEOUT));
        assert_eq!(
            t(Some(50), Some("0.2")),
            Some(Duration::from_millis(50)),
            "a shorter module timeout still wins"
        );
    }

    #[test]
    fn a_fetch_waits_for_the_last_answer_at_most_the_bound_and_half_its_time() {
        assert_eq!(follow_wait(None), FOLLOW_MAX_WAIT);
        assert_eq!(follow_wait(Some(Duration::from_secs(10))), FOLLOW_MAX_WAIT);
        assert_eq!(follow_wait(Some(Duration::from_millis(600))), Duration::from_millis(300));
        assert_eq!(follow_wait(Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for h in ["", "abc", "-1", "0", "NaN", "inf", "1e400"] {
            assert_eq!(t(Some(3000), Some(h)), Some(Duration::from_secs(3)), "{h:?}");
        }
    }
}
