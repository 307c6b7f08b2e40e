//! A module ready to scrape: its runner (an upstream client, a command, a file) and its
//! counters. [`RunningModule::scrape`] is the one entry point; it joins an identical scrape's
//! fetch in flight or fetches (coalesce.rs), records the outcome in the module's metrics, and
//! logs a failed fetch once, with its cause. Adding a method means a variant of [`Runner`]
//! here; every match on it is exhaustive, so the compiler names each place.

use std::sync::Arc;

use ::http::{Method, Response};

use super::coalesce::{Flights, Key};
use super::error::{BuildError, ScrapeError};
use super::exec::ExecRunner;
use super::file::FileReader;
use super::http::HttpUpstream;
use super::request::{OwnedScrapeRequest, ScrapeRequest};
use crate::body::Body;
use crate::config::{Module, Scheme, Source};
use crate::docker::resolve::Resolver;
use crate::telemetry::{Families, Metrics, ModuleMetrics};
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
    fetcher: Arc<Fetcher>,
    flights: Arc<Flights>,
}

/// What fetches: the runner, with what it needs to count and log a fetch's failure. Shared
/// with the task of a fetch that coalesced scrapes wait for.
#[derive(Debug)]
struct Fetcher {
    name: String,
    runner: Runner,
    metrics: Arc<ModuleMetrics>,
}

impl RunningModule {
    /// Builds one module; TLS files are read now, so their errors surface at (re)load.
    pub fn build(module: &Module, context: &BuildContext<'_>) -> Result<RunningModule, BuildError> {
        let runner = match &module.source {
            Source::Http(h) => Runner::Http(Box::new(
                HttpUpstream::build(h, context.roots, context.max_body, context.budget, context.docker)
                    .map_err(|problem| BuildError { module: module.name.clone(), problem })?,
            )),
            Source::Exec(e) => Runner::Exec(ExecRunner::new(e)),
            Source::File(f) => Runner::File(FileReader::new(f)),
        };
        let metrics = context.metrics.module(&module.name, runner.families());
        let fetcher = Arc::new(Fetcher { name: module.name.clone(), runner, metrics: metrics.clone() });
        Ok(RunningModule {
            config: module.clone(),
            metrics,
            fetcher,
            flights: Arc::new(Flights::new(context.budget.clone())),
        })
    }

    /// Whether this module can keep serving as it is when its configuration is unchanged:
    /// an exec module keeps its run slots that way, an http module its kept-alive connections.
    /// When its own source is `rereading`, a module whose build reads files (TLS material of
    /// an https upstream) is built again, so a reload picks up rotated files; a module whose
    /// Docker connection changed is built again in any case.
    pub fn reusable_for(&self, module: &Module, context: &BuildContext<'_>, rereading: bool) -> bool {
        let stale = match &self.fetcher.runner {
            Runner::Http(h) => {
                (rereading && matches!(&module.source, Source::Http(s) if s.scheme == Scheme::Https))
                    || match (h.resolver(), context.docker) {
                        (Some(mine), Some(now)) => !Arc::ptr_eq(mine, now),
                        (Some(_), None) => true,
                        (None, _) => false,
                    }
            }
            Runner::Exec(_) | Runner::File(_) => false,
        };
        self.config == *module && !stale
    }

    /// Scrapes the module once: joins the fetch of an identical scrape in flight, or fetches.
    pub async fn scrape(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let start = std::time::Instant::now();
        let result = if self.coalesces(req) {
            self.coalesced(req).await
        } else {
            self.fetcher.fetch(req, false).await
        };
        self.observe(start, &result);
        result
    }

    /// Counts one scrape's outcome: its duration and status, and a failure's kind and cause.
    fn observe(&self, start: std::time::Instant, result: &Result<Response<Body>, ScrapeError>) {
        let status = match result {
            Ok(r) => r.status(),
            Err(e) => e.status(),
        };
        let m = &self.metrics;
        m.observe(status.as_u16(), start.elapsed());
        if let Err(e) = result {
            m.failures.push(status.as_u16(), &e.to_string(), start.elapsed());
            m.errors.inc();
            if matches!(e.cause(), ScrapeError::Timeout(_)) {
                m.timeouts.inc();
            }
            if e.is_malformed() {
                m.malformed.inc();
            }
        }
    }

