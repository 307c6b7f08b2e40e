//! The modules being served: one [`ModuleSet`], whose current [`Modules`] are replaced whole
//! when a source of modules changes (the YAML on reload, and later discovered ones). Every
//! source goes through the same build path ([`ModuleSet::replace`]); a module whose
//! configuration is unchanged keeps its runner (and so its run slots and counters), and a
//! module that goes away takes its series off `/metrics`.

mod coalesce;
mod fetch;
pub mod running;
pub mod verification;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

pub use running::RunningModule;

use crate::config::Module;
use crate::docker::resolve::Resolver;
use crate::method::build::{BuildContext, BuildError};
use crate::telemetry::Metrics;
use crate::upstream::budget::MemoryBudget;
use crate::upstream::tls::SystemRoots;

/// Where a module comes from. The order of the variants is precedence: when two sources name
/// the same module, the earlier one keeps it. Adding a source means a variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The YAML configuration (`-config.file`, `-config.dirs`).
    Configured,
    /// Containers labelled for scraping (`docker.discover`).
    Docker,
}

/// Every module served at one moment, by name; a snapshot that never changes.
#[derive(Debug, Default)]
pub struct Modules {
    by_name: BTreeMap<String, Arc<RunningModule>>,
}

impl Modules {
    /// The module called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<RunningModule>> {
        self.by_name.get(name)
    }

    /// Every module, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<RunningModule>> {
        self.by_name.values()
    }
}

/// The modules being served, replaceable at run time.
#[derive(Debug)]
pub struct ModuleSet {
    current: ArcSwap<Modules>,
    /// What each source last gave; a replace of one source rebuilds the whole set from these.
    sources: Mutex<BTreeMap<Source, BTreeMap<String, Module>>>,
    metrics: Arc<Metrics>,
    max_body: u64,
    budget: Arc<MemoryBudget>,
    /// How modules that name a container find its address; replaced when the `docker:` block
    /// changes.
    docker: Mutex<Option<Arc<Resolver>>>,
    /// Names given by a later source that an earlier one already serves, as last logged.
    conflicts: Mutex<BTreeSet<(String, Source)>>,
}

impl ModuleSet {
    /// An empty set; `max_body` bounds every upstream body read for verification, and
    /// `max_held` all of those held at once.
    pub fn new(metrics: Arc<Metrics>, max_body: u64, max_held: u64) -> ModuleSet {
        ModuleSet {
            current: ArcSwap::default(),
            sources: Mutex::default(),
            budget: Arc::new(MemoryBudget::new(max_held, metrics.budget.clone())),
            metrics,
            max_body,
            docker: Mutex::default(),
            conflicts: Mutex::default(),
        }
    }

    /// The modules being served now.
    pub fn current(&self) -> Arc<Modules> {
        self.current.load_full()
    }

    /// Replaces the modules of one source. Every module is built before any is served, so a
    /// module that cannot be built (a TLS file, say) leaves the set as it was; every such
    /// problem is reported, not just the first.
    pub fn replace(&self, source: Source, modules: BTreeMap<String, Module>) -> Result<(), Vec<BuildError>> {
        let docker = self.docker.lock().unwrap_or_else(PoisonError::into_inner).clone();
        self.rebuild(
            source,
            |sources| {
                sources.insert(source, modules);
            },
            docker,
        )
    }

    /// Replaces the configured modules and the Docker connection they and every discovered
    /// module use, together: on failure neither changes. Without a Docker connection the
    /// discovered modules go too (they could not be built without one).
    pub fn reconfigure(
        &self,
        modules: BTreeMap<String, Module>,
        docker: Option<Arc<Resolver>>,
    ) -> Result<(), Vec<BuildError>> {
        let no_docker = docker.is_none();
        self.rebuild(
            Source::Configured,
            |sources| {
                sources.insert(Source::Configured, modules);
                if no_docker {
                    sources.remove(&Source::Docker);
                }
            },
            docker,
        )
    }

