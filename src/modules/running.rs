//! A module ready to scrape: its fetcher (the runner of its method, fetch.rs) and its counters.
//! [`RunningModule::scrape`] is the one entry point: it joins an identical scrape's fetch in
//! flight or fetches (coalesce.rs), and records the outcome in the module's metrics.

use std::sync::Arc;

use ::http::{Method, Response};

use super::coalesce::{Flights, Key};
use super::fetch::{Fetcher, log_failure};
use super::verification::Verification;
use crate::body::Body;
use crate::config::Module;
use crate::method::AnyRunner;
use crate::method::build::{BuildContext, BuildError};
use crate::method::runner::Runner;
use crate::scrape::request::OwnedScrapeRequest;
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::ModuleMetrics;

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

impl RunningModule {
    /// Builds one module; TLS files are read now, so their errors surface at (re)load.
    pub fn build(module: &Module, context: &BuildContext<'_>) -> Result<RunningModule, BuildError> {
        let runner = AnyRunner::build(&module.method, context)
            .map_err(|problem| BuildError { module: module.name.clone(), problem })?;
        let metrics = context.metrics.module(&module.name, runner.families());
        let verification = Verification { max_body: context.max_body };
        let fetcher =
            Arc::new(Fetcher { name: module.name.clone(), runner, metrics: metrics.clone(), verification });
        Ok(RunningModule {
            config: module.clone(),
            metrics,
            fetcher,
            flights: Arc::new(Flights::new(context.budget.clone())),
        })
    }

    /// Whether this module can keep serving as it is when its configuration is unchanged:
    /// an exec module keeps its run slots that way, an http module its kept-alive connections.
    /// `rereading`: its own source is being read again.
    pub fn reusable_for(&self, module: &Module, context: &BuildContext<'_>, rereading: bool) -> bool {
        self.config == *module && !self.fetcher.runner.stale(context, rereading)
    }

    /// The method's name, as written in the YAML.
    pub fn method(&self) -> &'static str {
        self.fetcher.runner.method()
    }

    /// Scrapes the module once: joins the fetch of an identical scrape in flight, or fetches.
    pub async fn scrape(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let start = std::time::Instant::now();
        let result = if self.coalesces(req) {
            self.coalesced(req).await
        } else {
            self.fetcher.fetch(req, false).await.map(|f| f.into_response())
        };
        self.observe(start, &result);
        result
    }

    /// Scrapes once for a debug report: never shared with another scrape (its trace is its
    /// own), the body read whole whatever the status, counted and logged as any scrape.
    pub async fn debug(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let start = std::time::Instant::now();
        let result = self.fetcher.fetch(req, true).await.map(|f| f.into_response());
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

    /// Whether this scrape may share a fetch: on unless `coalesce: false`; never for HEAD
    /// (nothing to share) or a runner whose answers stream through unheld (`verify: false`).
    fn coalesces(&self, req: &ScrapeRequest<'_>) -> bool {
        self.config.coalesce && self.fetcher.runner.verifies() && req.method != Method::HEAD
    }

    /// Waits for the fetch of an identical scrape in flight, or starts one. A fetch that
    /// timed out at its own (earlier) deadline is not this scrape's answer: it tries again
    /// with the time it has left.
    async fn coalesced(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let key = Key::of(req);
        loop {
            let ticket = self.flights.join(key.clone(), req.deadline, || {
                let (fetcher, req) = (self.fetcher.clone(), OwnedScrapeRequest::of(req));
                async move { fetcher.fetch_whole(&req.borrow()).await }
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
                    log_failure(&self.config.name, self.method(), e);
                }
            }
            return result;
        }
    }
}
