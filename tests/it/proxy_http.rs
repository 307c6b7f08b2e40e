//! http modules end to end: the proxy in-process in front of fake exporters.

use crate::support;

use std::time::{Duration, Instant};

use exporter_exporter::scrape::error::VERIFICATION_FAILED;
use support::{FakeExporter, Reply, TestProxy, closed_port, get, sample};

const NODE: &str = "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.21\n";

fn module(name: &str, port: u16, extra: &str) -> String {
    format!(
        "modules:\n  {name}:\n    method: http\n    http:\n      address: 127.0.0.1\n      port: {port}\n{extra}"
    )
}

#[tokio::test]
async fn a_valid_body_passes_through_byte_for_byte() {
    let up = FakeExporter::serving(Reply::text(NODE).header("x-upstream", "yes")).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let got = proxy.get("/proxy?module=node").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.text(), NODE);
    assert_eq!(got.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(got.header("x-upstream"), Some("yes"));
    assert_eq!(up.last().path, "/metrics");
}

#[tokio::test]
async fn a_malformed_body_is_a_500_with_the_fixed_message() {
    let up = FakeExporter::serving(Reply::text("node_load1 zero\n")).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let got = proxy.get("/proxy?module=node").await;
    assert_eq!(got.status, 500);
    assert_eq!(got.text(), VERIFICATION_FAILED);
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_malformed_content_errors_total{module=\"node\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_proxy_errors_total{module=\"node\"}"), Some(1.0));
}

#[tokio::test]
async fn verify_false_passes_anything() {
    let up = FakeExporter::serving(Reply::text("not metrics at all")).await;
    let proxy = TestProxy::start(&module("raw", up.port(), "      verify: false\n")).await;
    let got = proxy.get("/proxy?module=raw").await;
    assert_eq!((got.status, got.text().as_str()), (200, "not metrics at all"));
}

#[tokio::test]
async fn upstream_errors_pass_through_unverified() {
    let up =
        FakeExporter::serving(Reply::text("nope, {{ not metrics").status(404).header("x-why", "gone")).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let got = proxy.get("/proxy?module=node").await;
    assert_eq!(got.status, 404);
    assert_eq!(got.text(), "nope, {{ not metrics");
    assert_eq!(got.header("x-why"), Some("gone"));
    let up503 = FakeExporter::serving(Reply::text("busy").status(503)).await;
    let proxy = TestProxy::start(&module("node", up503.port(), "")).await;
    assert_eq!(proxy.get("/proxy?module=node").await.status, 503);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let proxy = TestProxy::start(&module("down", closed_port().await, "")).await;
    let got = proxy.get("/proxy?module=down").await;
    assert_eq!((got.status, got.text().as_str()), (502, "Bad Gateway\n"));
}

#[tokio::test]
async fn a_slow_upstream_is_a_504_at_the_module_timeout() {
    let up = FakeExporter::serving(Reply::text(NODE).delay(Duration::from_secs(10))).await;
    let proxy = TestProxy::start(&module("slow", up.port(), "    timeout: 300ms\n")).await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=slow").await;
    assert_eq!((got.status, got.text().as_str()), (504, "Gateway Timeout\n"));
    assert!(start.elapsed() < Duration::from_secs(5), "answered at the deadline, not when the upstream did");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_timeout_errors_total{module=\"slow\"}"), Some(1.0));
}

#[tokio::test]
async fn the_scrape_timeout_header_shortens_the_deadline() {
    let up = FakeExporter::serving(Reply::text(NODE).delay(Duration::from_secs(10))).await;
    let proxy = TestProxy::start(&module("slow", up.port(), "    timeout: 30s\n")).await;
    let start = Instant::now();
    let got = get(&proxy.url("/proxy?module=slow"), &[("X-Prometheus-Scrape-Timeout-Seconds", "1")]).await;
    assert_eq!(got.status, 504);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(5), "took {took:?}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

#[tokio::test]
async fn gzip_bodies_are_verified_decoded_and_served_as_sent() {
    let compressed = gzip(NODE.as_bytes());
    let up = FakeExporter::serving(Reply::text(compressed.clone()).header("content-encoding", "gzip")).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let got = get(&proxy.url("/proxy?module=node"), &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    assert_eq!(got.body.as_ref(), compressed.as_slice());
    assert_eq!(up.last().headers["accept-encoding"], "gzip", "the client's Accept-Encoding goes upstream");

    let bad =
        FakeExporter::serving(Reply::text(gzip(b"node_load1 x\n")).header("content-encoding", "gzip")).await;
    let proxy = TestProxy::start(&module("node", bad.port(), "")).await;
    assert_eq!(proxy.get("/proxy?module=node").await.status, 500);
    let liar = FakeExporter::serving(Reply::text(NODE).header("content-encoding", "gzip")).await;
    let proxy = TestProxy::start(&module("node", liar.port(), "")).await;
    assert_eq!(proxy.get("/proxy?module=node").await.status, 500, "a body that is not gzip fails");
}

#[tokio::test]
async fn openmetrics_bodies_of_the_originals_open_issues_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exposition/openmetrics");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if !(name.starts_with("expexp_issue") && name.ends_with(".good.txt")) {
            continue;
        }
        let body = std::fs::read(&path).expect("read");
        let up = FakeExporter::serving(Reply::ok(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body.clone(),
        ))
        .await;
        let proxy = TestProxy::start(&module("om", up.port(), "")).await;
        let got = proxy.get("/proxy?module=om").await;
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(got.body.as_ref(), body.as_slice(), "{name}");
        checked += 1;
    }
    assert!(checked >= 2, "the issue #84 and #91 bodies are in tests/exposition/openmetrics");
}

