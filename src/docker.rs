//! The Docker Engine API, as the modules use it: the client ([`api`]) and the shapes of its
//! answers ([`model`]), the resolution of a container's name to its exporter's address
//! ([`resolve`]), and one `docker:` block's [`Connection`] (client and resolver, kept across a
//! reload that leaves the block unchanged). The Engine API is also what Podman's compatible
//! service speaks, so both are reached through it. Discovery of modules from container labels
//! is a source of modules (sources/docker.rs), above the module set; this is below it.

pub mod api;
pub mod model;
pub mod resolve;

use std::sync::Arc;

use api::{DockerClient, DockerError};
use resolve::Resolver;

use crate::config::docker::DockerConfig;
use crate::telemetry::DockerMetrics;

/// The Engine API as one `docker:` block configures it: the client and the address resolver
/// with its cache.
#[derive(Debug)]
pub struct Connection {
    /// The block.
    pub config: DockerConfig,
    /// The Engine API client.
    pub client: Arc<DockerClient>,
    /// Container addresses, cached for `cache_ttl`.
    pub resolver: Arc<Resolver>,
}

impl Connection {
    /// The client and resolver for `config` (its TLS files are read now); the families of
    /// `metrics` are shown from now on.
    pub fn open(config: DockerConfig, metrics: &Arc<DockerMetrics>) -> Result<Connection, DockerError> {
        let client = Arc::new(DockerClient::new(&config.host, config.tls.as_ref())?);
        let resolver = Arc::new(Resolver::new(client.clone(), config.cache_ttl, metrics.clone()));
        metrics.activate();
        Ok(Connection { config, client, resolver })
    }
}
