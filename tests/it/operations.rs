//! Operations: reload (signal and HTTP), health, service discovery, -config.check, graceful
//! shutdown, unix-socket upstreams, and the landing page. The daemon tests run the real binary.

use crate::support;

#[cfg(unix)]
use std::time::{Duration, Instant};

#[cfg(unix)]
use rustix::process::Signal;
use support::{Daemon, FakeExporter, Reply, TestProxy, get, request};
#[cfg(unix)]
use support::{sample, script};

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
fn exec_yaml(modules: &[(&str, &std::path::Path)]) -> String {
    let mut y = String::from("modules:\n");
    for (name, cmd) in modules {
        y.push_str(&format!("  {name}:\n    method: exec\n    exec: {{command: {}}}\n", cmd.display()));
    }
    y
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn reload_by_signal_and_http_adds_changes_and_removes_modules() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = script(dir.path(), "a.sh", "echo 'a 1'");
    let a2 = script(dir.path(), "a2.sh", "echo 'a 2'");
    let b = script(dir.path(), "b.sh", "echo 'b 1'");
    let cfg = dir.path().join("expexp.yaml");
    write(&cfg, &exec_yaml(&[("a", &a)]));
    let d = Daemon::with_config(&cfg, &["-web.enable-lifecycle"]);
    assert_eq!(get(&d.url("/proxy?module=a"), &[]).await.text(), "a 1\n");
    assert_eq!(get(&d.url("/proxy?module=b"), &[]).await.status, 404);

    // SIGHUP: add b.
    write(&cfg, &exec_yaml(&[("a", &a), ("b", &b)]));
    d.signal(Signal::HUP);
    d.wait_for_log("configuration reloaded", Duration::from_secs(10));
    assert_eq!(get(&d.url("/proxy?module=b"), &[]).await.text(), "b 1\n");

    // POST /-/reload: change a, remove b.
    write(&cfg, &exec_yaml(&[("a", &a2)]));
    let got = request("POST", &d.url("/-/reload")).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(get(&d.url("/proxy?module=a"), &[]).await.text(), "a 2\n");
    assert_eq!(get(&d.url("/proxy?module=b"), &[]).await.status, 404);
    let metrics = get(&d.url("/metrics"), &[]).await.text();
    assert_eq!(sample(&metrics, "expexp_config_last_reload_successful"), Some(1.0));
    assert!(!metrics.contains("module=\"b\""), "a removed module's series are gone");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
/// The same through the composition path in-process (`daemon::start`, as the binary runs it):
/// a reload adds, changes and removes modules, an unchanged module keeps serving, a refused
/// configuration changes nothing and says why.
#[tokio::test]
async fn an_in_process_reload_replaces_the_module_set() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = script(dir.path(), "a.sh", "echo 'a 1'");
    let b = script(dir.path(), "b.sh", "echo 'b 1'");
    let proxy = TestProxy::start(&exec_yaml(&[("a", &a), ("b", &b)])).await;
    assert_eq!(proxy.get("/proxy?module=b").await.text(), "b 1\n");
    assert!(proxy.get("/metrics").await.text().contains("expexp_command_starts_total{module=\"b\"} 1"));
    proxy.reload(&exec_yaml(&[("a", &a)])).await.expect("reloaded");
    assert_eq!(proxy.get("/proxy?module=a").await.text(), "a 1\n");
    assert_eq!(proxy.get("/proxy?module=b").await.status, 404);
    assert!(!proxy.get("/metrics").await.text().contains("module=\"b\""), "b's series went with it");
    let e = proxy.reload("modules:\n  c: {method: exec}\n").await.unwrap_err();
    assert!(e.contains("test.yaml") && e.contains("\"c\""), "{e}");
    assert_eq!(proxy.get("/proxy?module=a").await.text(), "a 1\n", "the running set serves on");
    assert_eq!(
        sample(&proxy.get("/metrics").await.text(), "expexp_config_last_reload_successful"),
        Some(0.0)
    );
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn a_broken_config_on_reload_keeps_the_old_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = script(dir.path(), "a.sh", "echo 'a 1'");
    let cfg = dir.path().join("expexp.yaml");
    write(&cfg, &exec_yaml(&[("a", &a)]));
    let d = Daemon::with_config(&cfg, &["-web.enable-lifecycle"]);
    let before = get(&d.url("/metrics"), &[]).await.text();
    let ts = sample(&before, "expexp_config_last_reload_success_timestamp_seconds").expect("timestamp");
    assert!(ts > 1.7e9, "{ts}");
    write(&cfg, "modules:\n  a:\n    method: exec\n    exec: {comand: x}\n");
    let got = request("POST", &d.url("/-/reload")).await;
    assert_eq!(got.status, 500);
    assert!(
        got.text().contains("failed to reload config") && got.text().contains("exec.comand"),
        "{}",
        got.text()
    );
    assert_eq!(get(&d.url("/proxy?module=a"), &[]).await.text(), "a 1\n", "the old configuration serves on");
    let after = get(&d.url("/metrics"), &[]).await.text();
    assert_eq!(sample(&after, "expexp_config_last_reload_successful"), Some(0.0));
    assert_eq!(sample(&after, "expexp_config_last_reload_success_timestamp_seconds"), Some(ts));
    d.signal(Signal::HUP);
    d.wait_for_log("reload refused", Duration::from_secs(10));
    assert_eq!(get(&d.url("/proxy?module=a"), &[]).await.status, 200);
}

