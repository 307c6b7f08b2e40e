//! Identical scrapes in flight share one fetch: the upstream (or the command) is asked once,
//! every waiter gets the whole body, and each keeps its own deadline.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(unix)]
use support::script;
use support::{FakeExporter, Reply, TestProxy, get, sample};

fn http_module(port: u16, extra: &str) -> String {
    format!(
        "modules:\n  m:\n    method: http\n    timeout: 10s\n{extra}    http: {{address: 127.0.0.1, port: {port}}}\n"
    )
}

async fn scrape_all(
    proxy: &Arc<TestProxy>,
    n: usize,
    headers: &'static [(&'static str, &'static str)],
) -> Vec<support::Got> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let url = proxy.url("/proxy?module=m");
        tasks.push(tokio::spawn(async move { get(&url, headers).await }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.expect("scrape task"));
    }
    got
}

#[tokio::test]
async fn identical_scrapes_in_flight_share_one_fetch_and_each_gets_the_whole_body() {
    let page = support::big_page();
    let up = FakeExporter::serving(Reply::text(page.clone()).delay(Duration::from_millis(400))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let got = scrape_all(&proxy, 10, &[]).await;
    for g in &got {
        assert_eq!(g.status, 200);
        assert_eq!(g.body.len(), page.len());
        assert!(g.text() == page, "every waiter gets the same bytes");
        assert_eq!(g.header("content-length"), Some(page.len().to_string().as_str()));
    }
    assert_eq!(up.requests().len(), 1, "one upstream fetch for ten scrapes");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_scrapes_coalesced_total{module=\"m\"}"), Some(9.0));
    assert_eq!(sample(&metrics, "expexp_proxy_duration_seconds_count{module=\"m\"}"), Some(10.0));
    // Once the fetch has answered, the next scrape fetches anew.
    assert_eq!(proxy.get("/proxy?module=m").await.status, 200);
    assert_eq!(up.requests().len(), 2);
}

#[tokio::test]
async fn scrapes_that_differ_in_what_reaches_the_upstream_are_not_coalesced() {
    let up = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let plain = scrape_all(&proxy, 3, &[("accept", "text/plain")]);
    let om = scrape_all(&proxy, 3, &[("accept", "application/openmetrics-text")]);
    let (plain, om) = tokio::join!(plain, om);
    assert!(plain.iter().chain(&om).all(|g| g.status == 200));
    let mut accepts: Vec<String> =
        up.requests().iter().map(|s| s.headers["accept"].to_str().expect("ascii").to_owned()).collect();
    accepts.sort();
    assert_eq!(accepts, ["application/openmetrics-text", "text/plain"], "one fetch per Accept");
    // Another query is another request too.
    let (a, b) = tokio::join!(proxy.get("/proxy?module=m&target=a"), proxy.get("/proxy?module=m&target=b"));
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(up.requests().len(), 4);
}

/// Two Prometheus versions asking at once may get different verdicts on one body: each gets
/// its own fetch and its own verdict, never the other's.
#[tokio::test]
async fn scrapes_judged_as_different_prometheus_versions_are_not_coalesced() {
    use crate::refcheck::Version;
    static V3: [(&str, &str); 1] = [("accept", Version::V3.accept())];
    static V2_42: [(&str, &str); 1] = [("accept", Version::V2_42.accept())];
    let up = FakeExporter::serving(Reply::text("{\"a.b\"} 1\n").delay(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let (three, two) = tokio::join!(scrape_all(&proxy, 3, &V3), scrape_all(&proxy, 3, &V2_42));
    assert!(three.iter().all(|g| g.status == 200), "Prometheus 3 reads quoted names");
    assert!(two.iter().all(|g| g.status == 500), "Prometheus 2.42 does not");
    assert_eq!(up.requests().len(), 2, "one fetch per judge");
}

#[tokio::test]
async fn coalesce_false_fetches_for_every_scrape() {
    let up = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_millis(200))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "    coalesce: false\n")).await);
    let got = scrape_all(&proxy, 4, &[]).await;
    assert!(got.iter().all(|g| g.status == 200));
    assert_eq!(up.requests().len(), 4);
}

