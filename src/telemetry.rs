//! The proxy's own metrics, served on `-web.telemetry-path`, with the original's names (they
//! are an interface: dashboards use them). No global registry: [`Metrics`] is created once and
//! passed down; each module holds its own [`ModuleMetrics`].

mod failures;
mod format;
mod process;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use failures::{Failure, MAX_CAUSE_BYTES, RECENT_FAILURES, RecentFailures};
pub use format::{escape, fmt_float};

/// The method-specific families a module's counters appear in, beside the ones every module
/// has. The module layer derives it from the module's method, so this file names no method.
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
enum Kind {
    /// A module: every scrape family, plus its method's.
    Module(Families),
    /// Requests for modules that do not exist (`module="unknown"`): errors only.
    Unknown,
}

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
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

/// The counters of one module (by name; they survive reloads that keep the name).
#[derive(Debug, Default)]
pub struct ModuleMetrics {
    kind: Mutex<Option<Kind>>,
    duration_sum_micros: AtomicU64,
    duration_count: AtomicU64,
    last_status: AtomicU64,
    last_duration_micros: AtomicU64,
    /// Failed scrapes of any kind (`expexp_proxy_errors_total`).
    pub errors: Counter,
    /// Scrapes that hit the deadline (`expexp_proxy_timeout_errors_total`).
    pub timeouts: Counter,
    /// Bodies that failed verification (`expexp_malformed_content_errors_total`).
    pub malformed: Counter,
    /// Commands started (`expexp_command_starts_total`).
    pub command_starts: Counter,
    /// Commands that failed to start or exited non-zero (`expexp_command_fails_total`).
    pub command_fails: Counter,
    /// File reads that failed (`expexp_file_fails_total`).
    pub file_fails: Counter,
    /// Scrapes served by another identical scrape's fetch (`expexp_scrapes_coalesced_total`).
    pub coalesced: Counter,
    /// Scrapes waiting for a connection to the upstream (`expexp_upstream_connection_waits`).
    pub waiting_connections: Gauge,
    /// The last failed scrapes, for the landing page and the JSON listing.
    pub failures: RecentFailures,
}

impl ModuleMetrics {
    /// Records the status and duration of one scrape.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.duration_sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.last_status.store(u64::from(status), Ordering::Relaxed);
        self.last_duration_micros.store(micros, Ordering::Relaxed);
    }

    /// The status and duration of the last scrape, if there was one.
    pub fn last(&self) -> Option<(u16, Duration)> {
        let status = u16::try_from(self.last_status.load(Ordering::Relaxed)).ok().filter(|s| *s != 0)?;
        Some((status, Duration::from_micros(self.last_duration_micros.load(Ordering::Relaxed))))
    }

    fn kind(&self) -> Option<Kind> {
        *self.kind.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The memory budget for upstream bodies held (`-upstream.max-held-bytes`).
#[derive(Debug, Default)]
pub struct BudgetMetrics {
    /// Bytes reserved now, by bodies being read and by pieces not yet sent (`expexp_held_body_bytes`).
    pub held_bytes: Gauge,
    /// Scrapes waiting now for room, or shared fetches for the last large answer of the same
    /// scrape to be sent (`expexp_scrapes_waiting_for_memory`).
    pub waiting: Gauge,
}

/// The health of container discovery.
#[derive(Debug, Default)]
pub struct DockerMetrics {
    /// Whether Docker is configured at all; the families are shown only then.
    active: std::sync::atomic::AtomicBool,
    /// Modules found by the last successful listing.
    modules: AtomicU64,
    /// Engine API calls that failed (`expexp_docker_api_errors_total`).
    pub api_errors: Counter,
    /// When containers were last listed successfully, seconds since the epoch as f64 bits.
    last_success: AtomicU64,
}

impl DockerMetrics {
    /// Records a successful listing that found `modules` modules.
    pub fn discovered(&self, modules: usize) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.modules.store(modules as u64, Ordering::Relaxed);
        self.last_success.store(now.as_secs_f64().to_bits(), Ordering::Relaxed);
    }

    /// Shows the families: a `docker:` block or a container module is configured.
    pub fn activate(&self) {
        self.active.store(true, Ordering::Relaxed);
    }

    /// Records that discovery is off: no discovered modules.
    pub fn stopped(&self) {
        self.modules.store(0, Ordering::Relaxed);
    }
}

