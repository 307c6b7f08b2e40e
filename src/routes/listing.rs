//! `GET /`: the module list. HTML with a link per module, or a JSON view when the client asks
//! for `application/json`. The JSON is built from a view type, never from the configuration:
//! it holds no password, header, environment or argument.

use std::collections::BTreeMap;

use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use serde::Serialize;

use crate::body::Body;
use crate::config::Module;
use crate::logging::rfc3339;
use crate::method::MethodView;
use crate::modules::Modules;
use crate::telemetry::Failure;

/// What the JSON listing says about a module's configuration: its method, its timeout, and
/// its method's view (method.rs). Key names follow the original's output, so scripts reading
/// its non-secret fields keep working.
#[derive(Debug)]
struct ModuleView<'a> {
    method: &'static str,
    /// Nanoseconds, as Go marshals a duration; 0 for none.
    timeout: u128,
    view: MethodView<'a>,
}

impl<'a> ModuleView<'a> {
    fn of(module: &'a Module) -> ModuleView<'a> {
        ModuleView {
            method: module.method.name(),
            timeout: module.timeout.map_or(0, |t| t.as_nanos()),
            view: module.method.view(),
        }
    }
}

impl Serialize for ModuleView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("Method", self.method)?;
        map.serialize_entry("Timeout", &self.timeout)?;
        map.serialize_entry(self.view.key(), &self.view)?;
        map.end()
    }
}

/// A module in the JSON listing: its configuration's public view, and its recent failures.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    view: ModuleView<'a>,
    #[serde(rename = "RecentFailures")]
    failures: Vec<FailureView>,
}

#[derive(Debug, Serialize)]
struct FailureView {
    #[serde(rename = "Time")]
    time: String,
    #[serde(rename = "Status")]
    status: u16,
    #[serde(rename = "Cause")]
    cause: String,
    #[serde(rename = "DurationSeconds")]
    duration_seconds: f64,
}

fn when(f: &Failure) -> String {
    let since = f.at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    rfc3339(i64::try_from(since.as_secs()).unwrap_or(i64::MAX), since.subsec_millis())
}

fn wants_json(req: &Parts) -> bool {
    req.headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
}

/// Answers `GET /`.
pub(super) fn respond(
    modules: &Modules,
    proxy_path: &str,
    telemetry_path: &str,
    debug_scrapes: bool,
    req: &Parts,
) -> Response<Body> {
    let (content_type, body) = if wants_json(req) {
        let views: BTreeMap<&str, Listed<'_>> = modules
            .iter()
            .map(|m| {
                let failures = m
                    .metrics
                    .failures
                    .newest_first()
                    .iter()
                    .map(|f| FailureView {
                        time: when(f),
                        status: f.status,
                        cause: f.cause.clone(),
                        duration_seconds: f.duration.as_secs_f64(),
                    })
                    .collect();
                (m.config.name.as_str(), Listed { view: ModuleView::of(&m.config), failures })
            })
            .collect();
        ("application/json", serde_json::to_string(&views).unwrap_or_else(|_| "{}".into()))
    } else {
        ("text/html; charset=utf-8", landing_page(modules, proxy_path, telemetry_path, debug_scrapes))
    };
    let mut r = Response::new(Body::full(body));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// The HTML landing page: every module with its method and last scrape, and the endpoints.
fn landing_page(modules: &Modules, proxy_path: &str, telemetry_path: &str, debug_scrapes: bool) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>exporter_exporter</title>\n\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}</style></head><body>\n\
         <h1>exporter_exporter</h1>\n<h2>Exporters:</h2>\n<table>\n\
         <tr><th>module</th><th>method</th><th>last scrape</th><th>took</th></tr>\n",
    );
    for module in modules.iter() {
        let name = &module.config.name;
        let href = format!(
            "{proxy_path}?module={}",
            form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        );
        let (status, took) = match module.metrics.last() {
            Some((status, took)) => (status.to_string(), format!("{:.1} ms", took.as_secs_f64() * 1000.0)),
            None => ("never".to_owned(), String::new()),
        };
        html.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{status}</td><td>{took}</td></tr>\n",
            escape_html(&href),
            escape_html(name),
            module.config.method.name()
        ));
    }
    html.push_str("</table>\n");
    let failed: Vec<_> = modules
        .iter()
        .map(|m| (m, m.metrics.failures.newest_first()))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if !failed.is_empty() {
        html.push_str(
            "<h2>Recent failures:</h2>\n<table>\n<tr><th>module</th><th>when (UTC)</th><th>status</th><th>took</th><th>cause</th><th></th></tr>\n",
        );
        for (module, failures) in failed {
            // One click from a failure to a debug scrape of its module, where debug is on.
            let debug = if debug_scrapes && module.config.debug {
                let href = format!(
                    "{proxy_path}?module={}&debug=true",
                    form_urlencoded::byte_serialize(module.config.name.as_bytes()).collect::<String>()
                );
                format!("<a href=\"{}\">debug scrape</a>", escape_html(&href))
            } else {
                String::new()
            };
            for f in failures {
                html.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1} ms</td><td>{}</td><td>{debug}</td></tr>\n",
                    escape_html(&module.config.name),
                    when(&f),
                    f.status,
                    f.duration.as_secs_f64() * 1000.0,
                    escape_html(&f.cause)
                ));
            }
        }
        html.push_str("</table>\n");
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">own metrics</a> &middot; <a href=\"/discovery\">service discovery</a> &middot; \
         <a href=\"/-/healthy\">healthy</a> &middot; <a href=\"/-/ready\">ready</a></p>\n</body></html>\n",
        escape_html(telemetry_path)
    ));
    html
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
