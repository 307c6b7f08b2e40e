//! The test world: fake exporters on 127.0.0.1:0, the proxy in-process on 127.0.0.1:0, an HTTP
//! client, and certificates generated at test time. Everything stops when dropped.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use exporter_exporter::daemon::{self, Running};
use exporter_exporter::security::WebSettings;
use exporter_exporter::settings::Limits;
use exporter_exporter::settings::Options;
use exporter_exporter::settings::Settings;
use exporter_exporter::telemetry::{BuildInfo, Metrics};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Whether this is a CI run (`CI=true`, as .ci/run sets it, and as most CI systems do).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A real component a test needs (a package CI installs, a daemon CI starts) is missing.
/// Under CI that fails the test: CI runs every suite. Elsewhere the caller skips the test,
/// after a loud line written to standard error past the test harness's capture, so that a plain
/// `cargo test` shows which suites did not run and what they need.
pub fn missing(component: &str, needs: &str) {
    match why_skipped(ci(), component, needs) {
        Ok(why) => skipped(&why),
        Err(failure) => panic!("{failure}"),
    }
}

/// Why a test whose component is missing is skipped; under CI it is not: it fails, with this.
pub fn why_skipped(ci: bool, component: &str, needs: &str) -> Result<String, String> {
    if ci {
        Err(format!("{component} is missing, and CI=true runs every suite: {needs}"))
    } else {
        Ok(format!("{component} is missing; {needs}"))
    }
}

/// A loud SKIPPED line on standard error, shown by `cargo test` without `--nocapture` (the
/// harness captures `eprintln!`, not writes to the stream itself).
pub fn skipped(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// What a fake exporter saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A canned answer, possibly delayed.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type", content_type.to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn text(body: impl Into<Bytes>) -> Reply {
        Reply::ok("text/plain; version=0.0.4; charset=utf-8", body)
    }
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }
    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// An HTTP exporter stand-in that records what it is asked.
pub struct FakeExporter {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _stop: oneshot::Sender<()>,
}

impl FakeExporter {
    /// Always gives the same answer.
    pub async fn serving(reply: Reply) -> FakeExporter {
        FakeExporter::start(move |_| reply.clone(), None).await
    }

    /// Answers with `handler`; with `tls`, over HTTPS.
    pub async fn start(
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> FakeExporter {
        FakeExporter::start_at("127.0.0.1:0", handler, tls).await
    }

    /// Answers with `handler` on `listen` (another loopback address, say, as a container has).
    pub async fn start_at(
        listen: &str,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> FakeExporter {
        let listener = TcpListener::bind(listen).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let record = seen.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut stopped => return,
                };
                let (handler, record, tls) = (handler.clone(), record.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(cfg) => {
                            if let Ok(s) = tokio_rustls::TlsAcceptor::from(cfg).accept(stream).await {
                                serve_fake(s, handler, record).await;
                            }
                        }
                        None => serve_fake(stream, handler, record).await,
                    }
                });
            }
        });
        FakeExporter { addr, seen, _stop: stop }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn last(&self) -> Seen {
        self.requests().pop().expect("the exporter saw a request")
    }
}

/// The same stand-in on a unix socket (a fake Docker daemon, say).
#[cfg(unix)]
pub struct FakeUnix {
    pub path: PathBuf,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _stop: oneshot::Sender<()>,
}

#[cfg(unix)]
impl FakeUnix {
    /// Answers with `handler` on a new socket at `path`.
    pub async fn start(path: &Path, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeUnix {
        let listener = tokio::net::UnixListener::bind(path).expect("bind unix socket");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let record = seen.clone();
        let socket = path.to_owned();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut stopped => break,
                };
                tokio::spawn(serve_fake(stream, handler.clone(), record.clone()));
            }
            let _ = std::fs::remove_file(socket);
        });
        FakeUnix { path: path.to_owned(), seen, _stop: stop }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