#[tokio::test]
async fn protobuf_bodies_are_verified() {
    // One family `a` with one untyped sample, as a length-delimited MetricFamily.
    let family = [0x0a, 0x01, b'a', 0x18, 0x03, 0x22, 0x0b, 0x2a, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];
    let mut body = vec![family.len() as u8];
    body.extend_from_slice(&family);
    let ct = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
    let up = FakeExporter::serving(Reply::ok(ct, body.clone())).await;
    let proxy = TestProxy::start(&module("pb", up.port(), "")).await;
    let got = proxy.get("/proxy?module=pb").await;
    assert_eq!((got.status, got.body.as_ref()), (200, body.as_slice()));
    let truncated = FakeExporter::serving(Reply::ok(ct, body[..body.len() - 3].to_vec())).await;
    let proxy = TestProxy::start(&module("pb", truncated.port(), "")).await;
    assert_eq!(proxy.get("/proxy?module=pb").await.status, 500);
}

#[tokio::test]
async fn utf8_names_pass_when_the_upstream_says_escaping_allow_utf_8() {
    // What a Go exporter with a dotted metric name answers Prometheus 3 (client_golang promhttp).
    let body = "# HELP \"http.requests\" Requests.\n# TYPE \"http.requests\" counter\n{\"http.requests\",code=\"200\"} 3\n";
    for (content_type, status) in [
        ("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8", 200),
        ("text/plain; version=0.0.4; charset=utf-8; escaping=underscores", 500),
        ("text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf8", 500),
    ] {
        let up = FakeExporter::serving(Reply::ok(content_type, body.as_bytes().to_vec())).await;
        let proxy = TestProxy::start(&module("go", up.port(), "")).await;
        let got = proxy.get("/proxy?module=go").await;
        assert_eq!(got.status, status, "{content_type}");
        if status == 200 {
            assert_eq!((got.text(), got.header("content-type")), (body.to_owned(), Some(content_type)));
        }
    }
}

#[tokio::test]
async fn the_first_module_is_consumed_and_the_rest_forwarded() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let proxy = TestProxy::start(&module("blackbox", up.port(), "      path: /probe\n")).await;
    let got = proxy.get("/proxy?module=blackbox&module=icmp&target=example.com").await;
    assert_eq!(got.status, 200);
    let seen = up.last();
    assert_eq!((seen.path.as_str(), seen.query.as_str()), ("/probe", "module=icmp&target=example.com"));
}

#[tokio::test]
async fn the_configured_query_is_merged_with_the_request() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let extra = "      path: '/api/v1/allmetrics?format=prometheus&help=no'\n";
    let proxy = TestProxy::start(&module("netdata", up.port(), extra)).await;
    assert_eq!(proxy.get("/proxy?module=netdata&filter=a+b&help=yes").await.status, 200);
    let seen = up.last();
    assert_eq!(seen.path, "/api/v1/allmetrics");
    assert_eq!(seen.query, "filter=a+b&format=prometheus&help=yes&help=no");
}

#[tokio::test]
async fn headers_are_forwarded_minus_hop_by_hop_plus_configured() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let extra = "      headers:\n        x-added: configured\n        host: exporter.internal\n";
    let proxy = TestProxy::start(&module("node", up.port(), extra)).await;
    let got = get(
        &proxy.url("/proxy?module=node"),
        &[
            ("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
            ("X-Prometheus-Scrape-Timeout-Seconds", "10"),
            ("Connection", "keep-alive, x-hop"),
            ("X-Hop", "drop me"),
            ("X-Custom", "kept"),
        ],
    )
    .await;
    assert_eq!(got.status, 200);
    let h = up.last().headers;
    assert_eq!(h["accept"], "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    assert_eq!(h["x-prometheus-scrape-timeout-seconds"], "10");
    assert_eq!(h["x-custom"], "kept");
    assert_eq!(h["x-added"], "configured");
    assert_eq!(h["host"], "exporter.internal");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert!(!h.contains_key("x-hop"), "a header named in Connection is hop-by-hop");
}

#[tokio::test]
async fn without_a_configured_host_the_clients_host_goes_upstream() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    assert_eq!(get(&proxy.url("/proxy?module=node"), &[("Host", "monitored-host:9999")]).await.status, 200);
    assert_eq!(up.last().headers["host"], "monitored-host:9999", "as Go's ReverseProxy does");
}

#[tokio::test]
async fn basic_auth_is_sent_upstream() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let extra = "      basic_auth_username: prom\n      basic_auth_password: s3cret\n";
    let proxy = TestProxy::start(&module("node", up.port(), extra)).await;
    assert_eq!(proxy.get("/proxy?module=node").await.status, 200);
    assert_eq!(up.last().headers["authorization"], "Basic cHJvbTpzM2NyZXQ=");
}

