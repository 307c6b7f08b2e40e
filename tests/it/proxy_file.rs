//! file modules end to end: textfiles written into a temp dir at test time.

use crate::support;

use support::{TestProxy, sample};

fn file_module(path: &std::path::Path, extra: &str) -> String {
    format!("modules:\n  tf:\n    method: file\n    file:\n      path: {}\n{extra}", path.display())
}

#[tokio::test]
async fn the_file_is_served_with_its_mtime_appended() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("backup.prom");
    std::fs::write(&path, "# TYPE backup_ok gauge\nbackup_ok 1\n").expect("write");
    let mtime = std::fs::metadata(&path).expect("meta").modified().expect("mtime");
    let secs = mtime.duration_since(std::time::UNIX_EPOCH).expect("epoch").as_secs_f64();
    let proxy = TestProxy::start(&file_module(&path, "")).await;
    let got = proxy.get("/proxy?module=tf").await;
    assert_eq!(got.status, 200);
    let text = got.text();
    assert!(
        text.starts_with("# TYPE backup_ok gauge\nbackup_ok 1\n# HELP expexp_file_mtime_timestamp "),
        "{text}"
    );
    // A label value escapes `\` (Windows paths).
    let label = path.display().to_string().replace('\\', "\\\\");
    let series = format!("expexp_file_mtime_timestamp{{module=\"tf\",path=\"{label}\"}}");
    let value = sample(&text, &series).expect("mtime sample");
    assert!((value - secs).abs() < 0.01, "{value} vs {secs}");
}

#[tokio::test]
async fn openmetrics_files_keep_eof_last() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("om.prom");
    std::fs::write(&path, "# TYPE a gauge\na 1\n# EOF\n").expect("write");
    let proxy = TestProxy::start(&file_module(&path, "")).await;
    let got = proxy.get("/proxy?module=tf").await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = got.text();
    assert!(
        text.ends_with("\n# EOF\n") && text.contains("# TYPE expexp_file_mtime_timestamp gauge"),
        "{text}"
    );
    got.verify().expect("still valid OpenMetrics");
}

#[tokio::test]
async fn a_file_with_its_own_mtime_family_is_not_given_a_second() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("x.prom");
    std::fs::write(&path, "expexp_file_mtime_timestamp{module=\"own\"} 5\n").expect("write");
    let proxy = TestProxy::start(&file_module(&path, "")).await;
    let got = proxy.get("/proxy?module=tf").await;
    assert_eq!((got.status, got.text().as_str()), (200, "expexp_file_mtime_timestamp{module=\"own\"} 5\n"));
}

#[tokio::test]
async fn missing_bad_oversized_or_odd_files_are_500s() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.prom");
    std::fs::write(&bad, "this is not metrics\n").expect("write");
    let big = dir.path().join("big.prom");
    std::fs::write(&big, "a 1\n".repeat(100)).expect("write");
    let cases = [
        (file_module(&dir.path().join("missing.prom"), ""), "expexp_file_fails_total"),
        (file_module(&bad, ""), "expexp_malformed_content_errors_total"),
        (file_module(&big, "      max_bytes: 50\n"), "expexp_file_fails_total"),
        (file_module(dir.path(), ""), "expexp_file_fails_total"),
    ];
    for (yaml, counter) in cases {
        let proxy = TestProxy::start(&yaml).await;
        let got = proxy.get("/proxy?module=tf").await;
        assert_eq!(got.status, 500, "{yaml}");
        assert!(!got.text().contains(dir.path().to_str().expect("utf8")), "no path in the response");
        let metrics = proxy.get("/metrics").await.text();
        assert_eq!(sample(&metrics, &format!("{counter}{{module=\"tf\"}}")), Some(1.0), "{yaml}");
    }
}

/// A file's output is judged as the Prometheus that asked, as an upstream's is: quoted UTF-8
/// names pass for Prometheus 3 and fail for 2.42.
#[tokio::test]
async fn a_file_is_judged_as_the_prometheus_that_asked() {
    use crate::refcheck::Version;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dotted.prom");
    std::fs::write(&path, "{\"a.b\"} 1\n").expect("write");
    let proxy = TestProxy::start(&file_module(&path, "")).await;
    let url = proxy.url("/proxy?module=tf");
    let three = support::get(&url, &[("accept", Version::V3.accept())]).await;
    let two = support::get(&url, &[("accept", Version::V2_42.accept())]).await;
    assert_eq!((three.status, two.status), (200, 500));
    assert!(three.text().starts_with("{\"a.b\"} 1\n"), "{}", three.text());
}
