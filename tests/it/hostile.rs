//! Hostile requests: malformed HTTP, huge query strings, junk and NULs in `module` and `args`,
//! path traversal, request smuggling. Each gets a clean 4xx (or a closed connection), nothing
//! crashes, and nothing reaches an upstream it should not.

use crate::support;

use std::time::Duration;

use support::{FakeExporter, Reply, TestProxy, sample, script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends raw bytes on a fresh connection and returns what came back (bounded in time).
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && !out.starts_with(b"HTTP/1.1 1") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(response: &str) -> Option<u16> {
    response.strip_prefix("HTTP/1.1 ").and_then(|r| r.get(..3)).and_then(|s| s.parse().ok())
}

#[tokio::test]
async fn hostile_requests_get_clean_4xx_and_never_reach_an_upstream() {
    let up = FakeExporter::serving(Reply::text("a 1\n")).await;
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "echo.sh", "echo 'a 1'");
    let yaml = format!(
        "modules:\n  node:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n  sh:\n    method: exec\n    exec: {{command: {}}}\n",
        up.port(),
        s.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    let huge = format!("GET /proxy?module=node&x={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(200_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage instead of HTTP", b"\x00\x01\x02 hello there\r\n\r\n".to_vec()),
        ("a request line without a version", b"GET /proxy?module=node\r\n\r\n".to_vec()),
        ("a huge query string", huge.into_bytes()),
        ("a huge header", format!("GET /proxy?module=node HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(200_000)).into_bytes()),
        ("percent-encoded junk in module", b"GET /proxy?module=%00%ff%2e%2e%2fnode HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("a NUL in module", b"GET /proxy?module=node%00 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("path traversal to the proxy", b"GET /metrics/../proxy?module=node HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("encoded path traversal", b"GET /%2e%2e/proxy?module=node HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("a doubled slash", b"GET //proxy?module=node HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (
            "Content-Length and Transfer-Encoding together",
            b"GET /proxy?module=node HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /proxy?module=node HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "two different Content-Lengths",
            b"GET /proxy?module=node HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
        ),
        ("a POST to the proxy", b"POST /proxy?module=node HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec()),
    ];
    for (what, request) in cases {
        let response = raw(proxy.addr, &request).await;
        match status(&response) {
            Some(code) => assert!((400..500).contains(&code), "{what}: got {code}\n{response}"),
            None => assert!(response.is_empty(), "{what}: not HTTP: {response:?}"),
        }
    }
    assert!(up.requests().is_empty(), "a hostile request reached the upstream: {:?}", up.requests());

    // NULs and junk in exec args: a 400 before anything is run.
    let got = proxy.get("/proxy?module=sh&args=a%00b").await;
    assert_eq!(got.status, 400);
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_starts_total{module=\"sh\"}"), Some(0.0));
    // The proxy still serves after all that.
    assert_eq!(proxy.get("/proxy?module=node").await.status, 200);
}
