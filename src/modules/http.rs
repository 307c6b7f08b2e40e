//! `method: http`, the reverse proxy: builds the upstream request (URL from the module, query
//! merged, client headers forwarded minus hop-by-hop ones), and for a 200 reads the body while
//! verifying it, then serves the upstream's bytes and headers unchanged. Anything else streams
//! through as it arrives.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::ScrapeError;
use super::unix::UnixConnector;
use super::upstream_tls::{self, SystemRoots};
use super::{ScrapeRequest, query};
use crate::body::Body;
use crate::config::{Endpoint, HttpSource, Scheme};
use crate::exposition::{BodyCheck, Dialect, Encoding};
use crate::tls::TlsError;

/// Largest upstream body read for verification by default (256 MiB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 256 << 20;

/// Idle upstream connections kept per module (Go keeps 2): enough to serve a burst of scrapes
/// without reconnecting, few enough that an idle proxy holds little.
pub const MAX_IDLE_CONNECTIONS: usize = 8;
/// How long an idle upstream connection is kept (as Go's default transport).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(90);

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

/// The pooled client of one module: TCP (HTTP or HTTPS) or a unix socket.
#[derive(Debug)]
enum UpstreamClient {
    Tcp(Client<HttpsConnector<HttpConnector>, Empty<Bytes>>),
    Unix(Client<UnixConnector, Empty<Bytes>>),
}

impl UpstreamClient {
    async fn request(
        &self,
        req: Request<Empty<Bytes>>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        match self {
            UpstreamClient::Tcp(c) => c.request(req).await,
            UpstreamClient::Unix(c) => c.request(req).await,
        }
    }
}

/// A running http module.
#[derive(Debug)]
pub struct HttpUpstream {
    source: Box<HttpSource>,
    client: UpstreamClient,
    /// `scheme://host:port`, the start of every upstream URL.
    origin: String,
    /// `host:port`, for messages.
    authority: String,
    basic_auth: Option<HeaderValue>,
    max_body: u64,
}

impl HttpUpstream {
    /// Builds the client for one module; reads its TLS files now, so errors surface at startup.
    pub fn build(source: &HttpSource, roots: &SystemRoots, max_body: u64) -> Result<HttpUpstream, TlsError> {
        let pool = || {
            let mut b = Client::builder(TokioExecutor::new());
            b.pool_max_idle_per_host(MAX_IDLE_CONNECTIONS).pool_idle_timeout(IDLE_CONNECTION_TIMEOUT);
            b
        };
        let (client, origin, authority) = match &source.endpoint {
            Endpoint::Unix(path) => {
                let client = pool().build(UnixConnector::new(path.clone()));
                // The host part is never dialled; the connector always goes to the socket.
                (
                    UpstreamClient::Unix(client),
                    "http://localhost".to_owned(),
                    format!("unix:{}", path.display()),
                )
            }
            Endpoint::Tcp { address, port } => {
                let host = if address.contains(':') && !address.starts_with('[') {
                    format!("[{address}]")
                } else {
                    address.clone()
                };
                let authority = format!("{host}:{port}");
                let origin = format!("{}://{authority}", source.scheme.as_str());
                (UpstreamClient::Tcp(pool().build(tcp_connector(source, roots)?)), origin, authority)
            }
        };
        let basic_auth = source.basic_auth.as_ref().map(|b| {
            use base64::Engine as _;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", b.username, b.password));
            let mut v =
                HeaderValue::from_str(&format!("Basic {token}")).unwrap_or(HeaderValue::from_static(""));
            v.set_sensitive(true);
            v
        });
        Ok(HttpUpstream { source: Box::new(source.clone()), client, origin, authority, basic_auth, max_body })
    }

