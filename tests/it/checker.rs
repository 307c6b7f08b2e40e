//! The offline checker (`-check.metrics`) against the proxy: on every case of the verification
//! tables (tests/exposition/), the real binary's exit code and report, the library function it
//! calls, and the proxy serving the same body (from an http upstream with the same Content-Type,
//! plain and gzip-compressed, and from a file module, which sniffs as the checker does by
//! default) to a scraper with the Accept header of each Prometheus version all reach the same
//! verdict, which is the one tests/exposition/VERDICTS.tsv records.

use crate::support;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use exporter_exporter::check::{Chosen, check, counts};
use exporter_exporter::exposition::{Encoding, Format, Judge, Now, Position, Summary, VerifyError, verify};
use exporter_exporter::modules::verification::format_of;
use support::{FakeExporter, Reply, TestProxy};

use crate::refcheck::Version;
use crate::verify_cases::cases;

const BIN: &str = env!("CARGO_BIN_EXE_exporter_exporter");

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

/// The line of a report that gives `judge`'s verdict, as the verifier's result gives it.
fn verdict_line(judge: Judge, format: Format, result: &Result<Summary, VerifyError>) -> String {
    let verdict = match result {
        Ok(s) => format!("OK: {}", counts(format, s)),
        Err(e) => match e.position {
            Position::Line { line, column } => format!("FAIL: line {line}, column {column}: {}", e.message),
            Position::Message(n) => format!("FAIL: message {n}: {}", e.message),
            Position::Body => format!("FAIL: body: {}", e.message),
        },
    };
    format!("\n{judge}: {verdict}\n")
}

/// Under wine (docs/windows.md) starting a process costs about half a second and a loopback
/// request tens of milliseconds: there the binary and the proxy see every Nth case (the
/// library functions still see them all).
const UNDER_WINE_EVERY: usize = if cfg!(windows) { 15 } else { 1 };

#[test]
fn the_binary_and_its_library_function_agree_with_the_verifier_on_every_case() {
    let mut disagree = Vec::new();
    let all = cases();
    for (counted, case) in all.iter().enumerate() {
        let name = &case.name;
        let body = std::fs::read(&case.path).expect("case");
        let checked = check(&body, Some(case.content_type), u64::MAX, &Judge::BOTH);
        let zipped = check(&gzip(&body), Some(case.content_type), u64::MAX, &Judge::BOTH);
        if zipped.encoding != Encoding::Gzip {
            disagree.push(format!("{name}: gzip not seen"));
        }
        let mut all_ok = true;
        let mut lines = Vec::new();
        for judge in Judge::BOTH {
            let expected = verify(&body, case.dialect(judge), Encoding::Identity, Now::system());
            if case.served_to(judge).is_some_and(|s| s != expected.is_ok()) {
                disagree.push(format!("{name}: the table says otherwise as {judge}: {expected:?}"));
            }
            let got = checked.verdict(judge).map(|v| &v.result);
            if got != Some(&expected) {
                disagree.push(format!("{name}: check() {got:?} != verify() {expected:?} as {judge}"));
            }
            let got = zipped.verdict(judge).map(|v| &v.result);
            if got != Some(&expected) {
                disagree.push(format!("{name}: gzip {got:?} != {expected:?} as {judge}"));
            }
            all_ok &= expected.is_ok();
            lines.push(verdict_line(judge, checked.format, &expected));
        }
        if !(counted + 1).is_multiple_of(UNDER_WINE_EVERY) {
            continue;
        }
        let file = case.path.to_str().expect("utf8 path");
        let out = run(&["-check.metrics", file, "-check.content-type", case.content_type], None);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let (report, other, code, first) =
            if all_ok { (&stdout, &stderr, 0, "OK: ") } else { (&stderr, &stdout, 1, "FAIL: ") };
        let agrees = out.status.code() == Some(code)
            && report.starts_with(first)
            && lines.iter().all(|l| report.contains(l.as_str()))
            && other.is_empty();
        if !agrees {
            disagree.push(format!("{name}: binary exit {:?}\n{stdout}{stderr}", out.status.code()));
        }
    }
    assert!(all.len() > 400, "only {} cases", all.len());
    assert!(
        disagree.is_empty(),
        "{} disagreements on {} cases:\n{}",
        disagree.len(),
        all.len(),
        disagree.join("\n")
    );
}

