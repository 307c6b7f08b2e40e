//! End to end against the real servers of both Prometheus versions (issue 23): Debian 12's
//! Prometheus 2.42 (`/usr/bin/prometheus`, with and without native histograms) and Debian sid's
//! Prometheus 3.5.3 (fetched and unpacked by `.ci/prometheus-sid.sh`, found at
//! `$EXPEXP_PROMETHEUS3` or `/var/cache/expexp-ci/prometheus-sid/usr/bin/prometheus`). Each
//! server scrapes a set of bodies directly from a fake exporter and through the proxy, and gets
//! the same health each way: the proxy answers 500 exactly for what the server refuses. The one
//! exception is a Content-Type Prometheus 3 does not read, which is up through the proxy (served
//! with text's Content-Type, docs/verification.md). A body that makes Prometheus 2.42 panic goes
//! through the proxy only, and the server survives. The `Accept` headers the real servers send
//! are judged as the version that sent them.
//!
//! The bodies hold no timestamps, so the head's time window decides nothing. Where a component
//! is missing the test says so loudly and does nothing, except under `CI=true`, where it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use exporter_exporter::exposition::Judge;

use crate::bodies::{self, wire};
use crate::e2e_prometheus::{Proc, free_port, spawn};
use crate::refcheck::{self, Batch, Verdict, Version};
use crate::support::{Daemon, FakeExporter, Reply, get};

const PROMETHEUS_2_42: &str = "/usr/bin/prometheus";
const PROMETHEUS_3_DEFAULT: &str = "/var/cache/expexp-ci/prometheus-sid/usr/bin/prometheus";

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// A server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Server {
    /// Prometheus 3.5.3 with native histograms on.
    V3,
    /// Prometheus 2.42 with `--enable-feature=native-histograms` (which makes it ask for protobuf).
    V2_42Native,
    /// Prometheus 2.42 as Debian runs it.
    V2_42,
}

impl Server {
    const ALL: [Server; 3] = [Server::V3, Server::V2_42Native, Server::V2_42];

    fn is_3(self) -> bool {
        self == Server::V3
    }
}

/// One body, and whether a server ingests it (`up` scraping it directly): `(3, 2.42)`.
struct Case {
    name: &'static str,
    content_type: Option<&'static str>,
    body: Bytes,
    up: (bool, bool),
}

fn case(name: &'static str, content_type: &'static str, body: impl Into<Bytes>, up: (bool, bool)) -> Case {
    Case { name, content_type: Some(content_type), body: body.into(), up }
}

/// A delimited protobuf family `name` with one sample: a counter of 1 with `labels`, or (with
/// `native`) a valid native histogram (schema 0, a zero bucket, two positive buckets of one span
/// and one negative bucket: counts 1, 2 and 1 and 1 in the zero bucket).
fn protobuf(name: &[u8], labels: &[(&[u8], &[u8])], native: bool) -> Vec<u8> {
    let mut metric = Vec::new();
    for (n, v) in labels {
        let mut pair = Vec::new();
        wire::bytes(1, n, &mut pair);
        wire::bytes(2, v, &mut pair);
        wire::bytes(1, &pair, &mut metric);
    }
    let kind = if native {
        let mut h = Vec::new();
        wire::uint(1, 5, &mut h);
        wire::double(2, 3.5, &mut h);
        wire::sint(5, 0, &mut h);
        wire::double(6, 1e-128, &mut h);
        wire::uint(7, 1, &mut h);
        let mut negative = Vec::new();
        wire::sint(1, 0, &mut negative);
        wire::uint(2, 1, &mut negative);
        wire::bytes(9, &negative, &mut h);
        wire::packed_sint(10, &[1], &mut h);
        let mut positive = Vec::new();
        wire::sint(1, 0, &mut positive);
        wire::uint(2, 2, &mut positive);
        wire::bytes(12, &positive, &mut h);
        wire::packed_sint(13, &[1, 1], &mut h);
        wire::bytes(7, &h, &mut metric);
        4
    } else {
        let mut counter = Vec::new();
        wire::double(1, 1.0, &mut counter);
        wire::bytes(3, &counter, &mut metric);
        0
    };
    let mut family = Vec::new();
    wire::bytes(1, name, &mut family);
    wire::uint(3, kind, &mut family);
    wire::bytes(4, &metric, &mut family);
    let mut out = Vec::new();
    wire::delimited(&family, &mut out);
    out
}

