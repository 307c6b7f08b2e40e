//! Differential tests: the same configuration, flags and requests against our binary and the
//! original Go exporter_exporter 0.4.0 (Debian's `prometheus-exporter-exporter`), comparing status
//! codes, bodies and the headers that matter.
//!
//! Where we differ on purpose (docs/migration.md) the test
//! asserts our documented behaviour and says why. Differences that are documented nowhere are
//! collected in `undocumented_differences`, which is `#[ignore]`d so the suite passes while they
//! are open: `cargo test --test it differential:: -- --ignored` shows them.
//!
//! Without the original installed every test prints `SKIPPED: ...` and returns; under CI
//! (`CI=true`) it fails instead (support::missing).

use crate::support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use support::{FakeExporter, Got, Pki, Reply, Seen, closed_port, get, script};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

const OURS: &str = env!("CARGO_BIN_EXE_exporter_exporter");
const THEIRS: &str = "/usr/bin/prometheus-exporter-exporter";
/// How long a binary may take to start listening.
const STARTUP: Duration = Duration::from_secs(15);

/// Returns from the test, loudly, when the original is not installed.
macro_rules! require_original {
    () => {
        if !Path::new(THEIRS).exists() {
            $crate::support::missing(
                THEIRS,
                "apt-get install prometheus-exporter-exporter (the differential tests)",
            );
            return;
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Which listener a pair serves on.
#[derive(Clone, Copy)]
enum Listen {
    Plain,
    Tls,
}

/// One running binary: killed on drop; its standard error collected.
struct Running {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.try_wait();
    }
}

impl Running {
    fn log(&self) -> String {
        self.log.lock().expect("lock").join("\n")
    }
}

/// Spawns `bin` with `args`, collecting its standard error lines.
fn spawn(bin: &str, args: &[String]) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let stderr = child.stderr.take().expect("stderr");
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().expect("lock").push(line);
        }
    });
    (child, log)
}

/// The listen flags for one side: the plain listener, or the TLS one with plain HTTP off.
fn listen_flags(listen: Listen, addr: &str) -> [String; 2] {
    match listen {
        Listen::Plain => ["-web.listen-address".into(), addr.into()],
        Listen::Tls => ["-web.listen-address=".into(), format!("-web.tls.listen-address={addr}")],
    }
}