#[tokio::test]
async fn the_checker_agrees_with_the_proxy_serving_the_same_body() {
    // One http upstream serving the current case with the table's Content-Type, optionally
    // gzip-compressed; one file module on the same bytes.
    let current: Arc<Mutex<Reply>> = Arc::new(Mutex::new(Reply::text("")));
    let served_now = current.clone();
    let up = FakeExporter::start(move |_| served_now.lock().expect("lock").clone(), None).await;
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
    for case in cases().into_iter().step_by(UNDER_WINE_EVERY.div_ceil(3)) {
        let name = &case.name;
        let body = std::fs::read(&case.path).expect("case");
        std::fs::write(&textfile, &body).expect("write case");
        let judges = Version::ALL.map(|v| v.judge(false));
        let sniffed = check(&body, None, u64::MAX, &judges);
        assert_eq!((sniffed.chosen.clone(), sniffed.format), (Chosen::Sniffed, format_of(&body)));
        for version in Version::ALL {
            let judge = version.judge(false);
            let accept = [("accept", version.accept())];
            for zipped in [false, true] {
                counted += 1;
                let sent = if zipped { gzip(&body) } else { body.clone() };
                let mut reply = Reply::ok(case.content_type, sent.clone());
                if zipped {
                    reply = reply.header("content-encoding", "gzip");
                }
                *current.lock().expect("lock") = reply;
                let status = support::get(&proxy.url("/proxy?module=up"), &accept).await.status;
                let checked = check(&sent, Some(case.content_type), u64::MAX, &[judge]);
                if (status == 200) != checked.ok() {
                    disagree.push(format!(
                        "{name} as {judge} (gzip {zipped}): proxy {status}, checker {:?}",
                        checked.verdicts
                    ));
                }
            }
            // The file module sniffs the format as the checker does without -check.content-type.
            counted += 1;
            let status = support::get(&proxy.url("/proxy?module=file"), &accept).await.status;
            let ok = sniffed.verdict(judge).is_some_and(|v| v.result.is_ok());
            if (status == 200) != ok {
                disagree.push(format!(
                    "{name} as {judge} (file): proxy {status}, checker {:?}",
                    sniffed.verdicts
                ));
            }
        }
    }
    assert!(counted > 2400 / UNDER_WINE_EVERY.div_ceil(3), "only {counted} comparisons");
    assert!(disagree.is_empty(), "{} of {counted} disagree:\n{}", disagree.len(), disagree.join("\n"));
}

#[test]
fn standard_input_gzip_and_the_report_format() {
    let out = run(&["-check.metrics", "-"], Some(b"# TYPE up gauge\nup 1\nup{a=\"b\"} 0\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK: text format (sniffed: no # EOF at the end)\n\
         Prometheus 3: OK: 1 TYPE line, 2 samples\nPrometheus 2.42: OK: 1 TYPE line, 2 samples\n"
    );
    let out = run(&["-check.metrics=-"], Some(&gzip(b"# TYPE up gauge\nup 1\n# EOF\n")));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK: OpenMetrics, gzip (sniffed: ends with # EOF)\n\
         Prometheus 3: OK: 1 TYPE line, 1 sample\nPrometheus 2.42: OK: 1 TYPE line, 1 sample\n"
    );
    let out = run(
        &["-check.metrics", "-", "-check.content-type", "text/plain; version=0.0.4"],
        Some(&gzip(b"up 1\nup{a=\"b\" 0\n")),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 7, "{stderr}");
    assert_eq!(lines[0], "FAIL: text format, gzip (Content-Type \"text/plain; version=0.0.4\")");
    for (at, version) in [(1, "Prometheus 3"), (4, "Prometheus 2.42")] {
        assert!(lines[at].starts_with(&format!("{version}: FAIL: line 2, column 10: ")), "{stderr}");
        assert_eq!(lines[at + 1], "  2 | up{a=\"b\" 0");
        assert_eq!(lines[at + 2], "    |          ^");
    }
    // Where only one version refuses, the check fails all the same.
    let out = run(&["-check.metrics", "-"], Some(b"{\"a.b\"} 1\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("\nPrometheus 3: OK: 0 TYPE lines, 1 sample\nPrometheus 2.42: FAIL: line 1"),
        "{stderr}"
    );
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
        stderr.starts_with("FAIL: protobuf (Content-Type")
            && stderr.contains("\nPrometheus 3: FAIL: message 1: ")
            && stderr.contains("\nPrometheus 2.42: FAIL: message 1: "),
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
