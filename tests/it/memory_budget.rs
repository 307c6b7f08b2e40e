//! The memory budget for upstream bodies (`-upstream.max-held-bytes`): never exceeded however
//! many large bodies arrive at once; the scrapes beyond it wait for room and are served.

use crate::support;

use std::sync::Arc;
#[cfg(unix)]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use exporter_exporter::settings::Settings;
use support::{FakeExporter, Reply, TestProxy, get};

async fn proxy_with_budget(port: u16, budget: u64) -> TestProxy {
    let mut settings = Settings::default();
    settings.web.plain_address = Some("127.0.0.1:0".into());
    settings.options.max_held_bytes = budget;
    let yaml = format!(
        "modules:\n  m:\n    method: http\n    timeout: 20s\n    http: {{address: 127.0.0.1, port: {port}}}\n"
    );
    TestProxy::start_settings(&yaml, settings).await
}

/// Waits, boundedly, until every byte of room is returned. The last piece of a body is released
/// when the server drops it after writing it to the socket, which can be just after the client
/// has read it, so "the client has the whole body" does not yet mean "the room is back".
async fn room_given_back(proxy: &TestProxy) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while proxy.metrics.budget.held_bytes.get() != 0 || proxy.metrics.budget.waiting.get() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "room not given back 5 s after the answers were sent: {} bytes held, {} waiting",
            proxy.metrics.budget.held_bytes.get(),
            proxy.metrics.budget.waiting.get()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// Not under wine: there the 16 fetches do not overlap (each body is read and sent before the
// next is reserved), so no scrape ever waits and the test's premise cannot be set up; the
// budget's code is the same on Windows (docs/windows.md).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_bodies_at_once_never_exceed_the_budget() {
    let page = support::big_page();
    let budget = 3 << 20;
    let up = FakeExporter::serving(Reply::text(page.clone()).delay(Duration::from_millis(100))).await;
    let proxy = Arc::new(proxy_with_budget(up.port(), budget).await);
    // Watch the self-metrics as fast as they can be read, for the whole run.
    let done = Arc::new(AtomicBool::new(false));
    let (peak_held, peak_waiting) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let watcher = {
        let (proxy, done, held, waiting) =
            (proxy.clone(), done.clone(), peak_held.clone(), peak_waiting.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::SeqCst) {
                held.fetch_max(proxy.metrics.budget.held_bytes.get(), Ordering::SeqCst);
                waiting.fetch_max(proxy.metrics.budget.waiting.get(), Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        })
    };
    let scrapes = 16;
    let mut tasks = Vec::new();
    for i in 0..scrapes {
        // Different queries: each scrape fetches its own body.
        let url = proxy.url(&format!("/proxy?module=m&i={i}"));
        tasks.push(tokio::spawn(async move { get(&url, &[]).await }));
    }
    for t in tasks {
        let got = t.await.expect("scrape");
        assert_eq!(got.status, 200);
        assert!(got.body == page.as_bytes(), "the whole body");
    }
    done.store(true, Ordering::SeqCst);
    watcher.await.expect("watcher");
    assert_eq!(up.requests().len(), scrapes);
    let (held, waiting) = (peak_held.load(Ordering::SeqCst), peak_waiting.load(Ordering::SeqCst));
    assert!(held <= budget, "held {held} bytes, over the budget of {budget}");
    assert!(held >= page.len() as u64, "bodies were held and counted: {held}");
    assert!(waiting > 0, "with 16 bodies of 1.1 MB and room for 2, some scrapes waited");
    room_given_back(&proxy).await;
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(support::sample(&metrics, "expexp_held_body_bytes"), Some(0.0));
    assert_eq!(support::sample(&metrics, "expexp_scrapes_waiting_for_memory"), Some(0.0));
}

#[tokio::test]
async fn a_body_larger_than_the_whole_budget_is_a_503() {
    let up = FakeExporter::serving(Reply::text(support::big_page())).await;
    let proxy = proxy_with_budget(up.port(), 512 << 10).await;
    let got = proxy.get("/proxy?module=m").await;
    assert_eq!(got.status, 503);
    assert_eq!(got.text(), "Service Unavailable: the proxy's memory for upstream bodies is in use\n");
    assert_eq!(proxy.metrics.budget.held_bytes.get(), 0);
}

#[tokio::test]
async fn a_scrape_that_finds_no_room_until_its_deadline_gets_a_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An upstream that declares a body of 1 MB and then sends nothing: each scrape of it holds
    // room for 1 MB until its own deadline.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n";
                let _ = stream.write_all(answer.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    let proxy = Arc::new(proxy_with_budget(port, 1_500_000).await);
    let first = {
        let url = proxy.url("/proxy?module=m&i=1");
        tokio::spawn(async move { get(&url, &[("X-Prometheus-Scrape-Timeout-Seconds", "3")]).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while proxy.metrics.budget.held_bytes.get() < 1_000_000 {
        assert!(std::time::Instant::now() < deadline, "the first scrape never reserved its room");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = std::time::Instant::now();
    // 0.7 s minus the 0.5 s offset: 200 ms to find room that the first scrape holds for 2.5 s.
    let second =
        get(&proxy.url("/proxy?module=m&i=2"), &[("X-Prometheus-Scrape-Timeout-Seconds", "0.7")]).await;
    assert_eq!(second.status, 503);
    assert_eq!(second.text(), "Service Unavailable: the proxy's memory for upstream bodies is in use\n");
    assert!(started.elapsed() < Duration::from_secs(2), "answered at its deadline: {:?}", started.elapsed());
    assert_eq!(first.await.expect("first").status, 504, "the stalled body times out");
    room_given_back(&proxy).await;
}
