//! `/proxy/NAME`: the module named in the path, every query parameter (`module` too) passed
//! upstream unchanged, names that need percent-encoding, and `/discovery` in the path style.

use crate::support;

use exporter_exporter::routes::discovery::PathStyle;
use exporter_exporter::settings::Options;
use support::{FakeExporter, Reply, TestProxy, get};

const PROBE: &str = "probe_success 1\n";

/// A blackbox-like exporter: it needs its own `module` parameter and a target.
async fn blackbox() -> FakeExporter {
    FakeExporter::start(
        |seen| {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(seen.query.as_bytes()).into_owned().collect();
            let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
            if has("module", "icmp") && pairs.iter().any(|(k, _)| k == "target") {
                Reply::text(PROBE)
            } else {
                Reply::text("Unknown module\n").status(400)
            }
        },
        None,
    )
    .await
}

fn config(name: &str, port: u16) -> String {
    format!(
        "modules:\n  {name:?}:\n    method: http\n    http: {{address: 127.0.0.1, port: {port}, path: /probe}}\n"
    )
}

#[tokio::test]
async fn the_path_names_the_module_and_every_parameter_goes_upstream_unchanged() {
    let up = blackbox().await;
    let proxy = TestProxy::start(&config("blackbox", up.port())).await;
    let got = proxy.get("/proxy/blackbox?module=icmp&target=example.com").await;
    assert_eq!((got.status, got.text().as_str()), (200, PROBE));
    let seen = up.last();
    assert_eq!((seen.path.as_str(), seen.query.as_str()), ("/probe", "module=icmp&target=example.com"));
    // Repeated parameters, a second module included, all go up in the Go encoder's order.
    let got = proxy.get("/proxy/blackbox?target=a&module=icmp&module=tcp").await;
    assert_eq!(got.status, 200);
    assert_eq!(up.last().query, "module=icmp&module=tcp&target=a");
    // The query form still takes the first `module` for itself.
    let got = proxy.get("/proxy?module=blackbox&module=icmp&target=example.com").await;
    assert_eq!(got.status, 200);
    assert_eq!(up.last().query, "module=icmp&target=example.com");
    // In the path form, a `module` parameter is the exporter's, not ours.
    let got = proxy.get("/proxy/blackbox?target=example.com").await;
    assert_eq!(got.status, 400, "the exporter saw no module of its own: {}", got.text());
    assert_eq!(up.last().query, "target=example.com");
}

#[tokio::test]
async fn names_are_percent_decoded_and_unknown_ones_are_404() {
    let up = blackbox().await;
    let name = "black box/v1 %?#é";
    let proxy = TestProxy::start(&config(name, up.port())).await;
    for path in [
        "/proxy/black%20box%2Fv1%20%25%3F%23%C3%A9",
        // As Prometheus writes a `__metrics_path__` holding the name (Go's URL path escaping
        // keeps `/`).
        "/proxy/black%20box/v1%20%25%3F%23%C3%A9",
    ] {
        let got = proxy.get(&format!("{path}?module=icmp&target=t")).await;
        assert_eq!((got.status, got.text().as_str()), (200, PROBE), "{path}");
    }
    let got = proxy.get("/proxy/nope?module=icmp").await;
    assert_eq!((got.status, got.text().as_str()), (404, "unknown module [nope]\n"));
    // No name, or a name that is not UTF-8 once decoded: no such endpoint.
    for path in ["/proxy/", "/proxy/%FF", "/proxyblackbox"] {
        let got = proxy.get(path).await;
        assert_eq!((got.status, got.text().as_str()), (404, "404 page not found\n"), "{path}");
    }
    assert_eq!(up.requests().len(), 2, "only the two good scrapes reached the exporter");
}

#[tokio::test]
async fn discovery_in_the_path_style_names_the_module_in_the_metrics_path() {
    let up = blackbox().await;
    let yaml = format!("{}    labels: {{team: net}}\n", config("black box", up.port()));
    let options = Options { discovery_style: PathStyle::Path, ..Options::default() };
    let proxy = TestProxy::start_with(&yaml, options, "127.0.0.1:0").await;
    let got = get(&proxy.url("/discovery"), &[("Host", "node7.example:9999")]).await;
    let v: serde_json::Value = serde_json::from_str(&got.text()).expect("json");
    assert_eq!(
        v,
        serde_json::json!([{"targets": ["node7.example:9999"],
            "labels": {"__metrics_path__": "/proxy/black box", "__scheme__": "http", "module": "black box",
                       "team": "net"}}])
    );
    // Prometheus escapes the path it is given; that request reaches the module.
    let got = proxy.get("/proxy/black%20box?module=icmp&target=t").await;
    assert_eq!(got.status, 200);
    // The query style, the default, is unchanged.
    let query = TestProxy::start(&yaml).await;
    let v: serde_json::Value = serde_json::from_str(&query.get("/discovery").await.text()).expect("json");
    assert_eq!(v[0]["labels"]["__metrics_path__"], "/proxy");
    assert_eq!(v[0]["labels"]["__param_module"], "black box");
}

#[tokio::test]
async fn a_custom_proxy_path_has_its_named_form_too() {
    let up = blackbox().await;
    let options = Options { proxy_path: "/scrape".into(), ..Options::default() };
    let proxy = TestProxy::start_with(&config("bb", up.port()), options, "127.0.0.1:0").await;
    assert_eq!(proxy.get("/scrape/bb?module=icmp&target=t").await.status, 200);
    assert_eq!(proxy.get("/proxy/bb?module=icmp&target=t").await.status, 404);
}