/// The bodies: those the issue names, both ways, and what only one version reads.
fn cases() -> Vec<Case> {
    vec![
        case("good", TEXT, "# HELP a An a.\n# TYPE a gauge\na 1\na{b=\"c\"} 2\n", (true, true)),
        // Refused by expfmt (and so by the original), ingested by both versions.
        case("no_final_newline", TEXT, "b_total 3", (true, true)),
        case("second_help", TEXT, "# HELP y a\n# HELP y b\ny 2\n", (true, true)),
        case("type_after_sample", TEXT, "x 1\n# TYPE x gauge\n", (true, true)),
        case("empty_le", TEXT, "k_bucket{le=\"\"} 1\n", (true, true)),
        case("raw_newline_in_label_value", TEXT, "a{b=\"x\ny\"} 1\n", (true, true)),
        // Served by expfmt, refused by both versions.
        case("type_without_type", TEXT, "# TYPE z\nz 1\n", (false, false)),
        case("repeated_le", TEXT, "# TYPE h histogram\nh_bucket{le=\"1\",le=\"2\"} 1\n", (false, false)),
        case("help_not_utf8", TEXT, &b"# HELP a \xff\na 1\n"[..], (false, false)),
        case(
            "gaugehistogram_in_text",
            TEXT,
            "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\n",
            (false, false),
        ),
        // The scrape cache's duplicate rule: a series twice in one scrape.
        case("repeated_series", TEXT, "a{b=\"c\"} 1\na{b=\"c\"} 2\n", (true, true)),
        // Quoted UTF-8 names: Prometheus 3 reads them whatever `escaping` says, 2.42 never.
        case("quoted_name_plain_content_type", "text/plain; version=0.0.4", "{\"i.j\"} 1\n", (true, false)),
        case("quoted_label_name", TEXT, "a{\"b.c\"=\"d\"} 1\n", (true, false)),
        case("protobuf_dotted_name", PROTOBUF, protobuf(b"i.j", &[(b"k", b"v")], false), (true, false)),
        // OpenMetrics: empty labels dropped before the duplicate check (item 5), 2.42's parser.
        case(
            "om_repeated_name_with_empty_value",
            OPENMETRICS,
            "a{b=\"N\",b=\"\",b=\"x\"} 1\n# EOF\n",
            (true, true),
        ),
        case("om_one_empty_of_two", OPENMETRICS, "a{b=\"\",b=\"x\"} 1\n# EOF\n", (true, true)),
        case("om_trailing_comma", OPENMETRICS, "a{b=\"c\",} 1\n# EOF\n", (true, false)),
        case("om_without_eof", OPENMETRICS, "a 1\n", (false, false)),
        case("om_quoted_name", OPENMETRICS, "{\"a.b\"} 1\n# EOF\n", (true, false)),
        case("protobuf_counter", PROTOBUF, protobuf(b"c_total", &[(b"k", b"v")], false), (true, true)),
        case("protobuf_native_histogram", PROTOBUF, protobuf(b"n", &[], true), (true, true)),
        // Content-Types Prometheus 3 fails a scrape for: read as text by 2.42, and served as text
        // through the proxy (up there for both).
        Case { name: "no_content_type", content_type: None, body: "a 1\n".into(), up: (false, true) },
        case("json_content_type", "application/json", "a 1\n", (false, true)),
    ]
}

/// The bodies a Prometheus 3 set to legacy names (`metric_name_validation_scheme: legacy`)
/// scrapes too: what it reads and what it does not.
const LEGACY: [(&str, bool); 3] =
    [("good", true), ("quoted_name_plain_content_type", false), ("protobuf_dotted_name", false)];

/// The bodies above on which a reference program (refcheck-prometheus-3 is Prometheus's HEAD of
/// 2026-08-21, the real server 3.5.3) says other than the real server: the real server decides
/// the end-to-end test, and each such body is listed here, with the version. None so far.
const REAL_SERVER_DECIDES: &[(&str, Version)] = &[];