#[tokio::test]
async fn a_waiter_whose_deadline_passes_gets_a_504_and_the_others_their_answer() {
    let up = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_millis(800))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let long = scrape_all(&proxy, 3, &[]);
    let short = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        // 0.7 s minus the 0.5 s offset: 200 ms, well before the shared fetch answers.
        let got = get(&proxy.url("/proxy?module=m"), &[("X-Prometheus-Scrape-Timeout-Seconds", "0.7")]).await;
        (got, started.elapsed())
    };
    let (long, (short, took)) = tokio::join!(long, short);
    assert_eq!(short.status, 504);
    assert!(took < Duration::from_millis(600), "the short waiter answered at its own deadline: {took:?}");
    assert!(long.iter().all(|g| g.status == 200 && g.text() == "a 1\n"));
    assert_eq!(up.requests().len(), 1, "the waiter that left did not cancel or repeat the fetch");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_timeout_errors_total{module=\"m\"}"), Some(1.0));
}

#[tokio::test]
async fn the_scrape_that_started_the_fetch_may_leave_without_cancelling_it() {
    let up = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_millis(500))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let first = {
        let url = proxy.url("/proxy?module=m");
        tokio::spawn(async move { get(&url, &[]).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let others = scrape_all(&proxy, 2, &[]);
    let leave = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Its client goes away: the connection closes and the proxy drops the scrape.
        first.abort();
    };
    let (others, ()) = tokio::join!(others, leave);
    assert!(others.iter().all(|g| g.status == 200 && g.text() == "a 1\n"));
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn a_later_deadline_is_not_cut_short_by_the_fetch_it_joined() {
    // The fetch started by a scrape with 200 ms left times out; the scrape that joined it with
    // 10 s left fetches again and is served.
    let up = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_millis(400))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let url = proxy.url("/proxy?module=m");
    let short = get(&url, &[("X-Prometheus-Scrape-Timeout-Seconds", "0.7")]);
    let long = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        proxy.get("/proxy?module=m").await
    };
    let (short, long) = tokio::join!(short, long);
    assert_eq!(short.status, 504);
    assert_eq!((long.status, long.text().as_str()), (200, "a 1\n"));
    assert_eq!(up.requests().len(), 2);
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn identical_exec_scrapes_share_one_run_and_args_are_part_of_identity() {
    let dir = tempfile::tempdir().expect("tmp");
    let runs = dir.path().join("runs");
    let s = script(
        dir.path(),
        "slow.sh",
        &format!("echo run >> {}; sleep 0.4; printf 'a{{arg=\"%s\"}} 1\\n' \"$1\"", runs.display()),
    );
    let yaml = format!(
        "modules:\n  m:\n    method: exec\n    timeout: 10s\n    exec: {{command: {}}}\n",
        s.display()
    );
    let proxy = Arc::new(TestProxy::start(&yaml).await);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let url = proxy.url(&format!("/proxy?module=m&args={}", i % 2));
        tasks.push(tokio::spawn(async move { (i % 2, get(&url, &[]).await) }));
    }
    for t in tasks {
        let (arg, got) = t.await.expect("task");
        assert_eq!((got.status, got.text()), (200, format!("a{{arg=\"{arg}\"}} 1\n")));
    }
    let ran = std::fs::read_to_string(&runs).expect("runs").lines().count();
    assert_eq!(ran, 2, "one run per distinct args");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_starts_total{module=\"m\"}"), Some(2.0));
    assert_eq!(sample(&metrics, "expexp_scrapes_coalesced_total{module=\"m\"}"), Some(4.0));
}

