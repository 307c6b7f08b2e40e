//! `method: http`, the reverse proxy: builds the upstream request (URL from the module, query
//! merged, client headers forwarded minus hop-by-hop ones) and answers with the upstream's
//! head, its body still arriving; the fetch path reads a 200 body whole while verifying it and
//! serves the upstream's bytes and headers unchanged, and streams anything else through.
//! Connections are kept alive in the module's pool (pool.rs), at most `http.max_connections`
//! open at once.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response};
use http_body_util::Empty;
use hyper::body::Incoming;

use super::config::{Endpoint, HttpConfig, Scheme, bracketed};
use crate::config::docker::ContainerTarget;
use crate::docker::resolve::Resolver;
use crate::method::build::{BuildContext, BuildProblem};
use crate::method::runner::{Answer, Arriving, ModuleRef, Runner};
use crate::scrape::error::causes;
use crate::scrape::{ScrapeError, ScrapeRequest, query};
use crate::telemetry::{Families, ModuleMetrics};
use crate::tls::TlsError;
use crate::upstream::budget::MemoryBudget;
use crate::upstream::pool::{Checkout, Connection, Pool, PoolLimits, Room, UpstreamBody};
use crate::upstream::tcp::TcpConnector;
use crate::upstream::tls::{self as upstream_tls, SystemRoots};
use crate::upstream::unix::UnixConnector;

/// Idle upstream connections kept per module (Go keeps 2): enough to serve a burst of scrapes
/// without reconnecting, few enough that an idle proxy holds little.
pub const MAX_IDLE_CONNECTIONS: usize = 8;
/// How long an idle upstream connection is kept (as Go's default transport).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a scrape without a deadline of its own waits for a connection to its upstream.
pub const CONNECTION_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(60);

/// Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// How one module reaches its upstream: TCP (HTTP or HTTPS), a unix socket, or a container
/// whose address is asked of the Docker Engine API at connect time.
#[derive(Debug)]
enum Connector {
    Tcp(TcpConnector),
    Unix(UnixConnector),
    Container { target: ContainerTarget, resolver: Arc<Resolver>, tcp: TcpConnector },
}

/// A running http module.
#[derive(Debug)]
pub struct HttpRunner {
    config: Box<HttpConfig>,
    connector: Connector,
    pool: Arc<Pool>,
    /// The Host header sent when the client sent none: `host[:port]`, the port left out where
    /// it is the scheme's default (as Go and hyper write it).
    default_host: HeaderValue,
    /// `host:port`, for messages.
    authority: String,
    basic_auth: Option<HeaderValue>,
    max_body: u64,
    budget: Arc<MemoryBudget>,
}

impl HttpRunner {
    /// Builds the client for one module; reads its TLS files now, so errors surface at startup.
    pub fn build(
        source: &HttpConfig,
        roots: &SystemRoots,
        max_body: u64,
        budget: &Arc<MemoryBudget>,
        docker: Option<&Arc<Resolver>>,
    ) -> Result<HttpRunner, BuildProblem> {
        let (connector, authority) = match &source.endpoint {
            Endpoint::Unix(path) => {
                (Connector::Unix(UnixConnector::new(path.clone())), format!("unix:{}", path.display()))
            }
            Endpoint::Tcp { address, port } => {
                let connector = tcp_connector(source, address, port.get(), roots)?;
                (Connector::Tcp(connector), format!("{}:{port}", bracketed(address)))
            }
            Endpoint::Container(target) => {
                let resolver = docker.ok_or(BuildProblem::NoDocker)?.clone();
                // Dialled at the address each connect resolves; TLS checks the container's
                // name unless `server_name` says otherwise.
                let tcp = tcp_connector(source, &target.name, target.port.get(), roots)?;
                let authority = format!("container {}:{}", target.name, target.port);
                (Connector::Container { target: target.clone(), resolver, tcp }, authority)
            }
        };
        let default_host = source.default_host.clone();
        let pool = Arc::new(Pool::new(PoolLimits {
            max_open: source.max_connections.get(),
            max_idle: MAX_IDLE_CONNECTIONS,
            idle_timeout: IDLE_CONNECTION_TIMEOUT,
        }));
        let basic_auth = source.basic_auth.as_ref().map(|b| {
            use base64::Engine as _;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", b.username, b.password));
            let mut v =
                HeaderValue::from_str(&format!("Basic {token}")).unwrap_or(HeaderValue::from_static(""));
            v.set_sensitive(true);
            v
        });
        Ok(HttpRunner {
            config: Box::new(source.clone()),
            connector,
            pool,
            default_host,
            authority,
            basic_auth,
            max_body,
            budget: budget.clone(),
        })
    }

