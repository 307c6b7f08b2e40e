//! Windows only (run under wine, docs/windows.md): exec modules through cmd.exe and directly,
//! with Windows quoting, paths and environment; a timeout kills the whole process tree (a Job
//! Object) at the deadline, a grandchild holding the output pipe included; unix sockets are a
//! configuration error; `process_*` comes from Windows' own APIs; reload over HTTP. The
//! fixtures hold.exe and argv.exe (tests/windows/*.c) are built into the wine prefix by
//! packaging/windows/env.sh.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Daemon, TestProxy, request, sample, script};

/// A fixture of tests/windows, built into the prefix by `wine_prefix` (packaging/windows/env.sh).
fn fixture(name: &str) -> PathBuf {
    let path = PathBuf::from(format!(r"C:\expexp-test\{name}.exe"));
    assert!(
        path.exists(),
        "{} is missing: prepare the wine prefix with packaging/windows/env.sh's wine_prefix",
        path.display()
    );
    path
}

/// YAML's single-quoted form of `s` (no escapes but '' for ').
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn exec_module(name: &str, command: &Path, extra_module: &str, extra_exec: &str) -> String {
    format!(
        "modules:\n  {name}:\n    method: exec\n{extra_module}    exec:\n      command: {}\n{extra_exec}",
        quoted(&command.display().to_string())
    )
}

/// Writes `text` (LF line ends, as Prometheus requires) and a batch file that prints it.
fn printer(dir: &Path, name: &str, text: &str) -> PathBuf {
    let data = dir.join(format!("{name}.prom"));
    std::fs::write(&data, text).expect("write data");
    script(dir, name, &format!("type \"{}\"", data.display()))
}

/// Whether the file a hold.exe locked is free again: its holder is gone.
fn released(lock: &Path) -> bool {
    std::fs::OpenOptions::new().write(true).open(lock).is_ok()
}

