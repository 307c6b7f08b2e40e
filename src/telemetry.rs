//! The proxy's own metrics, served on `-web.telemetry-path`, with the original's names (they
//! are an interface: dashboards use them). Each family is declared once, in a table: the
//! per-module counters in telemetry/module.rs, the proxy-wide values here ([`PROXY_WIDE`]);
//! `/metrics` is rendered from the tables, and the documentation's and the tests' lists of
//! families are made from them ([`families`]). No global registry: [`Metrics`] is created once
//! and passed down; each module holds its own [`ModuleMetrics`].

mod failures;
mod family;
mod format;
mod module;
mod process;
mod values;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

pub use failures::{Failure, MAX_CAUSE_BYTES, RECENT_FAILURES, RecentFailures};
pub use family::{ORIGINAL, OURS, Series, Type};
pub use format::{escape, fmt_float};
pub use module::{Families, ModuleMetrics};
pub use values::{Counter, Gauge, GaugeHold, Timestamp};

use module::Shown;

/// A family of the proxy's own metrics.
pub type Family = family::Family<ModuleMetrics, Metrics>;

/// The memory budget for upstream bodies held (`-upstream.max-held-bytes`).
#[derive(Debug, Default)]
pub struct BudgetMetrics {
    /// Bytes reserved now, by bodies being read and by pieces not yet sent.
    pub held_bytes: Gauge,
    /// Scrapes waiting now for room, or shared fetches for the last large answer of the same
    /// scrape to be sent.
    pub waiting: Gauge,
}

/// The health of container discovery.
#[derive(Debug, Default)]
pub struct DockerMetrics {
    /// Whether Docker is configured at all; the families are shown only then.
    active: AtomicBool,
    /// Modules found by the last successful listing.
    pub modules: Gauge,
    /// Engine API calls that failed.
    pub api_errors: Counter,
    /// When containers were last listed successfully.
    pub last_success: Timestamp,
}

impl DockerMetrics {
    /// Records a successful listing that found `modules` modules.
    pub fn discovered(&self, modules: usize) {
        self.modules.set(modules as u64);
        self.last_success.now();
    }

    /// Shows the families: a `docker:` block or a container module is configured.
    pub fn activate(&self) {
        self.active.store(true, Ordering::Relaxed);
    }

    /// Records that discovery is off: no discovered modules.
    pub fn stopped(&self) {
        self.modules.set(0);
    }

    fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
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
    reload_successful: Gauge,
    reload_success_time: Timestamp,
}

fn always(_: &Metrics) -> bool {
    true
}

fn docker_active(m: &Metrics) -> bool {
    m.docker.active()
}

/// The proxy-wide families, after the per-module ones and `expexp_build_info`, in the order
/// `/metrics` shows them. A new one is a line here and the value it reads.
pub const PROXY_WIDE: &[Family] = &[
    Family {
        name: "expexp_config_last_reload_successful",
        help: "Whether the last configuration reload attempt was successful.",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.reload_successful.get() as f64, shown: always },
    },
    Family {
        name: "expexp_config_last_reload_success_timestamp_seconds",
        help: "Timestamp of the last successful configuration reload.",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.reload_success_time.get(), shown: always },
    },
    Family {
        name: "expexp_held_body_bytes",
        help: "Bytes of upstream bodies held in memory now, for verification or for coalesced scrapes (bounded by -upstream.max-held-bytes)",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.budget.held_bytes.get() as f64, shown: always },
    },
    Family {
        name: "expexp_scrapes_waiting_for_memory",
        help: "Scrapes waiting now for room in the memory budget for upstream bodies, or for the last large answer of the same scrape to be sent",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.budget.waiting.get() as f64, shown: always },
    },
    Family {
        name: "expexp_docker_discovery_modules",
        help: "Modules found by the last listing of labelled containers.",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.docker.modules.get() as f64, shown: docker_active },
    },
    Family {
        name: "expexp_docker_api_errors_total",
        help: "Docker Engine API calls that failed.",
        kind: Type::Counter,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.docker.api_errors.get() as f64, shown: docker_active },
    },
    Family {
        name: "expexp_docker_last_refresh_success_timestamp_seconds",
        help: "When labelled containers were last listed successfully.",
        kind: Type::Gauge,
        original: OURS,
        labels: &[],
        series: Series::Single { value: |m| m.docker.last_success.get(), shown: docker_active },
    },
];

