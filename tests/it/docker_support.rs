//! The real Docker daemon in tests: whether one answers on /var/run/docker.sock (a loud SKIPPED
//! line when not), a busybox image made locally with `docker import` (there is no registry to
//! pull from), and containers that are named uniquely, labelled, and removed when dropped, even
//! when the test fails. Tests only ever send traffic to containers they started. Also Podman's
//! Docker-compatible service, started by the test where podman is installed.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Where the daemon the tests use listens (`DOCKER_HOST` is not followed: CI starts this one).
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// The busybox-static binary put in the test image.
const BUSYBOX: &str = "/bin/busybox";
/// The commands of the image, as links to busybox.
const APPLETS: &[&str] = &["sh", "httpd", "mkdir", "printf", "echo", "cat", "sleep", "ls", "wget", "kill"];
/// What the image's /www/metrics holds, served by the default command.
pub const METRICS: &str = "up_test 1\n";
/// The port the image's default command serves /www on.
pub const HTTP_PORT: u16 = 9100;
/// Label on every test container, for cleaning up by hand after a crash:
/// `docker rm -f $(docker ps -aq --filter label=expexp.test)`.
pub const TEST_LABEL: &str = "expexp.test";
/// Longest a docker CLI call may take (an import, a stop).
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// The image, made once per test process (tests run in parallel threads and share it; its tag
/// is a hash of its content, so processes share it too).
static IMAGE: OnceLock<Result<String, String>> = OnceLock::new();
/// Containers made by this process, for unique names.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// A Docker daemon that answers.
#[derive(Debug, Clone)]
pub struct Docker {
    socket: PathBuf,
}

impl Docker {
    /// The daemon on [`DOCKER_SOCKET`], or `None` after printing a loud SKIPPED line.
    pub fn available() -> Option<Docker> {
        let docker = Docker { socket: PathBuf::from(DOCKER_SOCKET) };
        if !docker.socket.exists() {
            crate::support::missing(
                &format!("a docker daemon ({DOCKER_SOCKET})"),
                "apt-get install docker.io busybox-static, and a running dockerd (.ci/run starts one)",
            );
            return None;
        }
        match docker.cli(&["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"]) {
            Ok(version) => {
                eprintln!("docker daemon {version}");
                Some(docker)
            }
            Err(e) => {
                crate::support::missing(
                    &format!("a docker daemon answering on {DOCKER_SOCKET} ({e})"),
                    "a running dockerd (.ci/run starts one)",
                );
                None
            }
        }
    }

    /// The daemon's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Runs the docker CLI against this daemon; its trimmed stdout, or what went wrong.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        let host = format!("unix://{}", self.socket.display());
        let args: Vec<&str> = ["--host", host.as_str()].into_iter().chain(args.iter().copied()).collect();
        run_cli("docker", &args)
    }

    /// The busybox image (`expexp-test-busybox:<content hash>`): /bin/busybox from Debian's
    /// busybox-static with links for its applets, /www/metrics holding [`METRICS`], and the
    /// default command `httpd -f -p 9100 -h /www`.
    pub fn image_busybox(&self) -> String {
        IMAGE.get_or_init(|| self.import_busybox()).clone().unwrap_or_else(|e| panic!("test image: {e}"))
    }

    fn import_busybox(&self) -> Result<String, String> {
        let image = busybox_image_name()?;
        if self.cli(&["image", "inspect", "--format", "{{.Id}}", &image]).is_ok() {
            return Ok(image);
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tarball = busybox_tarball(dir.path())?;
        self.cli(&["import", "--change", &default_cmd(), &tarball, &image])?;
        Ok(image)
    }

    /// Creates and starts a container of the busybox image named `expexp-<prefix>-<unique>`,
    /// with `labels` (and [`TEST_LABEL`]), running `cmd` (the image's httpd when empty).
    pub fn run(&self, prefix: &str, labels: &[(&str, &str)], cmd: &[&str]) -> Container {
        self.run_with(prefix, labels, &[], cmd)
    }

    /// [`Docker::run`] with more `docker create` options (`--publish 127.0.0.1::9100`,
    /// `--network NAME`).
    pub fn run_with(
        &self,
        prefix: &str,
        labels: &[(&str, &str)],
        options: &[&str],
        cmd: &[&str],
    ) -> Container {
        let name = unique_name(prefix);
        let args = create_args(&name, labels, options, self.image_busybox(), cmd);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let id = self.cli(&args).unwrap_or_else(|e| panic!("docker create: {e}"));
        // From here on the container exists, so it is removed on drop whatever happens next.
        let container = Container { name, id, docker: self.clone() };
        container.start();
        container
    }

    /// A user-defined bridge network `expexp-<prefix>-<unique>`, removed when dropped (drop
    /// its containers first: declare it before them).
    pub fn network(&self, prefix: &str) -> Network {
        let name = unique_name(prefix);
        self.cli(&["network", "create", "--label", &format!("{TEST_LABEL}=1"), &name])
            .unwrap_or_else(|e| panic!("docker network create: {e}"));
        Network { name, docker: self.clone() }
    }

    /// [`Docker::run`] with a command that serves `metrics` on [`HTTP_PORT`] instead of the
    /// image's file.
    pub fn run_serving(&self, prefix: &str, labels: &[(&str, &str)], metrics: &str) -> Container {
        let quoted = metrics.replace('\'', r"'\''");
        let script = format!("printf '%s' '{quoted}' > /www/metrics && exec httpd -f -p {HTTP_PORT} -h /www");
        self.run(prefix, labels, &["sh", "-c", &script])
    }
}