/// Build facts, for `expexp_build_info` and `-version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// Crate version.
    pub version: &'static str,
    /// Git revision the binary was built from.
    pub revision: &'static str,
    /// Build date (UTC, RFC 3339 date).
    pub date: &'static str,
    /// rustc version.
    pub rustc: &'static str,
}

impl BuildInfo {
    /// The facts of this binary, recorded by build.rs.
    pub fn current() -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            revision: env!("EXPEXP_GIT_REVISION"),
            date: env!("EXPEXP_BUILD_DATE"),
            rustc: env!("EXPEXP_RUSTC_VERSION"),
        }
    }
}

/// Every metric the proxy exposes about itself.
#[derive(Debug)]
pub struct Metrics {
    build: BuildInfo,
    /// Container discovery and the Engine API.
    pub docker: Arc<DockerMetrics>,
    /// The memory budget for upstream bodies.
    pub budget: Arc<BudgetMetrics>,
    modules: Mutex<BTreeMap<String, Arc<ModuleMetrics>>>,
    unknown: Arc<ModuleMetrics>,
    process: process::Process,
    reload_successful: AtomicU64,
    /// Seconds since the epoch, as f64 bits.
    reload_success_time: AtomicU64,
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new(build: BuildInfo) -> Metrics {
        let unknown = Arc::new(ModuleMetrics::default());
        *unknown.kind.lock().unwrap_or_else(PoisonError::into_inner) = Some(Kind::Unknown);
        Metrics {
            build,
            docker: Arc::default(),
            budget: Arc::default(),
            modules: Mutex::new(BTreeMap::new()),
            unknown,
            process: process::Process::new(),
            reload_successful: AtomicU64::new(0),
            reload_success_time: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// The counters of module `name`, created (at zero) on first use. A module that changes
    /// method on reload keeps its counters.
    pub fn module(&self, name: &str, families: Families) -> Arc<ModuleMetrics> {
        let mut modules = self.modules.lock().unwrap_or_else(PoisonError::into_inner);
        let m = modules.entry(name.to_owned()).or_default().clone();
        *m.kind.lock().unwrap_or_else(PoisonError::into_inner) = Some(Kind::Module(families));
        m
    }

    /// Records a successful (re)load of the configuration.
    pub fn reload_succeeded(&self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        self.reload_successful.store(1, Ordering::Relaxed);
        self.reload_success_time.store(now.as_secs_f64().to_bits(), Ordering::Relaxed);
    }

    /// Records a refused reload.
    pub fn reload_failed(&self) {
        self.reload_successful.store(0, Ordering::Relaxed);
    }

    /// Forgets the counters of modules no longer served, so their series leave `/metrics`.
    pub fn retain_modules<'a>(&self, names: impl Iterator<Item = &'a String>) {
        let keep: std::collections::HashSet<&String> = names.collect();
        self.modules.lock().unwrap_or_else(PoisonError::into_inner).retain(|name, _| keep.contains(name));
    }

    /// Counters for requests naming an unknown module.
    pub fn unknown_module(&self) -> &ModuleMetrics {
        &self.unknown
    }

    /// The text exposition (format 0.0.4) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 << 10);
        let modules: Vec<(String, Arc<ModuleMetrics>)> = {
            let map = self.modules.lock().unwrap_or_else(PoisonError::into_inner);
            let mut v: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            if !map.contains_key("unknown") {
                v.push(("unknown".to_owned(), self.unknown.clone()));
            }
            v
        };
        let with = |covers: Covers| modules.iter().filter(move |(_, m)| m.kind().is_some_and(covers));
        let scraped: Covers = |k| matches!(k, Kind::Module(_));

        family(
            &mut out,
            "expexp_proxy_duration_seconds",
            "Duration of proxying requests to configured exporters",
            "summary",
        );
        for (name, m) in with(scraped) {
            let sum = m.duration_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            sample(&mut out, "expexp_proxy_duration_seconds_sum", name, &fmt_float(sum));
            let count = m.duration_count.load(Ordering::Relaxed);
            sample(&mut out, "expexp_proxy_duration_seconds_count", name, &count.to_string());
        }
        let counters: [CounterFamily; 7] = [
            ("expexp_proxy_errors_total", "Counts of errors", |_| true, |m| &m.errors),
            (
                "expexp_proxy_timeout_errors_total",
                "Counts of the number of times a proxy timeout occurred",
                scraped,
                |m| &m.timeouts,
            ),
            (
                "expexp_malformed_content_errors_total",
                "Counts of unparsable scrape content errors",
                scraped,
                |m| &m.malformed,
            ),
            (
                "expexp_command_starts_total",
                "Counts of command starts",
                |k| matches!(k, Kind::Module(f) if f.commands),
                |m| &m.command_starts,
            ),
            (
                "expexp_command_fails_total",
                "Count of commands that failed to start or exited non-zero",
                |k| matches!(k, Kind::Module(f) if f.commands),
                |m| &m.command_fails,
            ),
            (
                "expexp_file_fails_total",
                "Count of file modules that failed to read their file",
                |k| matches!(k, Kind::Module(f) if f.files),
                |m| &m.file_fails,
            ),
            (
                "expexp_scrapes_coalesced_total",
                "Scrapes answered by an identical scrape's fetch already in flight instead of a fetch of their own",
                scraped,
                |m| &m.coalesced,
            ),
        ];
        for (metric, help, covers, get) in counters {
            family(&mut out, metric, help, "counter");
            for (name, m) in with(covers) {
                sample(&mut out, metric, name, &get(m).get().to_string());
            }
        }
        family(
            &mut out,
            "expexp_upstream_connection_waits",
            "Scrapes waiting now for a connection to the module's upstream (http.max_connections reached)",
            "gauge",
        );
        for (name, m) in with(|k| matches!(k, Kind::Module(f) if f.connections)) {
            sample(
                &mut out,
                "expexp_upstream_connection_waits",
                name,
                &m.waiting_connections.get().to_string(),
            );
        }
        let b = &self.build;
        family(
            &mut out,
            "expexp_build_info",
            "A metric with a constant '1' value labeled by the version, revision, build date and rustc version exporter_exporter was built from.",
            "gauge",
        );
        let _ = writeln!(
            out,
            "expexp_build_info{{version=\"{}\",revision=\"{}\",build_date=\"{}\",rustversion=\"{}\"}} 1",
            escape(b.version),
            escape(b.revision),
            escape(b.date),
            escape(b.rustc)
        );
        family(
            &mut out,
            "expexp_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            "gauge",
        );
        let _ = writeln!(
            out,
            "expexp_config_last_reload_successful {}",
            self.reload_successful.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "expexp_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            "gauge",
        );
        let ts = f64::from_bits(self.reload_success_time.load(Ordering::Relaxed));
        let _ = writeln!(out, "expexp_config_last_reload_success_timestamp_seconds {}", fmt_float(ts));
        family(
            &mut out,
            "expexp_held_body_bytes",
            "Bytes of upstream bodies held in memory now, for verification or for coalesced scrapes (bounded by -upstream.max-held-bytes)",
            "gauge",
        );
        let _ = writeln!(out, "expexp_held_body_bytes {}", self.budget.held_bytes.get());
        family(
            &mut out,
            "expexp_scrapes_waiting_for_memory",
            "Scrapes waiting now for room in the memory budget for upstream bodies, or for the last large answer of the same scrape to be sent",
            "gauge",
        );
        let _ = writeln!(out, "expexp_scrapes_waiting_for_memory {}", self.budget.waiting.get());
        let d = &self.docker;
        if d.active.load(Ordering::Relaxed) {
            d.render(&mut out);
        }
        self.process.render(&mut out);
        out
    }
}

