//! One scrape, as the modules see it: what the client asked for and by when.

use std::net::IpAddr;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use tokio::time::Instant;

use super::trace::Trace;

/// One scrape, as the modules see it.
#[derive(Debug)]
pub struct ScrapeRequest<'a> {
    /// GET or HEAD.
    pub method: &'a Method,
    /// Query parameters to pass on: without the `module` that selected the module, or all of
    /// them when the path named it (`/proxy/NAME`).
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
    /// For a debug scrape, where the runner records what it sees.
    pub trace: Option<&'a Trace>,
}

/// A scrape that owns what it borrows: what a fetch shared by coalesced scrapes carries into
/// its own task.
#[derive(Debug, Clone)]
pub struct OwnedScrapeRequest {
    method: Method,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    host: Option<HeaderValue>,
    client_ip: IpAddr,
    forward_authorization: bool,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
}

impl OwnedScrapeRequest {
    /// A copy of `req`.
    pub fn of(req: &ScrapeRequest<'_>) -> OwnedScrapeRequest {
        OwnedScrapeRequest {
            method: req.method.clone(),
            params: req.params.to_vec(),
            headers: req.headers.clone(),
            host: req.host.cloned(),
            client_ip: req.client_ip,
            forward_authorization: req.forward_authorization,
            timeout: req.timeout,
            deadline: req.deadline,
        }
    }

    /// The scrape, borrowed again.
    pub fn borrow(&self) -> ScrapeRequest<'_> {
        ScrapeRequest {
            method: &self.method,
            params: &self.params,
            headers: &self.headers,
            host: self.host.as_ref(),
            client_ip: self.client_ip,
            forward_authorization: self.forward_authorization,
            timeout: self.timeout,
            deadline: self.deadline,
            // A fetch shared by coalesced scrapes is never a debug scrape's.
            trace: None,
        }
    }
}
