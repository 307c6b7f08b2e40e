//! The endpoints, and the one place where failures become HTTP responses: a refused request
//! ([`Refusal`]), a denied one ([`Denied`](crate::auth::Denied)) and a
//! module's failure ([`ScrapeError`](crate::scrape::ScrapeError)) each by its own table.
//!
//! * `GET /` -- the landing page: modules with their last scrape, as HTML; JSON with
//!   `Accept: application/json`.
//! * `GET <-web.proxy-path>?module=NAME` -- scrape a module (default `/proxy`).
//! * `GET <-web.proxy-path>/NAME` -- the same, with every query parameter (`module` too) passed
//!   upstream unchanged; NAME is the rest of the path, percent-decoded.
//! * `GET <-web.telemetry-path>` -- the proxy's own metrics (default `/metrics`).
//! * `GET /discovery` -- Prometheus `http_sd` targets, one group per module.
//! * `GET /-/healthy`, `GET /-/ready` -- health checks.
//! * `POST /-/reload` -- reload the configuration (with `-web.enable-lifecycle`).
//!
//! Anything else is a 404; a method the endpoint does not take is a 405. Every request first
//! passes the allow list, the rate limit and the Authorization checks. [`Route`] is the table:
//! adding an endpoint is a variant there, its path in `Route::find` (a match on strings, which
//! the compiler cannot check), and its methods and its answer in `Route::methods` and
//! `Routes::route`, the two exhaustive matches the compiler points at.

pub mod debug;
pub mod discovery;
pub mod listing;
pub mod rate_limit;
pub mod refusal;

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::auth::Auth;
use crate::body::Body;
use crate::modules::ModuleSet;
use crate::reload::{ReloadError, ReloadHandle};
use crate::response::{TEXT_CONTENT_TYPE, plain};
use crate::scrape::deadline::effective_timeout;
use crate::scrape::trace::Trace;
use crate::scrape::{ScrapeRequest, query};
use crate::settings::Options;
use crate::telemetry::Metrics;
use rate_limit::RateLimiter;
use refusal::Refusal;

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

/// What the endpoints answer with: the module set, the checks, and the options they need.
#[derive(Debug)]
pub struct Routes {
    /// The flags' options (paths, the timeout offset, debug scrapes, the body limit...).
    pub options: Arc<Options>,
    /// The module used when a request names none.
    pub default_module: Option<String>,
    /// The modules.
    pub modules: Arc<ModuleSet>,
    /// The proxy's own metrics.
    pub metrics: Arc<Metrics>,
    /// The allow list and the Authorization checks.
    pub auth: Auth,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// How `POST /-/reload` asks for a reload; `None` unless `-web.enable-lifecycle`.
    pub lifecycle: Option<ReloadHandle>,
    /// Slots for scrapes in flight (`-web.max-requests`); `None` for no limit.
    pub scrape_slots: Option<Arc<Semaphore>>,
    /// The web configuration's `rate_limit`, over every request; `None` when off.
    pub rate_limiter: Option<Arc<RateLimiter>>,
}

/// An endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /`.
    Landing,
    /// `GET <-web.proxy-path>`.
    Proxy,
    /// `GET <-web.proxy-path>/NAME`.
    ProxyNamed,
    /// `GET <-web.telemetry-path>`.
    Telemetry,
    /// `GET /discovery`.
    Discovery,
    /// `GET /-/healthy`.
    Healthy,
    /// `GET /-/ready`.
    Ready,
    /// `POST /-/reload`.
    Reload,
}

const READ: &[Method] = &[Method::GET, Method::HEAD];
const WRITE: &[Method] = &[Method::POST, Method::PUT];