    /// Proxies one scrape.
    pub async fn scrape(&self, req: &ScrapeRequest<'_>) -> Result<Response<Body>, ScrapeError> {
        let upstream_req = self.request(req);
        let exchange = async {
            let response = self.client.request(upstream_req).await.map_err(|e| self.client_error(&e))?;
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            // The client's connection has its own protocol version; an HTTP/1.0 upstream must not
            // turn our answer into HTTP/1.0 (which closes the client's kept-alive connection).
            parts.version = http::Version::default();
            if parts.status != StatusCode::OK || !self.source.verify || req.method == Method::HEAD {
                return Ok(Response::from_parts(parts, Body::stream(body, req.deadline, self.max_body)));
            }
            let (frames, len) = self.read_verified(body, &parts.headers).await?;
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            Ok(Response::from_parts(parts, Body::frames(frames, len)))
        };
        match req.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, exchange)
                .await
                .unwrap_or_else(|_| Err(ScrapeError::Timeout(req.timeout.unwrap_or_default()))),
            None => exchange.await,
        }
    }

    fn request(&self, req: &ScrapeRequest<'_>) -> Request<Empty<Bytes>> {
        let mut uri = String::with_capacity(self.origin.len() + self.source.path.len() + 64);
        uri.push_str(&self.origin);
        uri.push_str(&self.source.path);
        let q = query::encode_merged(req.params, &self.source.query);
        if !q.is_empty() {
            uri.push('?');
            uri.push_str(&q);
        }
        let mut headers = HeaderMap::with_capacity(req.headers.len() + self.source.headers.len() + 2);
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
        for (name, value) in &self.source.headers {
            headers.append(name.clone(), value.clone());
        }
        // As Go's ReverseProxy does, the client's Host goes upstream unless `headers: {host: }` says otherwise.
        if let Some(host) = self.source.host.as_ref().or(req.host) {
            headers.insert(header::HOST, host.clone());
        }
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

    /// Reads a 200 body, verifying each frame as it arrives. The frames are kept as received
    /// (no copy into one buffer) and become the response body.
    async fn read_verified(
        &self,
        mut body: Incoming,
        headers: &HeaderMap,
    ) -> Result<(Vec<Bytes>, u64), ScrapeError> {
        let dialect =
            Dialect::from_content_type(headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes));
        let encoding =
            Encoding::from_header(headers.get(header::CONTENT_ENCODING).map(HeaderValue::as_bytes))
                .map_err(ScrapeError::Encoding)?;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body) {
            return Err(ScrapeError::BodyTooLarge { limit: self.max_body });
        }
        let mut frames = Vec::new();
        let mut total: u64 = 0;
        let mut check = BodyCheck::new(dialect, encoding, self.max_body);
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ScrapeError::Upstream { upstream: self.authority.clone(), cause: chain(&e) })?;
            let Ok(data) = frame.into_data() else { continue };
            total += data.len() as u64;
            if total > self.max_body {
                return Err(ScrapeError::BodyTooLarge { limit: self.max_body });
            }
            check.push(&data)?;
            frames.push(data);
        }
        check.end()?;
        Ok((frames, total))
    }

    fn client_error(&self, e: &hyper_util::client::legacy::Error) -> ScrapeError {
        let cause = chain(e);
        if e.is_connect() {
            ScrapeError::Connect { upstream: self.authority.clone(), cause }
        } else {
            ScrapeError::Upstream { upstream: self.authority.clone(), cause }
        }
    }
}

/// The connector of a TCP upstream: TLS for `https`, with the module's settings.
fn tcp_connector(
    source: &HttpSource,
    roots: &SystemRoots,
) -> Result<HttpsConnector<HttpConnector>, TlsError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let builder = HttpsConnectorBuilder::new();
    let builder = match source.scheme {
        Scheme::Https => builder.with_tls_config(upstream_tls::client_config(&source.tls, roots)?),
        // Never used for a plain-HTTP upstream, so no roots are loaded for it.
        Scheme::Http => builder.with_tls_config(
            rustls::ClientConfig::builder_with_provider(crate::tls::provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError::Config(e.to_string()))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
    };
    let builder = builder.https_or_http();
    let builder = match &source.tls.server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| TlsError::Config(format!("server_name {name:?}: {e}")))?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    Ok(builder.enable_http1().wrap_connector(http))
}

/// An error with its causes, `a: b: c`, skipping the generic wrapper texts.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
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
