//! End to end with the real programs operators run, from Debian's packages: node_exporter,
//! blackbox_exporter, our binary and a Prometheus server scraping through `/proxy`, asserting
//! on what Prometheus itself recorded. CI installs the packages; where they are absent the test
//! says so loudly and does nothing.

use crate::support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Daemon, FakeExporter, Reply, closed_port, get};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const BLACKBOX: &str = "/usr/bin/prometheus-blackbox-exporter";

/// A child process killed when the test ends.
pub(crate) struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn spawn(program: &str, args: &[String], log: &Path) -> Proc {
    let log = std::fs::File::create(log).expect("log file");
    Proc(
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}")),
    )
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Waits until Prometheus answers /-/ready with 200 (it answers 503 while it starts).
pub(crate) async fn wait_ready(prom: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = prom.trim_start_matches("http://").to_owned();
    loop {
        if tokio::net::TcpStream::connect(&addr).await.is_ok()
            && get(&format!("{prom}/-/ready"), &[]).await.status == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{prom} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `up` per (job, module) as Prometheus recorded it.
pub(crate) async fn up(prom: &str) -> HashMap<(String, String), f64> {
    let got = get(&format!("{prom}/api/v1/query?query=up"), &[]).await;
    let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
    let mut out = HashMap::new();
    for r in v["data"]["result"].as_array().cloned().unwrap_or_default() {
        let job = r["metric"]["job"].as_str().unwrap_or_default().to_owned();
        let module = r["metric"]["module"].as_str().unwrap_or_default().to_owned();
        let value = r["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(-1.0);
        out.insert((job, module), value);
    }
    out
}

async fn query_count(prom: &str, q: &str) -> usize {
    let got = get(
        &format!(
            "{prom}/api/v1/query?query={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ),
        &[],
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&got.body).expect("json");
    v["data"]["result"].as_array().map_or(0, Vec::len)
}

/// Waits until every expectation holds, or fails with what Prometheus saw.
pub(crate) async fn expect_up(prom: &str, expected: &[(&str, &str, f64)], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let seen = up(prom).await;
        let missing: Vec<String> = expected
            .iter()
            .filter(|(job, module, v)| seen.get(&((*job).to_owned(), (*module).to_owned())) != Some(v))
            .map(|(job, module, v)| format!("up{{job={job:?},module={module:?}}} should be {v}"))
            .collect();
        if missing.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let targets = get(&format!("{prom}/api/v1/targets"), &[]).await.text();
            panic!("{}\nPrometheus saw: {seen:?}\ntargets: {targets}", missing.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn job(name: &str, target: &str, module: &[&str], extra: &str) -> String {
    let params = module.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ");
    format!(
        "  - job_name: {name}\n    metrics_path: /proxy\n    params: {{module: [{params}]}}\n    \
         static_configs: [{{targets: ['{target}'], labels: {{module: '{}'}}}}]\n{extra}",
        module[0]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario end to end; issue 23 owns this file and may split it"
)]
async fn prometheus_scrapes_through_the_proxy() {
    for bin in [PROMETHEUS, NODE_EXPORTER, BLACKBOX] {
        if !Path::new(bin).exists() {
            crate::support::missing(
                bin,
                "apt-get install prometheus prometheus-node-exporter prometheus-blackbox-exporter",
            );
            return;
        }
    }
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let p = |name: &str| -> PathBuf { d.join(name) };
    let s = |path: PathBuf| path.display().to_string();

    // The real exporters.
    let node_port = free_port();
    let _node = spawn(
        NODE_EXPORTER,
        &[
            format!("--web.listen-address=127.0.0.1:{node_port}"),
            "--collector.disable-defaults".into(),
            "--collector.loadavg".into(),
            "--collector.cpu".into(),
        ],
        &p("node.log"),
    );
    let blackbox_port = free_port();
    std::fs::write(p("blackbox.yml"), "modules:\n  http_2xx:\n    prober: http\n    timeout: 2s\n")
        .expect("write");
    let _blackbox = spawn(
        BLACKBOX,
        &[
            format!("--web.listen-address=127.0.0.1:{blackbox_port}"),
            format!("--config.file={}", s(p("blackbox.yml"))),
        ],
        &p("blackbox.log"),
    );

    // Fake upstreams that misbehave, and a script and a textfile.
    let garbage = FakeExporter::serving(Reply::text("this is { not metrics\n")).await;
    let slow = FakeExporter::serving(Reply::text("slow 1\n").delay(Duration::from_secs(10))).await;
    let down = closed_port().await;
    let script = support::script(d, "script.sh", "echo '# TYPE e2e_script gauge'; echo 'e2e_script 1'");
    std::fs::write(p("textfile.prom"), "# TYPE e2e_textfile gauge\ne2e_textfile 1\n").expect("write");

    // Certificates as in the original README (the node's with a DNS SAN, which Go needs).
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-keyout",
        &s(p("node_key.pem")),
        "-out",
        &s(p("node_cert.pem")),
        "-days",
        "30",
        "-nodes",
        "-subj",
        "/commonName=prom_node/",
        "-addext",
        "subjectAltName=DNS:prom_node",
    ]);
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-keyout",
        &s(p("prom_key.pem")),
        "-out",
        &s(p("prom_cert.pem")),
        "-days",
        "30",
        "-nodes",
        "-subj",
        "/commonName=prometheus/",
    ]);

    let config = format!(
        "modules:\n  node:\n    method: http\n    http: {{address: 127.0.0.1, port: {node_port}}}\n  \
         blackbox:\n    method: http\n    http: {{address: 127.0.0.1, port: {blackbox_port}, path: /probe}}\n  \
         script:\n    method: exec\n    exec: {{command: {}}}\n  \
         textfile:\n    method: file\n    file: {{path: {}}}\n  \
         garbage:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n  \
         down:\n    method: http\n    http: {{address: 127.0.0.1, port: {down}}}\n  \
         slow:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n",
        script.display(),
        s(p("textfile.prom")),
        garbage.port(),
        slow.port()
    );
    std::fs::write(p("expexp.yaml"), &config).expect("write");
    let proxy = Daemon::start(&[
        "-config.file",
        &s(p("expexp.yaml")),
        "-web.listen-address=127.0.0.1:0",
        "-web.tls.listen-address=127.0.0.1:0",
        &format!("-web.tls.cert={}", s(p("node_cert.pem"))),
        &format!("-web.tls.key={}", s(p("node_key.pem"))),
        &format!("-web.tls.ca={}", s(p("prom_cert.pem"))),
        "-web.tls.verify",
    ]);
    let (plain, tls) = (proxy.bound[0].clone(), proxy.bound[1].clone());

    let tls_extra = format!(
        "    scheme: https\n    tls_config: {{ca_file: {}, server_name: prom_node, cert_file: {}, key_file: {}}}\n",
        s(p("node_cert.pem")),
        s(p("prom_cert.pem")),
        s(p("prom_key.pem"))
    );
    let blackbox_target = format!("http://{plain}/-/healthy");
    let mut scrape = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for m in ["node", "script", "textfile", "garbage", "down"] {
        scrape.push_str(&job(&format!("expexp_{m}"), &plain, &[m], ""));
    }
    scrape.push_str(&job(
        "expexp_slow",
        &plain,
        &["slow"],
        "    scrape_interval: 3s\n    scrape_timeout: 2s\n",
    ));
    scrape.push_str(&format!(
        "  - job_name: blackbox\n    metrics_path: /proxy\n    params: {{module: [blackbox, http_2xx], target: ['{blackbox_target}']}}\n    \
         static_configs: [{{targets: ['{plain}'], labels: {{module: blackbox}}}}]\n"
    ));
    // The same probe with the module in the path: blackbox's own `module` goes up unchanged.
    scrape.push_str(&format!(
        "  - job_name: blackbox_path\n    metrics_path: /proxy/blackbox\n    params: {{module: [http_2xx], target: ['{blackbox_target}']}}\n    \
         static_configs: [{{targets: ['{plain}'], labels: {{module: blackbox}}}}]\n"
    ));
    scrape.push_str(&job("mtls", &tls, &["script"], &tls_extra));
    scrape.push_str(&format!(
        "  - job_name: sd\n    http_sd_configs: [{{url: 'http://{plain}/discovery', refresh_interval: 2s}}]\n"
    ));
    std::fs::write(p("prometheus.yml"), &scrape).expect("write");
    let prom_port = free_port();
    let _prometheus = spawn(
        PROMETHEUS,
        &[
            format!("--config.file={}", s(p("prometheus.yml"))),
            format!("--storage.tsdb.path={}", s(p("data"))),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        &p("prometheus.log"),
    );
    let prom = format!("http://127.0.0.1:{prom_port}");
    wait_ready(&prom).await;

    expect_up(
        &prom,
        &[
            ("expexp_node", "node", 1.0),
            ("expexp_script", "script", 1.0),
            ("expexp_textfile", "textfile", 1.0),
            ("expexp_garbage", "garbage", 0.0),
            ("expexp_down", "down", 0.0),
            ("expexp_slow", "slow", 0.0),
            ("blackbox", "blackbox", 1.0),
            ("blackbox_path", "blackbox", 1.0),
            ("mtls", "script", 1.0),
            ("sd", "node", 1.0),
            ("sd", "script", 1.0),
            ("sd", "textfile", 1.0),
            ("sd", "garbage", 0.0),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(query_count(&prom, "node_load1{job=\"expexp_node\"}").await == 1, "node metrics arrived intact");
    assert!(query_count(&prom, "node_cpu_seconds_total{job=\"expexp_node\"}").await > 0);
    assert_eq!(
        query_count(&prom, "probe_success{job=\"blackbox\"} == 1").await,
        1,
        "blackbox probed through the proxy"
    );
    assert_eq!(
        query_count(&prom, "probe_success{job=\"blackbox_path\"} == 1").await,
        1,
        "blackbox probed through /proxy/NAME with its own module parameter"
    );
    assert_eq!(query_count(&prom, "e2e_textfile{job=\"expexp_textfile\"}").await, 1);
    assert_eq!(query_count(&prom, "expexp_file_mtime_timestamp{job=\"expexp_textfile\"}").await, 1);
    // The slow module failed at our deadline (2s scrape timeout minus 0.5s), before Prometheus gave up.
    let slow_err = get(&format!("{prom}/api/v1/targets"), &[]).await.text();
    assert!(slow_err.contains("504"), "the slow module's scrape failed with our 504: {slow_err}");

    // A module added by a reload is found by service discovery and scraped.
    let added = support::script(d, "added.sh", "echo 'e2e_added 1'");
    std::fs::write(
        p("expexp.yaml"),
        format!("{config}  added:\n    method: exec\n    exec: {{command: {}}}\n", added.display()),
    )
    .expect("write");
    proxy.signal(rustix::process::Signal::HUP);
    proxy.wait_for_log("configuration reloaded", Duration::from_secs(10));
    expect_up(&prom, &[("sd", "added", 1.0)], Duration::from_secs(30)).await;
    assert_eq!(query_count(&prom, "e2e_added{job=\"sd\",module=\"added\"}").await, 1);
}
