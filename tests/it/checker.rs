//! The offline checker (`-check.metrics`) against the proxy: on every case of the verification
//! tables (tests/exposition/), the real binary's exit code and report, the library function it
//! calls, and the proxy serving the same body (from an http upstream with the same Content-Type,
//! plain and gzip-compressed, and from a file module, which sniffs as the checker does by
//! default) all reach the same verdict.

use crate::support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use exporter_exporter::check::{Chosen, check};
use exporter_exporter::exposition::{Dialect, Encoding, Format, Position, VerifyError, verify};
use exporter_exporter::modules::verification::dialect_of;
use support::{FakeExporter, Reply, TestProxy};

const BIN: &str = env!("CARGO_BIN_EXE_exporter_exporter");

/// Each table, with the Content-Type that selects the dialect verify_cases.rs checks it in.
const TABLES: [(&str, &str, Dialect); 3] = [
    (
        "text",
        "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
        Dialect { format: Format::Text, utf8_names: true },
    ),
    (
        "text_classic_names",
        "text/plain; version=0.0.4; charset=utf-8",
        Dialect { format: Format::Text, utf8_names: false },
    ),
    (
        "openmetrics",
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        Dialect { format: Format::OpenMetrics, utf8_names: true },
    ),
];

fn cases(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exposition").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("case folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".good.txt") || s.ends_with(".bad.txt")))
        .collect();
    files.sort();
    assert!(files.len() > 10, "{}", dir.display());
    files
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).expect("gzip");
    enc.finish().expect("gzip")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(body) = stdin {
        child.stdin.take().expect("stdin").write_all(body).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// The line of a report that says where the fault is, as the verifier's error gives it.
fn where_line(e: &VerifyError) -> String {
    match e.position {
        Position::Line { line, column } => format!("line {line}, column {column}: {}", e.message),
        Position::Message(n) => format!("message {n}: {}", e.message),
        Position::Body => format!("body: {}", e.message),
    }
}

/// Under wine (docs/windows.md) starting a process costs about half a second and a loopback
/// request tens of milliseconds: there the binary and the proxy see every Nth case (the
/// library functions still see them all).
const UNDER_WINE_EVERY: usize = if cfg!(windows) { 15 } else { 1 };

#[test]
fn the_binary_and_its_library_function_agree_with_the_verifier_on_every_case() {
    let mut disagree = Vec::new();
    let mut counted: usize = 0;
    for (folder, content_type, dialect) in TABLES {
        assert_eq!(Dialect::from_content_type(Some(content_type.as_bytes())), dialect, "{content_type}");
        for path in cases(folder) {
            counted += 1;
            let name = format!("{folder}/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or_default());
            let body = std::fs::read(&path).expect("case");
            let expected = verify(&body, dialect, Encoding::Identity);
            if name.ends_with(".good.txt") != expected.is_ok() {
                disagree.push(format!("{name}: the table says otherwise: {expected:?}"));
            }
            let checked = check(&body, Some(content_type), u64::MAX);
            if checked.result != expected {
                disagree.push(format!("{name}: check() {:?} != verify() {expected:?}", checked.result));
            }
            let zipped = check(&gzip(&body), Some(content_type), u64::MAX);
            if zipped.result != expected || zipped.encoding != Encoding::Gzip {
                disagree.push(format!("{name}: gzip {:?} != {expected:?}", zipped.result));
            }
            if !counted.is_multiple_of(UNDER_WINE_EVERY) {
                continue;
            }
            let file = path.to_str().expect("utf8 path");
            let out = run(&["-check.metrics", file, "-check.content-type", content_type], None);
            let (stdout, stderr) =
                (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let agrees = match &expected {
                Ok(s) => {
                    out.status.code() == Some(0)
                        && stdout.starts_with("OK: ")
                        && stdout.contains(&format!(" {} famil", s.families))
                        && stdout.contains(&format!(", {} sample", s.samples))
                        && stderr.is_empty()
                }
                Err(e) => {
                    out.status.code() == Some(1)
                        && stderr.starts_with("FAIL: ")
                        && stderr.contains(&format!("\n{}\n", where_line(e)))
                        && stdout.is_empty()
                }
            };
            if !agrees {
                disagree.push(format!("{name}: binary exit {:?}\n{stdout}{stderr}", out.status.code()));
            }
        }
    }
    assert!(counted > 400, "only {counted} cases");
    assert!(disagree.is_empty(), "{} of {counted} cases disagree:\n{}", disagree.len(), disagree.join("\n"));
}

#[tokio::test]
async fn the_checker_agrees_with_the_proxy_serving_the_same_body() {
    // One http upstream serving the current case with the table's Content-Type, optionally
    // gzip-compressed; one file module on the same bytes.
    let current: Arc<Mutex<Reply>> = Arc::new(Mutex::new(Reply::text("")));
    let served = current.clone();
    let up = FakeExporter::start(move |_| served.lock().expect("lock").clone(), None).await;
    let dir = tempfile::tempdir().expect("tmp");
    let textfile = dir.path().join("case.prom");
    let yaml = format!(
        "modules:\n  up:\n    method: http\n    http: {{address: 127.0.0.1, port: {}}}\n  \
         file:\n    method: file\n    file: {{path: {}}}\n",
        up.port(),
        textfile.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    let mut disagree = Vec::new();
    let mut counted = 0;
    for (folder, content_type, _) in TABLES {
        for path in cases(folder).into_iter().step_by(UNDER_WINE_EVERY.div_ceil(3)) {
            let name = format!("{folder}/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or_default());
            let body = std::fs::read(&path).expect("case");
            for zipped in [false, true] {
                counted += 1;
                let reply = if zipped {
                    Reply::ok(content_type, gzip(&body)).header("content-encoding", "gzip")
                } else {
                    Reply::ok(content_type, body.clone())
                };
                *current.lock().expect("lock") = reply;
                let status = proxy.get("/proxy?module=up").await.status;
                let sent = if zipped { gzip(&body) } else { body.clone() };
                let checked = check(&sent, Some(content_type), u64::MAX);
                if (status == 200) != checked.ok() {
                    disagree.push(format!(
                        "{name} (gzip {zipped}): proxy {status}, checker {:?}",
                        checked.result
                    ));
                }
            }
            // The file module sniffs the format as the checker does without -check.content-type.
            counted += 1;
            std::fs::write(&textfile, &body).expect("write case");
            let status = proxy.get("/proxy?module=file").await.status;
            let checked = check(&body, None, u64::MAX);
            assert_eq!((checked.chosen.clone(), checked.dialect), (Chosen::Sniffed, dialect_of(&body)));
            if (status == 200) != checked.ok() {
                disagree.push(format!("{name} (file): proxy {status}, checker {:?}", checked.result));
            }
        }
    }
    assert!(counted > 1200 / UNDER_WINE_EVERY.div_ceil(3), "only {counted} comparisons");
    assert!(disagree.is_empty(), "{} of {counted} disagree:\n{}", disagree.len(), disagree.join("\n"));
}

#[test]
fn standard_input_gzip_and_the_report_format() {
    let out = run(&["-check.metrics", "-"], Some(b"# TYPE up gauge\nup 1\nup{a=\"b\"} 0\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK: text format, classic names only (sniffed: no # EOF at the end): 1 family, 2 samples\n"
    );
    let out = run(&["-check.metrics=-"], Some(&gzip(b"# TYPE up gauge\nup 1\n# EOF\n")));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK: OpenMetrics, gzip (sniffed: ends with # EOF): 1 family, 1 sample\n"
    );
    let out = run(
        &["-check.metrics", "-", "-check.content-type", "text/plain; version=0.0.4"],
        Some(&gzip(b"up 1\nup{a=\"b\" 0\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert_eq!(
        lines[0],
        "FAIL: text format, classic names only, gzip (Content-Type \"text/plain; version=0.0.4\")"
    );
    assert_eq!(lines[1], "line 2, column 10: unexpected end of label value: expected ',' or '}'");
    assert_eq!(lines[2], "  2 | up{a=\"b\" 0");
    assert_eq!(lines[3], "    |          ^");
    // A protobuf fault is placed by message; there is no line to show.
    let out = run(
        &[
            "-check.metrics=-",
            "-check.content-type=application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        ],
        Some(b"\x05\x0a\x03ab"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("FAIL: protobuf, classic names only (Content-Type")
            && stderr.contains("\nmessage 1: "),
        "{stderr}"
    );
}

#[test]
fn unreadable_and_oversized_input_exit_1_with_the_reason() {
    let out = run(&["-check.metrics", "/nonexistent/metrics.prom"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("cannot read /nonexistent/metrics.prom: "));
    let out = run(&["-check.metrics", "-", "-upstream.max-body-bytes=8"], Some(b"up 1\nup 2\nup 3\n"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("larger than 8 bytes (-upstream.max-body-bytes)"), "{stderr}");
    // The same bound holds for what a gzip body decodes to, as in the proxy.
    let out =
        run(&["-check.metrics", "-", "-upstream.max-body-bytes=60"], Some(&gzip(&b"up 1\n".repeat(100))));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("body: gzip body decodes to more than 60 bytes"));
    // The content type alone is a flag mistake.
    let out = run(&["-check.content-type=text/plain"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-check.content-type needs -check.metrics"));
}
