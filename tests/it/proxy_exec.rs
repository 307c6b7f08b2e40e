//! exec modules end to end: scripts written into a temp dir at test time.

use crate::support;

use std::time::{Duration, Instant};

use support::{TestProxy, get, sample, script};

fn exec_module(name: &str, command: &std::path::Path, extra_module: &str, extra_exec: &str) -> String {
    format!(
        "modules:\n  {name}:\n    method: exec\n{extra_module}    exec:\n      command: {}\n{extra_exec}",
        command.display()
    )
}

#[tokio::test]
async fn output_is_served_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "ok.sh", "printf '# TYPE a gauge\\na{x=\"1\"} 1.5\\n'");
    let proxy = TestProxy::start(&exec_module("s", &s, "", "")).await;
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.text(), "# TYPE a gauge\na{x=\"1\"} 1.5\n");
    assert_eq!(got.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_starts_total{module=\"s\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"s\"}"), Some(0.0));
}

#[tokio::test]
async fn config_args_then_query_args_each_one_argv_entry_no_shell() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(
        dir.path(),
        "args.sh",
        "i=0; for a in \"$@\"; do i=$((i+1)); printf 'arg{n=\"%s\",v=\"%s\"} 1\\n' \"$i\" \"$a\"; done",
    );
    let proxy = TestProxy::start(&exec_module("s", &s, "", "      args: [one, 'two words']\n")).await;
    let got = proxy.get("/proxy?module=s&args=%3Bx%3D%24(id)&args=four").await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(
        got.text(),
        "arg{n=\"1\",v=\"one\"} 1\narg{n=\"2\",v=\"two words\"} 1\narg{n=\"3\",v=\";x=$(id)\"} 1\narg{n=\"4\",v=\"four\"} 1\n"
    );
}

#[tokio::test]
async fn query_args_can_be_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "ok.sh", "echo 'a 1'");
    let proxy = TestProxy::start(&exec_module("s", &s, "", "      allow_args: false\n")).await;
    assert_eq!(proxy.get("/proxy?module=s").await.status, 200);
    let got = proxy.get("/proxy?module=s&args=x").await;
    assert_eq!(got.status, 400);
    assert_eq!(
        sample(&proxy.get("/metrics").await.text(), "expexp_command_starts_total{module=\"s\"}"),
        Some(1.0)
    );
}

#[tokio::test]
async fn the_environment_is_inherited_and_configured_keys_override() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(
        dir.path(),
        "env.sh",
        "test -n \"$PATH\" || exit 3; printf 'env{thing=\"%s\",home_set=\"%s\"} 1\\n' \"$THING\" \"${HOME:+yes}\"",
    );
    let proxy =
        TestProxy::start(&exec_module("s", &s, "", "      env: {THING: configured, HOME: /nowhere}\n")).await;
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!((got.status, got.text().as_str()), (200, "env{thing=\"configured\",home_set=\"yes\"} 1\n"));
}

#[tokio::test]
async fn failures_are_500s_and_stderr_stays_out_of_the_response() {
    let dir = tempfile::tempdir().expect("tmp");
    let fail = script(dir.path(), "fail.sh", "echo 'a 1'; echo 'SECRET detail' >&2; exit 3");
    let bad = script(dir.path(), "bad.sh", "echo 'this is not metrics'");
    let yaml = format!(
        "modules:\n  fail:\n    method: exec\n    exec: {{command: {}}}\n  bad:\n    method: exec\n    exec: {{command: {}}}\n  \
         missing:\n    method: exec\n    exec: {{command: {}}}\n",
        fail.display(),
        bad.display(),
        dir.path().join("nope.sh").display()
    );
    let proxy = TestProxy::start(&yaml).await;
    for m in ["fail", "bad", "missing"] {
        let got = proxy.get(&format!("/proxy?module={m}")).await;
        assert_eq!(got.status, 500, "{m}");
        assert!(!got.text().contains("SECRET"), "stderr leaked into the response");
    }
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"fail\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"missing\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_command_starts_total{module=\"missing\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_malformed_content_errors_total{module=\"bad\"}"), Some(1.0));
}

#[tokio::test]
async fn empty_output_is_an_empty_scrape() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "quiet.sh", "true");
    let proxy = TestProxy::start(&exec_module("s", &s, "", "")).await;
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!((got.status, got.body.len()), (200, 0));
}