    /// Scrapes once for a debug report: never shared with another scrape (its trace is its
    /// own), the body read whole whatever the status, counted and logged as any scrape.
    pub async fn debug(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let start = std::time::Instant::now();
        let result = self.fetcher.fetch(req, true).await;
        self.observe(start, &result);
        result
    }

    /// Whether this scrape may share a fetch: on unless `coalesce: false`; never for HEAD
    /// (nothing to share) or an unverified http module (its body streams through unheld).
    fn coalesces(&self, req: &ScrapeRequest<'_>) -> bool {
        let holds_bodies = match &self.fetcher.runner {
            Runner::Http(h) => h.verifies(),
            Runner::Exec(_) | Runner::File(_) => true,
        };
        self.config.coalesce && holds_bodies && req.method != Method::HEAD
    }

    /// Waits for the fetch of an identical scrape in flight, or starts one. A fetch that
    /// timed out at its own (earlier) deadline is not this scrape's answer: it tries again
    /// with the time it has left.
    async fn coalesced(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let key = Key::of(req);
        loop {
            let ticket = self.flights.join(key.clone(), req.deadline, || {
                let (fetcher, req) = (self.fetcher.clone(), OwnedScrapeRequest::of(req));
                async move { fetcher.fetch(&req.borrow(), true).await }
            });
            if ticket.joined {
                self.metrics.coalesced.inc();
            }
            let result = ticket.wait(req.deadline, req.timeout).await;
            if let Err(e) = &result {
                let retry = ticket.joined
                    && ticket.ends_before(req.deadline)
                    && matches!(e.cause(), ScrapeError::Timeout(_));
                if retry {
                    continue;
                }
                if !matches!(e, ScrapeError::Shared(_)) {
                    // Not the fetch's failure (logged by it) but this scrape's own.
                    tracing::warn!(module = self.config.name.as_str(), method = self.config.source.method(), error = %e, "scrape failed");
                }
            }
            return result;
        }
    }
}

impl Fetcher {
    /// Fetches once; counts a failure in the method's counters and logs it once, with its cause.
    async fn fetch(&self, req: &ScrapeRequest<'_>, whole: bool) -> Result<Response<Body>, ScrapeError> {
        let name = self.name.as_str();
        let result = match &self.runner {
            Runner::Http(h) => h.scrape(req, &self.metrics, whole).await,
            Runner::Exec(e) => e.scrape(name, req, &self.metrics).await,
            Runner::File(f) => f.scrape(name, req).await,
        };
        if let Err(e) = &result {
            self.record(e);
            tracing::warn!(module = name, method = self.runner.method(), error = %e, "scrape failed");
        }
        result
    }

    fn record(&self, e: &ScrapeError) {
        let m = &self.metrics;
        match &self.runner {
            Runner::Http(_) => {}
            Runner::Exec(_) => {
                if matches!(e, ScrapeError::Spawn { .. } | ScrapeError::Exit { .. } | ScrapeError::Timeout(_))
                {
                    m.command_fails.inc();
                }
            }
            Runner::File(_) => {
                if matches!(e, ScrapeError::File { .. } | ScrapeError::FileTooLarge { .. }) {
                    m.file_fails.inc();
                }
            }
        }
    }
}

impl Runner {
    fn method(&self) -> &'static str {
        match self {
            Runner::Http(_) => "http",
            Runner::Exec(_) => "exec",
            Runner::File(_) => "file",
        }
    }

    /// The method-specific counter families, derived from the method.
    fn families(&self) -> Families {
        match self {
            Runner::Http(_) => Families { connections: true, ..Families::default() },
            Runner::Exec(_) => Families { commands: true, ..Families::default() },
            Runner::File(_) => Families { files: true, ..Families::default() },
        }
    }
}
