//! The composition root: a checked [`Config`], the flags' [`Options`] and the inbound
//! [`Security`] become a running [`App`]: the module set filled from the configuration, and
//! the routes with their checks. Nothing here reads files or sockets itself.

use std::sync::Arc;
use std::time::Duration;

use http::Response;
use http::request::Parts;
use tokio::sync::Semaphore;

use crate::body::Body;
use crate::config::Config;
use crate::config::docker::DockerConfig;
use crate::docker::api::{DockerClient, DockerError};
use crate::docker::discover::Discovery;
use crate::docker::resolve::Resolver;
use crate::method::build::BuildError;
use crate::method::http::DEFAULT_MAX_BODY_BYTES;
use crate::modules::ModuleSet;
use crate::reload::ReloadHandle;
use crate::routes::discovery::PathStyle;
use crate::routes::rate_limit::RateLimiter;
use crate::routes::{Conn, Routes};
use crate::scrape::deadline::DEFAULT_TIMEOUT_OFFSET;
use crate::security::Security;
use crate::telemetry::Metrics;
use crate::upstream::budget::DEFAULT_MAX_HELD_BYTES;

/// Default for `-web.max-requests`.
pub const DEFAULT_MAX_REQUESTS: usize = 1024;
/// Default for `-web.debug-scrapes`: debug reports are behind the same checks as scrapes and
/// hold no secret, so they are on.
pub const DEFAULT_DEBUG_SCRAPES: bool = true;
/// Default for `-web.proxy-path`.
pub const DEFAULT_PROXY_PATH: &str = "/proxy";
/// Default for `-web.telemetry-path`.
pub const DEFAULT_TELEMETRY_PATH: &str = "/metrics";

/// Settings that come from flags rather than the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Path of the proxy endpoint (`-web.proxy-path`).
    pub proxy_path: String,
    /// Path of our own metrics (`-web.telemetry-path`).
    pub telemetry_path: String,
    /// Subtracted from Prometheus's scrape timeout (`-web.timeout-offset`).
    pub timeout_offset: Duration,
    /// Largest upstream body read for verification.
    pub max_body_bytes: u64,
    /// Most bytes of upstream bodies held at once (`-upstream.max-held-bytes`).
    pub max_held_bytes: u64,
    /// Whether `POST /-/reload` is allowed (`-web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// Most scrapes at once (`-web.max-requests`); 0 for no limit.
    pub max_requests: usize,
    /// How `/discovery` names the module (`-web.discovery-path-style`).
    pub discovery_style: PathStyle,
    /// Whether `&debug=true` gives a debug report (`-web.debug-scrapes`).
    pub debug_scrapes: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            proxy_path: DEFAULT_PROXY_PATH.into(),
            telemetry_path: DEFAULT_TELEMETRY_PATH.into(),
            timeout_offset: DEFAULT_TIMEOUT_OFFSET,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_held_bytes: DEFAULT_MAX_HELD_BYTES,
            enable_lifecycle: false,
            max_requests: DEFAULT_MAX_REQUESTS,
            discovery_style: PathStyle::default(),
            debug_scrapes: DEFAULT_DEBUG_SCRAPES,
        }
    }
}

/// What lives as long as the daemon, across reloads: the module set, the metrics, the way to
/// ask for a reload, and container discovery while it runs.
#[derive(Debug, Clone)]
pub struct Lasting {
    /// The modules being served.
    pub modules: Arc<ModuleSet>,
    /// The proxy's own metrics.
    pub metrics: Arc<Metrics>,
    /// Asks the daemon to reload.
    pub reloader: ReloadHandle,
    /// The discovery loop, with the Docker connection it was started for.
    pub discovery: Arc<std::sync::Mutex<Option<RunningDiscovery>>>,
}

/// A discovery loop and the Docker connection it was started for.
pub type RunningDiscovery = (Arc<DockerLink>, Discovery);

/// The Engine API as one `docker:` block configures it: the client and the address resolver
/// with its cache. Kept across a reload that leaves the block unchanged.
#[derive(Debug)]
pub struct DockerLink {
    /// The block.
    pub config: DockerConfig,
    /// The Engine API client.
    pub client: Arc<DockerClient>,
    /// Container addresses, cached for `cache_ttl`.
    pub resolver: Arc<Resolver>,
}

