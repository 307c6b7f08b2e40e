//! The composition root: a checked [`Config`] and the inbound [`Security`] become a running
//! [`App`] with what lasts across reloads ([`Lasting`]): the module set filled from the
//! configuration, and the routes with their checks. Nothing here reads files or sockets itself.

use std::sync::Arc;

use http::Response;
use http::request::Parts;

use crate::body::Body;
use crate::config::Config;
use crate::docker::Connection;
use crate::docker::api::DockerError;
use crate::lasting::{Kept, Lasting};
use crate::method::build::BuildError;
use crate::routes::{Conn, Routes};
use crate::security::Security;
use crate::sources::{self, Wanted};

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
    docker: Option<Arc<Connection>>,
}

impl App {
    /// Serves `config`'s modules through `lasting.modules` (every module is built before any
    /// is served; on failure the set is unchanged) and assembles the routes. What lasting
    /// keeps (the rate limiter's bucket, the Docker connection) is used while the
    /// configuration of each is unchanged.
    pub fn build(config: Config, security: Security, lasting: &Lasting) -> Result<App, BuildFailure> {
        let Config { default_module, modules, docker } = config;
        let docker = lasting.docker(docker).map_err(BuildFailure::Docker)?;
        lasting
            .modules
            .reconfigure(modules, docker.as_ref().map(|d| d.resolver.clone()))
            .map_err(BuildFailure::Modules)?;
        let Security { auth, tls, tls_on_plain, headers, rate_limit, warnings: _ } = security;
        let routes = Routes {
            options: lasting.options.clone(),
            default_module,
            modules: lasting.modules.clone(),
            metrics: lasting.metrics.clone(),
            auth,
            headers,
            lifecycle: lasting.options.enable_lifecycle.then(|| lasting.reloader.clone()),
            scrape_slots: lasting.scrape_slots.clone(),
            rate_limiter: lasting.rate_limiter(rate_limit),
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

    /// Whether `-web.listen-address` serves TLS too (a web config with TLS and no
    /// `-web.tls.listen-address`, as exporter-toolkit does).
    pub fn tls_on_plain(&self) -> bool {
        self.tls_on_plain
    }

    /// What the next app keeps while its configuration is unchanged.
    pub fn kept(&self) -> Kept {
        Kept { rate_limiter: self.routes.rate_limiter.clone(), docker: self.docker.clone() }
    }

    /// The sources of modules besides the configuration that this configuration asks for:
    /// Docker discovery, when the `docker:` block has `discover`.
    pub fn sources(&self, lasting: &Lasting) -> Vec<Wanted> {
        self.docker.iter().filter_map(|d| sources::docker::wanted(d, &lasting.metrics.docker)).collect()
    }
}
