//! Kept-alive upstream connections: reused, replaced when the upstream closes them, bounded,
//! and closed when a scrape ends early. The upstream is written on raw TCP so each test
//! decides when its connections close.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use exporter_exporter::method::http::MAX_IDLE_CONNECTIONS;
use support::TestProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BODY: &str = "# TYPE up_total counter\nup_total 1\n";

/// What the upstream does on each connection.
#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Answers every request and keeps the connection open.
    KeepAlive,
    /// Answers one request, then closes without saying so (no `Connection: close`).
    CloseAfterAnswer,
    /// Answers one request; reads the next and closes without answering it.
    DropSecondRequest,
    /// Answers after a delay, keeping the connection open.
    Slow(Duration),
    /// Sends the head and a first piece of a longer body, then waits for the proxy to close.
    Stall,
    /// Answers every request with an empty body and keeps the connection open.
    Empty,
}

struct RawUpstream {
    port: u16,
    accepted: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
    /// The most connections open at once.
    peak: Arc<AtomicUsize>,
}

impl RawUpstream {
    async fn start(behaviour: Behaviour) -> RawUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (a, o, p) = (accepted.clone(), open.clone(), peak.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let now = o.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                let o = o.clone();
                tokio::spawn(async move {
                    serve(stream, behaviour).await;
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        RawUpstream { port, accepted, open, peak }
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// Reads one request head; `None` at the end of the connection.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// Answers in three writes (the head, then the body in two pieces), as a server sending a file
/// does: the proxy gets the body in several reads, the last of which ends it.
async fn answer(stream: &mut TcpStream, head_only: bool) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    );
    let (first, last) = if head_only { ("", "") } else { BODY.split_at(BODY.len() / 2) };
    for piece in [head.as_str(), first, last] {
        if stream.write_all(piece.as_bytes()).await.is_err() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

async fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    let mut answered = 0;
    while let Some(request) = read_head(&mut stream).await {
        match behaviour {
            Behaviour::KeepAlive => {}
            Behaviour::Empty => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            Behaviour::CloseAfterAnswer | Behaviour::DropSecondRequest if answered == 1 => return,
            Behaviour::CloseAfterAnswer | Behaviour::DropSecondRequest => {}
            Behaviour::Slow(d) => tokio::time::sleep(d).await,
            Behaviour::Stall => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n";
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&[b'x'; 1000]).await;
                // Until the proxy closes its end.
                let mut sink = [0u8; 64];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
        if !answer(&mut stream, request.starts_with(b"HEAD ")).await {
            return;
        }
        answered += 1;
        if behaviour == Behaviour::CloseAfterAnswer {
            // Let the proxy's next request find the connection closed, or race with the close.
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn modules(port: u16) -> String {
    format!(
        "modules:\n  checked:\n    method: http\n    timeout: 10s\n    http: {{address: 127.0.0.1, port: {port}}}\n  \
         raw:\n    method: http\n    timeout: 10s\n    http: {{address: 127.0.0.1, port: {port}, verify: false}}\n"
    )
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn sequential_scrapes_share_one_connection_per_module() {
    let up = RawUpstream::start(Behaviour::KeepAlive).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    for _ in 0..5 {
        for module in ["checked", "raw"] {
            let got = proxy.get(&format!("/proxy?module={module}")).await;
            assert_eq!((got.status, got.text().as_str()), (200, BODY), "module {module}");
        }
    }
    // A verified body and a streamed one both give their connection back.
    assert_eq!(up.accepted(), 2);
}

#[tokio::test]
async fn head_scrapes_and_empty_bodies_give_their_connection_back() {
    let up = RawUpstream::start(Behaviour::Empty).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    for _ in 0..3 {
        let got = proxy.get("/proxy?module=raw").await;
        assert_eq!((got.status, got.text().as_str()), (200, ""));
    }
    assert_eq!(up.accepted(), 1);
    let up = RawUpstream::start(Behaviour::KeepAlive).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    for _ in 0..3 {
        let got = support::request("HEAD", &proxy.url("/proxy?module=raw")).await;
        assert_eq!(got.status, 200);
    }
    assert_eq!(up.accepted(), 1);
}

#[tokio::test]
async fn connections_the_upstream_closed_are_replaced_without_a_failed_scrape() {
    let up = RawUpstream::start(Behaviour::CloseAfterAnswer).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    for i in 0..6 {
        let module = if i % 2 == 0 { "checked" } else { "raw" };
        let got = proxy.get(&format!("/proxy?module={module}")).await;
        assert_eq!(got.status, 200, "scrape {i}");
    }
    assert_eq!(up.accepted(), 6);
}

#[tokio::test]
async fn a_request_lost_to_a_closing_connection_is_sent_again_once() {
    // The connection looks alive when it is taken from the pool; the upstream closes it only
    // on reading the request, so the proxy must notice and try a new connection.
    let up = RawUpstream::start(Behaviour::DropSecondRequest).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    for i in 0..4 {
        let got = proxy.get("/proxy?module=checked").await;
        assert_eq!((got.status, got.text().as_str()), (200, BODY), "scrape {i}");
    }
    // Scrape 1 opened one; each later one found the kept one dropped and opened another.
    assert_eq!(up.accepted(), 4);
}

#[tokio::test]
async fn idle_connections_are_bounded() {
    let up = RawUpstream::start(Behaviour::Slow(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&modules(up.port)).await);
    let scrapes = MAX_IDLE_CONNECTIONS + 4;
    let mut tasks = Vec::new();
    for i in 0..scrapes {
        let proxy = proxy.clone();
        // Different queries, so that no scrape joins another's fetch.
        tasks.push(tokio::spawn(
            async move { proxy.get(&format!("/proxy?module=checked&i={i}")).await.status },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.expect("scrape task"), 200);
    }
    assert_eq!(up.accepted(), scrapes);
    eventually("the connections beyond the idle bound are closed", || up.open() == MAX_IDLE_CONNECTIONS)
        .await;
}

#[tokio::test]
async fn a_scrape_abandoned_mid_body_closes_its_upstream_connection() {
    let up = RawUpstream::start(Behaviour::Stall).await;
    let proxy = TestProxy::start(&modules(up.port)).await;
    let mut client = TcpStream::connect(proxy.addr).await.expect("connect");
    client
        .write_all(b"GET /proxy?module=raw HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("send the request");
    let mut first = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut first))
        .await
        .expect("the streamed answer starts")
        .expect("read");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&first[..n]));
    eventually("the upstream connection is open", || up.open() == 1).await;
    drop(client);
    eventually("the upstream connection is closed once the client has gone", || up.open() == 0).await;
    assert_eq!(up.accepted(), 1);
}

fn bounded(port: u16, max_connections: usize) -> String {
    format!(
        "modules:\n  checked:\n    method: http\n    timeout: 10s\n    \
         http: {{address: 127.0.0.1, port: {port}, max_connections: {max_connections}}}\n"
    )
}

#[tokio::test]
async fn scrapes_beyond_max_connections_wait_for_one_and_never_open_more() {
    let up = RawUpstream::start(Behaviour::Slow(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&bounded(up.port, 3)).await);
    let scrapes = 20;
    let mut tasks = Vec::new();
    for i in 0..scrapes {
        let proxy = proxy.clone();
        tasks.push(tokio::spawn(async move { proxy.get(&format!("/proxy?module=checked&i={i}")).await }));
    }
    // While the first three are answered, the others wait, and say so on /metrics.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let metrics = proxy.get("/metrics").await.text();
        let waiting = support::sample(&metrics, "expexp_upstream_connection_waits{module=\"checked\"}");
        if waiting == Some(f64::from(scrapes - 3)) {
            break;
        }
        assert!(Instant::now() < deadline, "waiting scrapes never showed: {waiting:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for t in tasks {
        let got = t.await.expect("scrape task");
        assert_eq!((got.status, got.text().as_str()), (200, BODY));
    }
    assert_eq!(up.peak(), 3, "never more connections at once than the bound");
    assert_eq!(up.accepted(), 3, "the waiting scrapes reused the connections instead of opening new ones");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(support::sample(&metrics, "expexp_upstream_connection_waits{module=\"checked\"}"), Some(0.0));
}

#[tokio::test]
async fn a_waiter_whose_deadline_passes_gets_a_504_and_the_others_are_served() {
    let up = RawUpstream::start(Behaviour::Slow(Duration::from_millis(800))).await;
    let proxy = Arc::new(TestProxy::start(&bounded(up.port, 1)).await);
    let first = {
        let proxy = proxy.clone();
        tokio::spawn(async move { proxy.get("/proxy?module=checked&i=1").await })
    };
    eventually("the first scrape has the connection", || up.accepted() == 1).await;
    // 0.7 s minus the default 0.5 s offset: a deadline 200 ms away, long before the connection is free.
    let started = Instant::now();
    let short = support::get(
        &proxy.url("/proxy?module=checked&i=2"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "0.7")],
    )
    .await;
    assert_eq!(short.status, 504);
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "answered at its own deadline: {:?}",
        started.elapsed()
    );
    let first = first.await.expect("first scrape");
    assert_eq!((first.status, first.text().as_str()), (200, BODY));
    let after = proxy.get("/proxy?module=checked&i=3").await;
    assert_eq!((after.status, after.text().as_str()), (200, BODY));
    assert_eq!(up.accepted(), 1, "one connection served all; the one that gave up took nothing with it");
}
