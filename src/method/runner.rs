//! The seam between a module and where its metrics come from. Each method's runner implements
//! [`Runner`]: it fetches once and gives an [`Answer`] neutral of how it will be served, a head
//! and a body that is either whole in memory or still arriving from an upstream. The deadline,
//! the debug trace of the body, verification, failure counting and logging (the fetch path,
//! `modules/fetch.rs`), and the served headers and gzip (`response.rs`) are not a runner's
//! business: they are applied once, for every runner alike.

use std::future::Future;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt as _;
use tokio::time::Instant;

use super::build::BuildContext;
use crate::body::Body;
use crate::response::AddedFamily;
use crate::scrape::error::causes;
use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::{Families, ModuleMetrics};
use crate::upstream::budget::{MemoryBudget, NoRoom, ROOM_WAIT_WITHOUT_DEADLINE};
use crate::upstream::pool::UpstreamBody;

/// A method's way of fetching: an upstream client, a command, a file.
pub trait Runner {
    /// Fetches once for `module`. A debug scrape's `req.trace` is for what only the runner sees
    /// (the connection, a command's exit); the fetch path records the rest.
    fn run<'r>(
        &'r self,
        req: &'r ScrapeRequest<'_>,
        module: ModuleRef<'r>,
    ) -> impl Future<Output = Result<Answer<'r>, ScrapeError>> + Send + 'r;

    /// The method's name, as written in the YAML.
    fn method(&self) -> &'static str;

    /// What it reaches, for a debug report: a URL, a socket, a command line, a file.
    fn describe(&self, req: &ScrapeRequest<'_>) -> String;

    /// The method-specific counter families its module's counters appear in.
    fn families(&self) -> Families {
        Families::NONE
    }

    /// Whether a 200 answer is verified, and so held whole before it is served (an http
    /// module's `verify: false` streams it through instead).
    fn verifies(&self) -> bool {
        true
    }

    /// Counts a failed fetch in the method's own counters, if it counts there.
    fn count_failure(&self, _failure: &ScrapeError, _metrics: &ModuleMetrics) {}

    /// Whether a module whose configuration is unchanged must be built again all the same at a
    /// rebuild: its build read files and its own source is `rereading` (so a reload picks up
    /// rotated TLS files), or what it was built with changed (the Docker connection).
    fn stale(&self, _context: &BuildContext<'_>, _rereading: bool) -> bool {
        false
    }
}

/// The module a runner fetches for.
#[derive(Debug, Clone, Copy)]
pub struct ModuleRef<'a> {
    /// Its name, for the log.
    pub name: &'a str,
    /// Its counters.
    pub metrics: &'a ModuleMetrics,
}

/// What a runner answers with.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one per fetch, moved once; boxing would allocate per scrape")]
pub enum Answer<'r> {
    /// An HTTP upstream's answer: its status and headers (hop-by-hop ones removed), served as
    /// they are, whose Content-Type and Content-Encoding say how the body is verified; the
    /// body still arriving.
    Http {
        /// The status.
        status: StatusCode,
        /// The headers.
        headers: HeaderMap,
        /// The body.
        body: Arriving<'r>,
    },
    /// Bare exposition (a command's output, a file), whole: verified in the format it is
    /// written in, and served as a 200 with the headers the response layer gives it.
    Bare {
        /// The output.
        output: Vec<u8>,
        /// A family the proxy adds once the output is verified (a file's mtime).
        added: Option<AddedFamily>,
    },
}

/// An upstream body still arriving: read it whole ([`Arriving::read`]), holding room for it
/// in the memory budget, or pass it through unread ([`Arriving::stream`]).
#[derive(Debug)]
pub struct Arriving<'r> {
    /// The body, with the connection it arrives on.
    pub body: UpstreamBody,
    /// Its Content-Length, if it declares one.
    pub declared: Option<u64>,
    /// Where its room is held.
    pub budget: &'r MemoryBudget,
    /// The most bytes it may have.
    pub max_body: u64,
    /// The upstream, for messages.
    pub upstream: &'r str,
}

impl Arriving<'_> {
    /// Reads the body to its end, up to the body limit, holding room in the memory budget for
    /// it: all of the declared length before the first byte is read (when `reserve_declared`),
    /// else step by step; waits for room until `deadline`. Each piece goes through `observe`
    /// as it arrives. The pieces carry their room: each gives its share back when dropped.
    pub async fn read(
        &mut self,
        deadline: Option<Instant>,
        reserve_declared: bool,
        observe: &mut (dyn FnMut(&Bytes) -> Result<(), ScrapeError> + Send),
    ) -> Result<(Vec<Bytes>, u64), ScrapeError> {
        let declared = self.declared.filter(|_| reserve_declared);
        if declared.is_some_and(|n| n > self.max_body) {
            return Err(ScrapeError::BodyTooLarge { limit: self.max_body });
        }
        let wait_until = deadline.unwrap_or_else(|| Instant::now() + ROOM_WAIT_WITHOUT_DEADLINE);
        let mut held = self.budget.nothing();
        let room = |e: NoRoom| ScrapeError::NoMemory { never: e == NoRoom::Never };
        if let Some(n) = declared {
            self.budget.grow(&mut held, n, false, self.max_body, wait_until).await.map_err(room)?;
        }
        let mut pieces = Vec::new();
        let mut total: u64 = 0;
        while let Some(frame) = self.body.frame().await {
            let frame = frame.map_err(|e| ScrapeError::Upstream {
                upstream: self.upstream.to_owned(),
                cause: causes(&e),
            })?;
            let Ok(data) = frame.into_data() else { continue };
            total += data.len() as u64;
            if total > self.max_body {
                return Err(ScrapeError::BodyTooLarge { limit: self.max_body });
            }
            self.budget.grow(&mut held, total, true, self.max_body, wait_until).await.map_err(room)?;
            observe(&data)?;
            pieces.push(data);
        }
        Ok((held.spread(pieces), total))
    }

    /// The body passed through as it arrives, cut off at `deadline` or past the body limit.
    pub fn stream(self, deadline: Option<Instant>) -> Body {
        Body::stream(self.body, deadline, self.max_body)
    }
}