/// Waits up to 5 s for every lock to be released.
async fn all_released(locks: &[&Path]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for lock in locks {
        while !released(lock) {
            assert!(Instant::now() < deadline, "the holder of {} survived", lock.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits up to 10 s for a hold.exe to have locked `lock`.
async fn locked(lock: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lock.exists() || released(lock) {
        assert!(Instant::now() < deadline, "{} was never locked", lock.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn cmd_exe_runs_a_batch_file_in_a_folder_with_spaces_and_its_output_is_served_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = dir.path().join("with spaces");
    std::fs::create_dir(&folder).expect("mkdir");
    let s = printer(&folder, "ok", "# TYPE a gauge\na{x=\"1\"} 1.5\n");
    let proxy = TestProxy::start(&exec_module("s", &s, "", "")).await;
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.text(), "# TYPE a gauge\na{x=\"1\"} 1.5\n");
    assert_eq!(got.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_starts_total{module=\"s\"}"), Some(1.0));
}

#[tokio::test]
async fn each_argument_arrives_whole_with_windows_quoting_and_no_shell() {
    let argv = fixture("argv");
    let args = ["one", "two words", r#"a "quoted" word"#, r"trailing\", r"C:\Program Files\x y\z.txt", ""];
    let yaml_args: Vec<String> = args.iter().map(|a| quoted(a)).collect();
    let proxy =
        TestProxy::start(&exec_module("a", &argv, "", &format!("      args: [{}]\n", yaml_args.join(", "))))
            .await;
    // Query arguments that a shell would act on stay plain text.
    let got = proxy.get("/proxy?module=a&args=%26echo+pwned&args=%25PATH%25&args=%3Bx%3D%24(id)").await;
    assert_eq!(got.status, 200, "{}", got.text());
    let expected: String = args
        .iter()
        .chain(["&echo pwned", "%PATH%", ";x=$(id)"].iter())
        .enumerate()
        .map(|(i, a)| {
            format!("arg{{n=\"{}\",v=\"{}\"}} 1\n", i + 1, a.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    assert_eq!(got.text(), expected);
}

#[tokio::test]
async fn the_environment_is_inherited_and_configured_keys_override() {
    let argv = fixture("argv");
    let proxy = TestProxy::start(&exec_module(
        "e",
        &argv,
        "",
        "      env: {EXPEXP_ARGV_ENV: 'THING,SystemRoot', THING: 'configured \"value\"'}\n",
    ))
    .await;
    let got = proxy.get("/proxy?module=e").await;
    assert_eq!(got.status, 200, "{}", got.text());
    let text = got.text();
    assert!(text.contains("env{name=\"THING\",v=\"configured \\\"value\\\"\"} 1\n"), "{text}");
    // Inherited from the proxy's environment.
    assert!(
        text.contains("env{name=\"SystemRoot\",v=\"C:\\\\windows\"} 1\n") || text.contains("C:\\\\Windows"),
        "{text}"
    );
}

#[tokio::test]
async fn failures_are_500s_and_stderr_stays_out_of_the_response() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("a.prom"), "a 1\n").expect("write");
    let fail = script(
        dir.path(),
        "fail",
        &format!("type \"{}\"\necho SECRET detail 1>&2\nexit /b 3", dir.path().join("a.prom").display()),
    );
    // cmd's echo ends lines in CRLF, which Prometheus does not take: a malformed body.
    let crlf = script(dir.path(), "crlf", "echo a 1");
    let yaml = format!(
        "modules:\n  fail:\n    method: exec\n    exec: {{command: {}}}\n  crlf:\n    method: exec\n    exec: {{command: {}}}\n  \
         missing:\n    method: exec\n    exec: {{command: {}}}\n",
        quoted(&fail.display().to_string()),
        quoted(&crlf.display().to_string()),
        quoted(&dir.path().join("nope.exe").display().to_string())
    );
    let proxy = TestProxy::start(&yaml).await;
    for m in ["fail", "crlf", "missing"] {
        let got = proxy.get(&format!("/proxy?module={m}")).await;
        assert_eq!(got.status, 500, "{m}: {}", got.text());
        assert!(!got.text().contains("SECRET"), "stderr leaked into the response");
    }
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"fail\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"missing\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_malformed_content_errors_total{module=\"crlf\"}"), Some(1.0));
}

#[tokio::test]
async fn a_timeout_kills_the_command_and_its_grandchild_holding_stdout_at_the_deadline() {
    let hold = fixture("hold");
    let dir = tempfile::tempdir().expect("tmp");
    let (command, grandchild) = (dir.path().join("command.lock"), dir.path().join("grandchild.lock"));
    let extra = format!(
        "      args: ['-child', {}, {}]\n",
        quoted(&grandchild.display().to_string()),
        quoted(&command.display().to_string())
    );
    let proxy = TestProxy::start(&exec_module("s", &hold, "    timeout: 2s\n", &extra)).await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 504, "{}", got.text());
    assert!(start.elapsed() < Duration::from_secs(6), "answered after {:?}", start.elapsed());
    // Both ran (they locked their files), and both are gone now.
    assert!(command.exists() && grandchild.exists(), "the command did not start its child");
    all_released(&[&command, &grandchild]).await;
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_timeout_errors_total{module=\"s\"}"), Some(1.0));
}

#[tokio::test]
async fn a_grandchild_left_by_a_finished_batch_file_is_ended() {
    let hold = fixture("hold");
    let dir = tempfile::tempdir().expect("tmp");
    let (child, grandchild) = (dir.path().join("child.lock"), dir.path().join("grandchild.lock"));
    // cmd.exe runs hold.exe, which prints, starts a child holding standard output, and exits.
    let s = script(
        dir.path(),
        "bg",
        &format!(
            "\"{}\" -child \"{}\" -print \"a 1\" -exit \"{}\"",
            hold.display(),
            grandchild.display(),
            child.display()
        ),
    );
    let proxy = TestProxy::start(&exec_module("s", &s, "    timeout: 20s\n", "")).await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!((got.status, got.text().as_str()), (200, "a 1\n"));
    assert!(start.elapsed() < Duration::from_secs(10), "waited {:?} for the grandchild", start.elapsed());
    all_released(&[&child, &grandchild]).await;
}

#[tokio::test]
async fn a_scrape_that_goes_away_ends_the_run() {
    let hold = fixture("hold");
    let dir = tempfile::tempdir().expect("tmp");
    let lock = dir.path().join("command.lock");
    let extra = format!("      args: [{}]\n", quoted(&lock.display().to_string()));
    let proxy = TestProxy::start(&exec_module("s", &hold, "    timeout: 60s\n", &extra)).await;
    let url = proxy.url("/proxy?module=s");
    let scrape = tokio::spawn(async move { support::get(&url, &[]).await });
    locked(&lock).await;
    scrape.abort();
    proxy.stop().await;
    all_released(&[&lock]).await;
}

#[tokio::test]
async fn oversized_output_is_cut_off() {
    let dir = tempfile::tempdir().expect("tmp");
    // cmd's own loop is slow under wine: each round prints 64 KiB.
    std::fs::write(dir.path().join("chunk.prom"), "a 1\n".repeat(16 * 1024)).expect("write");
    let s = script(
        dir.path(),
        "flood",
        &format!(":loop\ntype \"{}\"\ngoto loop", dir.path().join("chunk.prom").display()),
    );
    let proxy =
        TestProxy::start(&exec_module("s", &s, "    timeout: 20s\n", "      max_output_bytes: 100000\n"))
            .await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 500);
    assert!(start.elapsed() < Duration::from_secs(10), "stopped at the limit, not the timeout");
}

#[test]
fn unix_sockets_are_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases = [
        ("modules:\n  s:\n    method: http\n    http: {socket: 'C:\\x.sock'}\n", "http.socket"),
        ("docker: {host: 'unix:///var/run/docker.sock'}\nmodules: {}\n", "docker.host"),
    ];
    for (yaml, key) in cases {
        let cfg = dir.path().join("c.yaml");
        std::fs::write(&cfg, yaml).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_exporter_exporter"))
            .args(["-config.check", "-config.file"])
            .arg(&cfg)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(key) && err.contains("unix sockets are not available on Windows"), "{err}");
    }
}

#[tokio::test]
async fn process_metrics_come_from_windows() {
    let proxy = TestProxy::start("modules: {}\n").await;
    let metrics = proxy.get("/metrics").await.text();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs_f64();
    let started = sample(&metrics, "process_start_time_seconds").expect("start time");
    assert!(started <= now && started > now - 3600.0, "{metrics}");
    assert!(sample(&metrics, "process_cpu_seconds_total").is_some_and(|c| c > 0.0), "{metrics}");
    assert!(sample(&metrics, "process_resident_memory_bytes").is_some_and(|r| r > 1e6), "{metrics}");
    assert_eq!(sample(&metrics, "process_max_fds"), Some(16_777_216.0));
    // Wine reports 0 for these two (docs/windows.md); Windows its real figures.
    assert!(sample(&metrics, "process_open_fds").is_some(), "{metrics}");
    assert!(sample(&metrics, "process_virtual_memory_bytes").is_some(), "{metrics}");
    assert!(!metrics.contains("process_virtual_memory_max_bytes"), "Windows has no such limit");
}

#[tokio::test]
async fn the_binary_reloads_on_post_reload() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("a.prom"), "a 1\n").expect("write");
    let cfg = dir.path().join("c.yaml");
    let module = |name: &str| {
        format!(
            "  {name}:\n    method: file\n    file: {{path: {}}}\n",
            quoted(&dir.path().join("a.prom").display().to_string())
        )
    };
    std::fs::write(&cfg, format!("modules:\n{}", module("one"))).expect("write");
    let d = Daemon::with_config(&cfg, &["-web.enable-lifecycle"]);
    assert_eq!(request("GET", &d.url("/proxy?module=two")).await.status, 404);
    std::fs::write(&cfg, format!("modules:\n{}{}", module("one"), module("two"))).expect("write");
    assert_eq!(request("POST", &d.url("/-/reload")).await.status, 200);
    let got = request("GET", &d.url("/proxy?module=two")).await;
    assert_eq!(got.status, 200, "{}", got.text());
}

#[test]
fn winsvc_refuses_an_unknown_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exporter_exporter"))
        .args(["-winsvc", "remove"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown -winsvc command \"remove\" (one of install, uninstall, start, stop)"),
        "{err}"
    );
}
