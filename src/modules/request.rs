//! One scrape, as the modules see it: what the client asked for and by when.

use std::net::IpAddr;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use tokio::time::Instant;

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
}
