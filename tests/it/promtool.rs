//! Prometheus's own `promtool check metrics` on what we serve: our /metrics, and the bodies of
//! exec and file modules (with the mtime family we add). CI installs promtool (package
//! `prometheus`); where it is absent the test says so loudly and does nothing.

use crate::support;

use std::path::Path;

use support::{TestProxy, script};

const PROMTOOL: &str = "/usr/bin/promtool";

/// Runs `promtool check metrics` on `body`; returns its exit code and output. Exit 1 is a parse
/// error; 3 means lint findings only.
async fn promtool(body: &[u8]) -> (Option<i32>, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(body).await.expect("write");
    drop(stdin);
    let out = child.wait_with_output().await.expect("promtool output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn promtool_accepts_everything_we_serve() {
    if !Path::new(PROMTOOL).exists() {
        crate::support::missing(PROMTOOL, "apt-get install prometheus");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let exec = script(
        dir.path(),
        "exec.sh",
        "echo '# HELP job_runs_total Runs of the job.'; echo '# TYPE job_runs_total counter'; echo 'job_runs_total{job=\"a\"} 3'",
    );
    let textfile = dir.path().join("t.prom");
    std::fs::write(
        &textfile,
        "# HELP backup_ok Whether the backup worked.\n# TYPE backup_ok gauge\nbackup_ok 1\n",
    )
    .expect("write");
    let yaml = format!(
        "modules:\n  exec:\n    method: exec\n    exec: {{command: {}}}\n  file:\n    method: file\n    file: {{path: {}}}\n",
        exec.display(),
        textfile.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    for path in ["/proxy?module=exec", "/proxy?module=file"] {
        let got = proxy.get(path).await;
        assert_eq!(got.status, 200);
        let (code, out) = promtool(&got.body).await;
        assert_eq!(code, Some(0), "{path}: {out}");
    }
    // After some traffic every family of our own metrics is present.
    proxy.get("/proxy?module=nope").await;
    let (code, out) = promtool(&proxy.get("/metrics").await.body).await;
    assert_eq!(code, Some(0), "/metrics: {out}");
    // promtool itself is not a rubber stamp.
    let (code, _) = promtool(b"this is { not metrics\n").await;
    assert_eq!(code, Some(1));
}