#[tokio::test]
async fn the_lifecycle_api_is_off_unless_enabled() {
    let d = Daemon::start(&["-config.file", "", "-web.listen-address=127.0.0.1:0"]);
    let got = request("POST", &d.url("/-/reload")).await;
    assert_eq!((got.status, got.text().as_str()), (403, "Lifecycle API is not enabled.\n"));
    assert_eq!(request("GET", &d.url("/-/reload")).await.status, 405);
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn a_reload_during_a_slow_scrape_does_not_fail_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = script(dir.path(), "slow.sh", "sleep 1.5; echo 'slow 1'");
    let cfg = dir.path().join("expexp.yaml");
    write(&cfg, &exec_yaml(&[("slow", &slow)]));
    let d = Daemon::with_config(&cfg, &["-web.enable-lifecycle"]);
    let url = d.url("/proxy?module=slow");
    let scrape = tokio::spawn(async move { get(&url, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    write(&cfg, "modules: {}\n");
    assert_eq!(request("POST", &d.url("/-/reload")).await.status, 200);
    let got = scrape.await.expect("join");
    assert_eq!(
        (got.status, got.text().as_str()),
        (200, "slow 1\n"),
        "finished on the config it started with"
    );
    assert_eq!(get(&d.url("/proxy?module=slow"), &[]).await.status, 404, "new scrapes use the new config");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn a_reload_rotates_the_tls_certificate() {
    let pki = support::Pki::new();
    let (ca1, issuer1) = pki.ca("ca-one");
    let (ca2, issuer2) = pki.ca("ca-two");
    let first = pki.leaf("first", &["localhost"], &issuer1);
    let second = pki.leaf("second", &["localhost"], &issuer2);
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    write(&cert, &first.cert_pem);
    write(&key, &first.key_pem);
    let d = Daemon::start(&[
        "-config.file",
        "",
        "-web.listen-address=",
        "-web.tls.listen-address=127.0.0.1:0",
        &format!("-web.tls.cert={}", cert.display()),
        &format!("-web.tls.key={}", key.display()),
    ]);
    let port = d.bound[0].rsplit(':').next().expect("port").to_owned();
    let curl = |ca: std::path::PathBuf| {
        let port = port.clone();
        async move {
            let out = tokio::process::Command::new("curl")
                .args(["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
                .arg(ca)
                .args([
                    "--resolve",
                    &format!("localhost:{port}:127.0.0.1"),
                    &format!("https://localhost:{port}/-/healthy"),
                ])
                .output()
                .await
                .expect("curl");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    assert_eq!(curl(ca1.cert.clone()).await, "200");
    assert_ne!(curl(ca2.cert.clone()).await, "200");
    write(&cert, &second.cert_pem);
    write(&key, &second.key_pem);
    d.signal(Signal::HUP);
    d.wait_for_log("configuration reloaded", Duration::from_secs(10));
    assert_eq!(curl(ca2.cert.clone()).await, "200", "a new handshake gets the new certificate");
    assert_ne!(curl(ca1.cert.clone()).await, "200");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn sigterm_lets_a_scrape_in_flight_finish_then_exits_zero() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = script(dir.path(), "slow.sh", "sleep 1; echo 'done 1'");
    let cfg = dir.path().join("expexp.yaml");
    write(&cfg, &exec_yaml(&[("slow", &slow)]));
    let mut d = Daemon::with_config(&cfg, &[]);
    let url = d.url("/proxy?module=slow");
    let scrape = tokio::spawn(async move { get(&url, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.signal(Signal::TERM);
    let got = scrape.await.expect("join");
    assert_eq!((got.status, got.text().as_str()), (200, "done 1\n"));
    assert_eq!(d.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn config_check_validates_everything_without_binding() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("good.yaml");
    write(&good, "modules:\n  n:\n    method: http\n    http: {port: 9100}\n");
    let run = |args: &[&str]| {
        let ran = Daemon::run(args);
        (ran.code, ran.stdout + &ran.stderr)
    };
    // A port in use would fail a real start; the check never binds.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = format!("-web.listen-address={}", busy.local_addr().expect("addr"));
    let (code, out) = run(&["-config.check", "-config.file", good.to_str().expect("utf8"), &busy]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("configuration OK"), "{out}");

    let bad = dir.path().join("bad.yaml");
    write(&bad, "modules:\n  n:\n    method: http\n    http: {}\n");
    let web = dir.path().join("web.yml");
    write(&web, "tls_server_config: {cert_file: /nonexistent.crt, key_file: /nonexistent.key}\n");
    let (code, out) = run(&[
        "-config.check",
        "-config.file",
        bad.to_str().expect("utf8"),
        "-web.config.file",
        web.to_str().expect("utf8"),
        "-web.bearer.token-file",
        "/nonexistent-token",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("bad.yaml") && out.contains("http.port: missing"), "config problem reported: {out}");
    assert!(out.contains("/nonexistent.crt"), "web config problem reported too: {out}");
}

#[tokio::test]
async fn discovery_lists_every_module_as_an_http_sd_target_group() {
    let yaml = "modules:\n  node:\n    method: http\n    labels: {team: infra, env: prod}\n    http: {port: 9100}\n  \
                script:\n    method: exec\n    exec: {command: /bin/true}\n";
    let proxy = TestProxy::start(yaml).await;
    let got = get(&proxy.url("/discovery"), &[("Host", "node7.example:9999")]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&got.text()).expect("json");
    let groups = v.as_array().expect("array");
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["targets"], serde_json::json!(["node7.example:9999"]));
    assert_eq!(
        groups[0]["labels"],
        serde_json::json!({"__metrics_path__": "/proxy", "__param_module": "node", "__scheme__": "http",
                           "module": "node", "team": "infra", "env": "prod"})
    );
    assert_eq!(groups[1]["labels"]["module"], "script");
    let empty = TestProxy::start("modules: {}\n").await;
    assert_eq!(empty.get("/discovery").await.text(), "[]");
}

#[tokio::test]
async fn health_endpoints_answer_behind_the_same_auth() {
    let proxy = TestProxy::start("modules: {}\n").await;
    let got = proxy.get("/-/healthy").await;
    assert_eq!((got.status, got.text().as_str()), (200, "exporter_exporter is Healthy.\n"));
    assert_eq!(proxy.get("/-/ready").await.status, 200);
    let d = Daemon::start(&["-config.file", "", "-web.listen-address=127.0.0.1:0", "-web.bearer.token=t"]);
    assert_eq!(get(&d.url("/-/healthy"), &[]).await.status, 401);
    assert_eq!(get(&d.url("/-/healthy"), &[("Authorization", "Bearer t")]).await.status, 200);
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn a_slow_script_is_cut_short_by_the_scrape_timeout_header() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = script(dir.path(), "slow.sh", "sleep 10; echo 'x 1'");
    let proxy = TestProxy::start(&format!(
        "modules:\n  s:\n    method: exec\n    timeout: 30s\n    exec: {{command: {}}}\n",
        slow.display()
    ))
    .await;
    let start = Instant::now();
    let got = get(&proxy.url("/proxy?module=s"), &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")]).await;
    assert_eq!(got.status, 504);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "{took:?}");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn a_unix_socket_upstream_is_served_and_verified() {
    use hyper::service::service_fn;
    let dir = tempfile::tempdir().expect("tmp");
    let sock = dir.path().join("node.sock");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let record = record.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    record.lock().expect("lock").push(req.uri().to_string());
                    let body = if req.uri().path() == "/bad" { "not metrics" } else { "sock_metric 1\n" };
                    async move {
                        Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from(body),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let yaml = format!(
        "modules:\n  good:\n    method: http\n    http: {{socket: {p}, path: '/metrics?x=1'}}\n  bad:\n    method: http\n    http: {{socket: {p}, path: /bad}}\n",
        p = sock.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    let got = proxy.get("/proxy?module=good&y=2").await;
    assert_eq!((got.status, got.text().as_str()), (200, "sock_metric 1\n"));
    assert_eq!(seen.lock().expect("lock").last().map(String::as_str), Some("/metrics?x=1&y=2"));
    assert_eq!(proxy.get("/proxy?module=bad").await.status, 500, "verified like any upstream");
}

#[tokio::test]
async fn the_landing_page_shows_each_module_with_its_last_scrape() {
    let up = FakeExporter::serving(Reply::text("a 1\n")).await;
    let yaml = format!(
        "modules:\n  node:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n  later:\n    method: exec\n    exec: {{command: /bin/true}}\n",
        up.port()
    );
    let proxy = TestProxy::start(&yaml).await;
    proxy.get("/proxy?module=node").await;
    let html = proxy.get("/").await.text();
    assert!(
        html.contains("<a href=\"/proxy?module=node\">node</a></td><td>http</td><td>200</td><td>"),
        "{html}"
    );
    assert!(html.contains(">later</a></td><td>exec</td><td>never</td>"), "{html}");
    for link in ["/metrics", "/discovery", "/-/healthy", "/-/ready"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link} in {html}");
    }
    assert!(!html.contains("<script"), "no JavaScript");
}

#[tokio::test]
async fn the_access_log_names_client_method_path_module_status_duration_and_bytes() {
    let (logs, _guard) = support::LogCapture::start();
    let up = FakeExporter::serving(Reply::text("a 1\n")).await;
    let proxy = TestProxy::start(&format!(
        "modules:\n  node:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n",
        up.port()
    ))
    .await;
    proxy.get("/proxy?module=node").await;
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("msg=request") && l.contains("module=node"))
        .expect("access log line");
    for field in [
        "level=info",
        "client=127.0.0.1",
        "method=GET",
        "path=/proxy",
        "status=200",
        "bytes=4",
        "duration_ms=",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn scrapes_beyond_max_requests_get_a_quick_503() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = script(dir.path(), "slow.sh", "sleep 1; echo 'a 1'");
    let cfg = dir.path().join("expexp.yaml");
    write(&cfg, &exec_yaml(&[("slow", &slow)]));
    let d = Daemon::with_config(&cfg, &["-web.max-requests=1"]);
    let url = d.url("/proxy?module=slow");
    let first = tokio::spawn(async move { get(&url, &[]).await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let second = get(&d.url("/proxy?module=slow"), &[]).await;
    assert_eq!(second.status, 503, "{}", second.text());
    assert!(start.elapsed() < Duration::from_millis(500), "the 503 came at once");
    assert_eq!(get(&d.url("/-/healthy"), &[]).await.status, 200, "other endpoints are not limited");
    assert_eq!(first.await.expect("join"), 200);
}
