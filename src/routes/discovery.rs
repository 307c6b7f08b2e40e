//! `GET /discovery`: the modules as Prometheus `http_sd` targets, so one `http_sd_configs`
//! entry per host finds every module. The target is the address the client used to reach us.

use std::collections::BTreeMap;

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Serialize;

use std::net::SocketAddr;

use crate::body::Body;
use crate::modules::Modules;

/// One target group.
#[derive(Debug, Serialize)]
struct Group<'a> {
    targets: [&'a str; 1],
    labels: BTreeMap<&'a str, &'a str>,
}

/// Answers `GET /discovery`.
pub(super) fn respond(
    modules: &Modules,
    proxy_path: &str,
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
            let mut labels: BTreeMap<&str, &str> =
                labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            labels.insert("__metrics_path__", proxy_path);
            labels.insert("__param_module", name);
            labels.insert("__scheme__", scheme);
            labels.insert("module", name);
            Group { targets: [target.as_str()], labels }
        })
        .collect();
    let body = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
    let mut r = Response::new(Body::full(body));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