/// Why an app cannot be built.
#[derive(Debug)]
pub enum BuildFailure {
    /// The Docker Engine API client cannot be made (its TLS files, say).
    Docker(DockerError),
    /// Modules that cannot be built, every one.
    Modules(Vec<BuildError>),
}

/// The running proxy: the routes and the TLS configuration of its listeners.
#[derive(Debug)]
pub struct App {
    routes: Routes,
    tls: Option<Arc<rustls::ServerConfig>>,
    tls_on_plain: bool,
    docker: Option<Arc<DockerLink>>,
}

impl App {
    /// Serves `config`'s modules through `lasting.modules` (every module is built before any
    /// is served; on failure the set is unchanged) and assembles the routes. The scrape slots
    /// and the rate limiter's bucket of `previous` carry over, so a reload does not reset them.
    pub fn build(
        config: Config,
        options: &Options,
        security: Security,
        lasting: &Lasting,
        previous: Option<&App>,
    ) -> Result<App, BuildFailure> {
        let Config { default_module, modules, docker } = config;
        let docker = match docker {
            None => None,
            Some(c) => match previous.and_then(|p| p.docker.as_ref()).filter(|d| d.config == c) {
                Some(same) => Some(same.clone()),
                None => {
                    let client =
                        Arc::new(DockerClient::new(&c.host, c.tls.as_ref()).map_err(BuildFailure::Docker)?);
                    let resolver =
                        Arc::new(Resolver::new(client.clone(), c.cache_ttl, lasting.metrics.docker.clone()));
                    lasting.metrics.docker.activate();
                    Some(Arc::new(DockerLink { config: c, client, resolver }))
                }
            },
        };
        lasting
            .modules
            .reconfigure(modules, docker.as_ref().map(|d| d.resolver.clone()))
            .map_err(BuildFailure::Modules)?;
        let Security { auth, tls, tls_on_plain, headers, rate_limit, warnings: _ } = security;
        let scrape_slots = match previous {
            Some(p) => p.routes.scrape_slots.clone(),
            None => (options.max_requests > 0).then(|| Arc::new(Semaphore::new(options.max_requests))),
        };
        // The bucket carries over while `rate_limit` is unchanged, so a reload neither refills
        // nor empties it; changed, it starts full under the new terms.
        let rate_limiter =
            rate_limit.map(|limit| match previous.and_then(|p| p.routes.rate_limiter.as_ref()) {
                Some(kept) if kept.limit() == limit => kept.clone(),
                Some(_) | None => Arc::new(RateLimiter::new(limit)),
            });
        let routes = Routes {
            proxy_path: options.proxy_path.clone(),
            telemetry_path: options.telemetry_path.clone(),
            timeout_offset: options.timeout_offset,
            default_module,
            modules: lasting.modules.clone(),
            metrics: lasting.metrics.clone(),
            auth,
            headers,
            lifecycle: options.enable_lifecycle.then(|| lasting.reloader.clone()),
            scrape_slots,
            rate_limiter,
            discovery_style: options.discovery_style,
            debug_scrapes: options.debug_scrapes,
            max_body_bytes: options.max_body_bytes,
        };
        Ok(App { routes, tls, tls_on_plain, docker })
    }

    /// Answers one request.
    pub async fn handle(&self, req: &Parts, conn: &Conn) -> Response<Body> {
        self.routes.handle(req, conn).await
    }

    /// The TLS configuration of the listeners that use TLS.
    pub fn tls(&self) -> Option<&Arc<rustls::ServerConfig>> {
        self.tls.as_ref()
    }

    /// The Docker connection of this configuration, if it has one.
    pub fn docker(&self) -> Option<&Arc<DockerLink>> {
        self.docker.as_ref()
    }

    /// Whether `-web.listen-address` serves TLS too (a web config with TLS and no
    /// `-web.tls.listen-address`, as exporter-toolkit does).
    pub fn tls_on_plain(&self) -> bool {
        self.tls_on_plain
    }
}

/// Cleans a path flag as the original does (`path.Clean("/" + p)`).
pub fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(clean_path("proxy"), "/proxy");
        assert_eq!(clean_path("/proxy/"), "/proxy");
        assert_eq!(clean_path("//a/./b/../c"), "/a/c");
        assert_eq!(clean_path(""), "/");
    }
}