/// Whether a process is gone: absent, or a zombie waiting for init to reap it.
fn dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group_and_answers_at_the_deadline() {
    let dir = tempfile::tempdir().expect("tmp");
    let pids = dir.path().join("pids");
    // The grandchild holds stdout open, which kept the original waiting until it exited.
    let s = script(
        dir.path(),
        "hang.sh",
        &format!("sleep 30 & echo $! > {p}; echo $$ >> {p}; sleep 30", p = pids.display()),
    );
    let proxy = TestProxy::start(&exec_module("s", &s, "    timeout: 500ms\n", "")).await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 504);
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    let pids = std::fs::read_to_string(&pids).expect("pids written");
    let deadline = Instant::now() + Duration::from_secs(5);
    for pid in pids.split_whitespace() {
        while !dead(pid) {
            assert!(Instant::now() < deadline, "process {pid} survived the timeout");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The command itself is our child: it must be reaped, not left a zombie.
    let shell = pids.split_whitespace().nth(1).expect("the shell's pid");
    while std::path::Path::new(&format!("/proc/{shell}")).exists() {
        assert!(Instant::now() < deadline, "the command {shell} was left a zombie");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = proxy.get("/metrics").await.text();
    assert_eq!(sample(&metrics, "expexp_proxy_timeout_errors_total{module=\"s\"}"), Some(1.0));
    assert_eq!(sample(&metrics, "expexp_command_fails_total{module=\"s\"}"), Some(1.0));
}

#[tokio::test]
async fn leftover_children_of_a_finished_command_are_ended() {
    let dir = tempfile::tempdir().expect("tmp");
    let pids = dir.path().join("pids");
    let s = script(dir.path(), "bg.sh", &format!("sleep 30 & echo $! > {}; echo 'a 1'", pids.display()));
    let proxy = TestProxy::start(&exec_module("s", &s, "", "")).await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!((got.status, got.text().as_str()), (200, "a 1\n"));
    assert!(start.elapsed() < Duration::from_secs(10));
    let pid = std::fs::read_to_string(&pids).expect("pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dead(pid.trim()) {
        assert!(Instant::now() < deadline, "background child survived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn oversized_output_is_cut_off() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "flood.sh", "while :; do echo 'a 1'; done");
    let proxy =
        TestProxy::start(&exec_module("s", &s, "    timeout: 20s\n", "      max_output_bytes: 100000\n"))
            .await;
    let start = Instant::now();
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 500);
    assert!(start.elapsed() < Duration::from_secs(10), "stopped at the limit, not the timeout");
}

#[tokio::test]
async fn openmetrics_output_gets_its_content_type_and_gzip_when_asked() {
    let dir = tempfile::tempdir().expect("tmp");
    let s =
        script(dir.path(), "om.sh", "cat <<'EOF'\n# TYPE c counter\nc_total 1 # {id=\"x\"} 1\n# EOF\nEOF");
    let proxy = TestProxy::start(&exec_module("s", &s, "", "")).await;
    let got = proxy.get("/proxy?module=s").await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let many = script(
        dir.path(),
        "many.sh",
        "i=0; while [ $i -lt 500 ]; do echo \"m{i=\\\"$i\\\"} $i\"; i=$((i+1)); done",
    );
    let proxy = TestProxy::start(&exec_module("m", &many, "", "")).await;
    let plain = proxy.get("/proxy?module=m").await;
    let zipped = get(&proxy.url("/proxy?module=m"), &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let mut decoded = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(zipped.body.as_ref()).read_to_string(&mut decoded).expect("gunzip");
    assert_eq!(decoded, plain.text());
    assert!(zipped.body.len() < plain.body.len());
}

#[tokio::test]
async fn runs_beyond_max_concurrency_wait_then_get_503() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "slow.sh", "sleep 1; echo 'a 1'");
    let proxy =
        TestProxy::start(&exec_module("s", &s, "    timeout: 5s\n", "      max_concurrency: 1\n")).await;
    // Different args, so that the second scrape does not share the first one's run.
    let first = tokio::spawn({
        let url = proxy.url("/proxy?module=s&args=1");
        async move { get(&url, &[]).await.status }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second =
        get(&proxy.url("/proxy?module=s&args=2"), &[("X-Prometheus-Scrape-Timeout-Seconds", "1")]).await;
    assert_eq!(second.status, 503, "the only slot was busy past the second scrape's deadline");
    assert_eq!(first.await.expect("join"), 200);
}

#[tokio::test]
async fn a_failed_run_is_logged_once_with_module_status_and_stderr() {
    let (logs, _guard) = support::LogCapture::start();
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "fail.sh", "echo 'disk /dev/sda1 unreadable' >&2; exit 7");
    let proxy = TestProxy::start(&exec_module("diskcheck", &s, "", "")).await;
    assert_eq!(proxy.get("/proxy?module=diskcheck").await.status, 500);
    let text = logs.text();
    let failures: Vec<&str> = text.lines().filter(|l| l.contains("scrape failed")).collect();
    assert_eq!(failures.len(), 1, "{text}");
    let line = failures[0];
    assert!(line.contains("level=warn") && line.contains("module=diskcheck"), "{line}");
    assert!(line.contains("exit status: 7") && line.contains("disk /dev/sda1 unreadable"), "{line}");
}