#[tokio::test]
async fn a_failed_shared_fetch_gives_every_waiter_the_same_failure() {
    let up =
        FakeExporter::serving(Reply::text("not a metric line\n").delay(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let got = scrape_all(&proxy, 4, &[]).await;
    assert!(got.iter().all(|g| g.status == 500), "{:?}", got.iter().map(|g| g.status).collect::<Vec<_>>());
    assert_eq!(up.requests().len(), 1);
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_malformed_content_errors_total{module=\"m\"}"), Some(4.0));
}

#[tokio::test]
async fn a_non_200_answer_is_shared_whole() {
    let up = FakeExporter::serving(Reply::text("gone\n").status(404).delay(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);
    let got = scrape_all(&proxy, 3, &[]).await;
    assert!(got.iter().all(|g| g.status == 404 && g.text() == "gone\n"));
    assert_eq!(up.requests().len(), 1);
}

#[tokio::test]
async fn a_large_answer_still_being_read_holds_back_the_next_fetch_until_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // More than the kernel buffers between the proxy and a slow reader hold (the proxy's send
    // buffer grows up to tcp_wmem's maximum), so most of the answer stays in the proxy's
    // memory while that reader is paused: 16 MB here, more where the kernel buffers more.
    let send_buffer = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    let series = ((2 * send_buffer + (8 << 20)) / 31).max(600_000);
    let mut page = String::from("# TYPE big gauge\n");
    for i in 0..series {
        page.push_str(&format!("big{{series=\"{i:08}\"}} {i}\n"));
    }
    let last_line = format!("big{{series=\"{:08}\"}} {}\n", series - 1, series - 1);
    let up = FakeExporter::serving(Reply::text(page.clone())).await;
    let proxy = Arc::new(TestProxy::start(&http_module(up.port(), "")).await);

    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(64 << 10).expect("small receive buffer");
    let mut slow = socket.connect(proxy.addr).await.expect("connect");
    // The same Host as the other client's: it is part of what makes two scrapes the same.
    let ask = format!("GET /proxy?module=m HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", proxy.addr);
    slow.write_all(ask.as_bytes()).await.expect("ask");
    let mut first = vec![0u8; 64 << 10];
    slow.read_exact(&mut first).await.expect("the answer began");
    assert!(first.starts_with(b"HTTP/1.1 200"));

    // The slow reader pauses: the next identical scrape's fetch waits for its answer to be sent.
    let next = {
        let url = proxy.url("/proxy?module=m");
        tokio::spawn(async move { get(&url, &[]).await })
    };
    let deadline = Instant::now() + Duration::from_millis(800);
    while proxy.metrics.budget.waiting.get() == 0 {
        assert!(
            Instant::now() < deadline,
            "the next fetch never waited for the last answer: {} held, {} requests",
            proxy.metrics.budget.held_bytes.get(),
            up.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(up.requests().len(), 1, "no second body fetched while the first is still in memory");

    let mut rest = Vec::new();
    slow.read_to_end(&mut rest).await.expect("the rest");
    assert!(rest.ends_with(last_line.as_bytes()), "the slow reader got all of it");
    let next = next.await.expect("scrape");
    assert_eq!(next.status, 200);
    assert!(next.body == page.as_bytes(), "the next scrape is served whole");
    assert_eq!(up.requests().len(), 2, "then fetched afresh, not served the last answer");
}

fn pass_through_module(port: u16) -> String {
    format!(
        "modules:\n  m:\n    method: http\n    timeout: 10s\n    http: {{address: 127.0.0.1, port: {port}, verify: false}}\n"
    )
}

/// `verify: false` scrapes are coalesced too: one upstream fetch, its answer sent to every
/// waiter as it arrives, unverified and byte for byte, with the upstream's headers.
#[tokio::test]
async fn identical_pass_through_scrapes_share_one_fetch() {
    let page = format!("{}not metrics at all\n", support::big_page());
    let up =
        FakeExporter::serving(Reply::ok("text/html", page.clone()).delay(Duration::from_millis(400))).await;
    let proxy = Arc::new(TestProxy::start(&pass_through_module(up.port())).await);
    let got = scrape_all(&proxy, 10, &[]).await;
    for g in &got {
        assert_eq!(g.status, 200);
        assert!(g.body == page.as_bytes(), "every waiter gets the same bytes, unverified");
        assert_eq!(g.header("content-type"), Some("text/html"), "the upstream's headers, untouched");
        assert_eq!(g.header("content-length"), Some(page.len().to_string().as_str()));
    }
    assert_eq!(up.requests().len(), 1, "one upstream fetch for ten scrapes");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_scrapes_coalesced_total{module=\"m\"}"), Some(9.0));
    assert_eq!(proxy.get("/proxy?module=m").await.status, 200);
    assert_eq!(up.requests().len(), 2, "once answered, the next scrape fetches anew");
}

/// A pass-through answer is shared as any other: a 404 and a body beyond the budget alike.
#[tokio::test]
async fn a_shared_pass_through_answer_keeps_its_status_and_the_memory_budget() {
    let up = FakeExporter::serving(Reply::text("gone\n").status(404).delay(Duration::from_millis(300))).await;
    let proxy = Arc::new(TestProxy::start(&pass_through_module(up.port())).await);
    let got = scrape_all(&proxy, 3, &[]).await;
    assert!(got.iter().all(|g| g.status == 404 && g.text() == "gone\n"));
    assert_eq!(up.requests().len(), 1);

    let big = FakeExporter::serving(Reply::text(support::big_page())).await;
    let mut settings = exporter_exporter::settings::Settings::default();
    settings.web.plain_address = Some("127.0.0.1:0".into());
    settings.options.max_held_bytes = 1000;
    let proxy = TestProxy::start_settings(&pass_through_module(big.port()), settings).await;
    let got = proxy.get("/proxy?module=m").await;
    assert_eq!(got.status, 503, "a body larger than the whole budget is refused, as a held one is");
}