#[tokio::test]
async fn default_module_works_for_http_modules() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let yaml =
        format!("defaultModule: node\n{}", module("node", up.port(), "      path: '/metrics?module=keep'\n"));
    let proxy = TestProxy::start(&yaml).await;
    let got = proxy.get("/proxy?x=1").await;
    assert_eq!((got.status, got.text().as_str()), (200, NODE));
    assert_eq!(up.last().query, "module=keep&x=1", "nothing is consumed when no module was given");
}

#[tokio::test]
async fn module_selection_errors() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let got = proxy.get("/proxy").await;
    assert_eq!(got.status, 400);
    assert!(got.text().contains("module is missing"));
    let got = proxy.get("/proxy?module=nope").await;
    assert_eq!((got.status, got.text().as_str()), (404, "unknown module [nope]\n"));
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_errors_total{module=\"unknown\"}"), Some(1.0));
    assert!(up.requests().is_empty(), "no request reached the upstream");
}

#[tokio::test]
async fn other_paths_and_methods() {
    let proxy = TestProxy::start("modules: {}\n").await;
    assert_eq!(proxy.get("/nothing-here").await.status, 404);
    assert_eq!(proxy.get("/proxy/extra").await.status, 404);
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let req =
        http::Request::post(proxy.url("/proxy?module=x")).body(http_body_util::Empty::new()).expect("req");
    let resp = client.request(req).await.expect("response");
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET, HEAD");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    let mut conn = tokio::net::TcpStream::connect(proxy.addr).await.expect("connect");
    let request = b"GET /proxy?module=node HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut buf = Vec::new();
    for seen in 0..3 {
        conn.write_all(request).await.expect("write");
        let mut chunk = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(10);
        while buf.windows(NODE.len()).filter(|w| *w == NODE.as_bytes()).count() <= seen {
            assert!(Instant::now() < deadline, "no answer on the kept-alive connection");
            let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut chunk))
                .await
                .expect("read")
                .expect("read");
            assert!(n > 0, "the connection was closed after {seen} responses");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    assert_eq!(String::from_utf8_lossy(&buf).matches("HTTP/1.1 200 OK").count(), 3);
}

#[tokio::test]
async fn listens_on_ipv6_too() {
    let Ok(probe) = tokio::net::TcpListener::bind("[::1]:0").await else {
        crate::support::skipped("this host has no IPv6 loopback");
        return;
    };
    drop(probe);
    let proxy = TestProxy::start_with("modules: {}\n", Default::default(), "[::1]:0").await;
    assert!(proxy.addr.is_ipv6());
    assert_eq!(proxy.get("/").await.status, 200);
}

#[tokio::test]
async fn the_own_metrics_have_the_original_names_and_verify() {
    let up = FakeExporter::serving(Reply::text(NODE)).await;
    let proxy = TestProxy::start(&module("node", up.port(), "")).await;
    proxy.get("/proxy?module=node").await;
    let got = proxy.get("/metrics").await;
    assert_eq!(got.status, 200);
    let text = got.text();
    assert_eq!(sample(&text, "expexp_proxy_duration_seconds_count{module=\"node\"}"), Some(1.0));
    for name in [
        "expexp_proxy_errors_total",
        "expexp_proxy_timeout_errors_total",
        "expexp_malformed_content_errors_total",
        "expexp_build_info",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing");
    }
    got.verify().expect("our metrics verify");
}

#[tokio::test]
async fn failures_are_logged_once_with_module_and_cause_but_no_secret() {
    let (logs, _guard) = support::LogCapture::start();
    let port = closed_port().await;
    let extra = "      path: '/metrics?token=QUERYSECRET'\n      basic_auth_username: u\n      basic_auth_password: PASSWORDSECRET\n";
    let proxy = TestProxy::start(&module("down", port, extra)).await;
    assert_eq!(
        get(&proxy.url("/proxy?module=down"), &[("Authorization", "Bearer CLIENTSECRET")]).await.status,
        502
    );
    let text = logs.text();
    let failures: Vec<&str> = text.lines().filter(|l| l.contains("scrape failed")).collect();
    assert_eq!(failures.len(), 1, "{text}");
    assert!(
        failures[0].contains("module=down") && failures[0].contains(&format!("127.0.0.1:{port}")),
        "{text}"
    );
    for secret in ["QUERYSECRET", "PASSWORDSECRET", "CLIENTSECRET"] {
        assert!(!text.contains(secret), "{secret} in the log: {text}");
    }
}

#[tokio::test]
async fn an_http_1_0_upstream_does_not_downgrade_our_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A minimal HTTP/1.0 exporter, like Python's http.server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\nold 1\n")
                .await;
        }
    });
    let proxy = TestProxy::start(&module("old", port, "")).await;
    let mut conn = tokio::net::TcpStream::connect(proxy.addr).await.expect("connect");
    conn.write_all(b"GET /proxy?module=old HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
        .await
        .expect("read")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
}