/// The duration summary, first.
const DURATIONS: Family = module::durations();
/// The per-module counters' families (declared in telemetry/module.rs).
const PER_MODULE: [Family; module::COUNT] = module::per_module();

/// `expexp_build_info`, between the per-module families and the proxy-wide ones.
const BUILD_INFO: Family = Family {
    name: "expexp_build_info",
    help: "A metric with a constant '1' value labeled by the version, revision, build date and rustc version exporter_exporter was built from.",
    kind: Type::Gauge,
    original: OURS,
    labels: &["version", "revision", "build_date", "rustversion"],
    series: Series::BuildInfo,
};

/// Every family of ours (`process_*` aside, which every exporter has), in the order `/metrics`
/// shows them.
pub fn families() -> impl Iterator<Item = &'static Family> {
    std::iter::once(&DURATIONS).chain(&PER_MODULE).chain(std::iter::once(&BUILD_INFO)).chain(PROXY_WIDE)
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new(build: BuildInfo) -> Metrics {
        let unknown = Arc::new(ModuleMetrics::default());
        unknown.show_as(Shown::Unknown);
        Metrics {
            build,
            docker: Arc::default(),
            budget: Arc::default(),
            modules: Mutex::new(BTreeMap::new()),
            unknown,
            process: process::Process::new(),
            reload_successful: Gauge::default(),
            reload_success_time: Timestamp::default(),
        }
    }

    /// The counters of module `name`, created (at zero) on first use. A module that changes
    /// method on reload keeps its counters.
    pub fn module(&self, name: &str, families: Families) -> Arc<ModuleMetrics> {
        let mut modules = self.modules.lock().unwrap_or_else(PoisonError::into_inner);
        let m = modules.entry(name.to_owned()).or_default().clone();
        m.show_as(Shown::Module(families));
        m
    }

    /// Records a successful (re)load of the configuration.
    pub fn reload_succeeded(&self) {
        self.reload_successful.set(1);
        self.reload_success_time.now();
    }

    /// Records a refused reload.
    pub fn reload_failed(&self) {
        self.reload_successful.set(0);
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
        for family in families() {
            self.render_family(&mut out, family, &modules);
        }
        self.process.render(&mut out);
        out
    }

    fn render_family(&self, out: &mut String, f: &Family, modules: &[(String, Arc<ModuleMetrics>)]) {
        if let Series::Single { shown, .. } = f.series
            && !shown(self)
        {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {}", f.name, f.help, f.name, f.kind.as_str());
        match f.series {
            Series::PerModule { covers, value } => {
                for (name, m) in modules.iter().filter(|(_, m)| covers(m)) {
                    sample(out, f.name, "", name, value(m));
                }
            }
            Series::Durations => {
                for (name, m) in modules.iter().filter(|(_, m)| matches!(m.shown(), Some(Shown::Module(_)))) {
                    let (sum, count) = m.durations();
                    sample(out, f.name, "_sum", name, fmt_float(sum));
                    sample(out, f.name, "_count", name, count);
                }
            }
            Series::Single { value, .. } => {
                let _ = writeln!(out, "{} {}", f.name, fmt_float(value(self)));
            }
            Series::BuildInfo => {
                let b = &self.build;
                let _ = writeln!(
                    out,
                    "{}{{version=\"{}\",revision=\"{}\",build_date=\"{}\",rustversion=\"{}\"}} 1",
                    f.name,
                    escape(b.version),
                    escape(b.revision),
                    escape(b.date),
                    escape(b.rustc)
                );
            }
        }
    }
}

fn sample(out: &mut String, family: &str, suffix: &str, module: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{family}{suffix}{{module=\"{}\"}} {value}", escape(module));
}

#[cfg(test)]
mod tests;