impl Route {
    /// The endpoint at `path`, if any.
    pub fn find(path: &str, routes: &Routes) -> Option<Route> {
        Some(match path {
            p if p == routes.options.proxy_path => Route::Proxy,
            p if p == routes.options.telemetry_path => Route::Telemetry,
            "/" => Route::Landing,
            "/discovery" => Route::Discovery,
            "/-/healthy" => Route::Healthy,
            "/-/ready" => Route::Ready,
            "/-/reload" => Route::Reload,
            p if module_in_path(p, &routes.options.proxy_path).is_some() => Route::ProxyNamed,
            _ => return None,
        })
    }

    /// The methods it takes.
    pub fn methods(self) -> &'static [Method] {
        match self {
            Route::Landing
            | Route::Proxy
            | Route::ProxyNamed
            | Route::Telemetry
            | Route::Discovery
            | Route::Healthy
            | Route::Ready => READ,
            Route::Reload => WRITE,
        }
    }
}

impl Routes {
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
            let mut r = refused(&Refusal::RequestBody);
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        let auth = &self.auth;
        let allowed = auth.allowed(conn.peer.ip());
        // As exporter-toolkit: every request takes a token before the Authorization checks, and
        // the 429 carries none of the configured headers. Only from an allowed network, so
        // that others cannot spend the bucket.
        if allowed.is_ok()
            && let Some(limiter) = &self.rate_limiter
            && !limiter.allow()
        {
            tracing::info!(client = %conn.peer.ip(), path = req.uri.path(), "request refused by rate_limit");
            return refused(&Refusal::RateLimited);
        }
        let checked = match allowed {
            Ok(()) => auth.authorized(&req.headers).await,
            Err(denied) => Err(denied),
        };
        let mut response = match checked {
            Ok(()) => self.route(req, conn).await,
            Err(denied) => {
                tracing::info!(client = %conn.peer.ip(), path = req.uri.path(), reason = %denied, "request refused");
                let bearer_only = auth.bearer.is_some() && auth.basic.is_none();
                let mut r = plain(denied.status(), denied.body(bearer_only));
                r.headers_mut().remove(header::X_CONTENT_TYPE_OPTIONS);
                if denied.status() == StatusCode::UNAUTHORIZED && auth.basic.is_some() {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
                }
                r
            }
        };
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }

    async fn route(&self, req: &Parts, conn: &Conn) -> Response<Body> {
        let Some(route) = Route::find(req.uri.path(), self) else {
            return refused(&Refusal::NotFound);
        };
        let methods = route.methods();
        if !methods.contains(&req.method) {
            let mut r = refused(&Refusal::MethodNotAllowed);
            let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            r.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET")),
            );
            return r;
        }
        match route {
            Route::Proxy => self.proxy(req, conn, None).await,
            Route::ProxyNamed => {
                let name = module_in_path(req.uri.path(), &self.options.proxy_path).unwrap_or_default();
                self.proxy(req, conn, Some(name)).await
            }
            Route::Telemetry => {
                let mut r = Response::new(Body::full(self.metrics.render()));
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_CONTENT_TYPE));
                r
            }
            Route::Landing => listing::respond(
                &self.modules.current(),
                &self.options.proxy_path,
                &self.options.telemetry_path,
                self.options.debug_scrapes,
                req,
            ),
            Route::Discovery => discovery::respond(
                &self.modules.current(),
                &self.options.proxy_path,
                self.options.discovery_style,
                req,
                conn.local,
                conn.tls,
            ),
            Route::Healthy => plain(StatusCode::OK, "exporter_exporter is Healthy.\n"),
            Route::Ready => plain(StatusCode::OK, "exporter_exporter is Ready.\n"),
            Route::Reload => self.reload().await,
        }
    }

    async fn reload(&self) -> Response<Body> {
        let Some(reloader) = &self.lifecycle else {
            return refused(&Refusal::LifecycleOff);
        };
        match reloader.reload().await {
            Ok(()) => plain(StatusCode::OK, ""),
            Err(e @ (ReloadError::Refused(_) | ReloadError::ShuttingDown | ReloadError::Panicked)) => {
                refused(&Refusal::ReloadRefused(e.to_string()))
            }
        }
    }

    /// Scrapes the module `named` in the path, or else the one the query's first `module`
    /// names (later ones go upstream, blackbox's convention), or else the default module.
    async fn proxy(&self, req: &Parts, conn: &Conn, named: Option<String>) -> Response<Body> {
        let peer = conn.peer;
        let mut params = query::parse(req.uri.query().unwrap_or(""));
        let name = match (named, params.iter().position(|(k, _)| k == "module")) {
            (Some(name), _) => name,
            (None, Some(i)) => params.remove(i).1,
            (None, None) => match &self.default_module {
                Some(d) => d.clone(),
                None => {
                    tracing::warn!(client = %peer.ip(), "no module given and no defaultModule configured");
                    return refused(&Refusal::NoModule);
                }
            },
        };
        // Bounded before any work is done: past the limit, a quick 503 beats a pile-up.
        let _slot = match &self.scrape_slots {
            Some(slots) => match slots.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::warn!(module = %name, client = %peer.ip(), "too many scrapes in flight (-web.max-requests)");
                    return refused(&Refusal::TooManyScrapes);
                }
            },
            None => None,
        };
        let Some(module) = self.modules.current().get(&name).cloned() else {
            self.metrics.unknown_module().errors.inc();
            tracing::warn!(module = %name, client = %peer.ip(), "unknown module requested");
            return refused(&Refusal::UnknownModule(name));
        };
        let header = req.headers.get(SCRAPE_TIMEOUT_HEADER).map(HeaderValue::as_bytes);
        let timeout = effective_timeout(module.config.timeout, header, self.options.timeout_offset);
        // `debug=true` asks for a report instead of the body, unless turned off (then it goes
        // upstream like any parameter, to a blackbox_exporter's own debug, say).
        let debug = self.options.debug_scrapes
            && module.config.debug
            && match params.iter().position(|(k, v)| k == "debug" && v == "true") {
                Some(i) => {
                    params.remove(i);
                    true
                }
                None => false,
            };
        let trace = debug.then(Trace::default);
        let scrape = ScrapeRequest {
            method: &req.method,
            params: &params,
            headers: &req.headers,
            host: req.headers.get(header::HOST),
            client_ip: peer.ip(),
            forward_authorization: !self.auth.consumes_authorization(),
            timeout,
            deadline: timeout.map(|t| Instant::now() + t),
            trace: trace.as_ref(),
        };
        if let Some(trace) = &trace {
            let result = module.debug(&scrape).await;
            let deadline = debug::Deadline {
                module: module.config.timeout,
                header,
                offset: self.options.timeout_offset,
                effective: timeout,
            };
            let report =
                debug::report(&module.config, &deadline, &trace.seen(), &result, self.options.max_body_bytes);
            let mut r = plain(StatusCode::OK, &report);
            r.extensions_mut().insert(ScrapedModule(name));
            return r;
        }
        let mut response = match module.scrape(&scrape).await {
            Ok(response) => response,
            Err(e) => plain(e.status(), e.body()),
        };
        response.extensions_mut().insert(ScrapedModule(name));
        response
    }
}

/// The module named by a `<proxy_path>/NAME` path: everything after the slash, percent-decoded
/// (so a name may hold any character, `/` included, as Prometheus escapes a `__metrics_path__`);
/// `None` for another path, an empty name, or one that is not UTF-8 once decoded.
fn module_in_path(path: &str, proxy_path: &str) -> Option<String> {
    let raw = path.strip_prefix(proxy_path)?.strip_prefix('/').filter(|n| !n.is_empty())?;
    percent_encoding::percent_decode_str(raw).decode_utf8().ok().map(|n| n.into_owned())
}

/// The response to a refused request.
fn refused(refusal: &Refusal) -> Response<Body> {
    plain(refusal.status(), &refusal.body())
}