/// The image's name: `expexp-test-busybox:<hash of what goes in it>`.
fn busybox_image_name() -> Result<String, String> {
    let busybox =
        std::fs::read(BUSYBOX).map_err(|e| format!("{BUSYBOX}: {e} (install Debian's busybox-static)"))?;
    let mut content = busybox;
    content.extend_from_slice(APPLETS.join(" ").as_bytes());
    content.extend_from_slice(METRICS.as_bytes());
    content.extend_from_slice(default_cmd().as_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &content);
    let hash: String = digest.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("expexp-test-busybox:{hash}"))
}

/// The image's default command, as a `--change` instruction.
fn default_cmd() -> String {
    format!(r#"CMD ["httpd", "-f", "-p", "{HTTP_PORT}", "-h", "/www"]"#)
}

/// Writes the image's file system as a tarball in `dir`; its path.
fn busybox_tarball(dir: &Path) -> Result<String, String> {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("bin")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.join("www")).map_err(|e| e.to_string())?;
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).map_err(|e| format!("{BUSYBOX}: {e}"))?;
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).map_err(|e| e.to_string())?;
    }
    std::fs::write(root.join("www/metrics"), METRICS).map_err(|e| e.to_string())?;
    let tarball = dir.join("image.tar");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tarball)
        .args(["bin", "www"])
        .status()
        .map_err(|e| format!("tar: {e}"))?;
    if !tar.success() {
        return Err(format!("tar: {tar}"));
    }
    Ok(tarball.to_string_lossy().into_owned())
}

