//! Containers through a fake Engine API whose answers the test changes as it goes (a unix
//! socket in a temp dir; exporters on loopback addresses standing for container IPs): routing
//! by name, a restart with a new address, missing, stopped and unhealthy containers, published
//! ports, discovery from labels (appearing, scraped, listed, gone), name conflicts, and the
//! daemon going away. The same behaviours against a real Docker daemon are in `docker_real`.

use crate::support::Daemon;
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::UnixListener;

use crate::support::{FakeExporter, LogCapture, Reply, TestProxy, get, sample};

/// What the fake daemon knows: containers by name (and ID), each an inspect answer.
#[derive(Default)]
struct State {
    inspect: HashMap<String, Value>,
    listed: Vec<Value>,
    calls: Vec<String>,
}

/// A fake Engine API on a unix socket, speaking API 1.45.
struct FakeEngine {
    socket: PathBuf,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeEngine {
    async fn start() -> FakeEngine {
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, &req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeEngine { socket, state, task, _dir: dir }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Sets what inspecting `name` (or its ID, `name-id`) answers; `None` removes it.
    fn set(&self, name: &str, inspect: Option<Value>) {
        let mut s = self.state.lock().expect("lock");
        match inspect {
            Some(v) => {
                s.inspect.insert(name.to_owned(), v.clone());
                s.inspect.insert(format!("{name}-id"), v);
            }
            None => {
                s.inspect.remove(name);
                s.inspect.remove(&format!("{name}-id"));
            }
        }
    }

    /// Sets what `GET /containers/json` lists.
    fn list(&self, containers: Vec<Value>) {
        self.state.lock().expect("lock").listed = containers;
    }

    fn calls(&self) -> Vec<String> {
        self.state.lock().expect("lock").calls.clone()
    }
}

fn answer(state: &Mutex<State>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let mut s = state.lock().expect("lock");
    s.calls.push(format!("{} {}", req.method(), req.uri()));
    let reply = |status: u16, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = http::StatusCode::from_u16(status).expect("status");
        r.headers_mut().insert("content-type", "application/json".parse().expect("v"));
        r.headers_mut().insert("api-version", "1.45".parse().expect("v"));
        r
    };
    if path == "/_ping" {
        return reply(200, "OK".into());
    }
    let Some(rest) = path.strip_prefix("/v1.45/containers/") else {
        return reply(400, json!({"message": format!("unexpected {path}")}).to_string());
    };
    if rest == "json" {
        return reply(200, Value::Array(s.listed.clone()).to_string());
    }
    let name = rest.trim_end_matches("/json");
    match s.inspect.get(name) {
        Some(v) => reply(200, v.to_string()),
        None => reply(404, json!({"message": format!("No such container: {name}")}).to_string()),
    }
}

fn running(name: &str, ip: &str) -> Value {
    json!({
        "Id": format!("{name}-id"), "Name": format!("/{name}"),
        "State": {"Status": "running", "Running": true, "ExitCode": 0},
        "Config": {"Image": "busybox:test", "Labels": {}},
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkSettings": {"Networks": {"bridge": {"IPAddress": ip}}, "Ports": {}}
    })
}

fn listed(name: &str, labels: &Value) -> Value {
    json!({"Id": format!("{name}-id"), "Names": [format!("/{name}")], "Image": "busybox:test",
           "Labels": labels, "State": "running", "Status": "Up 1 second", "Ports": []})
}

fn yaml(engine: &FakeEngine, extra: &str, modules: &str) -> String {
    format!("docker:\n  host: {}\n{extra}modules:\n{modules}", engine.host())
}

fn container_module(name: &str, port: u16, extra: &str) -> String {
    format!("  {name}:\n    method: http\n    http: {{container: {name}, port: {port}{extra}}}\n")
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_container_is_reached_by_name_and_again_after_a_restart_with_a_new_address() {
    let engine = FakeEngine::start().await;
    // Its connections end with the container: none is kept alive past the restart.
    let before =
        FakeExporter::start_at("127.0.0.2:0", |_| Reply::text("c 1\n").header("connection", "close"), None)
            .await;
    let port = before.port();
    engine.set("pg", Some(running("pg", "127.0.0.2")));
    // A long cache: only the refused connection can make the proxy ask again.
    let proxy =
        TestProxy::start(&yaml(&engine, "  cache_ttl: 1h\n", &container_module("pg", port, ""))).await;
    let got = proxy.get("/proxy?module=pg").await;
    assert_eq!((got.status, got.text().as_str()), (200, "c 1\n"));
    // The container restarts on another address; the exporter in it answers there.
    drop(before);
    let after = FakeExporter::start_at(&format!("127.0.0.3:{port}"), |_| Reply::text("c 2\n"), None).await;
    engine.set("pg", Some(running("pg", "127.0.0.3")));
    let got = proxy.get("/proxy?module=pg").await;
    assert_eq!((got.status, got.text().as_str()), (200, "c 2\n"), "reached at its new address");
    assert_eq!(after.requests().len(), 1);
    let inspects = engine.calls().iter().filter(|c| c.contains("/containers/pg/json")).count();
    assert_eq!(inspects, 2, "asked once, then once more after the refused connection");
}

#[tokio::test]
async fn missing_stopped_and_unhealthy_containers_are_502s_with_the_reason_in_the_log() {
    let (logs, _guard) = LogCapture::start();
    let engine = FakeEngine::start().await;
    let up = FakeExporter::serving(Reply::text("c 1\n")).await;
    let mut stopped = running("stopped", "127.0.0.1");
    stopped["State"] =
        json!({"Status": "exited", "Running": false, "ExitCode": 2, "FinishedAt": "2026-01-01T00:00:00Z"});
    engine.set("stopped", Some(stopped));
    let mut sick = running("sick", "127.0.0.1");
    sick["State"]["Health"] = json!({"Status": "unhealthy"});
    engine.set("sick", Some(sick));
    let modules = ["missing", "stopped", "sick"].map(|n| container_module(n, up.port(), "")).concat();
    let proxy = TestProxy::start(&yaml(&engine, "", &modules)).await;
    for (module, reason) in [
        ("missing", "container \\\"missing\\\" does not exist"),
        ("stopped", "container \\\"stopped\\\" is not running (exited (code 2)"),
        ("sick", "container \\\"sick\\\" is unhealthy"),
    ] {
        let got = proxy.get(&format!("/proxy?module={module}")).await;
        assert_eq!(got.status, 502, "{module}");
        assert!(got.text().starts_with("Bad Gateway"), "{module}: a short fixed body: {}", got.text());
        assert!(!got.text().contains(module), "{module}: no detail in the body");
        assert!(logs.text().contains(reason), "{module}: log lacks {reason:?}:\n{}", logs.text());
    }
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_errors_total{module=\"stopped\"}"), Some(1.0));
    assert!(up.requests().is_empty(), "no scrape went anywhere");
}

#[tokio::test]
async fn published_mode_connects_to_the_published_host_port() {
    let engine = FakeEngine::start().await;
    let up = FakeExporter::serving(Reply::text("p 1\n")).await;
    let mut c = running("pub", "10.255.255.1");
    c["NetworkSettings"]["Ports"] =
        json!({"9100/tcp": [{"HostIp": "0.0.0.0", "HostPort": up.port().to_string()}], "80/tcp": null});
    engine.set("pub", Some(c));
    let proxy =
        TestProxy::start(&yaml(&engine, "", &container_module("pub", 9100, ", address_mode: published")))
            .await;
    let got = proxy.get("/proxy?module=pub").await;
    assert_eq!((got.status, got.text().as_str()), (200, "p 1\n"));
}

#[tokio::test]
async fn labelled_containers_become_modules_and_go_when_they_stop() {
    let engine = FakeEngine::start().await;
    let up = FakeExporter::serving(Reply::text("d 1\n")).await;
    engine.set("web", Some(running("web", "127.0.0.1")));
    let labels = json!({"prometheus.io/scrape": "true", "prometheus.io/port": up.port().to_string(),
                        "prometheus.io/label.team": "frontend"});
    engine.list(vec![listed("web", &labels)]);
    let extra = "  refresh_interval: 100ms\n  discover: {label_prefix: prometheus.io}\n";
    let proxy =
        TestProxy::start(&yaml(&engine, extra, "  {}\n").replace("modules:\n  {}\n", "modules: {}\n")).await;
    wait_until("the container is a module", async || proxy.get("/proxy?module=web").await.status == 200)
        .await;
    assert_eq!(proxy.get("/proxy?module=web").await.text(), "d 1\n");
    let sd: Value = serde_json::from_slice(&proxy.get("/discovery").await.body).expect("json");
    let labels = &sd[0]["labels"];
    assert_eq!((labels["module"].as_str(), labels["container"].as_str()), (Some("web"), Some("web")));
    assert_eq!((labels["image"].as_str(), labels["team"].as_str()), (Some("busybox:test"), Some("frontend")));
    let listing = get(&proxy.url("/"), &[("Accept", "application/json")]).await.text();
    assert!(listing.contains("\"web\"") && listing.contains("\"Container\":\"web-id\""), "{listing}");
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_docker_discovery_modules"), Some(1.0));
    assert!(metrics.contains("expexp_proxy_duration_seconds_count{module=\"web\"} 2"), "{metrics}");
    assert!(
        sample(&metrics, "expexp_docker_last_refresh_success_timestamp_seconds").is_some_and(|t| t > 1e9)
    );

    // Stopped: no longer listed, gone from every place, its series off /metrics.
    engine.list(Vec::new());
    wait_until("the module is gone", async || proxy.get("/proxy?module=web").await.status == 404).await;
    assert_eq!(proxy.get("/discovery").await.text(), "[]");
    let metrics = proxy.get("/metrics").await.text();
    assert!(!metrics.contains("module=\"web\""), "{metrics}");
    assert_eq!(sample(&metrics, "expexp_docker_discovery_modules"), Some(0.0));
}

#[tokio::test]
async fn a_configured_module_keeps_its_name_against_a_discovered_one() {
    let (logs, _guard) = LogCapture::start();
    let engine = FakeEngine::start().await;
    let configured = FakeExporter::serving(Reply::text("configured 1\n")).await;
    let container = FakeExporter::serving(Reply::text("container 1\n")).await;
    engine.set("other", Some(running("other", "127.0.0.1")));
    let labels = json!({"prometheus.io/scrape": "true", "prometheus.io/port": container.port().to_string(),
                        "prometheus.io/module": "node"});
    engine.list(vec![listed("other", &labels)]);
    let extra = "  refresh_interval: 100ms\n  discover: {label_prefix: prometheus.io}\n";
    let modules =
        format!("  node:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n", configured.port());
    let proxy = TestProxy::start(&yaml(&engine, extra, &modules)).await;
    wait_until("a refresh or two", async || {
        engine.calls().iter().filter(|c| c.contains("containers/json?")).count() >= 3
    })
    .await;
    assert_eq!(proxy.get("/proxy?module=node").await.text(), "configured 1\n");
    let conflicts = logs.text().matches("this one is not served").count();
    assert_eq!(conflicts, 1, "logged once, not at every refresh:\n{}", logs.text());
}

#[tokio::test]
async fn with_the_daemon_gone_the_last_set_serves_on_and_nothing_hangs() {
    let (logs, _guard) = LogCapture::start();
    let engine = FakeEngine::start().await;
    let up = FakeExporter::serving(Reply::text("d 1\n")).await;
    engine.set("web", Some(running("web", "127.0.0.1")));
    let labels = json!({"prometheus.io/scrape": "true", "prometheus.io/port": up.port().to_string()});
    engine.list(vec![listed("web", &labels)]);
    let extra = "  refresh_interval: 100ms\n  cache_ttl: 1h\n  discover: {label_prefix: prometheus.io}\n";
    let modules = container_module("uncached", up.port(), "");
    let proxy = TestProxy::start(&yaml(&engine, extra, &modules)).await;
    wait_until("discovered", async || proxy.get("/proxy?module=web").await.status == 200).await;
    drop(engine);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The discovered module stays, at its remembered address.
    assert_eq!(proxy.get("/proxy?module=web").await.text(), "d 1\n");
    // One that was never resolved fails at once, not at a timeout.
    let start = Instant::now();
    assert_eq!(proxy.get("/proxy?module=uncached").await.status, 502);
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    assert_eq!(logs.text().matches("cannot list containers").count(), 1, "warned once:\n{}", logs.text());
    let metrics = proxy.get("/metrics").await.text();
    assert!(sample(&metrics, "expexp_docker_api_errors_total").is_some_and(|n| n >= 2.0), "{metrics}");
}

#[test]
fn config_check_reads_the_docker_block_without_calling_the_daemon() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("c.yaml");
    std::fs::write(
        &file,
        "docker:\n  host: unix:///nonexistent/docker.sock\n  discover: {label_prefix: prometheus.io}\n\
         modules:\n  pg:\n    method: http\n    http: {container: pg, port: 9187}\n",
    )
    .expect("write");
    let ran = Daemon::run(&["-config.check", "-config.file", file.to_str().expect("utf8")]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    std::fs::write(&file, "docker:\n  host: tcp://127.0.0.1:2376\n  cert_path: /nonexistent\nmodules: {}\n")
        .expect("write");
    let ran = Daemon::run(&["-config.check", "-config.file", file.to_str().expect("utf8")]);
    let err = ran.stderr;
    assert_eq!(ran.code, Some(1), "{err}");
    assert!(err.contains("/nonexistent/"), "the TLS file is named: {err}");
}

#[tokio::test]
async fn a_reload_rereads_the_docker_block() {
    let engine = FakeEngine::start().await;
    let up = FakeExporter::serving(Reply::text("d 1\n")).await;
    engine.set("web", Some(running("web", "127.0.0.1")));
    let labels = json!({"prometheus.io/scrape": "true", "prometheus.io/port": up.port().to_string()});
    engine.list(vec![listed("web", &labels)]);
    let discovering =
        yaml(&engine, "  refresh_interval: 100ms\n  discover: {label_prefix: prometheus.io}\n", "")
            .replace("modules:\n", "modules: {}\n");
    let proxy = TestProxy::start(&discovering).await;
    wait_until("discovered", async || proxy.get("/proxy?module=web").await.status == 200).await;
    // Discovery off: the discovered module goes at once, with its series.
    proxy.reload("modules: {}\n").await.expect("reloaded");
    assert_eq!(proxy.get("/proxy?module=web").await.status, 404);
    assert!(!proxy.get("/metrics").await.text().contains("module=\"web\""));
    // Another prefix: only containers labelled with it.
    proxy
        .reload(&discovering.replace("label_prefix: prometheus.io", "label_prefix: other"))
        .await
        .expect("reloaded");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(proxy.get("/proxy?module=web").await.status, 404);
    assert!(
        engine.calls().iter().any(|c| c.contains("other%2Fscrape") || c.contains("other/scrape")),
        "{:?}",
        engine.calls()
    );
    // Back: it is found again.
    proxy.reload(&discovering).await.expect("reloaded");
    wait_until("discovered again", async || proxy.get("/proxy?module=web").await.status == 200).await;
    // A bad block is refused and the running one keeps serving.
    let e = proxy.reload("docker: {host: ftp://x}\nmodules: {}\n").await.unwrap_err();
    assert!(e.contains("docker.host"), "{e}");
    assert_eq!(proxy.get("/proxy?module=web").await.status, 200);
}