impl DockerMetrics {
    fn render(&self, out: &mut String) {
        let d = self;
        family(
            out,
            "expexp_docker_discovery_modules",
            "Modules found by the last listing of labelled containers.",
            "gauge",
        );
        let _ = writeln!(out, "expexp_docker_discovery_modules {}", d.modules.load(Ordering::Relaxed));
        family(out, "expexp_docker_api_errors_total", "Docker Engine API calls that failed.", "counter");
        let _ = writeln!(out, "expexp_docker_api_errors_total {}", d.api_errors.get());
        family(
            out,
            "expexp_docker_last_refresh_success_timestamp_seconds",
            "When labelled containers were last listed successfully.",
            "gauge",
        );
        let ts = f64::from_bits(d.last_success.load(Ordering::Relaxed));
        let _ = writeln!(out, "expexp_docker_last_refresh_success_timestamp_seconds {}", fmt_float(ts));
    }
}

/// Whether a family has a series for counters of this kind.
type Covers = fn(Kind) -> bool;

/// A counter family: name, help, the counters it covers, and how to read it.
type CounterFamily = (&'static str, &'static str, Covers, fn(&ModuleMetrics) -> &Counter);

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, metric: &str, module: &str, value: &str) {
    let _ = writeln!(out, "{metric}{{module=\"{}\"}} {value}", escape(module));
}

#[cfg(test)]
mod tests;