    /// Sends the request on a kept-alive connection, or a new one, and waits for the head.
    /// Beyond `http.max_connections` open connections, waits for one to be given back (or to
    /// close) until the scrape's deadline.
    async fn exchange(
        &self,
        req: &ScrapeRequest<'_>,
        metrics: &ModuleMetrics,
    ) -> Result<(Connection, Response<Incoming>), ScrapeError> {
        let checkout = self.pool.checkout(|| metrics.waiting_connections.hold());
        let checkout = match req.deadline {
            // The caller's deadline bounds the wait (a 504, as any scrape that runs out of time).
            Some(_) => checkout.await,
            None => tokio::time::timeout(CONNECTION_WAIT_WITHOUT_DEADLINE, checkout)
                .await
                .map_err(|_| ScrapeError::NoConnection(self.config.max_connections.get()))?,
        };
        let room = match checkout {
            Checkout::Room(room) => room,
            Checkout::Idle(mut conn) => match conn.send(self.traced_request(req, true)).await {
                Ok(response) => return Ok((conn, response)),
                // The upstream closed the idle connection as the request went out: a scrape is
                // idempotent, so it is tried once more on a new connection, as Go's transport does.
                Err(e) if closed_under_us(&e) => conn.close(),
                Err(e) => return Err(self.upstream_error(&e)),
            },
        };
        let mut conn = self.connect(req, room).await?;
        let response =
            conn.send(self.traced_request(req, false)).await.map_err(|e| self.upstream_error(&e))?;
        Ok((conn, response))
    }

    /// The upstream request; for a debug scrape, recorded with the connection it goes on.
    fn traced_request(&self, req: &ScrapeRequest<'_>, reused: bool) -> Request<Empty<Bytes>> {
        let request = self.request(req);
        if let Some(t) = req.trace {
            t.connected(reused);
            t.request(request.method(), request.uri().to_string(), request.headers());
        }
        request
    }

    async fn connect(&self, req: &ScrapeRequest<'_>, room: Room) -> Result<Connection, ScrapeError> {
        let refused = |e: &(dyn std::error::Error + 'static)| ScrapeError::Connect {
            upstream: self.authority.clone(),
            cause: causes(e),
        };
        match &self.connector {
            Connector::Tcp(c) => {
                let io = c.connect().await.map_err(|e| refused(&e))?;
                Connection::handshake(io, room).await.map_err(|e| refused(&e))
            }
            Connector::Unix(c) => {
                let io = c.connect().await.map_err(|e| refused(&e))?;
                Connection::handshake(io, room).await.map_err(|e| refused(&e))
            }
            Connector::Container { target, resolver, tcp } => {
                // A remembered address that refuses the connection may be the container's old
                // one (it restarted): forget it and ask once more.
                let mut retried = false;
                loop {
                    let addr = resolver.resolve(target, req.deadline).await?;
                    if let Some(t) = req.trace {
                        t.upstream(format!("{} (container {} at {addr})", self.describe(req), target.name));
                    }
                    match tcp.connect_to(addr).await {
                        Ok(io) => return Connection::handshake(io, room).await.map_err(|e| refused(&e)),
                        Err(e) => {
                            resolver.forget(target);
                            if retried {
                                return Err(refused(&e));
                            }
                            retried = true;
                        }
                    }
                }
            }
        }
    }

    /// The resolver this module asks for its container's address, if it names a container.
    pub fn resolver(&self) -> Option<&Arc<Resolver>> {
        match &self.connector {
            Connector::Container { resolver, .. } => Some(resolver),
            Connector::Tcp(_) | Connector::Unix(_) => None,
        }
    }