/// The health recorded for each body is what the reference programs say (except where
/// [`REAL_SERVER_DECIDES`]), and the crashing body makes the 2.42 reference panic: so the
/// end-to-end test's bodies say what they are meant to, and a difference between the real
/// servers and the references shows here, where the references are present, as well as there.
#[test]
fn the_bodies_recorded_health_is_the_reference_programs_verdict() {
    if !refcheck::present() {
        return;
    }
    let mut wrong = Vec::new();
    for version in Version::ALL {
        let mut batch = Batch::start(version);
        for c in cases() {
            let verdict = batch.check(&refcheck::ct_mode(c.content_type.unwrap_or_default()), &c.body);
            let up = if version == Version::V3 { c.up.0 } else { c.up.1 };
            let listed = REAL_SERVER_DECIDES.contains(&(c.name, version));
            if (verdict == Verdict::Ok) != (up != listed) {
                wrong.push(format!(
                    "{} as {}: recorded {}, the reference says {verdict:?}{}",
                    c.name,
                    version.name(),
                    if up { "up" } else { "down" },
                    if listed { " (listed as differing)" } else { "" }
                ));
            }
        }
        let crash = batch.check(&refcheck::ct_mode(PROTOBUF), &bodies::crashing_native_histogram());
        let expected_crash = version == Version::V2_42;
        if matches!(crash, Verdict::Panic(_)) != expected_crash {
            wrong.push(format!("the crashing body as {}: {crash:?}", version.name()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The Content-Type cases: down directly on Prometheus 3, up through the proxy.
fn content_type_case(name: &str) -> bool {
    name.ends_with("content_type") && name != "quoted_name_plain_content_type"
}

fn prometheus_3() -> String {
    std::env::var("EXPEXP_PROMETHEUS3").unwrap_or_else(|_| PROMETHEUS_3_DEFAULT.to_owned())
}

/// Whether `bin` is there; if not, says so loudly, and fails under `CI=true`.
fn present(bin: &str, how: &str) -> bool {
    if Path::new(bin).exists() {
        return true;
    }
    let message =
        format!("{bin} is missing ({how}); the end-to-end test of both Prometheus versions is not run");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("\n\n*** SKIPPED: {message} ***\n");
    false
}

fn version(bin: &str) -> String {
    let out = Command::new(bin).arg("--version").output().expect("prometheus --version");
    String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_owned()
}

/// `up` by (body, via, legacy) as one server recorded it.
async fn health(prom: &str) -> BTreeMap<(String, String, bool), bool> {
    let got = get(&format!("{prom}/api/v1/query?query=up"), &[]).await;
    let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
    let mut out = BTreeMap::new();
    for r in v["data"]["result"].as_array().cloned().unwrap_or_default() {
        let m = &r["metric"];
        let key = (
            m["body"].as_str().unwrap_or_default().to_owned(),
            m["via"].as_str().unwrap_or_default().to_owned(),
            m["legacy"].as_str() == Some("true"),
        );
        out.insert(key, r["value"][1].as_str() == Some("1"));
    }
    out
}

/// Each target's last scrape error, by (body, via, legacy), for a failure message.
async fn errors(prom: &str) -> String {
    let got = get(&format!("{prom}/api/v1/targets"), &[]).await;
    let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
    let mut out = String::new();
    for t in v["data"]["activeTargets"].as_array().cloned().unwrap_or_default() {
        let l = &t["labels"];
        out += &format!(
            "  {} via {} legacy {}: {} {}\n",
            l["body"].as_str().unwrap_or_default(),
            l["via"].as_str().unwrap_or_default(),
            l["legacy"].as_str().unwrap_or("false"),
            t["health"].as_str().unwrap_or_default(),
            t["lastError"].as_str().unwrap_or_default()
        );
    }
    out
}

/// One scrape job.
fn job(name: &str, target: &str, path: &str, module: Option<&str>, labels: &str, extra: &str) -> String {
    let params = module.map(|m| format!("    params: {{module: ['{m}']}}\n")).unwrap_or_default();
    format!(
        "  - job_name: '{name}'\n    metrics_path: '{path}'\n{params}{extra}    \
         static_configs: [{{targets: ['{target}'], labels: {{{labels}}}}}]\n"
    )
}

/// The configuration of `server`: each body directly and through the proxy, the crashing body
/// through the proxy only, and for Prometheus 3 the legacy-name jobs and a job with the default
/// scrape protocols (without native histograms), whose Accept header is checked.
fn config(server: Server, upstream: &str, proxy: &str, bodies: &[Case]) -> String {
    let mut out = String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n");
    for c in bodies {
        let labels = |via: &str| format!("body: '{}', via: '{via}'", c.name);
        out += &job(
            &format!("{}_direct", c.name),
            upstream,
            &format!("/{}", c.name),
            None,
            &labels("direct"),
            "",
        );
        out += &job(&format!("{}_proxy", c.name), proxy, "/proxy", Some(c.name), &labels("proxy"), "");
    }
    out += &job("crash_proxy", proxy, "/proxy", Some("crash"), "body: 'crash', via: 'proxy'", "");
    if server.is_3() {
        let legacy =
            "    metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: underscores\n";
        for (name, _) in LEGACY {
            let labels = |via: &str| format!("body: '{name}', via: '{via}', legacy: 'true'");
            out += &job(
                &format!("{name}_direct_legacy"),
                upstream,
                &format!("/{name}"),
                None,
                &labels("direct"),
                legacy,
            );
            out +=
                &job(&format!("{name}_proxy_legacy"), proxy, "/proxy", Some(name), &labels("proxy"), legacy);
        }
        let protocols = "    scrape_protocols: [OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText1.0.0, PrometheusText0.0.4]\n";
        out += &job(
            "accept_default",
            upstream,
            "/accept_default",
            None,
            "body: 'accept_default', via: 'direct'",
            protocols,
        );
    }
    out
}

/// The Accept header `server` sent for `path`.
fn accept_of(up: &FakeExporter, path: &str) -> Option<String> {
    up.requests()
        .iter()
        .find(|s| s.path == path)
        .and_then(|s| s.headers.get("accept").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

/// Every job's expected health on `server`, by (body, via, legacy).
fn expected(server: Server, bodies: &[Case]) -> BTreeMap<(String, String, bool), bool> {
    let mut out = BTreeMap::new();
    for c in bodies {
        let direct = if server.is_3() { c.up.0 } else { c.up.1 };
        // Without native histograms, 2.42 fails a scrape holding one ("native histograms are
        // disabled"), as the proxy does for a 2.42 whose Accept header says so.
        let direct = direct && !(server == Server::V2_42 && c.name == "protobuf_native_histogram");
        let through = direct || (server.is_3() && content_type_case(c.name));
        out.insert((c.name.to_owned(), "direct".to_owned(), false), direct);
        out.insert((c.name.to_owned(), "proxy".to_owned(), false), through);
    }
    out.insert(("crash".to_owned(), "proxy".to_owned(), false), false);
    if server.is_3() {
        for (name, up) in LEGACY {
            out.insert((name.to_owned(), "direct".to_owned(), true), up);
            out.insert((name.to_owned(), "proxy".to_owned(), true), up);
        }
        out.insert(("accept_default".to_owned(), "direct".to_owned(), false), true);
    }
    out
}

/// The fake exporter: each body at `/NAME`, the crashing body at `/crash`.
async fn exporter(bodies: &[Case]) -> FakeExporter {
    let served: BTreeMap<String, (Option<&'static str>, Bytes)> =
        bodies.iter().map(|c| (format!("/{}", c.name), (c.content_type, c.body.clone()))).collect();
    let crash = Bytes::from(bodies::crashing_native_histogram());
    FakeExporter::start(
        move |seen| {
            if seen.path == "/crash" {
                return Reply::ok(PROTOBUF, crash.clone());
            }
            match served.get(&seen.path) {
                Some((Some(ct), body)) => Reply::ok(ct, body.clone()),
                Some((None, body)) => Reply { headers: Vec::new(), ..Reply::ok("", body.clone()) },
                None => Reply::text("accept 1\n"),
            }
        },
        None,
    )
    .await
}

/// The proxy, with a module for each body and the crashing one.
fn proxy(d: &Path, bodies: &[Case], port: u16) -> Daemon {
    let mut modules = String::from("modules:\n");
    for name in bodies.iter().map(|c| c.name).chain(["crash"]) {
        modules += &format!(
            "  {name}:\n    method: http\n    http: {{address: 127.0.0.1, port: {port}, path: /{name}}}\n"
        );
    }
    std::fs::write(d.join("expexp.yaml"), modules).expect("write");
    Daemon::with_config(&d.join("expexp.yaml"), &[])
}

/// Starts every server of [`Server::ALL`] scraping `upstream` and `proxy`; returns each with its
/// address once it is ready.
async fn start_servers(
    d: &Path,
    v3_bin: &str,
    upstream: &str,
    proxy: &str,
    bodies: &[Case],
) -> Vec<(Server, String, Proc)> {
    let mut running: Vec<(Server, String, Proc)> = Vec::new();
    for server in Server::ALL {
        let tag = format!("{server:?}");
        let file = d.join(format!("{tag}.yml"));
        std::fs::write(&file, config(server, upstream, proxy, bodies)).expect("write");
        let port = free_port();
        let (bin, feature) = match server {
            Server::V3 | Server::V2_42Native => (
                if server.is_3() { v3_bin } else { PROMETHEUS_2_42 },
                Some("--enable-feature=native-histograms"),
            ),
            Server::V2_42 => (PROMETHEUS_2_42, None),
        };
        let mut args = vec![
            format!("--config.file={}", file.display()),
            format!("--storage.tsdb.path={}", d.join(format!("{tag}-data")).display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ];
        args.extend(feature.map(str::to_owned));
        let proc = spawn(bin, &args, &d.join(format!("{tag}.log")));
        running.push((server, format!("http://127.0.0.1:{port}"), proc));
    }
    for (server, prom, proc) in &mut running {
        let log = d.join(format!("{server:?}.log"));
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let exited = proc.0.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > until {
                panic!("{server:?} did not start:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            let addr = prom.trim_start_matches("http://");
            if tokio::net::TcpStream::connect(addr).await.is_ok()
                && get(&format!("{prom}/-/ready"), &[]).await.status == 200
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    running
}

/// Waits until `server` (at `prom`) records the health [`expected`] of it, or fails saying
/// which jobs differ and why.
async fn await_health(server: Server, prom: &str, bodies: &[Case], deadline: Instant) {
    let want = expected(server, bodies);
    loop {
        let seen = health(prom).await;
        if seen == want {
            return;
        }
        if Instant::now() > deadline {
            let wrong: Vec<String> = want
                .iter()
                .filter(|(k, v)| seen.get(*k) != Some(*v))
                .map(|((body, via, legacy), v)| {
                    format!(
                        "  {body} via {via}{}: up should be {v}, is {:?}",
                        if *legacy { " (legacy names)" } else { "" },
                        seen.get(&(body.clone(), via.clone(), *legacy))
                    )
                })
                .collect();
            panic!(
                "{server:?}: health differs from the expected:\n{}\ntargets:\n{}",
                wrong.join("\n"),
                errors(prom).await
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The real servers' Accept headers, judged as the version that sent them: Prometheus 3's
/// default scrape protocols (only it scrapes /accept_default), and the four kinds of scraper
/// that scrape /good.
fn assert_judged_as_their_senders(up: &FakeExporter) {
    let accept = accept_of(up, "/accept_default").unwrap_or_default();
    assert_eq!(Judge::from_accept([accept.as_bytes()]), Judge::PROMETHEUS_3, "{accept}");
    let accepts: Vec<String> = up
        .requests()
        .iter()
        .filter(|s| s.path == "/good")
        .filter_map(|s| s.headers.get("accept").and_then(|v| v.to_str().ok()).map(str::to_owned))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut judged: Vec<Judge> = accepts.iter().map(|a| Judge::from_accept([a.as_bytes()])).collect();
    judged.sort();
    // 3.5.3 with native histograms and with legacy names, 2.42 with and without native
    // histograms: one Accept header each, each judged as its sender.
    assert_eq!(
        judged,
        [
            Judge::PROMETHEUS_3,
            Judge::PROMETHEUS_3_LEGACY,
            Judge::PROMETHEUS_2_42_CLASSIC,
            Judge::PROMETHEUS_2_42,
        ],
        "{accepts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_prometheus_versions_get_the_same_health_directly_and_through_the_proxy() {
    let v3_bin = prometheus_3();
    if !present(PROMETHEUS_2_42, "apt-get install prometheus")
        || !present(&v3_bin, "bash .ci/prometheus-sid.sh fetches it; CI does")
    {
        return;
    }
    let versions = (version(PROMETHEUS_2_42), version(&v3_bin));
    assert!(versions.0.contains("version 2.42."), "{PROMETHEUS_2_42}: {}", versions.0);
    assert!(versions.1.contains("version 3."), "{v3_bin}: {}", versions.1);
    eprintln!("servers: {} and {}", versions.0, versions.1);

    let bodies = cases();
    let up = exporter(&bodies).await;
    let upstream = format!("127.0.0.1:{}", up.port());
    let dir = tempfile::tempdir().expect("tmp");
    let proxy = proxy(dir.path(), &bodies, up.port());
    let mut running = start_servers(dir.path(), &v3_bin, &upstream, &proxy.bound[0], &bodies).await;

    let deadline = Instant::now() + Duration::from_secs(40);
    for (server, prom, _) in &running {
        await_health(*server, prom, &bodies, deadline).await;
    }

    // The crashing body reached no server, and every server is still there after scraping it
    // through the proxy (three rounds at least: the health above needed one).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (server, prom, proc) in &mut running {
        assert!(proc.0.try_wait().expect("try_wait").is_none(), "{server:?} exited");
        assert_eq!(get(&format!("{prom}/-/ready"), &[]).await.status, 200, "{server:?} is not ready");
    }
    let crash_fetches = up.requests().iter().filter(|s| s.path == "/crash").count();
    assert!(crash_fetches >= 3, "the crashing body was fetched {crash_fetches} times");
    assert!(
        proxy.logs().iter().any(|l| l.contains("would crash Prometheus 2.42")),
        "the proxy says why it refused the crashing body"
    );
    assert_judged_as_their_senders(&up);
}
