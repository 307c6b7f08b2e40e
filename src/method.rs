//! The methods a module can get its metrics by (`method:` in the YAML), one file each, and
//! [`AnyRunner`], the runner of one module whatever its method. Every runner implements the one
//! seam, [`runner::Runner`]; the fetch path (`modules/fetch.rs`) applies the rest.

pub mod build;
pub mod exec;
pub mod file;
pub mod http;
pub mod runner;

use build::{BuildContext, BuildProblem};
use exec::ExecRunner;
use file::FileRunner;
use http::HttpRunner;
use runner::{Answer, ModuleRef, Runner};

use crate::config::Source;
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::{Families, ModuleMetrics};

/// The runner of one module.
#[derive(Debug)]
pub enum AnyRunner {
    /// `method: http`.
    Http(Box<HttpRunner>),
    /// `method: exec`.
    Exec(ExecRunner),
    /// `method: file`.
    File(FileRunner),
}

impl AnyRunner {
    /// Builds the runner of `source`; TLS files are read now, so their errors surface at
    /// (re)load.
    pub fn build(source: &Source, context: &BuildContext<'_>) -> Result<AnyRunner, BuildProblem> {
        Ok(match source {
            Source::Http(h) => AnyRunner::Http(Box::new(HttpRunner::build(
                h,
                context.roots,
                context.max_body,
                context.budget,
                context.docker,
            )?)),
            Source::Exec(e) => AnyRunner::Exec(ExecRunner::new(e)),
            Source::File(f) => AnyRunner::File(FileRunner::new(f)),
        })
    }
}

impl Runner for AnyRunner {
    fn method(&self) -> &'static str {
        match self {
            AnyRunner::Http(r) => r.method(),
            AnyRunner::Exec(r) => r.method(),
            AnyRunner::File(r) => r.method(),
        }
    }

    async fn run<'r>(
        &'r self,
        req: &'r ScrapeRequest<'_>,
        module: ModuleRef<'r>,
    ) -> Result<Answer<'r>, ScrapeError> {
        match self {
            AnyRunner::Http(r) => r.run(req, module).await,
            AnyRunner::Exec(r) => r.run(req, module).await,
            AnyRunner::File(r) => r.run(req, module).await,
        }
    }

    fn describe(&self, req: &ScrapeRequest<'_>) -> String {
        match self {
            AnyRunner::Http(r) => r.describe(req),
            AnyRunner::Exec(r) => r.describe(req),
            AnyRunner::File(r) => r.describe(req),
        }
    }

    fn families(&self) -> Families {
        match self {
            AnyRunner::Http(r) => r.families(),
            AnyRunner::Exec(r) => r.families(),
            AnyRunner::File(r) => r.families(),
        }
    }

    fn verifies(&self) -> bool {
        match self {
            AnyRunner::Http(r) => r.verifies(),
            AnyRunner::Exec(r) => r.verifies(),
            AnyRunner::File(r) => r.verifies(),
        }
    }

    fn count_failure(&self, failure: &ScrapeError, metrics: &ModuleMetrics) {
        match self {
            AnyRunner::Http(r) => r.count_failure(failure, metrics),
            AnyRunner::Exec(r) => r.count_failure(failure, metrics),
            AnyRunner::File(r) => r.count_failure(failure, metrics),
        }
    }

    fn stale(&self, context: &BuildContext<'_>, rereading: bool) -> bool {
        match self {
            AnyRunner::Http(r) => r.stale(context, rereading),
            AnyRunner::Exec(r) => r.stale(context, rereading),
            AnyRunner::File(r) => r.stale(context, rereading),
        }
    }
}
