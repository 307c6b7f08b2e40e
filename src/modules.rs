//! The configured modules, running: each one's runner (an upstream client, a command, a file)
//! and its counters. [`RunningModule::scrape`] is the one entry point; it records the outcome
//! in the module's metrics and logs a failure once, with its cause.

pub mod deadline;
pub mod error;
pub mod exec;
pub mod file;
pub mod http;
pub mod output;
pub mod pool;
pub mod query;
pub mod tcp;
pub mod unix;
mod upstream_tls;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::{HeaderMap, HeaderValue, Method, Response};
use tokio::time::Instant;

use self::http::HttpUpstream;
pub use error::ScrapeError;
use exec::ExecRunner;
use file::FileReader;
pub use pool::UpstreamBody;
pub use upstream_tls::SystemRoots;

use crate::body::Body;
use crate::config::{Config, Module, Source};
use crate::telemetry::{Metrics, ModuleKind, ModuleMetrics};
use crate::tls::TlsError;

/// One scrape, as the modules see it.
#[derive(Debug)]
pub struct ScrapeRequest<'a> {
    /// GET or HEAD.
    pub method: &'a Method,
    /// Query parameters to pass on, without the `module` that selected the module.
    pub params: &'a [(String, String)],
    /// The client's request headers.
    pub headers: &'a HeaderMap,
    /// The Host the client asked for.
    pub host: Option<&'a HeaderValue>,
    /// The client's address.
    pub client_ip: IpAddr,
    /// Whether the client's Authorization header goes upstream (not when it was ours).
    pub forward_authorization: bool,
    /// The time allowed, if any.
    pub timeout: Option<Duration>,
    /// When the scrape must be answered by, if ever.
    pub deadline: Option<Instant>,
}

/// Why the modules could not be built.
#[derive(Debug, thiserror::Error)]
#[error("module {module:?}: {source}")]
pub struct BuildError {
    /// The module.
    pub module: String,
    /// Its TLS problem.
    #[source]
    pub source: TlsError,
}

#[derive(Debug)]
enum Runner {
    Http(Box<HttpUpstream>),
    Exec(ExecRunner),
    File(FileReader),
}

/// A module ready to scrape.
#[derive(Debug)]
pub struct RunningModule {
    /// Its configuration.
    pub config: Module,
    /// Its counters.
    pub metrics: Arc<ModuleMetrics>,
    runner: Runner,
}

/// Every running module, by name.
#[derive(Debug, Default)]
pub struct Modules {
    by_name: HashMap<String, Arc<RunningModule>>,
}

impl Modules {
    /// Builds every module of `config`; TLS files are read now. An exec module configured
    /// exactly as in `previous` keeps its runner (and so its run slots).
    pub fn build(
        config: &Config,
        metrics: &Metrics,
        max_body: u64,
        previous: Option<&Modules>,
    ) -> Result<Modules, BuildError> {
        let roots = SystemRoots::default();
        let mut by_name = HashMap::with_capacity(config.modules.len());
        for (name, module) in &config.modules {
            if let Some(old) = previous.and_then(|p| p.get(name))
                && matches!(old.runner, Runner::Exec(_))
                && old.config == *module
            {
                by_name.insert(name.clone(), old.clone());
                continue;
            }
            let (runner, kind) = match &module.source {
                Source::Http(h) => (
                    Runner::Http(Box::new(
                        HttpUpstream::build(h, &roots, max_body)
                            .map_err(|source| BuildError { module: name.clone(), source })?,
                    )),
                    ModuleKind::Http,
                ),
                Source::Exec(e) => (Runner::Exec(ExecRunner::new(e)), ModuleKind::Exec),
                Source::File(f) => (Runner::File(FileReader::new(f)), ModuleKind::File),
            };
            let running =
                RunningModule { config: module.clone(), metrics: metrics.module(name, kind), runner };
            by_name.insert(name.clone(), Arc::new(running));
        }
        Ok(Modules { by_name })
    }

    /// The module called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<RunningModule>> {
        self.by_name.get(name)
    }
}

impl RunningModule {
    /// Scrapes the module once.
    pub async fn scrape(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let start = std::time::Instant::now();
        let name = self.config.name.as_str();
        let result = match &self.runner {
            Runner::Http(h) => h.scrape(req).await,
            Runner::Exec(e) => e.scrape(name, req, &self.metrics).await,
            Runner::File(f) => f.scrape(name, req).await,
        };
        let status = match &result {
            Ok(r) => r.status(),
            Err(e) => e.status(),
        };
        self.metrics.observe(status.as_u16(), start.elapsed());
        if let Err(e) = &result {
            self.record(e);
            tracing::warn!(module = name, method = self.config.source.method(), error = %e, "scrape failed");
        }
        result
    }

    fn record(&self, e: &ScrapeError) {
        let m = &self.metrics;
        m.errors.inc();
        match e {
            ScrapeError::Timeout(_) => m.timeouts.inc(),
            ScrapeError::Malformed(_) | ScrapeError::Encoding(_) => m.malformed.inc(),
            _ => {}
        }
        match (&self.runner, e) {
            (
                Runner::Exec(_),
                ScrapeError::Spawn { .. } | ScrapeError::Exit { .. } | ScrapeError::Timeout(_),
            ) => {
                m.command_fails.inc();
            }
            (Runner::File(_), ScrapeError::File { .. } | ScrapeError::FileTooLarge { .. }) => {
                m.file_fails.inc();
            }
            _ => {}
        }
    }
}
