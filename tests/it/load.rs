//! Load: many kept-alive clients scraping a mix of modules with no error and flat memory, and
//! a reload storm during load that loses no request. The CI size is small and quick; the soak
//! size (1,000 clients for 30 s) runs with
//! `EXPEXP_LOAD_CLIENTS=1000 EXPEXP_LOAD_SECONDS=30 cargo test --release --test it load::`.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::{Daemon, FakeExporter, Reply, Resources, script};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `clients` loops of GETs over `urls` until `seconds` pass; returns (ok, failed).
async fn hammer(urls: Vec<String>, clients: u64, seconds: u64) -> (u64, u64, Vec<String>) {
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(clients as usize).build_http();
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let urls = Arc::new(urls);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, ok, failed, errors, urls) =
            (client.clone(), ok.clone(), failed.clone(), errors.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = c as usize;
            while Instant::now() < deadline {
                let url = &urls[i % urls.len()];
                i += 1;
                let req = http::Request::get(url).body(Empty::new()).expect("request");
                let result = tokio::time::timeout(Duration::from_secs(30), async {
                    let resp = client.request(req).await.map_err(|e| e.to_string())?;
                    let status = resp.status();
                    resp.into_body().collect().await.map_err(|e| e.to_string())?;
                    Ok::<_, String>(status)
                })
                .await;
                match result {
                    Ok(Ok(s)) if s == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let mut e = errors.lock().expect("lock");
                        if e.len() < 5 {
                            e.push(format!("{url}: {other:?}"));
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let errors = errors.lock().expect("lock").clone();
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed), errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_kept_alive_clients_scrape_a_mix_of_modules_without_error() {
    let clients = env("EXPEXP_LOAD_CLIENTS", 200);
    let seconds = env("EXPEXP_LOAD_SECONDS", 6);
    let up = FakeExporter::serving(Reply::text("# TYPE a gauge\na{x=\"1\"} 1\n")).await;
    let dir = tempfile::tempdir().expect("tmp");
    let sh = script(dir.path(), "s.sh", "echo 'b 2'");
    let file = dir.path().join("c.prom");
    std::fs::write(&file, "c 3\n").expect("write");
    let cfg = dir.path().join("expexp.yaml");
    std::fs::write(
        &cfg,
        format!(
            "modules:\n  http:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n  exec:\n    method: exec\n    exec: {{command: {}, max_concurrency: 8}}\n  file:\n    method: file\n    file: {{path: {}}}\n",
            up.port(),
            sh.display(),
            file.display()
        ),
    )
    .expect("write");
    // The real binary, so its resources are measured apart from the clients'.
    let d = Daemon::with_config(&cfg, &["-log.level=warn"]);
    let pid = d.child.id();
    let urls: Vec<String> = ["http", "http", "http", "file", "exec"]
        .iter()
        .map(|m| d.url(&format!("/proxy?module={m}")))
        .collect();
    let (_, warm_failed, _) = hammer(urls.clone(), 4, 1).await;
    assert_eq!(warm_failed, 0);
    let idle = Resources::of(pid);
    // First half, then second half: memory must be flat between them.
    let (ok1, failed1, errors1) = hammer(urls.clone(), clients, seconds / 2).await;
    let mid = Resources::of(pid);
    let (ok2, failed2, errors2) = hammer(urls, clients, seconds - seconds / 2).await;
    let end = Resources::of(pid);
    let (ok, failed) = (ok1 + ok2, failed1 + failed2);
    assert_eq!(failed, 0, "{failed} of {} failed: {errors1:?} {errors2:?}", ok + failed);
    assert!(ok > clients, "only {ok} scrapes in {seconds}s");
    eprintln!(
        "{ok} scrapes by {clients} clients in {seconds}s; RSS idle {} KiB, mid {} KiB, end {} KiB",
        idle.rss_kib, mid.rss_kib, end.rss_kib
    );
    assert!(
        end.rss_kib <= mid.rss_kib + mid.rss_kib / 4 + (16 << 10),
        "memory grew under steady load: {mid:?} -> {end:?}"
    );
    // Connections and children go away once the clients do.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = Resources::of(pid);
        // Pooled upstream connections stay, up to their bound.
        let pooled = exporter_exporter::method::http::MAX_IDLE_CONNECTIONS;
        if now.fds <= idle.fds + pooled + 4 && now.children == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "resources did not return: idle {idle:?}, now {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_storm_during_load_loses_no_request() {
    let dir = tempfile::tempdir().expect("tmp");
    let sh = script(dir.path(), "s.sh", "echo 'b 2'");
    let file = dir.path().join("c.prom");
    std::fs::write(&file, "c 3\n").expect("write");
    let cfg = dir.path().join("expexp.yaml");
    std::fs::write(
        &cfg,
        format!(
            "modules:\n  exec:\n    method: exec\n    exec: {{command: {}}}\n  file:\n    method: file\n    file: {{path: {}}}\n",
            sh.display(),
            file.display()
        ),
    )
    .expect("write");
    let d = Daemon::with_config(&cfg, &[]);
    let urls = vec![d.url("/proxy?module=exec"), d.url("/proxy?module=file")];
    let load = tokio::spawn(hammer(urls, 16, 4));
    for _ in 0..100 {
        d.signal(rustix::process::Signal::HUP);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let (ok, failed, errors) = load.await.expect("join");
    assert_eq!(failed, 0, "{failed} of {} failed during the reload storm: {errors:?}", ok + failed);
    assert!(ok > 100);
    d.wait_for_log("configuration reloaded", Duration::from_secs(5));
}
