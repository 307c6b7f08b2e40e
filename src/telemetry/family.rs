//! A family of the proxy's own metrics as declared once: its name, help, type, whether the
//! original exporter_exporter has it, and where its samples come from. The declarations are the
//! tables in telemetry.rs and telemetry/module.rs; `/metrics`, the documentation's list of
//! families and the tests' are all made from them.

/// A family's type, as its `# TYPE` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `summary` (a sum and a count, no quantiles, as the original's).
    Summary,
}

impl Type {
    /// The `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Type::Counter => "counter",
            Type::Gauge => "gauge",
            Type::Summary => "summary",
        }
    }
}

/// Whether the original exporter_exporter has the family (those it has not are listed in
/// docs/migration.md).
pub const ORIGINAL: bool = true;
/// The family is ours alone.
pub const OURS: bool = false;

/// One family.
#[derive(Debug)]
pub struct Family<M: 'static, P: 'static> {
    /// Its name.
    pub name: &'static str,
    /// Its `# HELP` text.
    pub help: &'static str,
    /// Its type.
    pub kind: Type,
    /// Whether the original has it.
    pub original: bool,
    /// The labels of its series, beyond none.
    pub labels: &'static [&'static str],
    /// Where its samples come from.
    pub series: Series<M, P>,
}

/// Where a family's samples come from: `M` is one module's counters, `P` the proxy's.
#[derive(Debug)]
pub enum Series<M: 'static, P: 'static> {
    /// One series per module whose counters it covers, `name{module="..."}`.
    PerModule {
        /// Which modules have a series (by their method's families).
        covers: fn(&M) -> bool,
        /// The value.
        value: fn(&M) -> u64,
    },
    /// The duration summary: `_sum` and `_count` per scraped module.
    Durations,
    /// One series without labels; `shown` says whether the family is shown at all.
    Single {
        /// The value.
        value: fn(&P) -> f64,
        /// Whether it is shown.
        shown: fn(&P) -> bool,
    },
    /// `expexp_build_info{version,revision,build_date,rustversion} 1`.
    BuildInfo,
}
