//! Containers with the real Docker daemon (Debian's docker.io, started by .ci/run) and images
//! made locally with `docker import`: a module routed by container name, also after the
//! container comes back on a new address; stopped and missing containers; published ports;
//! labelled containers that appear, are scraped and listed, then go; a configured name that
//! wins; the daemon taken away under load; and a real Prometheus finding the containers
//! through `/discovery`. Traffic goes only to containers these tests start.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::docker_support::{DaemonLink, Docker, HTTP_PORT, LinkMode};
use crate::e2e_prometheus::{expect_up, free_port, spawn, up, wait_ready};
use crate::support::{LogCapture, TestProxy, get, sample};

const PREFIX: &str = "expexp.test.discover";

fn docker_block(socket: &std::path::Path, extra: &str) -> String {
    format!("docker:\n  host: unix://{}\n{extra}", socket.display())
}

async fn wait_until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A bridge network of the test's own with a subnet it chose (Docker gives a container a
/// fixed `--ip` only on such a network), removed when dropped.
struct OwnNetwork {
    name: String,
    base: String,
    docker: Docker,
}

impl OwnNetwork {
    /// The first /24 of 172.30.0.0/16 that no network on this host uses yet.
    fn create(docker: &Docker, name: &str) -> OwnNetwork {
        let name = format!("expexp-{name}-{}", std::process::id());
        for third in 0..=255u8 {
            let base = format!("172.30.{third}");
            let subnet = format!("{base}.0/24");
            let made =
                docker.cli(&["network", "create", "--label", "expexp.test=1", "--subnet", &subnet, &name]);
            if made.is_ok() {
                return OwnNetwork { name, base, docker: docker.clone() };
            }
        }
        panic!("no free /24 in 172.30.0.0/16 for a test network");
    }

    fn address(&self, last: u8) -> String {
        format!("{}.{last}", self.base)
    }
}