/// Runs `program args`, bounded by [`CLI_TIMEOUT`]; its trimmed stdout, or what went wrong.
fn run_cli(program: &str, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if started.elapsed() > CLI_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{program} {args:?} took more than {CLI_TIMEOUT:?}"));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!("{program} {args:?}: {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Podman's Docker-compatible service (`podman system service`), started by the test on a
/// socket of its own and stopped when dropped.
#[derive(Debug)]
pub struct Podman {
    service: std::process::Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Podman {
    /// The service, or `None` after a loud SKIPPED line where podman is not installed or its
    /// service does not come up.
    pub async fn start() -> Option<Podman> {
        if let Err(e) = run_cli("podman", &["--version"]) {
            crate::support::missing(&format!("podman ({e})"), "apt-get install podman");
            return None;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("podman.sock");
        let service = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let service = match service {
            Ok(child) => child,
            Err(e) => {
                crate::support::missing(&format!("podman system service ({e})"), "apt-get install podman");
                return None;
            }
        };
        let podman = Podman { service, socket, _dir: dir };
        let until = Instant::now() + Duration::from_secs(20);
        while tokio::net::UnixStream::connect(&podman.socket).await.is_err() {
            if Instant::now() > until {
                crate::support::missing(
                    "podman system service (it did not listen within 20 s)",
                    "apt-get install podman",
                );
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(podman)
    }

    /// The service's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The busybox image, imported into Podman's storage (once: its tag is its content's hash).
    pub fn image_busybox(&self) -> String {
        let image = busybox_image_name().unwrap_or_else(|e| panic!("test image: {e}"));
        let local = format!("localhost/{image}");
        if run_cli("podman", &["image", "exists", &local]).is_err() {
            let dir = tempfile::tempdir().expect("tmp");
            let tarball = busybox_tarball(dir.path()).unwrap_or_else(|e| panic!("test image: {e}"));
            run_cli("podman", &["import", "--change", &default_cmd(), &tarball, &local])
                .unwrap_or_else(|e| panic!("podman import: {e}"));
        }
        local
    }

    /// Creates (does not start) a container named `expexp-<prefix>-<unique>` with `labels`;
    /// removed when dropped.
    pub fn create(&self, prefix: &str, labels: &[(&str, &str)]) -> PodmanContainer {
        let name = unique_name(prefix);
        let args = create_args(&name, labels, &[], self.image_busybox(), &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let id = run_cli("podman", &args).unwrap_or_else(|e| panic!("podman create: {e}"));
        PodmanContainer { name, id }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.service.kill();
        let _ = self.service.wait();
    }
}

/// A container created in Podman by the test; removed when dropped.
#[derive(Debug)]
pub struct PodmanContainer {
    pub name: String,
    pub id: String,
}

impl Drop for PodmanContainer {
    fn drop(&mut self) {
        if let Err(e) = run_cli("podman", &["rm", "--force", &self.name]) {
            eprintln!("could not remove test container {}: {e}", self.name);
        }
    }
}

/// `create --name <name> --label k=v ... <options> <image> <cmd>` (both CLIs take the same).
fn create_args(
    name: &str,
    labels: &[(&str, &str)],
    options: &[&str],
    image: String,
    cmd: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec!["create".into(), "--name".into(), name.to_owned()];
    for (k, v) in labels.iter().chain(&[(TEST_LABEL, "1")]) {
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(options.iter().map(|s| s.to_string()));
    args.push(image);
    args.extend(cmd.iter().map(|s| s.to_string()));
    args
}

/// `expexp-<prefix>-<pid>-<n>-<nanos>`: unique within the process, and across runs (a crashed
/// run may have left containers behind).
fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("expexp-{prefix}-{}-{}-{nanos:x}", std::process::id(), SERIAL.fetch_add(1, Ordering::Relaxed))
}

/// What a [`DaemonLink`] does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Forwards them to the daemon.
    Up,
    /// No socket at all: connecting fails, as with a daemon that is not running. Connections
    /// open when it goes down are cut.
    Down,
    /// Accepts them and never answers, as a daemon that is stuck.
    Hang,
}

/// A socket of the test's own that forwards to the real daemon and can be cut or made to hang,
/// so that a test can take "the daemon" away without stopping the one every other test uses.
#[derive(Debug)]
pub struct DaemonLink {
    socket: PathBuf,
    mode: tokio::sync::watch::Sender<LinkMode>,
    /// The mode the link's socket is in (the loop rebinds it after a change).
    applied: tokio::sync::watch::Receiver<LinkMode>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl DaemonLink {
    /// A link to `docker`'s daemon, up.
    pub async fn new(docker: &Docker) -> DaemonLink {
        let dir = tempfile::tempdir().expect("tmp");
        let socket = dir.path().join("link.sock");
        let (mode, watch) = tokio::sync::watch::channel(LinkMode::Up);
        let (applied_tx, applied) = tokio::sync::watch::channel(LinkMode::Down);
        let task = tokio::spawn(link(socket.clone(), docker.socket.clone(), watch, applied_tx));
        let link = DaemonLink { socket, mode, applied, task, _dir: dir };
        link.applied(LinkMode::Up).await;
        link
    }

    /// The socket to give a client instead of the daemon's.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Switches what the link does; returns once its socket does it.
    pub async fn set(&self, mode: LinkMode) {
        self.mode.send_replace(mode);
        self.applied(mode).await;
    }

    async fn applied(&self, mode: LinkMode) {
        let mut applied = self.applied.clone();
        let wait = applied.wait_for(|m| *m == mode);
        let done = tokio::time::timeout(Duration::from_secs(5), wait).await;
        assert!(done.is_ok_and(|r| r.is_ok()), "the link did not switch to {mode:?}");
    }
}

impl Drop for DaemonLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The link's loop: (re)binds `socket` while up or hanging, removes it while down.
async fn link(
    socket: PathBuf,
    daemon: PathBuf,
    mut mode: tokio::sync::watch::Receiver<LinkMode>,
    applied: tokio::sync::watch::Sender<LinkMode>,
) {
    loop {
        let current = *mode.borrow_and_update();
        if current == LinkMode::Down {
            let _ = std::fs::remove_file(&socket);
            applied.send_replace(current);
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        }
        let _ = std::fs::remove_file(&socket);
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind the link");
        applied.send_replace(current);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((client, _)) = accepted else { continue };
                    tokio::spawn(forward(client, daemon.clone(), current, mode.clone()));
                }
                changed = mode.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
        drop(listener);
    }
}

/// One connection through the link: forwarded (`Up`) or held unanswered (`Hang`), and cut
/// when the mode changes.
async fn forward(
    mut client: tokio::net::UnixStream,
    daemon: PathBuf,
    mode: LinkMode,
    mut watch: tokio::sync::watch::Receiver<LinkMode>,
) {
    let work = async {
        match mode {
            LinkMode::Up => {
                if let Ok(mut upstream) = tokio::net::UnixStream::connect(&daemon).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            }
            LinkMode::Hang | LinkMode::Down => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = work => {}
        _ = watch.changed() => {}
    }
}

/// A container this test made; removed (`docker rm -f`) when dropped.
#[derive(Debug)]
pub struct Container {
    pub name: String,
    pub id: String,
    docker: Docker,
}

impl Container {
    /// Its IPv4 address on its first network (the bridge, unless the test chose another).
    pub fn ip(&self) -> String {
        let ips = self
            .docker
            .cli(&[
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                &self.name,
            ])
            .unwrap_or_else(|e| panic!("docker inspect: {e}"));
        ips.split_whitespace().next().unwrap_or_else(|| panic!("{} has no IP address", self.name)).to_owned()
    }

    /// `http://<ip>:9100/metrics`, once something accepts connections there (10 s at most).
    pub async fn metrics_url(&self) -> String {
        let addr = format!("{}:{HTTP_PORT}", self.ip());
        let until = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(Instant::now() < until, "{} does not accept connections on {addr}", self.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        format!("http://{addr}/metrics")
    }

    /// The host port Docker published the container's TCP `port` on, on 127.0.0.1 or all
    /// addresses (`--publish 127.0.0.1::9100`).
    pub fn published_port(&self, port: u16) -> u16 {
        let out = self
            .docker
            .cli(&["port", &self.name, &format!("{port}/tcp")])
            .unwrap_or_else(|e| panic!("docker port: {e}"));
        // One line per binding: `127.0.0.1:49153`, `0.0.0.0:49153`, `[::]:49153`.
        out.lines()
            .filter_map(|l| l.rsplit_once(':').and_then(|(_, p)| p.trim().parse().ok()))
            .next()
            .unwrap_or_else(|| panic!("{} publishes no port for {port}/tcp: {out:?}", self.name))
    }

    /// `docker start`.
    pub fn start(&self) {
        self.docker.cli(&["start", &self.name]).unwrap_or_else(|e| panic!("docker start: {e}"));
    }

    /// `docker stop` (1 s grace: httpd does not need more).
    pub fn stop(&self) {
        self.docker.cli(&["stop", "-t", "1", &self.name]).unwrap_or_else(|e| panic!("docker stop: {e}"));
    }

    /// `docker restart`.
    pub fn restart(&self) {
        self.docker
            .cli(&["restart", "-t", "1", &self.name])
            .unwrap_or_else(|e| panic!("docker restart: {e}"));
    }
}

/// A network this test made; removed when dropped.
#[derive(Debug)]
pub struct Network {
    pub name: String,
    docker: Docker,
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Err(e) = self.docker.cli(&["network", "rm", &self.name]) {
            eprintln!("could not remove test network {}: {e}", self.name);
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Err(e) = self.docker.cli(&["rm", "--force", "--volumes", &self.name]) {
            eprintln!("could not remove test container {}: {e}", self.name);
        }
    }
}
