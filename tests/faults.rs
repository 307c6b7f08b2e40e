//! Upstreams and scripts that misbehave: each gives the right status quickly and leaves no
//! file descriptor, thread or process behind. The tests run one at a time (they measure the
//! whole process), each bounded in time.
//! Linux only: it counts what the process holds in /proc, and its scripts are shell scripts.
#![cfg(unix)]

#[path = "it/support.rs"]
mod support;

use std::time::{Duration, Instant};

use exporter_exporter::settings::Options;
use support::{Resources, TestProxy, script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The tests measure process-wide resources, so they must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs one test alone, on a runtime of its own. The lock is taken before the runtime exists:
/// a test that the harness starts meanwhile waits with its one thread, not with a runtime's
/// three, which the running test's thread count would otherwise see (`Resources::settle`).
fn serial(test: impl std::future::Future<Output = ()>) {
    let _alone = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(test);
}

/// A raw TCP upstream: reads one request head, then runs `behave` on the connection.
async fn raw_upstream<F, Fut>(behave: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let behave = std::sync::Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let behave = behave.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                behave(s).await;
            });
        }
    });
    port
}

fn module(port: u16, extra: &str) -> String {
    format!(
        "modules:\n  m:\n    method: http\n    timeout: 1s\n    http:\n      address: 127.0.0.1\n      port: {port}\n{extra}"
    )
}

async fn status_within(proxy: &TestProxy, limit: Duration) -> u16 {
    let start = Instant::now();
    let got = proxy.get("/proxy?module=m").await;
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
    got.status
}

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n";