impl Drop for OwnNetwork {
    fn drop(&mut self) {
        let _ = self.docker.cli(&["network", "rm", &self.name]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_is_scraped_by_name_and_again_after_it_comes_back_on_a_new_address() {
    let Some(docker) = Docker::available() else { return };
    let net = OwnNetwork::create(&docker, "route");
    let (first, second) = (net.address(201), net.address(202));
    let c = docker.run_with("route", &[], &["--network", &net.name, "--ip", &first], &[]);
    assert_eq!(c.ip(), first);
    let yaml = format!(
        "{}modules:\n  pg:\n    method: http\n    http: {{container: {}, port: {HTTP_PORT}, network: {}}}\n",
        docker_block(docker.socket(), "  cache_ttl: 1h\n"),
        c.name,
        net.name
    );
    let proxy = TestProxy::start(&yaml).await;
    c.metrics_url().await;
    let got = proxy.get("/proxy?module=pg").await;
    assert_eq!((got.status, got.text().as_str()), (200, "up_test 1\n"));
    // Stopped, moved to another address, started again: the next scrape finds it there.
    c.stop();
    docker.cli(&["network", "disconnect", &net.name, &c.name]).expect("disconnect");
    docker.cli(&["network", "connect", "--ip", &second, &net.name, &c.name]).expect("connect");
    c.start();
    assert_eq!(c.ip(), second);
    c.metrics_url().await;
    let got = proxy.get("/proxy?module=pg").await;
    assert_eq!((got.status, got.text().as_str()), (200, "up_test 1\n"), "reached at {second}");
    drop(c);
}

// Current-thread: the captured log is the test thread's.
#[tokio::test]
async fn stopped_and_missing_containers_are_502s_and_published_ports_are_reached() {
    let Some(docker) = Docker::available() else { return };
    let (logs, _guard) = LogCapture::start();
    let stopped = docker.run("stopped", &[], &[]);
    stopped.stop();
    let published =
        docker.run_with("published", &[], &["--publish", &format!("127.0.0.1::{HTTP_PORT}")], &[]);
    let yaml = format!(
        "{}modules:\n  stopped:\n    method: http\n    http: {{container: {}, port: {HTTP_PORT}}}\n  \
         missing:\n    method: http\n    http: {{container: expexp-no-such-container, port: {HTTP_PORT}}}\n  \
         published:\n    method: http\n    http: {{container: {}, port: {HTTP_PORT}, address_mode: published}}\n",
        docker_block(docker.socket(), ""),
        stopped.name,
        published.name
    );
    let proxy = TestProxy::start(&yaml).await;
    assert_eq!(proxy.get("/proxy?module=stopped").await.status, 502);
    assert_eq!(proxy.get("/proxy?module=missing").await.status, 502);
    let text = logs.text();
    assert!(text.contains(&format!("container \\\"{}\\\" is not running (exited", stopped.name)), "{text}");
    assert!(text.contains("container \\\"expexp-no-such-container\\\" does not exist"), "{text}");
    let port = published.published_port(HTTP_PORT);
    let addr = format!("127.0.0.1:{port}");
    wait_until("the published port accepts", Duration::from_secs(10), async || {
        tokio::net::TcpStream::connect(&addr).await.is_ok()
    })
    .await;
    let got = proxy.get("/proxy?module=published").await;
    assert_eq!((got.status, got.text().as_str()), (200, "up_test 1\n"));
}

#[tokio::test]
async fn labelled_containers_come_and_go_and_a_configured_name_wins() {
    let Some(docker) = Docker::available() else { return };
    let (logs, _guard) = LogCapture::start();
    let scrape = format!("{PREFIX}/scrape");
    let port = format!("{PREFIX}/port");
    let web = docker.run_serving(
        "web",
        &[(&scrape, "true"), (&port, "9100"), (&format!("{PREFIX}/label.team"), "frontend")],
        "web_requests 3\n",
    );
    let clash = docker.run_serving(
        "clash",
        &[(&scrape, "true"), (&port, "9100"), (&format!("{PREFIX}/module"), "configured")],
        "clash 1\n",
    );
    let ignored = docker.run("ignored", &[(&scrape, "false")], &[]);
    let yaml = format!(
        "{}modules:\n  configured:\n    method: exec\n    exec: {{command: /bin/echo, args: ['configured 1']}}\n",
        docker_block(
            docker.socket(),
            &format!("  refresh_interval: 200ms\n  discover: {{label_prefix: {PREFIX}}}\n")
        )
    );
    let proxy = TestProxy::start(&yaml).await;
    let module = web.name.clone();
    web.metrics_url().await;
    wait_until("the labelled container is served", Duration::from_secs(15), async || {
        proxy.get(&format!("/proxy?module={module}")).await.status == 200
    })
    .await;
    assert_eq!(proxy.get(&format!("/proxy?module={module}")).await.text(), "web_requests 3\n");
    assert_eq!(proxy.get("/proxy?module=configured").await.text(), "configured 1\n", "the configured one");
    assert!(logs.text().contains("this one is not served"), "{}", logs.text());
    let sd: Value = serde_json::from_slice(&proxy.get("/discovery").await.body).expect("json");
    let group = sd.as_array().expect("groups").iter().find(|g| g["labels"]["module"] == module.as_str());
    let labels = &group.expect("listed")["labels"];
    assert_eq!(labels["container"].as_str(), Some(module.as_str()));
    assert_eq!(labels["team"].as_str(), Some("frontend"));
    assert!(labels["image"].as_str().is_some_and(|i| i.starts_with("expexp-test-busybox")), "{labels}");
    assert!(!proxy.get("/").await.text().contains(&ignored.name), "scrape=false is not a module");
    assert!(proxy.get("/metrics").await.text().contains(&format!("module=\"{module}\"")));
    // Stopped: gone from the module set and from /metrics within a refresh or two.
    web.stop();
    wait_until("the stopped container is gone", Duration::from_secs(15), async || {
        proxy.get(&format!("/proxy?module={module}")).await.status == 404
    })
    .await;
    assert!(!proxy.get("/metrics").await.text().contains(&format!("module=\"{module}\"")));
    assert!(!proxy.get("/discovery").await.text().contains(&module));
    drop(clash);
}

#[tokio::test]
async fn with_the_daemon_gone_under_load_the_last_set_serves_and_nothing_hangs() {
    let Some(docker) = Docker::available() else { return };
    let (logs, _guard) = LogCapture::start();
    let link = DaemonLink::new(&docker).await;
    let labels = [(format!("{PREFIX}/scrape"), "true"), (format!("{PREFIX}/port"), "9100")];
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let c = docker.run_serving("load", &labels, "load 1\n");
    c.metrics_url().await;
    let yaml = format!(
        "{}modules: {{}}\n",
        docker_block(
            link.socket(),
            &format!("  refresh_interval: 200ms\n  cache_ttl: 1h\n  discover: {{label_prefix: {PREFIX}}}\n")
        )
    );
    let proxy = TestProxy::start(&yaml).await;
    let url = proxy.url(&format!("/proxy?module={}", c.name));
    wait_until("discovered", Duration::from_secs(15), async || get(&url, &[]).await.status == 200).await;
    // Scrapes keep coming while the daemon goes away, and while it hangs.
    let load = tokio::spawn({
        let url = url.clone();
        async move {
            let mut statuses = Vec::new();
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                let started = Instant::now();
                statuses.push((get(&url, &[]).await.status, started.elapsed()));
            }
            statuses
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    link.set(LinkMode::Down).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    link.set(LinkMode::Hang).await;
    let statuses = load.await.expect("join");
    assert!(statuses.len() > 10, "{statuses:?}");
    assert!(statuses.iter().all(|(s, _)| *s == 200), "the last set kept serving: {statuses:?}");
    assert!(statuses.iter().all(|(_, t)| *t < Duration::from_secs(1)), "no scrape waited on the daemon");
    assert_eq!(logs.text().matches("cannot list containers").count(), 1, "warned once:\n{}", logs.text());
    let metrics = proxy.get("/metrics").await.text();
    assert!(sample(&metrics, "expexp_docker_api_errors_total").is_some_and(|n| n >= 1.0), "{metrics}");
}

/// A real Prometheus scrapes every labelled container through the proxy, found by
/// `http_sd_configs` on `/discovery`; a container that stops leaves its targets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_finds_and_scrapes_the_containers_through_discovery() {
    let Some(docker) = Docker::available() else { return };
    if !std::path::Path::new("/usr/bin/prometheus").exists() {
        crate::support::missing("/usr/bin/prometheus", "apt-get install prometheus");
        return;
    }
    let scrape = format!("{PREFIX}/scrape");
    let port = format!("{PREFIX}/port");
    let labels = [(scrape.as_str(), "true"), (port.as_str(), "9100")];
    let a = docker.run_serving("prom-a", &labels, "a 1\n");
    let b = docker.run_serving("prom-b", &labels, "b 1\n");
    a.metrics_url().await;
    b.metrics_url().await;
    let yaml = format!(
        "{}modules: {{}}\n",
        docker_block(
            docker.socket(),
            &format!("  refresh_interval: 500ms\n  discover: {{label_prefix: {PREFIX}}}\n")
        )
    );
    let proxy = TestProxy::start(&yaml).await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, scrape_timeout: 900ms}}\nscrape_configs:\n  - job_name: containers\n    \
             http_sd_configs: [{{url: 'http://{}/discovery', refresh_interval: 1s}}]\n",
            proxy.addr
        ),
    )
    .expect("write");
    let web = free_port();
    let prom = format!("http://127.0.0.1:{web}");
    let _p = spawn(
        "/usr/bin/prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{web}"),
        ],
        &dir.path().join("prometheus.log"),
    );
    wait_ready(&prom).await;
    expect_up(&prom, &[("containers", &a.name, 1.0), ("containers", &b.name, 1.0)], Duration::from_secs(30))
        .await;
    // b stops: its target leaves discovery, so Prometheus drops it (its `up` series goes stale).
    b.stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let targets = get(&format!("{prom}/api/v1/targets"), &[]).await.text();
        if !targets.contains(&format!("\"module\":\"{}\"", b.name)) {
            break;
        }
        assert!(Instant::now() < deadline, "b's target stayed: {targets}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let seen = up(&prom).await;
    assert_eq!(seen.get(&("containers".to_owned(), a.name.clone())), Some(&1.0), "{seen:?}");
}
