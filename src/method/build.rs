//! Building a module's runner: what it needs besides the module's configuration
//! ([`BuildContext`]), and why it can fail ([`BuildError`], every problem reported at (re)load,
//! naming the module).

use std::sync::Arc;

use crate::docker::api::DockerError;
use crate::docker::resolve::Resolver;
use crate::telemetry::Metrics;
use crate::tls::TlsError;
use crate::upstream::budget::MemoryBudget;
use crate::upstream::tls::SystemRoots;

/// What building a module needs besides its configuration.
#[derive(Debug)]
pub struct BuildContext<'a> {
    /// The system's root certificates, loaded once per build and only if a module needs them.
    pub roots: &'a SystemRoots,
    /// Largest upstream body read for verification.
    pub max_body: u64,
    /// The process-wide memory budget for upstream bodies held.
    pub budget: &'a Arc<MemoryBudget>,
    /// Where each module's counters live.
    pub metrics: &'a Metrics,
    /// How modules that name a container find its address, if Docker is configured.
    pub docker: Option<&'a Arc<Resolver>>,
}

/// Why one module could not be built.
#[derive(Debug, thiserror::Error)]
#[error("module {module:?}: {problem}")]
pub struct BuildError {
    /// The module.
    pub module: String,
    /// What is wrong with it.
    #[source]
    pub problem: BuildProblem,
}

/// What stops a module from being built.
#[derive(Debug, thiserror::Error)]
pub enum BuildProblem {
    /// Its TLS files or settings are unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// It names a container and the Docker Engine API cannot be used.
    #[error("Docker Engine API: {0}")]
    Docker(#[from] DockerError),
    /// It names a container but no Docker connection is configured.
    #[error("names a container, but no Docker connection is configured")]
    NoDocker,
}