/// Upstreams that misbehave, each with the status a scrape of it gets: (what it does, its
/// port, the status).
async fn misbehaving() -> Vec<(&'static str, u16, u16)> {
    vec![
        (
            "hangs without answering",
            raw_upstream(|s| async move {
                let _held = s;
                tokio::time::sleep(Duration::from_secs(30)).await;
            })
            .await,
            504,
        ),
        (
            "drips one byte a second",
            raw_upstream(|mut s| async move {
                let _ = s.write_all(HEAD).await;
                let _ = s.write_all(b"Content-Length: 100\r\n\r\n").await;
                for _ in 0..30 {
                    if s.write_all(b"a").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
            .await,
            504,
        ),
        (
            "resets mid-body",
            raw_upstream(|mut s| async move {
                let _ = s.write_all(HEAD).await;
                let _ = s.write_all(b"Content-Length: 100\r\n\r\nmetric_a 1\nmet").await;
                let _ = s.set_zero_linger();
            })
            .await,
            502,
        ),
        (
            "sends less than its Content-Length",
            raw_upstream(|mut s| async move {
                let _ = s.write_all(HEAD).await;
                let _ = s.write_all(b"Content-Length: 1000\r\n\r\nmetric_a 1\n").await;
            })
            .await,
            502,
        ),
        (
            "lies about gzip",
            raw_upstream(|mut s| async move {
                let _ = s.write_all(HEAD).await;
                let _ =
                    s.write_all(b"Content-Encoding: gzip\r\nContent-Length: 11\r\n\r\nmetric_a 1\n").await;
            })
            .await,
            500,
        ),
        (
            "sends an endless body",
            raw_upstream(|mut s| async move {
                let _ = s.write_all(HEAD).await;
                let _ = s.write_all(b"Transfer-Encoding: chunked\r\n\r\n").await;
                let chunk = format!("{:x}\r\n{}\r\n", 8192, "a 1\n".repeat(2048));
                while s.write_all(chunk.as_bytes()).await.is_ok() {}
            })
            .await,
            502,
        ),
        ("closes without answering", raw_upstream(|_s| async move {}).await, 502),
    ]
}

#[test]
fn misbehaving_upstreams() {
    serial(async {
        let before = Resources::now();
        let small = Options { max_body_bytes: 1 << 20, ..Options::default() };
        for (what, port, status) in misbehaving().await {
            let proxy = TestProxy::start_with(&module(port, ""), small.clone(), "127.0.0.1:0").await;
            assert_eq!(
                status_within(&proxy, Duration::from_secs(5)).await,
                status,
                "an upstream that {what}"
            );
            proxy.stop().await;
        }
        before.settle(8, 64 << 10).await;
    });
}

#[test]
fn an_endless_unverified_body_is_cut_at_the_limit() {
    serial(async {
        let port = raw_upstream(|mut s| async move {
            let _ = s.write_all(HEAD).await;
            let _ = s.write_all(b"Transfer-Encoding: chunked\r\n\r\n").await;
            let chunk = format!("{:x}\r\n{}\r\n", 8192, "a".repeat(8192));
            while s.write_all(chunk.as_bytes()).await.is_ok() {}
        })
        .await;
        let small = Options { max_body_bytes: 1 << 20, ..Options::default() };
        let yaml = format!(
            "modules:\n  m:\n    method: http\n    http: {{address: 127.0.0.1, port: {port}, verify: false}}\n"
        );
        let proxy = TestProxy::start_with(&yaml, small, "127.0.0.1:0").await;
        let total = raw_exchange(&proxy, "/proxy?module=m").await.len();
        assert!(total < 2 << 20, "the stream stopped near the 1 MiB limit, after {total} bytes");
    });
}

/// Sends one request on a new connection and reads until the proxy closes it (at most 10 s).
async fn raw_exchange(proxy: &TestProxy, path: &str) -> Vec<u8> {
    let mut conn = tokio::net::TcpStream::connect(proxy.addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = vec![0u8; 65536];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the proxy closed the connection of a broken stream");
    got
}

/// An unverified body streams through, so its 200 is out before the body is known whole. When
/// the upstream breaks off after that, the client must be able to tell: fewer bytes than the
/// Content-Length it was promised, or a chunked body without its last chunk, and the
/// connection closed. Never a 200 with a body that looks complete.
#[test]
fn a_stream_broken_after_the_head_never_looks_complete() {
    serial(async {
        let sized = raw_upstream(|mut s| async move {
            let _ = s.write_all(HEAD).await;
            let _ = s.write_all(b"Content-Length: 100000\r\n\r\n").await;
            let _ = s.write_all("m 1\n".repeat(10_000).as_bytes()).await;
            // 40000 of the 100000 bytes; once the proxy has passed them on, the connection drops.
            tokio::time::sleep(Duration::from_millis(300)).await;
        })
        .await;
        let chunked = raw_upstream(|mut s| async move {
            let _ = s.write_all(HEAD).await;
            let _ = s.write_all(b"Transfer-Encoding: chunked\r\n\r\n").await;
            let chunk = format!("{:x}\r\n{}\r\n", 40_000, "m 1\n".repeat(10_000));
            let _ = s.write_all(chunk.as_bytes()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // No last chunk: the connection drops.
        })
        .await;
        let yaml = format!(
            "modules:\n  sized:\n    method: http\n    http: {{address: 127.0.0.1, port: {sized}, verify: false}}\n  \
         chunked:\n    method: http\n    http: {{address: 127.0.0.1, port: {chunked}, verify: false}}\n"
        );
        let proxy = TestProxy::start_with(&yaml, Options::default(), "127.0.0.1:0").await;

        let got = raw_exchange(&proxy, "/proxy?module=sized").await;
        let text = String::from_utf8_lossy(&got);
        let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.to_ascii_lowercase().contains("content-length: 100000"), "{head}");
        assert!(body.len() < 100_000, "the client got {} bytes, all it was promised", body.len());
        assert!(body.len() <= 40_000, "more than the upstream sent: {}", body.len());

        let got = raw_exchange(&proxy, "/proxy?module=chunked").await;
        let text = String::from_utf8_lossy(&got);
        let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
        assert!(
            !body.ends_with("0\r\n\r\n"),
            "a broken stream ended with a last chunk: {} bytes",
            body.len()
        );
        proxy.stop().await;
    });
}

#[test]
fn misbehaving_scripts() {
    serial(async {
        let before = Resources::now();
        let dir = tempfile::tempdir().expect("tmp");
        let cases = [
            (
                "ignores SIGTERM and forks a child that does too",
                "trap '' TERM; (trap '' TERM; sleep 30) & sleep 30",
                "timeout: 500ms",
                504,
            ),
            (
                "closes stdout early and keeps running",
                "echo 'a 1'; exec >&-; sleep 30",
                "timeout: 500ms",
                504,
            ),
            ("writes without end", "yes 'a 1'", "timeout: 20s", 500),
        ];
        for (what, body, timeout, status) in cases {
            let s = script(dir.path(), "s.sh", body);
            let yaml = format!(
                "modules:\n  m:\n    method: exec\n    {timeout}\n    exec: {{command: {}, max_output_bytes: 1048576}}\n",
                s.display()
            );
            let proxy = TestProxy::start(&yaml).await;
            assert_eq!(status_within(&proxy, Duration::from_secs(5)).await, status, "a script that {what}");
            proxy.stop().await;
        }
        // Children are killed with their process group and reaped.
        before.settle(8, 64 << 10).await;
    });
}

#[test]
fn idle_slowloris_connections_do_not_block_a_scrape_and_are_closed() {
    serial(async {
        let before = Resources::now();
        let limits = exporter_exporter::settings::Limits {
            read_header_timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let (addr, stop) = bare_server(limits).await;
        let mut idle = Vec::new();
        for _ in 0..500 {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.expect("partial head");
            idle.push(s);
        }
        let start = Instant::now();
        let got = support::get(&format!("http://{addr}/-/healthy"), &[]).await;
        assert_eq!(got.status, 200);
        assert!(start.elapsed() < Duration::from_secs(1), "a normal request waited {:?}", start.elapsed());
        // After the header timeout every idle connection is closed by the server.
        let mut buf = [0u8; 256];
        for s in &mut idle {
            let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await;
            let closed = match read {
                Err(_) => false,
                Ok(Ok(0) | Err(_)) => true,
                // hyper may answer 408 before closing; the next read then sees the end.
                Ok(Ok(_)) => matches!(s.read(&mut buf).await, Ok(0) | Err(_)),
            };
            assert!(closed, "an idle connection stayed open past the header timeout");
        }
        drop(idle);
        stop.stop().await;
        before.settle(8, 64 << 10).await;
    });
}

/// Starts the proxy with no modules and `limits`; returns its address and the proxy.
async fn bare_server(limits: exporter_exporter::settings::Limits) -> (std::net::SocketAddr, TestProxy) {
    let proxy = TestProxy::start_limited("modules: {}\n", limits).await;
    (proxy.addr, proxy)
}

/// Sends one request on `s` and reads until its response has arrived.
async fn one_request(s: &mut tokio::net::TcpStream) -> bool {
    if s.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").await.is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("Healthy.") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    true
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    serial(async {
        let limits = exporter_exporter::settings::Limits {
            read_header_timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let (addr, _stop) = bare_server(limits).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        assert!(one_request(&mut s).await, "served");
        let start = Instant::now();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the idle connection was closed: {read:?}");
        let idle = start.elapsed();
        assert!(idle >= Duration::from_millis(800) && idle < Duration::from_secs(5), "closed after {idle:?}");
    });
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    serial(async {
        let limits = exporter_exporter::settings::Limits { max_connections: 2, ..Default::default() };
        let (addr, _stop) = bare_server(limits).await;
        let mut a = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut b = tokio::net::TcpStream::connect(addr).await.expect("connect");
        assert!(one_request(&mut a).await && one_request(&mut b).await);
        let mut c = tokio::net::TcpStream::connect(addr).await.expect("the kernel queues it");
        c.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let mut buf = [0u8; 256];
        let early = tokio::time::timeout(Duration::from_millis(500), c.read(&mut buf)).await;
        assert!(early.is_err(), "a third connection was served beyond the limit of 2");
        drop(a);
        let late = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await;
        assert!(matches!(late, Ok(Ok(n)) if n > 0), "served once a slot was free: {late:?}");
    });
}