/// Serves one connection of a fake with `handler`, recording each request.
async fn serve_fake(
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    handler: Handler,
    record: Arc<Mutex<Vec<Seen>>>,
) {
    let service = service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        let record = record.clone();
        async move {
            let seen = Seen {
                method: req.method().to_string(),
                path: req.uri().path().to_owned(),
                query: req.uri().query().unwrap_or("").to_owned(),
                headers: req.headers().clone(),
            };
            record.lock().expect("lock").push(seen.clone());
            let reply = handler(&seen);
            if !reply.delay.is_zero() {
                tokio::time::sleep(reply.delay).await;
            }
            let mut r = Response::new(Full::new(reply.body));
            *r.status_mut() = StatusCode::from_u16(reply.status).expect("status");
            for (k, v) in reply.headers {
                r.headers_mut().append(k, v.parse().expect("header value"));
            }
            Ok::<_, Infallible>(r)
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
}

/// The proxy, in-process, started by the same path as the binary (`daemon::start`), on
/// 127.0.0.1:0 unless the settings say otherwise.
pub struct TestProxy {
    /// The first address it listens on.
    pub addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    running: Option<Running>,
    config: tempfile::TempDir,
}

impl TestProxy {
    /// Starts the proxy on a YAML configuration.
    pub async fn start(yaml: &str) -> TestProxy {
        TestProxy::start_with(yaml, Options::default(), "127.0.0.1:0").await
    }

    pub async fn start_with(yaml: &str, options: Options, listen: &str) -> TestProxy {
        let web = WebSettings { plain_address: Some(listen.to_owned()), ..Settings::default().web };
        TestProxy::start_settings(yaml, Settings { options, web, ..Settings::default() }).await
    }

    /// Starts the proxy with inbound security (TLS, auth) on the addresses `web` names.
    pub async fn start_secure(yaml: &str, options: Options, web: &WebSettings) -> TestProxy {
        TestProxy::start_settings(yaml, Settings { options, web: web.clone(), ..Settings::default() }).await
    }

    /// Starts the proxy with the client-connection bounds `limits`.
    pub async fn start_limited(yaml: &str, limits: Limits) -> TestProxy {
        let web = WebSettings { plain_address: Some("127.0.0.1:0".into()), ..Settings::default().web };
        TestProxy::start_settings(yaml, Settings { web, limits, ..Settings::default() }).await
    }

    /// Starts the proxy with `settings`, the YAML written to the configuration file.
    pub async fn start_settings(yaml: &str, mut settings: Settings) -> TestProxy {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("test.yaml");
        std::fs::write(&file, yaml).expect("write config");
        settings.config_files.file = Some(file);
        let running = daemon::start(settings, BuildInfo::current()).await.expect("start");
        let addr = running.listening().first().expect("a listener").0;
        let metrics = running.metrics().clone();
        TestProxy { addr, metrics, running: Some(running), config: dir }
    }

    /// Replaces the configuration file and reloads, as SIGHUP does; the outcome as text.
    pub async fn reload(&self, yaml: &str) -> Result<(), String> {
        std::fs::write(self.config.path().join("test.yaml"), yaml).expect("write config");
        let running = self.running.as_ref().expect("running");
        running.reloader().reload().await.map_err(|e| e.to_string())
    }

    /// Every address the proxy listens on, with whether it speaks TLS.
    pub fn listening(&self) -> Vec<(SocketAddr, bool)> {
        let running = self.running.as_ref().expect("running");
        running
            .listening()
            .iter()
            .map(|(a, t)| (*a, *t == exporter_exporter::server::Transport::Tls))
            .collect()
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    pub async fn get(&self, path_and_query: &str) -> Got {
        get(&self.url(path_and_query), &[]).await
    }

    /// Stops accepting and waits for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body verified as the proxy verifies an upstream's, by its Content-Type.
    pub fn verify(
        &self,
    ) -> Result<exporter_exporter::exposition::Summary, exporter_exporter::exposition::VerifyError> {
        use exporter_exporter::exposition::{Dialect, Encoding, Judge, Now};
        let dialect =
            Dialect::from_content_type(self.header("content-type").map(str::as_bytes), Judge::PROMETHEUS_3);
        exporter_exporter::exposition::verify(&self.body, dialect, Encoding::Identity, Now::system())
    }
}

/// GETs `url` with extra headers (bounded to 20 s, so a hang fails the test instead of CI).
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Got {
    send("GET", url, headers).await
}

/// Sends one request without a body on a fresh client, bounded to 20 s.
async fn send(method: &str, url: &str, headers: &[(&str, &str)]) -> Got {
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(http_body_util::Empty::new()).expect("request");
    let fut = async {
        let resp = client.request(req).await.expect("response");
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Got { status: parts.status.as_u16(), headers: parts.headers, body }
    };
    tokio::time::timeout(Duration::from_secs(20), fut).await.expect("request finished within 20 s")
}

/// Certificates made for one test, as PEM files in a temporary directory.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn new() -> Pki {
        Pki { dir: tempfile::tempdir().expect("tmp") }
    }

    fn write(&self, name: &str, cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> Issued {
        let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
        let c = self.dir.path().join(format!("{name}.crt"));
        let k = self.dir.path().join(format!("{name}.key"));
        std::fs::write(&c, &cert_pem).expect("write");
        std::fs::write(&k, &key_pem).expect("write");
        Issued { cert: c, key: k, cert_pem, key_pem }
    }

    /// A CA, and a function to issue leaves from it.
    pub fn ca(&self, name: &str) -> (Issued, rcgen::Issuer<'static, rcgen::KeyPair>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("self-signed");
        let issued = self.write(name, &cert, &key);
        (issued, rcgen::Issuer::new(params, key))
    }

    /// A leaf for `names` (DNS names or IPs) signed by `issuer`.
    pub fn leaf(
        &self,
        file: &str,
        names: &[&str],
        issuer: &rcgen::Issuer<'static, rcgen::KeyPair>,
    ) -> Issued {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, names.first().copied().unwrap_or(file));
        let cert = params.signed_by(&key, issuer).expect("signed");
        self.write(file, &cert, &key)
    }

    /// A self-signed certificate with CA:TRUE, as `openssl req -x509` makes.
    pub fn self_signed_ca_leaf(&self, file: &str, names: &[&str]) -> Issued {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, names.first().copied().unwrap_or(file));
        let cert = params.self_signed(&key).expect("self-signed");
        self.write(file, &cert, &key)
    }
}

