//! The web configuration's `rate_limit`: one token bucket over every request, as
//! exporter-toolkit's (`golang.org/x/time/rate`'s `Limiter.Allow`): it starts full with
//! `burst` tokens, gains one each `interval` up to `burst`, and a request that finds it empty
//! is answered 429 at once.

use std::sync::Mutex;

use tokio::time::Instant;

use crate::config::web::RateLimit;

/// The bucket, shared by every listener and kept across reloads that leave `rate_limit` as it
/// was.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    bucket: Mutex<Bucket>,
}

/// Tokens are kept as nanoseconds of refill (one token is `interval`), so the arithmetic is
/// exact.
#[derive(Debug)]
struct Bucket {
    credit_ns: u128,
    last: Instant,
}

impl RateLimiter {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> RateLimiter {
        let full = limit.interval.as_nanos() * u128::from(limit.burst);
        RateLimiter { limit, bucket: Mutex::new(Bucket { credit_ns: full, last: Instant::now() }) }
    }

    /// The configuration it enforces.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token if there is one.
    pub fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> bool {
        let token = self.limit.interval.as_nanos();
        let full = token * u128::from(self.limit.burst);
        // A poisoned lock only means another request panicked mid-update of two integers.
        let mut b = self.bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let elapsed = now.saturating_duration_since(b.last).as_nanos();
        b.last = b.last.max(now);
        b.credit_ns = (b.credit_ns + elapsed).min(full);
        if b.credit_ns >= token {
            b.credit_ns -= token;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let limiter = RateLimiter::new(RateLimit { interval: Duration::from_millis(100), burst: 3 });
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!([limiter.allow_at(at(0)), limiter.allow_at(at(0)), limiter.allow_at(at(0))], [true; 3]);
        assert!(!limiter.allow_at(at(1)), "the burst is spent");
        assert!(!limiter.allow_at(at(99)));
        assert!(limiter.allow_at(at(101)), "one token per interval");
        assert!(!limiter.allow_at(at(102)));
        // A long quiet spell refills to the burst, no more.
        assert_eq!((0..5).filter(|_| limiter.allow_at(at(10_000))).count(), 3);
    }

    #[test]
    fn a_burst_of_zero_allows_nothing_as_in_the_toolkit() {
        let limiter = RateLimiter::new(RateLimit { interval: Duration::from_millis(1), burst: 0 });
        assert!(!limiter.allow_at(Instant::now() + Duration::from_secs(60)));
    }
}