/// Ours binds 127.0.0.1:0 and announces ` bound=ADDR` at info level.
async fn start_ours(flags: &[String], listen: Listen) -> Running {
    let mut args = flags.to_vec();
    args.extend(listen_flags(listen, "127.0.0.1:0"));
    args.push("-log.level=info".into());
    let (mut child, log) = spawn(OURS, &args);
    let deadline = Instant::now() + STARTUP;
    let addr = loop {
        let bound = log.lock().expect("lock").iter().find_map(|l| {
            l.split(" bound=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned)
        });
        if let Some(a) = bound {
            break a.parse().expect("bound address");
        }
        let exited = child.try_wait().expect("wait");
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "ours did not start ({exited:?}):\n{}",
            log.lock().expect("lock").join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Running { child, log, addr }
}

/// The original does not say where it listens: give it a free port and poll until it accepts.
async fn start_theirs(flags: &[String], listen: Listen) -> Running {
    let mut failures = String::new();
    // A port freed here may be taken by someone else before the original binds it: retry.
    for _ in 0..3 {
        let port = closed_port().await;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut args = flags.to_vec();
        args.extend(listen_flags(listen, &addr.to_string()));
        args.push("-log.level=info".into());
        let (mut child, log) = spawn(THEIRS, &args);
        let deadline = Instant::now() + STARTUP;
        loop {
            if TcpStream::connect(addr).await.is_ok() {
                return Running { child, log, addr };
            }
            if child.try_wait().expect("wait").is_some() || Instant::now() > deadline {
                failures.push_str(&log.lock().expect("lock").join("\n"));
                let _ = child.start_kill();
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("the original did not start:\n{failures}");
}

/// Both binaries on the same YAML and flags.
struct Pair {
    ours: Running,
    theirs: Running,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start(yaml: &str, flags: &[&str]) -> Pair {
        Pair::start_on(yaml, flags, Listen::Plain).await
    }

    async fn start_on(yaml: &str, flags: &[&str], listen: Listen) -> Pair {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("expexp.yaml");
        std::fs::write(&file, yaml).expect("write config");
        let mut args = vec!["-config.file".to_owned(), file.to_str().expect("utf8").to_owned()];
        args.extend(flags.iter().map(|s| s.to_string()));
        let theirs = start_theirs(&args, listen).await;
        let ours = start_ours(&args, listen).await;
        Pair { ours, theirs, _dir: dir }
    }

    /// The same GET against both, ours first.
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Both<Got> {
        let ours = get(&format!("http://{}{path}", self.ours.addr), headers).await;
        let theirs = get(&format!("http://{}{path}", self.theirs.addr), headers).await;
        Both { ours, theirs }
    }

    /// The same GET against both, with what `up` received from each.
    async fn get_seen(&self, up: &FakeExporter, path: &str, headers: &[(&str, &str)]) -> Both<(Got, Seen)> {
        let before = up.requests().len();
        let ours = get(&format!("http://{}{path}", self.ours.addr), headers).await;
        let ours_seen = up.requests().get(before).cloned();
        let theirs = get(&format!("http://{}{path}", self.theirs.addr), headers).await;
        let theirs_seen = up.requests().get(before + 1).cloned();
        let (Some(o), Some(t)) = (ours_seen, theirs_seen) else {
            panic!("the upstream saw {} requests for {path}", up.requests().len() - before);
        };
        Both { ours: (ours, o), theirs: (theirs, t) }
    }

    fn logs(&self) -> String {
        format!("--- ours:\n{}\n--- theirs:\n{}", self.ours.log(), self.theirs.log())
    }
}

/// One outcome from each binary.
#[derive(Debug)]
struct Both<T> {
    ours: T,
    theirs: T,
}

impl Both<Got> {
    fn statuses(&self) -> (u16, u16) {
        (self.ours.status, self.theirs.status)
    }

    /// Same status, body byte for byte, Content-Type and Content-Encoding.
    fn assert_same(&self, case: &str) {
        let (o, t) = (&self.ours, &self.theirs);
        assert_eq!(o.status, t.status, "{case}: status (ours, theirs)\n{o:?}\n{t:?}");
        assert_eq!(o.body, t.body, "{case}: body (ours, theirs)");
        self.assert_same_headers(case);
    }

    fn assert_same_headers(&self, case: &str) {
        for h in ["content-type", "content-encoding"] {
            assert_eq!(self.ours.header(h), self.theirs.header(h), "{case}: {h} (ours, theirs)");
        }
    }
}

/// An http module at 127.0.0.1:`port``path`; `module_lines` and `http_lines` are extra YAML lines
/// (already indented) for the module and its `http` block.
fn yaml_http(name: &str, port: u16, path: &str, module_lines: &str, http_lines: &str) -> String {
    format!(
        "  {name}:\n    method: http\n{module_lines}    http:\n      address: 127.0.0.1\n      port: {port}\n      path: '{path}'\n{http_lines}"
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn gunzip(data: &[u8]) -> String {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(data), &mut out).expect("gunzip");
    out
}

/// Sample lines (no comments), as a parser sees them: the original re-encodes exec output.
fn samples(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    v.sort_unstable();
    v
}

const NODE: &str = "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.21\n";
const BAD: &str = "node_load1 zero\n";
const VERIFICATION_FAILED: &str =
    "Internal Server Error: Response from proxied server failed verification. See server logs for details\n";
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Issue #84's body: client_golang's OpenMetrics with `# TYPE ... unknown`.
const ISSUE_84: &[u8] =
    include_bytes!("../exposition/openmetrics/expexp_issue84_client_golang_unknown_type.good.txt");

/// One length-delimited MetricFamily `a` with one untyped sample of 1.
fn protobuf_body() -> Vec<u8> {
    let family = [0x0a, 0x01, b'a', 0x18, 0x03, 0x22, 0x0b, 0x2a, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];
    let mut body = vec![family.len() as u8];
    body.extend_from_slice(&family);
    body
}

/// A fake exporter that answers by path.
async fn upstream() -> FakeExporter {
    let gz = Bytes::from(gzip(NODE.as_bytes()));
    let pb = Bytes::from(protobuf_body());
    FakeExporter::start(
        move |seen| match seen.path.as_str() {
            "/bad" => Reply::text(BAD),
            "/gzip" => Reply::text(gz.clone()).header("content-encoding", "gzip"),
            "/protobuf" => Reply::ok(PROTOBUF, pb.clone()),
            "/openmetrics" => Reply::ok(OPENMETRICS, ISSUE_84),
            "/missing" => Reply::ok("text/plain; charset=utf-8", "no such page\n").status(404),
            "/slow" => Reply::text(NODE).delay(Duration::from_secs(3)),
            _ => Reply::text(NODE),
        },
        None,
    )
    .await
}

/// Both binaries' `# TYPE` family names.
fn families(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// http modules
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_module_bodies_and_formats() {
    require_original!();
    let up = upstream().await;
    let p = up.port();
    let mut yaml = String::from("modules:\n");
    for name in ["text", "bad", "gzip", "protobuf", "openmetrics", "missing"] {
        yaml += &yaml_http(name, p, &format!("/{name}"), "", "");
    }
    let pair = Pair::start(&yaml, &[]).await;

    let good = pair.get("/proxy?module=text", &[]).await;
    good.assert_same("good text upstream");
    assert_eq!((good.ours.status, good.ours.body.as_ref()), (200, NODE.as_bytes()));

    let bad = pair.get("/proxy?module=bad", &[]).await;
    bad.assert_same("bad text upstream");
    assert_eq!((bad.ours.status, bad.ours.text().as_str()), (500, VERIFICATION_FAILED));

    let gz = pair.get("/proxy?module=gzip", &[("Accept-Encoding", "gzip")]).await;
    gz.assert_same("gzip upstream");
    assert_eq!(gz.ours.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&gz.ours.body), NODE);

    let pb = pair.get("/proxy?module=protobuf", &[]).await;
    pb.assert_same("protobuf upstream");
    assert_eq!((pb.ours.status, pb.ours.body.to_vec()), (200, protobuf_body()));

    // Documented difference: the original verifies OpenMetrics with the text parser and fails on
    // `# TYPE x unknown` (issues #84 and #91); we verify with the OpenMetrics parser and serve it.
    let om = pair.get("/proxy?module=openmetrics", &[]).await;
    assert_eq!(om.statuses(), (200, 500), "OpenMetrics, issue #84\n{}", pair.logs());
    assert_eq!(om.ours.body.as_ref(), ISSUE_84);
    assert_eq!(om.ours.header("content-type"), Some(OPENMETRICS));
    assert_eq!(om.theirs.text(), VERIFICATION_FAILED);

    let missing = pair.get("/proxy?module=missing", &[]).await;
    missing.assert_same("upstream 404 passed through");
    assert_eq!((missing.ours.status, missing.ours.text().as_str()), (404, "no such page\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_and_too_slow() {
    require_original!();
    let up = upstream().await;
    let down = closed_port().await;
    let yaml = format!(
        "modules:\n{}{}{}",
        yaml_http("down", down, "/metrics", "", ""),
        yaml_http("slow", up.port(), "/slow", "    timeout: 300ms\n", ""),
        yaml_http("untimed", up.port(), "/slow", "", ""),
    );
    let pair = Pair::start(&yaml, &[]).await;

    let got = pair.get("/proxy?module=down", &[]).await;
    got.assert_same("upstream down");
    assert_eq!((got.ours.status, got.ours.text().as_str()), (502, "Bad Gateway\n"));

    let started = Instant::now();
    let got = pair.get("/proxy?module=slow", &[]).await;
    got.assert_same("upstream slower than the module timeout");
    assert_eq!((got.ours.status, got.ours.text().as_str()), (504, "Gateway Timeout\n"));
    assert!(started.elapsed() < Duration::from_secs(3), "both answered at the 300 ms deadline");

    // Documented (docs/operations.md, "Deadlines"): we also honour Prometheus's scrape timeout header minus
    // 0.5 s and answer 504 before Prometheus gives up; the original ignores the header and waits
    // for the upstream (3 s here).
    let started = Instant::now();
    let got = pair.get("/proxy?module=untimed", &[("X-Prometheus-Scrape-Timeout-Seconds", "1")]).await;
    assert_eq!(got.statuses(), (504, 200), "scrape timeout header");
    assert_eq!(got.theirs.body.as_ref(), NODE.as_bytes());
    assert!(started.elapsed() >= Duration::from_secs(3), "the original waited for the upstream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_headers_forwarding() {
    require_original!();
    let up = upstream().await;
    let yaml = format!(
        "modules:\n{}{}{}",
        yaml_http("blackbox", up.port(), "/probe", "", ""),
        yaml_http("netdata", up.port(), "/api/v1/allmetrics?format=prometheus&help=no", "", ""),
        yaml_http("node", up.port(), "/metrics", "", "      headers: {X-Configured: from-config}\n"),
    );
    let pair = Pair::start(&yaml, &[]).await;

    // The first `module` picks the module, the rest (later `module` values too) go upstream.
    let got = pair.get_seen(&up, "/proxy?module=blackbox&module=icmp&target=x", &[]).await;
    assert_eq!((got.ours.0.status, got.theirs.0.status), (200, 200));
    assert_eq!((got.ours.1.path.as_str(), got.theirs.1.path.as_str()), ("/probe", "/probe"));
    assert_eq!(got.ours.1.query, got.theirs.1.query, "module forwarding");
    assert_eq!(got.ours.1.query, "module=icmp&target=x");

    // The query of the configured path is merged into the request's (Go's url.Values.Encode order).
    let got = pair.get_seen(&up, "/proxy?module=netdata&filter=a+b&help=yes", &[]).await;
    assert_eq!((got.ours.0.status, got.theirs.0.status), (200, 200));
    assert_eq!(got.ours.1.path, got.theirs.1.path);
    assert_eq!(got.ours.1.query, got.theirs.1.query, "config path query merging");
    assert_eq!(got.ours.1.query, "filter=a+b&format=prometheus&help=yes&help=no");

    // Client headers go upstream, the configured ones are added.
    let client = [
        ("Accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
        ("X-Prometheus-Scrape-Timeout-Seconds", "10"),
        ("X-Custom", "kept"),
    ];
    let got = pair.get_seen(&up, "/proxy?module=node", &client).await;
    assert_eq!((got.ours.0.status, got.theirs.0.status), (200, 200));
    let (o, t) = (&got.ours.1.headers, &got.theirs.1.headers);
    for name in
        ["accept", "x-prometheus-scrape-timeout-seconds", "x-custom", "x-configured", "x-forwarded-for"]
    {
        assert_eq!(o.get(name), t.get(name), "upstream header {name} (ours, theirs)");
        assert!(o.get(name).is_some(), "upstream header {name} present");
    }
    assert_eq!(o["x-configured"], "from-config");
    assert_eq!(o["x-forwarded-for"], "127.0.0.1");
    // Both pass the client's Host on (each its own address).
    assert_eq!(o["host"], pair.ours.addr.to_string());
    assert_eq!(t["host"], pair.theirs.addr.to_string());
}

// ---------------------------------------------------------------------------------------------
// exec modules
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_modules() {
    require_original!();
    let dir = tempfile::tempdir().expect("tmp");
    let args = script(
        dir.path(),
        "args.sh",
        r##"echo "# HELP argv The arguments."
echo "# TYPE argv gauge"
echo "argv{v=\"$*\"} 1""##,
    );
    let big = script(dir.path(), "big.sh", r#"for i in $(seq 1 200); do echo "line{i=\"$i\"} $i"; done"#);
    let fail = script(dir.path(), "fail.sh", "echo 'a 1'\nexit 3");
    let yaml = format!(
        "modules:
  big:
    method: exec
    exec:
      command: {}
  args:
    method: exec
    exec:
      command: {}
      args: [configured]
  fail:
    method: exec
    exec:
      command: {}
  sleepy:
    method: exec
    timeout: 300ms
    exec:
      command: /bin/sleep
      args: ['5']
",
        big.display(),
        args.display(),
        fail.display()
    );
    let pair = Pair::start(&yaml, &[]).await;

    // Output and args from the query, appended after the configured ones. Bodies are compared as
    // samples: the original re-encodes exec output, we pass it through (see undocumented_differences).
    let got = pair.get("/proxy?module=args&args=one&args=two", &[]).await;
    assert_eq!(got.statuses(), (200, 200), "{}", pair.logs());
    got.assert_same_headers("exec output");
    assert_eq!(samples(&got.ours.text()), samples(&got.theirs.text()));
    assert_eq!(samples(&got.ours.text()), ["argv{v=\"configured one two\"} 1"]);

    // Both gzip exec output for a client that accepts it (ours from 1 KiB on: see
    // undocumented_differences).
    let got = pair.get("/proxy?module=big", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(got.statuses(), (200, 200));
    got.assert_same_headers("exec output, gzip");
    assert_eq!(got.ours.header("content-encoding"), Some("gzip"));
    assert_eq!(samples(&gunzip(&got.ours.body)), samples(&gunzip(&got.theirs.body)));
    assert_eq!(samples(&gunzip(&got.ours.body)).len(), 200);

    // A non-zero exit is a 500 in both (bodies differ: see undocumented_differences).
    let got = pair.get("/proxy?module=fail", &[]).await;
    assert_eq!(got.statuses(), (500, 500), "exec non-zero exit");

    // Documented difference: a timed-out command is a 504 for us, a 500 for the original.
    let started = Instant::now();
    let got = pair.get("/proxy?module=sleepy", &[]).await;
    assert_eq!(got.statuses(), (504, 500), "exec timeout");
    assert!(started.elapsed() < Duration::from_secs(4), "both answered at the deadline");
}

// ---------------------------------------------------------------------------------------------
// Module selection, configuration errors
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_missing_module() {
    require_original!();
    let up = upstream().await;
    let pair =
        Pair::start(&format!("modules:\n{}", yaml_http("node", up.port(), "/metrics", "", "")), &[]).await;
    let got = pair.get("/proxy?module=nope", &[]).await;
    assert_eq!(got.statuses(), (404, 404), "unknown module");
    got.assert_same_headers("unknown module");
    assert!(got.ours.text().starts_with("unknown module [nope]\n"));
    assert!(got.theirs.text().starts_with("unknown module [nope]\n"));

    let got = pair.get("/proxy", &[]).await;
    assert_eq!(got.statuses(), (400, 400), "missing module");
    got.assert_same_headers("missing module");
    assert!(got.ours.text().starts_with("require parameter module is missing"));
    assert!(got.theirs.text().starts_with("require parameter module is missing"));
}

/// Runs a binary to its exit (bounded), returning its exit code and standard error.
async fn run_to_exit(bin: &str, config: &Path) -> (Option<i32>, String) {
    let port = closed_port().await;
    let out = Command::new(bin)
        .args(["-config.file", config.to_str().expect("utf8")])
        .arg(format!("-web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(10), out)
        .await
        .unwrap_or_else(|_| panic!("{bin} did not exit on a bad configuration {}", config.display()))
        .expect("run");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_stop_both() {
    require_original!();
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        ("unknown top-level key", "modulez: {}\n"),
        ("unknown module key", "modules:\n  m:\n    method: http\n    colour: red\n    http: {port: 9100}\n"),
        ("unknown http key", "modules:\n  m:\n    method: http\n    http: {port: 9100, prot: 1}\n"),
        ("missing port", "modules:\n  m:\n    method: http\n    http: {path: /metrics}\n"),
        ("unknown method", "modules:\n  m:\n    method: ftp\n"),
    ];
    for (case, yaml) in cases {
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, yaml).expect("write");
        let (ours, ours_err) = run_to_exit(OURS, &file).await;
        let (theirs, theirs_err) = run_to_exit(THEIRS, &file).await;
        assert!(matches!(ours, Some(c) if c != 0), "{case}: ours exited {ours:?}: {ours_err}");
        assert!(matches!(theirs, Some(c) if c != 0), "{case}: theirs exited {theirs:?}: {theirs_err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Inbound security: bearer token, allow list, TLS, mTLS
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token() {
    require_original!();
    let up = upstream().await;
    let yaml = format!("modules:\n{}", yaml_http("node", up.port(), "/metrics", "", ""));
    let pair = Pair::start(&yaml, &["-web.bearer.token", "s3cret"]).await;
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);
    let cases: [Case<'_>; 5] = [
        ("right token", &[("Authorization", "Bearer s3cret")], 200),
        ("wrong token", &[("Authorization", "Bearer nope")], 401),
        ("missing header", &[], 401),
        ("not Bearer", &[("Authorization", "Basic dTpw")], 401),
        ("no token", &[("Authorization", "Bearer")], 401),
    ];
    for (case, headers, status) in cases {
        let got = pair.get("/proxy?module=node", headers).await;
        assert_eq!(got.ours.status, status, "{case}");
        got.assert_same(case);
    }
    let got = pair.get("/metrics", &[]).await;
    assert_eq!(got.statuses(), (401, 401), "/metrics is behind the token too");

    // Documented (docs/tls.md): a header consumed by our checks is not passed
    // upstream. The original forwards the client's bearer token to the exporter.
    let got = pair.get_seen(&up, "/proxy?module=node", &[("Authorization", "Bearer s3cret")]).await;
    assert_eq!(got.ours.1.headers.get("authorization"), None);
    assert_eq!(got.theirs.1.headers["authorization"], "Bearer s3cret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_list() {
    require_original!();
    let up = upstream().await;
    let yaml = format!("modules:\n{}", yaml_http("node", up.port(), "/metrics", "", ""));
    let inside = Pair::start(&yaml, &["-allow.net", "10.0.0.0/8", "-allow.net=127.0.0.0/8"]).await;
    let outside = Pair::start(&yaml, &["-allow.net", "10.0.0.0/8"]).await;
    let got = inside.get("/proxy?module=node", &[]).await;
    got.assert_same("client inside the allow list");
    assert_eq!(got.ours.status, 200);
    for path in ["/proxy?module=node", "/metrics", "/"] {
        let got = outside.get(path, &[]).await;
        got.assert_same(&format!("client outside the allow list: {path}"));
        assert_eq!((got.ours.status, got.ours.text().as_str()), (403, "Forbidden"));
    }
}

/// curl over HTTPS to `localhost:port` (resolved to 127.0.0.1), trusting `ca`, presenting
/// `client` (certificate, key) if given; run as a child process, off the runtime's threads.
/// Returns the HTTP status (0 when the connection was refused) and the body.
async fn curl(port: u16, path: &str, ca: &Path, client: Option<(&Path, &Path)>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", "--resolve"])
        .arg(format!("localhost:{port}:127.0.0.1"))
        .arg("--cacert")
        .arg(ca);
    if let Some((cert, key)) = client {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    let out = cmd.arg(format!("https://localhost:{port}{path}")).kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(15), out).await.expect("curl finished").expect("curl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// The same curl against both TLS listeners.
async fn curl_both(
    pair: &Pair,
    path: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Both<(u16, String)> {
    Both {
        ours: curl(pair.ours.addr.port(), path, ca, client).await,
        theirs: curl(pair.theirs.addr.port(), path, ca, client).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    require_original!();
    let up = upstream().await;
    let yaml = format!("modules:\n{}", yaml_http("node", up.port(), "/metrics", "", ""));
    let pki = Pki::new();
    let (ca, issuer) = pki.ca("test-ca");
    let server = pki.leaf("server", &["localhost"], &issuer);
    let client = pki.leaf("prometheus", &["prometheus"], &issuer);
    let (_, other_issuer) = pki.ca("other-ca");
    let stranger = pki.leaf("stranger", &["prometheus"], &other_issuer);
    let s = |p: &PathBuf| p.to_str().expect("utf8").to_owned();
    let tls_flags = [
        format!("-web.tls.cert={}", s(&server.cert)),
        format!("-web.tls.key={}", s(&server.key)),
        format!("-web.tls.ca={}", s(&ca.cert)),
    ];
    let flags: Vec<&str> = tls_flags.iter().map(String::as_str).collect();

    // A CA-signed server certificate, no client certificate required.
    let pair = Pair::start_on(&yaml, &flags, Listen::Tls).await;
    let got = curl_both(&pair, "/proxy?module=node", &ca.cert, None).await;
    assert_eq!(got.ours, got.theirs, "TLS\n{}", pair.logs());
    assert_eq!(got.ours, (200, NODE.to_owned()));
    drop(pair);

    // -web.tls.verify: a client certificate signed by -web.tls.ca is required.
    let mut flags = flags.clone();
    flags.push("-web.tls.verify");
    let pair = Pair::start_on(&yaml, &flags, Listen::Tls).await;
    let trusted =
        curl_both(&pair, "/proxy?module=node", &ca.cert, Some((client.cert.as_path(), client.key.as_path())))
            .await;
    assert_eq!(trusted.ours, trusted.theirs, "mTLS, trusted client\n{}", pair.logs());
    assert_eq!(trusted.ours, (200, NODE.to_owned()));
    let none = curl_both(&pair, "/proxy?module=node", &ca.cert, None).await;
    assert_eq!((none.ours.0, none.theirs.0), (0, 0), "mTLS, no client certificate: refused by both");
    let other = curl_both(
        &pair,
        "/proxy?module=node",
        &ca.cert,
        Some((stranger.cert.as_path(), stranger.key.as_path())),
    )
    .await;
    assert_eq!((other.ours.0, other.theirs.0), (0, 0), "mTLS, client from another CA: refused by both");
}

// ---------------------------------------------------------------------------------------------
// Listing and self metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_listing() {
    require_original!();
    let up = upstream().await;
    let yaml = format!(
        "modules:\n{}{}  script:\n    method: exec\n    exec:\n      command: /bin/echo\n      args: [arg-s3cret]\n      env: {{TOKEN: env-s3cret}}\n",
        yaml_http("node", up.port(), "/metrics", "", ""),
        yaml_http("blackbox", up.port(), "/probe", "", "      headers: {X-Api-Key: header-s3cret}\n"),
    );
    let pair = Pair::start(&yaml, &[]).await;

    // HTML: a link per module in both (the pages differ otherwise: ours has a table with the last
    // scrape of each module).
    let got = pair.get("/", &[]).await;
    assert_eq!(got.statuses(), (200, 200));
    got.assert_same_headers("HTML listing");
    for m in ["node", "blackbox", "script"] {
        let link = format!("<a href=\"/proxy?module={m}\">{m}</a>");
        assert!(got.ours.text().contains(&link), "ours links {m}");
        assert!(got.theirs.text().contains(&link), "theirs links {m}");
    }

    // JSON: the same module names as keys. Documented difference: the original serialises its
    // configuration, headers, exec args and env included; ours is a view without them.
    let got = pair.get("/", &[("Accept", "application/json")]).await;
    assert_eq!(got.statuses(), (200, 200));
    got.assert_same_headers("JSON listing");
    let keys = |g: &Got| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&g.body).expect("JSON");
        v.as_object().expect("an object").keys().cloned().collect()
    };
    assert_eq!(keys(&got.ours), keys(&got.theirs));
    for secret in ["header-s3cret", "arg-s3cret", "env-s3cret"] {
        assert!(got.theirs.text().contains(secret), "the original leaks {secret}");
        assert!(!got.ours.text().contains(secret), "ours must not show {secret}: {}", got.ours.text());
    }

    // Documented difference: unknown paths are a 404 for us; the original lists modules there.
    let got = pair.get("/no/such/page", &[]).await;
    assert_eq!(got.statuses(), (404, 200));

    // The original (0.4.0) has no basic_auth_* keys, so this part runs ours alone: the password
    // is not in the JSON listing either.
    let secret_yaml = format!(
        "modules:\n{}",
        yaml_http(
            "node",
            up.port(),
            "/metrics",
            "",
            "      basic_auth_username: user\n      basic_auth_password: pw-s3cret\n"
        )
    );
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("expexp.yaml");
    std::fs::write(&file, secret_yaml).expect("write");
    let ours = start_ours(&["-config.file".into(), file.to_str().expect("utf8").into()], Listen::Plain).await;
    let got = get(&format!("http://{}/", ours.addr), &[("Accept", "application/json")]).await;
    assert_eq!(got.status, 200);
    assert!(got.text().contains("\"node\"") && !got.text().contains("pw-s3cret"), "{}", got.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_metric_families() {
    require_original!();
    let up = upstream().await;
    let yaml = format!(
        "modules:\n{}{}  fail:\n    method: exec\n    exec:\n      command: /bin/false\n  sleepy:\n    method: exec\n    timeout: 200ms\n    exec:\n      command: /bin/sleep\n      args: ['5']\n",
        yaml_http("node", up.port(), "/metrics", "", ""),
        yaml_http("bad", up.port(), "/bad", "", ""),
    );
    let pair = Pair::start(&yaml, &[]).await;
    // The same traffic to both: success, malformed, unknown module, command failure, exec timeout.
    for path in [
        "/proxy?module=node",
        "/proxy?module=bad",
        "/proxy?module=nope",
        "/proxy?module=fail",
        "/proxy?module=sleepy",
    ] {
        pair.get(path, &[]).await;
    }
    let got = pair.get("/metrics", &[]).await;
    assert_eq!(got.statuses(), (200, 200));
    let (ours, theirs) = (families(&got.ours.text()), families(&got.theirs.text()));
    for name in theirs.iter().filter(|n| n.starts_with("expexp_")) {
        assert!(ours.contains(name), "the original's {name} is missing from ours");
    }
    // Differences on purpose (docs/migration.md, "Metrics"):
    // - the original's Go runtime `go_*` and client_golang's `promhttp_*` families (no Go runtime);
    // - its unprefixed `build_info`, which is `expexp_build_info` for us;
    // - `expexp_file_fails_total` (never registered by the original; we have file modules);
    // - `expexp_config_last_reload_*` (reload does not exist in the original);
    // - the load bounds' families (coalesced scrapes, scrapes waiting for a connection or for
    //   memory, bytes held).
    let theirs_only: Vec<&String> =
        theirs.difference(&ours).filter(|n| !n.starts_with("go_") && !n.starts_with("promhttp_")).collect();
    assert_eq!(theirs_only, ["build_info"], "families only the original has");
    let ours_only: Vec<&String> = ours.difference(&theirs).collect();
    // Derived from the declarations (src/telemetry.rs): every family the original lacks, but
    // the container ones, shown only with a `docker:` block.
    let mut declared: Vec<&str> = exporter_exporter::telemetry::families()
        .filter(|f| !f.original && !f.name.starts_with("expexp_docker_"))
        .map(|f| f.name)
        .collect();
    declared.sort_unstable();
    assert_eq!(ours_only, declared, "families only we have");
    assert!(
        theirs.iter().any(|n| n.starts_with("go_"))
            && theirs.contains("promhttp_metric_handler_requests_total")
    );
    assert!(theirs.contains("expexp_proxy_timeout_errors_total"), "the exec timeout registered it");
}

// ---------------------------------------------------------------------------------------------
// Differences documented nowhere: open findings, reproduced here. Run with `-- --ignored`.
// ---------------------------------------------------------------------------------------------

/// An upstream that answers every request in HTTP/1.0, as Python's http.server and many small
/// script-based exporters do.
async fn http10_upstream() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
                    NODE.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(NODE.as_bytes()).await;
            });
        }
    });
    (port, task)
}

/// The status line a server answers an HTTP/1.1 GET with.
async fn status_line(addr: SocketAddr, path: &str) -> String {
    let fut = async {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.expect("write");
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).await.expect("read");
        line.trim_end().to_owned()
    };
    tokio::time::timeout(Duration::from_secs(10), fut).await.expect("answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "open findings: differences from the original that docs/migration.md does not document"]
async fn undocumented_differences() {
    require_original!();
    let dir = tempfile::tempdir().expect("tmp");
    let out = script(dir.path(), "out.sh", "echo 'b 2'\necho '# a comment'\necho 'a 1'");
    let fail = script(dir.path(), "fail.sh", "echo 'a 1'\nexit 3");
    let (old_port, _old) = http10_upstream().await;
    let yaml = format!(
        "modules:\n  out:\n    method: exec\n    exec:\n      command: {}\n  fail:\n    method: exec\n    exec:\n      command: {}\n{}",
        out.display(),
        fail.display(),
        yaml_http("old", old_port, "/metrics", "", ""),
    );
    let pair = Pair::start(&yaml, &[]).await;
    let mut findings = Vec::new();
    for path in ["/proxy?module=out", "/proxy?module=fail", "/proxy?module=nope", "/proxy"] {
        let got = pair.get(path, &[]).await;
        if got.ours.body != got.theirs.body {
            findings.push(format!(
                "GET {path}: ours {} {:?}, theirs {} {:?}",
                got.ours.status,
                got.ours.text(),
                got.theirs.status,
                got.theirs.text()
            ));
        }
    }
    let got = pair.get("/proxy?module=out", &[("Accept-Encoding", "gzip")]).await;
    if got.ours.header("content-encoding") != got.theirs.header("content-encoding") {
        findings.push(format!(
            "GET /proxy?module=out with Accept-Encoding: gzip: Content-Encoding ours {:?}, theirs {:?}",
            got.ours.header("content-encoding"),
            got.theirs.header("content-encoding")
        ));
    }
    let (ours, theirs) = (
        status_line(pair.ours.addr, "/proxy?module=old").await,
        status_line(pair.theirs.addr, "/proxy?module=old").await,
    );
    if ours != theirs {
        findings.push(format!(
            "GET /proxy?module=old (HTTP/1.1, upstream answers HTTP/1.0): ours {ours:?}, theirs {theirs:?}"
        ));
    }
    assert!(findings.is_empty(), "undocumented differences:\n{}", findings.join("\n"));
}