/// A rustls server configuration for a fake HTTPS exporter.
pub fn tls_server(leaf: &Issued, client_ca: Option<&Issued>) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = vec![CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).expect("cert")];
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).expect("key");
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).expect("ca")).expect("add");
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    Arc::new(builder.with_single_cert(certs, key).expect("server config"))
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr").port()
}

/// Writes an executable script into `dir`.
#[cfg(unix)]
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Writes a batch file into `dir` (`name` with the extension `.cmd`), which Windows runs
/// with cmd.exe; `body` is cmd's language, without `@echo off`.
#[cfg(windows)]
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name).with_extension("cmd");
    std::fs::write(&path, format!("@echo off\r\n{}\r\n", body.replace('\n', "\r\n"))).expect("write script");
    path
}

/// A valid text page of about 1.1 MB (40,000 series of one gauge), which arrives, and is
/// served, in many pieces.
pub fn big_page() -> String {
    let mut page = String::from("# TYPE big gauge\n");
    for i in 0..40_000 {
        page.push_str(&format!("big{{series=\"{i:08}\"}} {i}\n"));
    }
    page
}

/// The value of a sample line `name{labels} value` in a text exposition.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

/// Log lines written while the guard lives (in logfmt), for tests on a current-thread runtime.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Starts capturing on this thread.
    pub fn start() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        use exporter_exporter::logging::{Line, LogFormat};
        let capture = LogCapture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .event_format(Line { format: LogFormat::Logfmt })
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// What a run of the binary to its end gave.
#[derive(Debug)]
pub struct Ran {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The real binary, the one way tests start it: [`Daemon::start`] (and [`Daemon::with_config`])
/// for a daemon that serves, with its log lines collected and killed on drop, and
/// [`Daemon::run`] for a run to its end (`-config.check`, `-version`, a refused flag).
pub struct Daemon {
    pub child: std::process::Child,
    /// The addresses it announced, plain first.
    pub bound: Vec<String>,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Runs the binary with `args` to its end.
    pub fn run(args: &[&str]) -> Ran {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_exporter_exporter"))
            .args(args)
            .output()
            .expect("run the binary");
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The binary serving with `args` (at `-log.level=info`), once it says it listens.
    pub fn start(args: &[&str]) -> Daemon {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_exporter_exporter"))
            .args(args)
            .args(["-log.level=info"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn the binary");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                sink.lock().expect("lock").push(line);
            }
        });
        let mut daemon = Daemon { child, bound: Vec::new(), logs };
        daemon.wait_for_log("listening", std::time::Duration::from_secs(20));
        std::thread::sleep(std::time::Duration::from_millis(50));
        daemon.bound = daemon
            .logs()
            .iter()
            .filter_map(|l| {
                l.split(" bound=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned)
            })
            .collect();
        daemon
    }

    /// The real binary on the configuration file `config`, on a free loopback port, with
    /// `extra` flags.
    pub fn with_config(config: &Path, extra: &[&str]) -> Daemon {
        let config = config.to_str().expect("utf8 path");
        let mut args = vec!["-config.file", config, "-web.listen-address=127.0.0.1:0"];
        args.extend_from_slice(extra);
        Daemon::start(&args)
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("lock").clone()
    }

    /// Waits for a log line containing `text`; panics with the log if none comes in time.
    pub fn wait_for_log(&self, text: &str, within: std::time::Duration) {
        let deadline = std::time::Instant::now() + within;
        while !self.logs().iter().any(|l| l.contains(text)) {
            assert!(
                std::time::Instant::now() < deadline,
                "no log line with {text:?}:\n{}",
                self.logs().join("\n")
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.bound[0])
    }

    #[cfg(unix)]
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, signal).expect("signal");
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, within: std::time::Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(std::time::Instant::now() < deadline, "did not exit:\n{}", self.logs().join("\n"));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request with a method, on a fresh connection; for the real binary.
pub async fn request(method: &str, url: &str) -> Got {
    send(method, url, &[]).await
}

/// What this process holds: open file descriptors, threads, child processes, resident memory.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    pub fds: usize,
    pub threads: usize,
    pub children: usize,
    pub rss_kib: u64,
}

#[cfg(unix)]
impl Resources {
    pub fn now() -> Resources {
        Resources::of(std::process::id())
    }

    /// The resources of process `pid`.
    pub fn of(pid: u32) -> Resources {
        let count = |dir: &str| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let me = pid.to_string();
        let children = std::fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_to_string(e.path().join("stat")).ok().is_some_and(|stat| {
                            // Field 4 (after the parenthesised name) is the parent pid.
                            stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1))
                                == Some(me.as_str())
                        })
                    })
                    .count()
            })
            .unwrap_or(0);
        let rss_kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0);
        Resources {
            fds: count(&format!("/proc/{pid}/fd")),
            threads: count(&format!("/proc/{pid}/task")),
            children,
            rss_kib,
        }
    }

    /// Waits (up to 10 s) until fds, threads and children are back to `self` (give or take
    /// `slack` fds), and RSS has grown by at most `rss_slack_kib`.
    pub async fn settle(&self, slack: usize, rss_slack_kib: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = Resources::now();
            let ok = now.fds <= self.fds + slack
                && now.threads <= self.threads + 2
                && now.children <= self.children
                && now.rss_kib <= self.rss_kib + rss_slack_kib;
            if ok {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "resources did not return to {self:?}: {now:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
