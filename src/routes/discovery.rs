//! `GET /discovery`: the modules as Prometheus `http_sd` targets, so one `http_sd_configs`
//! entry per host finds every module. The target is the address the client used to reach us;
//! the module is named in the query (`__param_module`) or in the path ([`PathStyle`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Serialize;

use std::net::SocketAddr;

use crate::body::Body;
use crate::modules::Modules;

/// How a target names its module (`-web.discovery-path-style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathStyle {
    /// `__metrics_path__` is the proxy path, `__param_module` the module: `/proxy?module=NAME`.
    #[default]
    Query,
    /// `__metrics_path__` is `<proxy path>/NAME` and there is no `__param_module`, so a
    /// `module` parameter of the job's own (blackbox, snmp) goes upstream unchanged.
    Path,
}

impl PathStyle {
    /// Reads the flag's value: `query` or `path`.
    pub fn parse(s: &str) -> Result<PathStyle, String> {
        match s {
            "query" => Ok(PathStyle::Query),
            "path" => Ok(PathStyle::Path),
            _ => Err(format!("invalid path style {s:?} (query or path)")),
        }
    }
}

/// One target group.
#[derive(Debug, Serialize)]
struct Group<'a> {
    targets: [&'a str; 1],
    labels: BTreeMap<&'a str, Cow<'a, str>>,
}

/// Answers `GET /discovery`.
pub(super) fn respond(
    modules: &Modules,
    proxy_path: &str,
    style: PathStyle,
    req: &Parts,
    local: SocketAddr,
    tls: bool,
) -> Response<Body> {
    // The Host the client used (or, failing that, our own address).
    let target = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| local.to_string());
    let scheme = if tls { "https" } else { "http" };
    let groups: Vec<Group<'_>> = modules
        .iter()
        .map(|module| {
            let (name, labels) = (&module.config.name, &module.config.labels);
            let mut labels: BTreeMap<&str, Cow<'_, str>> =
                labels.iter().map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str()))).collect();
            match style {
                PathStyle::Query => {
                    labels.insert("__metrics_path__", Cow::Borrowed(proxy_path));
                    labels.insert("__param_module", Cow::Borrowed(name));
                }
                // Unescaped: Prometheus escapes the path when it builds the scrape URL.
                PathStyle::Path => {
                    labels.insert("__metrics_path__", Cow::Owned(format!("{proxy_path}/{name}")));
                }
            }
            labels.insert("__scheme__", Cow::Borrowed(scheme));
            labels.insert("module", Cow::Borrowed(name));
            Group { targets: [target.as_str()], labels }
        })
        .collect();
    let body = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
    let mut r = Response::new(Body::full(body));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