    fn request(&self, req: &ScrapeRequest<'_>) -> Request<Empty<Bytes>> {
        // Origin form: the connection already goes to the upstream.
        let mut uri = String::with_capacity(self.config.path.len() + 64);
        uri.push_str(&self.config.path);
        let q = query::encode_merged(req.params, &self.config.query);
        if !q.is_empty() {
            uri.push('?');
            uri.push_str(&q);
        }
        let mut headers = HeaderMap::with_capacity(req.headers.len() + self.config.headers.len() + 2);
        let connection_tokens = connection_tokens(req.headers);
        for (name, value) in req.headers {
            if name == header::HOST || is_hop_by_hop(name) || connection_tokens.contains(name) {
                continue;
            }
            if name == header::AUTHORIZATION && !req.forward_authorization {
                continue;
            }
            headers.append(name.clone(), value.clone());
        }
        forwarded_for(&mut headers, req.client_ip);
        for (name, value) in &self.config.headers {
            headers.append(name.clone(), value.clone());
        }
        // As Go's ReverseProxy does, the client's Host goes upstream unless `headers: {host: }` says otherwise.
        let host = self.config.host.as_ref().or(req.host).unwrap_or(&self.default_host);
        headers.insert(header::HOST, host.clone());
        if let Some(auth) = &self.basic_auth {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        let method = if req.method == Method::HEAD { Method::HEAD } else { Method::GET };
        let mut request = Request::new(Empty::new());
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().unwrap_or_default();
        *request.headers_mut() = headers;
        request
    }

    fn upstream_error(&self, e: &hyper::Error) -> ScrapeError {
        ScrapeError::Upstream { upstream: self.authority.clone(), cause: causes(e) }
    }
}

impl Runner for HttpRunner {
    /// Sends the request and answers with the upstream's head, its body still arriving.
    async fn run(&self, req: &ScrapeRequest<'_>, module: ModuleRef<'_>) -> Result<Answer<'_>, ScrapeError> {
        let (conn, response) = self.exchange(req, module.metrics).await?;
        if let Some(t) = req.trace {
            t.response(response.status().as_u16(), response.headers());
        }
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = Arriving {
            body: UpstreamBody::new(body, conn, self.pool.clone()),
            declared,
            budget: &self.budget,
            max_body: self.max_body,
            upstream: &self.authority,
        };
        Ok(Answer::Http { status: parts.status, headers: parts.headers, body })
    }

    fn method(&self) -> &'static str {
        "http"
    }

    fn describe(&self, _req: &ScrapeRequest<'_>) -> String {
        let url =
            |authority: &str| format!("{}://{authority}{}", self.config.scheme.as_str(), self.config.path);
        match &self.connector {
            Connector::Tcp(_) => url(&self.authority),
            Connector::Unix(_) => format!("{} over {}", self.config.path, self.authority),
            Connector::Container { target, .. } => format!(
                "{} (the address asked of the Docker Engine API when a connection is needed)",
                url(&format!("{}:{}", target.name, target.port))
            ),
        }
    }

    fn families(&self) -> Families {
        Families { connections: true, ..Families::NONE }
    }

    fn verifies(&self) -> bool {
        self.config.verify
    }

    fn stale(&self, context: &BuildContext<'_>, rereading: bool) -> bool {
        let docker_changed = match (self.resolver(), context.docker) {
            (Some(mine), Some(now)) => !Arc::ptr_eq(mine, now),
            (Some(_), None) => true,
            (None, _) => false,
        };
        (rereading && self.config.scheme == Scheme::Https) || docker_changed
    }
}

/// Whether a request failed because its kept-alive connection was closed by the upstream
/// (before the request went out, or before any answer came back), not because of the answer.
fn closed_under_us(e: &hyper::Error) -> bool {
    use std::error::Error as _;
    e.is_canceled() || e.is_incomplete_message() || e.source().is_some_and(|s| s.is::<std::io::Error>())
}

/// The connector of a TCP upstream: TLS for `https`, with the module's settings.
fn tcp_connector(
    source: &HttpConfig,
    address: &str,
    port: u16,
    roots: &SystemRoots,
) -> Result<TcpConnector, TlsError> {
    let host = address.trim_start_matches('[').trim_end_matches(']');
    match source.scheme {
        Scheme::Http => Ok(TcpConnector::plain(host, port)),
        Scheme::Https => {
            let config = upstream_tls::client_config(&source.tls, roots)?;
            let server_name = match &source.tls.server_name {
                Some(name) => Some(
                    rustls::pki_types::ServerName::try_from(name.clone())
                        .map_err(|e| TlsError::Config(format!("server_name {name:?}: {e}")))?,
                ),
                None => None,
            };
            Ok(TcpConnector::tls(host, port, config, server_name))
        }
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name == header::UPGRADE
}

/// Header names listed in `Connection`, which are hop-by-hop too.
fn connection_tokens(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect()
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in connection_tokens(headers) {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// Appends the client to `X-Forwarded-For`, as Go's ReverseProxy does.
fn forwarded_for(headers: &mut HeaderMap, client: IpAddr) {
    let client = client.to_canonical().to_string();
    let prior: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let value = if prior.is_empty() { client } else { format!("{}, {client}", prior.join(", ")) };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_stripped() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("close, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn forwarded_for_appends() {
        let mut h = HeaderMap::new();
        forwarded_for(&mut h, "::ffff:10.0.0.1".parse().unwrap());
        assert_eq!(h["x-forwarded-for"], "10.0.0.1");
        forwarded_for(&mut h, "192.0.2.1".parse().unwrap());
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 192.0.2.1");
    }
}