    /// Builds the set from the sources as `edit` leaves them; commits only on success. The
    /// lock is held throughout, so two sources replacing at once do not lose an update.
    /// `source` is the source being replaced: its modules that read files are built again.
    fn rebuild(
        &self,
        source: Source,
        edit: impl FnOnce(&mut BTreeMap<Source, BTreeMap<String, Module>>),
        docker: Option<Arc<Resolver>>,
    ) -> Result<(), Vec<BuildError>> {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = sources.clone();
        edit(&mut next);
        let previous = self.current.load_full();
        let roots = SystemRoots::default();
        let context = BuildContext {
            roots: &roots,
            max_body: self.max_body,
            budget: &self.budget,
            metrics: &self.metrics,
            docker: docker.as_ref(),
        };
        let mut by_name = BTreeMap::new();
        let mut problems = Vec::new();
        let mut conflicts = BTreeSet::new();
        for (from, modules) in &next {
            let rereading = *from == source;
            for (name, module) in modules {
                if by_name.contains_key(name) {
                    conflicts.insert((name.clone(), *from));
                    continue;
                }
                match previous.get(name).filter(|old| old.reusable_for(module, &context, rereading)) {
                    Some(old) => {
                        by_name.insert(name.clone(), old.clone());
                    }
                    None => match RunningModule::build(module, &context) {
                        Ok(m) => {
                            by_name.insert(name.clone(), Arc::new(m));
                        }
                        Err(e) => problems.push(e),
                    },
                }
            }
        }
        let served = if problems.is_empty() {
            *sources = next;
            *self.docker.lock().unwrap_or_else(PoisonError::into_inner) = docker;
            // Each conflict is logged once, when it appears, not at every refresh.
            let mut known = self.conflicts.lock().unwrap_or_else(PoisonError::into_inner);
            for (name, from) in conflicts.difference(&known) {
                tracing::warn!(module = %name, source = ?from, "a module of this name comes from an earlier source (the configuration wins); this one is not served");
            }
            *known = conflicts;
            self.current.store(Arc::new(Modules { by_name }));
            self.current.load_full()
        } else {
            previous
        };
        // Counters made for modules that are not served (gone, or in a refused build) go.
        self.metrics.retain_modules(served.by_name.keys());
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::telemetry::BuildInfo;

    fn modules(yaml: &str) -> BTreeMap<String, Module> {
        Config::from_yaml(yaml, Path::new("t.yaml")).expect("config").modules
    }

    fn set() -> ModuleSet {
        let build = BuildInfo { version: "0", revision: "r", date: "d", rustc: "rustc" };
        ModuleSet::new(Arc::new(Metrics::new(build)), 1 << 20, 1 << 20)
    }

    const TWO: &str = "modules:\n  a: {method: exec, exec: {command: /bin/true}}\n  \
                       b: {method: file, file: {path: /nonexistent.prom}}\n";

    #[test]
    fn unchanged_modules_keep_their_runner_and_changed_ones_are_built_again() {
        let set = set();
        set.replace(Source::Configured, modules(TWO)).expect("builds");
        let before = set.current();
        let changed = TWO.replace("/nonexistent.prom", "/other.prom");
        set.replace(Source::Configured, modules(&changed)).expect("builds");
        let after = set.current();
        let same = |n: &str| Arc::ptr_eq(before.get(n).expect("was"), after.get(n).expect("is"));
        assert!(same("a"), "the exec module (and its run slots) carried over");
        assert!(!same("b"), "the changed module was built again");
        assert_eq!(after.get("b").expect("b").config.method, modules(&changed)["b"].method);
    }

    #[test]
    fn a_module_that_goes_takes_its_series_off_the_metrics() {
        let set = set();
        set.replace(Source::Configured, modules(TWO)).expect("builds");
        set.current().get("b").expect("b").metrics.errors.inc();
        assert!(set.metrics.render().contains("expexp_proxy_errors_total{module=\"b\"} 1"));
        set.replace(
            Source::Configured,
            modules("modules:\n  a: {method: exec, exec: {command: /bin/true}}\n"),
        )
        .expect("builds");
        assert!(set.current().get("b").is_none());
        assert!(!set.metrics.render().contains("module=\"b\""), "{}", set.metrics.render());
    }

    #[test]
    fn a_refused_build_reports_every_module_and_changes_nothing() {
        let set = set();
        set.replace(Source::Configured, modules(TWO)).expect("builds");
        let bad = "modules:\n  \
                   x: {method: http, http: {port: 1, scheme: https, tls_ca_cert_file: /nonexistent/x.pem}}\n  \
                   y: {method: http, http: {port: 1, scheme: https, tls_ca_cert_file: /nonexistent/y.pem}}\n";
        let problems = set.replace(Source::Configured, modules(bad)).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{text:?}");
        assert!(text[0].contains("\"x\"") && text[1].contains("/nonexistent/y.pem"), "{text:?}");
        let current = set.current();
        let names: Vec<&str> = current.iter().map(|m| m.config.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(!set.metrics.render().contains("module=\"x\""), "no counters for modules never served");
    }
}
