//! The endpoints, and the one place where failures become HTTP responses.
//!
//! * `GET /` -- the modules, as HTML links, or as JSON with `Accept: application/json`.
//! * `GET <-web.proxy-path>?module=NAME` -- scrape a module (default `/proxy`).
//! * `GET <-web.telemetry-path>` -- the proxy's own metrics (default `/metrics`).
//!
//! Anything else is a 404; a method other than GET or HEAD is a 405.

pub mod listing;

use std::net::SocketAddr;
use std::time::Duration;

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

impl App {
    /// Answers one request from `peer`: the allow list and the Authorization checks first,
    /// then the route; the configured security headers go on every response.
    pub async fn handle(&self, req: &Parts, peer: SocketAddr) -> Response<Body> {
        let auth = &self.security.auth;
        let checked = match auth.allowed(peer.ip()) {
            Ok(()) => auth.authorized(&req.headers).await,
            Err(denied) => Err(denied),
        };
        let mut response = match checked {
            Ok(()) => self.route(req, peer).await,
            Err(denied) => {
                tracing::info!(client = %peer.ip(), path = req.uri.path(), reason = %denied, "request refused");
                let bearer_only = auth.bearer.is_some() && auth.basic.is_none();
                let (status, body) = denied.response_parts(bearer_only);
                let mut r = Response::new(Body::full(body));
                *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
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

    async fn route(&self, req: &Parts, peer: SocketAddr) -> Response<Body> {
        if req.method != Method::GET && req.method != Method::HEAD {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let path = req.uri.path();
        if path == self.options.proxy_path {
            self.proxy(req, peer).await
        } else if path == self.options.telemetry_path {
            let body = self.metrics.render();
            Response::builder()
                .header(header::CONTENT_TYPE, crate::modules::output::TEXT_CONTENT_TYPE)
                .body(Body::full(body))
                .unwrap_or_else(|_| Response::new(Body::empty()))
        } else if path == "/" {
            listing::respond(self, req)
        } else {
            plain(StatusCode::NOT_FOUND, "404 page not found\n")
        }
    }

    async fn proxy(&self, req: &Parts, peer: SocketAddr) -> Response<Body> {
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
        match module.scrape(&scrape).await {
            Ok(response) => response,
            Err(e) => plain(e.status(), e.body()),
        }
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

/// How long a request took, for the access log.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
