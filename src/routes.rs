//! The endpoints, and the one place where failures become HTTP responses.
//!
//! * `GET /` -- the landing page: modules with their last scrape, as HTML; JSON with
//!   `Accept: application/json`.
//! * `GET <-web.proxy-path>?module=NAME` -- scrape a module (default `/proxy`).
//! * `GET <-web.telemetry-path>` -- the proxy's own metrics (default `/metrics`).
//! * `GET /discovery` -- Prometheus `http_sd` targets, one group per module.
//! * `GET /-/healthy`, `GET /-/ready` -- health checks.
//! * `POST /-/reload` -- reload the configuration (with `-web.enable-lifecycle`).
//!
//! Anything else is a 404; a method the endpoint does not take is a 405. Every request first
//! passes the allow list and the Authorization checks.

pub mod discovery;
pub mod listing;

use std::net::SocketAddr;

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use tokio::time::Instant;

use crate::app::App;
use crate::body::Body;
use crate::modules::deadline::effective_timeout;
use crate::modules::{ScrapeRequest, query};

/// The header in which Prometheus sends its scrape timeout.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// The connection a request arrived on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    /// The client.
    pub peer: SocketAddr,
    /// Our end.
    pub local: SocketAddr,
    /// Whether it is TLS.
    pub tls: bool,
}

/// The module a response is for, attached to it for the access log.
#[derive(Debug, Clone)]
pub struct ScrapedModule(pub String);

const READ: &[Method] = &[Method::GET, Method::HEAD];
const WRITE: &[Method] = &[Method::POST, Method::PUT];

impl App {
    /// Answers one request: the allow list and the Authorization checks first, then the
    /// route; the configured security headers go on every response.
    pub async fn handle(&self, req: &Parts, conn: &Conn) -> Response<Body> {
        // No endpoint takes a request body. A chunked one (with or without a Content-Length
        // beside it, the shape of request smuggling) or a sized one on a GET is refused, and the
        // connection closed, rather than read past.
        let chunked = req.headers.contains_key(header::TRANSFER_ENCODING);
        let sized = req
            .headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0" && matches!(req.method, Method::GET | Method::HEAD));
        if chunked || sized {
            tracing::info!(client = %conn.peer.ip(), path = req.uri.path(), "request with a body refused");
            let mut r = plain(StatusCode::BAD_REQUEST, "Bad Request: request bodies are not accepted\n");
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        let auth = &self.security.auth;
        let checked = match auth.allowed(conn.peer.ip()) {
            Ok(()) => auth.authorized(&req.headers).await,
            Err(denied) => Err(denied),
        };
        let mut response = match checked {
            Ok(()) => self.route(req, conn).await,
            Err(denied) => {
                tracing::info!(client = %conn.peer.ip(), path = req.uri.path(), reason = %denied, "request refused");
                let bearer_only = auth.bearer.is_some() && auth.basic.is_none();
                let (status, body) = denied.response_parts(bearer_only);
                let mut r = plain(StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED), body);
                r.headers_mut().remove(header::X_CONTENT_TYPE_OPTIONS);
                if status == 401 && auth.basic.is_some() {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
                }
                r
            }
        };
        for (name, value) in &self.security.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }

    async fn route(&self, req: &Parts, conn: &Conn) -> Response<Body> {
        let path = req.uri.path();
        let methods = if path == "/-/reload" { WRITE } else { READ };
        let known = path == self.options.proxy_path
            || path == self.options.telemetry_path
            || matches!(path, "/" | "/discovery" | "/-/healthy" | "/-/ready" | "/-/reload");
        if !known {
            return plain(StatusCode::NOT_FOUND, "404 page not found\n");
        }
        if !methods.contains(&req.method) {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            r.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET")),
            );
            return r;
        }
        if path == self.options.proxy_path {
            self.proxy(req, conn).await
        } else if path == self.options.telemetry_path {
            let mut r = Response::new(Body::full(self.metrics.render()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(crate::modules::output::TEXT_CONTENT_TYPE),
            );
            r
        } else {
            match path {
                "/" => listing::respond(self, req),
                "/discovery" => discovery::respond(self, req, conn),
                "/-/healthy" => plain(StatusCode::OK, "exporter_exporter is Healthy.\n"),
                "/-/ready" => plain(StatusCode::OK, "exporter_exporter is Ready.\n"),
                _ => self.reload().await,
            }
        }
    }

    async fn reload(&self) -> Response<Body> {
        let Some(reloader) = self.reloader.as_ref().filter(|_| self.options.enable_lifecycle) else {
            return plain(StatusCode::FORBIDDEN, "Lifecycle API is not enabled.\n");
        };
        match reloader.reload().await {
            Ok(()) => plain(StatusCode::OK, ""),
            Err(reason) => {
                plain(StatusCode::INTERNAL_SERVER_ERROR, &format!("failed to reload config: {reason}\n"))
            }
        }
    }

    async fn proxy(&self, req: &Parts, conn: &Conn) -> Response<Body> {
        let peer = conn.peer;
        let mut params = query::parse(req.uri.query().unwrap_or(""));
        // The first `module` picks the module; later ones go upstream (blackbox's convention).
        let name = match params.iter().position(|(k, _)| k == "module") {
            Some(i) => params.remove(i).1,
            None => match &self.default_module {
                Some(d) => d.clone(),
                None => {
                    tracing::warn!(client = %peer.ip(), "no module given and no defaultModule configured");
                    return plain(StatusCode::BAD_REQUEST, "require parameter module is missing\n");
                }
            },
        };
        // Bounded before any work is done: past the limit, a quick 503 beats a pile-up.
        let _slot = match &self.scrape_slots {
            Some(slots) => match slots.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::warn!(module = %name, client = %peer.ip(), "too many scrapes in flight (-web.max-requests)");
                    return plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Service Unavailable: too many scrapes in flight\n",
                    );
                }
            },
            None => None,
        };
        let Some(module) = self.modules.get(&name) else {
            self.metrics.unknown_module().errors.inc();
            tracing::warn!(module = %name, client = %peer.ip(), "unknown module requested");
            return plain(StatusCode::NOT_FOUND, &format!("unknown module [{name}]\n"));
        };
        let header = req.headers.get(SCRAPE_TIMEOUT_HEADER).map(HeaderValue::as_bytes);
        let timeout = effective_timeout(module.config.timeout, header, self.options.timeout_offset);
        let scrape = ScrapeRequest {
            method: &req.method,
            params: &params,
            headers: &req.headers,
            host: req.headers.get(header::HOST),
            client_ip: peer.ip(),
            forward_authorization: !self.security.auth.consumes_authorization(),
            timeout,
            deadline: timeout.map(|t| Instant::now() + t),
        };
        let mut response = match module.scrape(&scrape).await {
            Ok(response) => response,
            Err(e) => plain(e.status(), e.body()),
        };
        response.extensions_mut().insert(ScrapedModule(name));
        response
    }
}

/// A short plain-text response, as Go's `http.Error` writes them.
pub fn plain(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Body::full(body.to_owned()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}
