//! The values the proxy's own metrics are made of: counters, gauges and timestamps, each an
//! atomic read when `/metrics` is scraped.

use std::sync::atomic::{AtomicU64, Ordering};

use super::family::Type;

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Its type in the exposition.
    pub const TYPE: Type = Type::Counter;

    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down: how many of something there are now.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Its type in the exposition.
    pub const TYPE: Type = Type::Gauge;

    /// Counts one more for as long as the returned guard lives.
    pub fn hold(&self) -> GaugeHold<'_> {
        self.add(1);
        GaugeHold(self, 1)
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes `n` away.
    pub fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }

    /// Sets it to `n`.
    pub fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One count of a [`Gauge`], taken away when dropped.
#[derive(Debug)]
pub struct GaugeHold<'a>(&'a Gauge, u64);

impl Drop for GaugeHold<'_> {
    fn drop(&mut self) {
        self.0.sub(self.1);
    }
}

/// When something last happened, in seconds since the epoch (0 for never).
#[derive(Debug, Default)]
pub struct Timestamp(AtomicU64);

impl Timestamp {
    /// It happened now.
    pub fn now(&self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.0.store(now.as_secs_f64().to_bits(), Ordering::Relaxed);
    }

    /// Seconds since the epoch.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}
