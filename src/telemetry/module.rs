//! The counters of one module, declared once each (in [`per_module!`]'s list): the field a
//! scrape counts in, and the family `/metrics` shows it in, with its name, help, type, which
//! modules have a series, and whether the original has it. A new per-module metric is a line
//! in the list and its `inc()` where it happens.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::failures::RecentFailures;
use super::family::{Family, ORIGINAL, OURS, Series};
use super::values::{Counter, Gauge};

/// The method-specific families a module's counters appear in, beside the ones every module
/// has; the method's runner says which (`Runner::families`, method/runner.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Families {
    /// `expexp_command_starts_total` and `expexp_command_fails_total`.
    pub commands: bool,
    /// `expexp_file_fails_total`.
    pub files: bool,
    /// `expexp_upstream_connection_waits`.
    pub connections: bool,
}

impl Families {
    /// No method-specific family.
    pub const NONE: Families = Families { commands: false, files: false, connections: false };
}

/// Which families a set of counters appears in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    /// A module: every scrape family, plus its method's.
    Module(Families),
    /// Requests for modules that do not exist (`module="unknown"`): errors only.
    Unknown,
}

/// How long scrapes took, for the duration summary, and the last one's outcome.
#[derive(Debug, Default)]
struct Durations {
    sum_micros: AtomicU64,
    count: AtomicU64,
    last_status: AtomicU64,
    last_micros: AtomicU64,
}

macro_rules! per_module {
    ($($(#[$doc:meta])* $field:ident: $type:ident = $name:literal, $help:literal, $covers:ident, $origin:ident;)*) => {
        /// The counters of one module (by name; they survive reloads that keep the name).
        #[derive(Debug, Default)]
        pub struct ModuleMetrics {
            shown: Mutex<Option<Shown>>,
            durations: Durations,
            /// The last failed scrapes, for the landing page and the JSON listing.
            pub failures: RecentFailures,
            $($(#[$doc])* pub $field: $type,)*
        }

        /// How many per-module counter families there are.
        pub(super) const COUNT: usize = [$(stringify!($field)),*].len();

        /// The families of the per-module counters, in the order `/metrics` shows them (`P`,
        /// the proxy's metrics, is the parent's type).
        pub(super) const fn per_module<P>() -> [Family<ModuleMetrics, P>; COUNT] {
            [$(
                Family {
                    name: $name,
                    help: $help,
                    kind: $type::TYPE,
                    original: $origin,
                    labels: &["module"],
                    series: Series::PerModule { covers: $covers, value: |m| m.$field.get() },
                },
            )*]
        }
    };
}

per_module! {
    /// Failed scrapes of any kind.
    errors: Counter = "expexp_proxy_errors_total", "Counts of errors", every, ORIGINAL;
    /// Scrapes that hit the deadline.
    timeouts: Counter = "expexp_proxy_timeout_errors_total",
        "Counts of the number of times a proxy timeout occurred", scraped, ORIGINAL;
    /// Bodies that failed verification.
    malformed: Counter = "expexp_malformed_content_errors_total",
        "Counts of unparsable scrape content errors", scraped, ORIGINAL;
    /// Commands started.
    command_starts: Counter = "expexp_command_starts_total", "Counts of command starts", commands, ORIGINAL;
    /// Commands that failed to start or exited non-zero.
    command_fails: Counter = "expexp_command_fails_total",
        "Count of commands that failed to start or exited non-zero", commands, ORIGINAL;
    /// File reads that failed.
    file_fails: Counter = "expexp_file_fails_total",
        "Count of file modules that failed to read their file", files, OURS;
    /// Scrapes served by another identical scrape's fetch.
    coalesced: Counter = "expexp_scrapes_coalesced_total",
        "Scrapes answered by an identical scrape's fetch already in flight instead of a fetch of their own",
        scraped, OURS;
    /// Scrapes waiting for a connection to the upstream.
    waiting_connections: Gauge = "expexp_upstream_connection_waits",
        "Scrapes waiting now for a connection to the module's upstream (http.max_connections reached)",
        connections, OURS;
}

/// The duration summary, shown before the per-module counters.
pub(super) const fn durations<P>() -> Family<ModuleMetrics, P> {
    Family {
        name: "expexp_proxy_duration_seconds",
        help: "Duration of proxying requests to configured exporters",
        kind: super::family::Type::Summary,
        original: ORIGINAL,
        labels: &["module"],
        series: Series::Durations,
    }
}

fn every(m: &ModuleMetrics) -> bool {
    m.shown().is_some()
}

fn scraped(m: &ModuleMetrics) -> bool {
    matches!(m.shown(), Some(Shown::Module(_)))
}

fn commands(m: &ModuleMetrics) -> bool {
    matches!(m.shown(), Some(Shown::Module(f)) if f.commands)
}

fn files(m: &ModuleMetrics) -> bool {
    matches!(m.shown(), Some(Shown::Module(f)) if f.files)
}

fn connections(m: &ModuleMetrics) -> bool {
    matches!(m.shown(), Some(Shown::Module(f)) if f.connections)
}

impl ModuleMetrics {
    /// Records the status and duration of one scrape.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let d = &self.durations;
        d.sum_micros.fetch_add(micros, Ordering::Relaxed);
        d.count.fetch_add(1, Ordering::Relaxed);
        d.last_status.store(u64::from(status), Ordering::Relaxed);
        d.last_micros.store(micros, Ordering::Relaxed);
    }

    /// The status and duration of the last scrape, if there was one.
    pub fn last(&self) -> Option<(u16, Duration)> {
        let d = &self.durations;
        let status = u16::try_from(d.last_status.load(Ordering::Relaxed)).ok().filter(|s| *s != 0)?;
        Some((status, Duration::from_micros(d.last_micros.load(Ordering::Relaxed))))
    }

    /// The sum of the scrapes' durations in seconds, and their count.
    pub(super) fn durations(&self) -> (f64, u64) {
        let d = &self.durations;
        (d.sum_micros.load(Ordering::Relaxed) as f64 / 1e6, d.count.load(Ordering::Relaxed))
    }

    pub(super) fn shown(&self) -> Option<Shown> {
        *self.shown.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn show_as(&self, shown: Shown) {
        *self.shown.lock().unwrap_or_else(PoisonError::into_inner) = Some(shown);
    }
}
