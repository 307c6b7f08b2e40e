//! The fetch path: one fetch of a module, for every method alike. The runner fetches
//! (method/runner.rs); here, once for all of them, the fetch is bounded by the scrape's
//! deadline, a debug scrape's trace records what was reached and the body as it came, the body
//! is verified (verification.rs) and held whole or streamed through, bare output gets the
//! headers it is served with (response.rs), and a failed fetch is counted in the method's
//! counters and logged, once, with its cause.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::verification::{Verification, Verifying, dialect_of};
use crate::body::Body;
use crate::method::AnyRunner;
use crate::method::runner::{Answer, ModuleRef, Runner};
use crate::response::{self, accepts_gzip};
use crate::scrape::deadline::in_time;
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::ModuleMetrics;

/// What fetches for one module: its runner, with what the fetch path needs around it. Shared
/// with the task of a fetch that coalesced scrapes wait for.
#[derive(Debug)]
pub(crate) struct Fetcher<R = AnyRunner> {
    /// The module's name.
    pub(crate) name: String,
    /// Its runner.
    pub(crate) runner: R,
    /// Its counters.
    pub(crate) metrics: Arc<ModuleMetrics>,
    /// How its answers are verified.
    pub(crate) verification: Verification,
}

/// A fetch's answer as it is served, held whole in memory in the pieces it came in (each
/// carrying its room in the memory budget, if it has any).
#[derive(Debug)]
pub(crate) struct Whole {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) pieces: Vec<Bytes>,
    pub(crate) len: u64,
}

/// What a fetch gives.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// Held whole.
    Whole(Whole),
    /// Streamed through as it arrives: an upstream's answer that is not verified.
    Streamed(Response<Body>),
}

impl<R: Runner> Fetcher<R> {
    /// Fetches once, bounded by the scrape's deadline. With `whole`, an answer that would
    /// stream through is read whole first (for a debug report, or to share it).
    pub(crate) async fn fetch(&self, req: &ScrapeRequest<'_>, whole: bool) -> Result<Fetched, ScrapeError> {
        if let Some(t) = req.trace {
            t.upstream(self.runner.describe(req));
        }
        let result = in_time(req.deadline, req.timeout, || self.answer(req, whole)).await;
        if let Err(e) = &result {
            self.runner.count_failure(e, &self.metrics);
            log_failure(&self.name, self.runner.method(), e);
        }
        result
    }

    /// Fetches once and reads the whole answer, also one that would stream through.
    pub(crate) async fn fetch_whole(&self, req: &ScrapeRequest<'_>) -> Result<Whole, ScrapeError> {
        match self.fetch(req, true).await? {
            Fetched::Whole(whole) => Ok(whole),
            // Never: asked for the whole answer, the fetch reads it.
            Fetched::Streamed(_) => Err(ScrapeError::Lost),
        }
    }

    async fn answer(&self, req: &ScrapeRequest<'_>, whole: bool) -> Result<Fetched, ScrapeError> {
        let module = ModuleRef { name: &self.name, metrics: &self.metrics };
        let answer = self.runner.run(req, module).await?;
        // Moved whole into `serve`, so that this future's state does not keep it beside the
        // runner's (a scrape's future is moved as it starts, so its size is paid per scrape).
        self.serve(req, whole, answer).await
    }

    /// Verifies the runner's answer, holding it whole or streaming it through.
    async fn serve(
        &self,
        req: &ScrapeRequest<'_>,
        whole: bool,
        mut answer: Answer<'_>,
    ) -> Result<Fetched, ScrapeError> {
        let verifying = self.verification.start(req, &answer, self.runner.verifies())?;
        // The body is read where it lies in `answer` (bound by reference, not moved out), so
        // that this future's state holds it once.
        match answer {
            Answer::Http { status, headers, body } if verifying.is_none() && !whole => {
                let mut response = Response::new(body.stream(req.deadline));
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                Ok(Fetched::Streamed(response))
            }
            Answer::Http { status, ref mut headers, ref mut body } => {
                let verified = verifying.is_some();
                let mut verifying = verifying;
                let mut observe = |piece: &Bytes| {
                    if let Some(t) = req.trace {
                        t.piece(piece);
                    }
                    verifying.as_mut().map_or(Ok(()), |v| v.push(piece))
                };
                let read = body.read(req.deadline, verified, &mut observe).await;
                if let Some(t) = req.trace {
                    t.complete();
                }
                let (pieces, len) = read?;
                if let Some(verifying) = verifying {
                    verifying.end()?;
                    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
                }
                Ok(Fetched::Whole(Whole { status, headers: std::mem::take(headers), pieces, len }))
            }
            Answer::Bare { output, added } => {
                if let Some(t) = req.trace {
                    t.piece(&Bytes::copy_from_slice(&output));
                    t.complete();
                }
                let format = match verifying {
                    Some(verifying) => verified(verifying, &output)?.format,
                    None => dialect_of(&output).format,
                };
                let gzip = accepts_gzip(req.headers);
                let (headers, body) = response::bare(output, format, added.as_ref(), gzip).await;
                let len = body.len() as u64;
                let pieces = if body.is_empty() { Vec::new() } else { vec![body] };
                Ok(Fetched::Whole(Whole { status: StatusCode::OK, headers, pieces, len }))
            }
        }
    }
}

fn verified(mut verifying: Verifying, output: &[u8]) -> Result<crate::exposition::Dialect, ScrapeError> {
    verifying.push(output)?;
    verifying.end()
}

impl Fetched {
    /// The response a client gets.
    pub(crate) fn into_response(self) -> Response<Body> {
        match self {
            Fetched::Whole(whole) => whole.into_response(),
            Fetched::Streamed(response) => response,
        }
    }
}

impl Whole {
    /// The response, sending these pieces.
    pub(crate) fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::frames(self.pieces, self.len));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }

    /// A response over the same pieces as every other one made from this answer.
    pub(crate) fn share(&self) -> Response<Body> {
        let mut response = Response::new(Body::shared(&self.pieces, self.len));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// Logs a failed scrape once, with its cause.
pub(crate) fn log_failure(module: &str, method: &str, e: &ScrapeError) {
    tracing::warn!(module, method, error = %e, "scrape failed");
}

#[cfg(test)]
mod tests;
