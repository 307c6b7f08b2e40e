//! `&debug=true`: a report instead of the body, for every kind of outcome of the status table
//! (served, verification failed, an upstream's own error, unreachable, too slow, a command that
//! fails or prints bad output, a missing file, refused args), with the fields an operator needs
//! and never a configured secret; `debug` never goes upstream; off per module or by flag, the
//! parameter goes upstream like any other.

use std::time::Duration;

use exporter_exporter::settings::Options;

#[cfg(unix)]
use crate::support::script;
use crate::support::{FakeExporter, Reply, TestProxy, closed_port, get};

const SECRETS: [&str; 5] = ["PASSWORDSECRET", "HEADERSECRET", "QUERYSECRET", "ENVSECRET", "CLIENTSECRET"];

fn http_module(name: &str, port: u16, extra: &str) -> String {
    format!(
        "  {name}:\n    method: http\n    http:\n      address: 127.0.0.1\n      port: {port}\n      \
         path: '/metrics?api_key=QUERYSECRET'\n      headers: {{X-Api-Key: HEADERSECRET}}\n      \
         basic_auth_username: user\n      basic_auth_password: PASSWORDSECRET\n{extra}"
    )
}

async fn debug(proxy: &TestProxy, module: &str, headers: &[(&str, &str)]) -> String {
    let got = get(&proxy.url(&format!("/proxy?module={module}&debug=true&x=1")), headers).await;
    assert_eq!(got.status, 200, "a report is always a 200: {}", got.text());
    assert_eq!(got.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = got.text();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the report:\n{text}");
    }
    text
}

fn has(report: &str, parts: &[&str]) {
    for p in parts {
        assert!(report.contains(p), "the report lacks {p:?}:\n{report}");
    }
}

#[tokio::test]
async fn http_outcomes_are_reported_with_request_answer_timings_and_verdict() {
    let good = FakeExporter::serving(Reply::text("# TYPE a gauge\na 1\nb 2\n")).await;
    let bad = FakeExporter::serving(Reply::text("a 1\nb{ 2\n")).await;
    let missing = FakeExporter::serving(Reply::text("no such page\n").status(404)).await;
    let slow = FakeExporter::serving(Reply::text("a 1\n").delay(Duration::from_secs(3))).await;
    let closed = closed_port().await;
    let yaml = format!(
        "modules:\n{}{}{}{}{}",
        http_module("good", good.port(), ""),
        http_module("bad", bad.port(), ""),
        http_module("missing", missing.port(), ""),
        http_module("slow", slow.port(), ""),
        http_module("down", closed, ""),
    );
    let proxy = TestProxy::start(&yaml).await;
    let client = [("Authorization", "Bearer CLIENTSECRET")];

    let r = debug(&proxy, "good", &client).await;
    has(
        &r,
        &[
            "debug scrape of module \"good\" (method http)",
            &format!("upstream: http://127.0.0.1:{}/metrics", good.port()),
            "request sent upstream:",
            "GET /metrics?api_key=<configured, not shown>&x=1",
            "authorization: Basic <redacted>",
            "x-api-key: <configured, not shown>",
            "connection: a new connection",
            "answer: 200, Content-Type \"text/plain; version=0.0.4; charset=utf-8\"",
            "timings: connected after",
            "first byte after",
            "complete after",
            "verification: OK: text format",
            "\nPrometheus 3 (applied): OK: 1 TYPE line, 2 samples\nPrometheus 2.42: OK: 1 TYPE line, 2 samples\n",
            "result: the scrape answers 200 OK",
            "deadline: none",
        ],
    );
    assert!(!good.last().query.contains("debug"), "debug went upstream: {}", good.last().query);
    assert!(good.last().query.contains("x=1"));

    let r = debug(&proxy, "bad", &[]).await;
    has(
        &r,
        &[
            "verification: FAIL: text format",
            "\nPrometheus 3 (applied): FAIL: line 2, column 4: expected a label name, got '2'\n  2 | b{ 2\n    |    ^\n",
            "result: the scrape answers 500",
            "text format line 2 column 4: expected a label name, got '2' (Prometheus 3)",
        ],
    );

    let r = debug(&proxy, "missing", &[]).await;
    has(
        &r,
        &["answer: 404", "none: a 404 answer is passed through unverified", "result: the scrape answers 404"],
    );

    let r = debug(&proxy, "down", &[]).await;
    has(
        &r,
        &[
            "result: the scrape answers 502 Bad Gateway: cannot connect to 127.0.0.1",
            "verification: none: no answer came",
        ],
    );

    let got =
        get(&proxy.url("/proxy?module=slow&debug=true"), &[("X-Prometheus-Scrape-Timeout-Seconds", "1")])
            .await;
    has(
        &got.text(),
        &[
            "deadline: 500.0 ms (the shorter of: X-Prometheus-Scrape-Timeout-Seconds \"1\" minus -web.timeout-offset 500.0 ms)",
            "result: the scrape answers 504 Gateway Timeout",
        ],
    );
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
#[tokio::test]
async fn exec_and_file_outcomes_are_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    let fails = script(dir.path(), "fails.sh", "echo 'half a line' >&2; echo oops >&2; exit 3");
    let garbage = script(dir.path(), "garbage.sh", "echo 'a 1'; echo 'not { metrics'");
    let fine = script(dir.path(), "fine.sh", "echo 'a 1'");
    let yaml = format!(
        "modules:\n  fails:\n    method: exec\n    exec: {{command: {}, env: {{TOKEN: ENVSECRET}}}}\n  \
         garbage:\n    method: exec\n    exec: {{command: {}}}\n  \
         fine:\n    method: exec\n    exec: {{command: {}, args: [--flag], allow_args: false}}\n  \
         nofile:\n    method: file\n    file: {{path: {}}}\n",
        fails.display(),
        garbage.display(),
        fine.display(),
        dir.path().join("absent.prom").display()
    );
    let proxy = TestProxy::start(&yaml).await;
    let r = debug(&proxy, "fails", &[]).await;
    has(
        &r,
        &[
            "(method exec)",
            "upstream: command [",
            "environment adds TOKEN",
            "command ended: exit status: 3",
            "  half a line | oops",
            "verification: none: the command failed; its output is not verified",
            "result: the scrape answers 500",
        ],
    );
    let r = debug(&proxy, "garbage", &[]).await;
    has(
        &r,
        &[
            "verification: FAIL: text format",
            "sniffed",
            "\nPrometheus 3 (applied): FAIL: line 2, column 14: expected '=' after the label name, got the end of the line\n  2 | not { metrics\n",
        ],
    );
    let got = get(&proxy.url("/proxy?module=fine&debug=true"), &[]).await;
    has(
        &got.text(),
        &["command ended: exit status: 0", "verification: OK", "--flag", "result: the scrape answers 200"],
    );
    let got = get(&proxy.url("/proxy?module=fine&debug=true&args=x"), &[]).await;
    has(
        &got.text(),
        &["result: the scrape answers 400 Bad Request: args given but exec.allow_args is false"],
    );
    let r = debug(&proxy, "nofile", &[]).await;
    has(
        &r,
        &["(method file)", "upstream: file ", "absent.prom", "result: the scrape answers 500", "cannot read"],
    );
}

/// The verdicts of both versions are shown, the one the request's Accept header names marked as
/// applied (a third verdict when it is neither default); a Content-Type Prometheus 3 would not
/// read is said to be replaced.
#[tokio::test]
async fn both_versions_verdicts_are_shown_and_the_applied_one_marked() {
    let dotted = FakeExporter::serving(Reply::text("{\"a.b\"} 1\n")).await;
    let blank = FakeExporter::serving(Reply::ok("", "a 1\n")).await;
    let yaml = format!(
        "modules:\n{}{}",
        http_module("dotted", dotted.port(), ""),
        http_module("blank", blank.port(), "")
    );
    let proxy = TestProxy::start(&yaml).await;
    let v2_42 = [("Accept", crate::refcheck::Version::V2_42.accept())];
    let r = debug(&proxy, "dotted", &v2_42).await;
    has(
        &r,
        &[
            "verification: FAIL: text format",
            "\nPrometheus 3: OK: 0 TYPE lines, 1 sample\nPrometheus 2.42 without native histograms (applied): FAIL: line 1, column 1: ",
            "result: the scrape answers 500",
            "(Prometheus 2.42 without native histograms)",
        ],
    );
    let r = debug(&proxy, "dotted", &[]).await;
    has(&r, &["\nPrometheus 3 (applied): OK: 0 TYPE lines, 1 sample\n", "result: the scrape answers 200"]);
    let legacy = [("Accept", "text/plain;version=1.0.0;escaping=underscores;q=0.4,*/*;q=0.2")];
    let r = debug(&proxy, "dotted", &legacy).await;
    has(
        &r,
        &[
            "\nPrometheus 3: OK: 0 TYPE lines, 1 sample\nPrometheus 2.42: FAIL: ",
            "\nPrometheus 3 with legacy names (applied): FAIL: line 1, column 2: ",
            "result: the scrape answers 500",
        ],
    );
    let r = debug(&proxy, "blank", &[]).await;
    has(
        &r,
        &[
            "answer: 200, Content-Type \"\"",
            "Prometheus 3 (applied): OK",
            "served with Content-Type \"text/plain; version=0.0.4; charset=utf-8\": Prometheus 3 fails a scrape whose Content-Type is \"\"",
        ],
    );
}

#[tokio::test]
async fn debug_off_passes_the_parameter_upstream() {
    let up = FakeExporter::serving(Reply::text("a 1\n")).await;
    let yaml = format!(
        "modules:\n  off:\n    method: http\n    debug: false\n    http: {{address: 127.0.0.1, port: {0}}}\n  \
         on:\n    method: http\n    http: {{address: 127.0.0.1, port: {0}}}\n",
        up.port()
    );
    let proxy = TestProxy::start(&yaml).await;
    let got = proxy.get("/proxy?module=off&debug=true").await;
    assert_eq!((got.status, got.text().as_str()), (200, "a 1\n"), "a scrape, not a report");
    assert_eq!(up.last().query, "debug=true", "to a blackbox_exporter's own debug, say");
    // The flag turns it off for every module.
    let off = Options { debug_scrapes: false, ..Options::default() };
    let proxy = TestProxy::start_with(&yaml, off, "127.0.0.1:0").await;
    let got = proxy.get("/proxy?module=on&debug=true").await;
    assert_eq!((got.status, got.text().as_str()), (200, "a 1\n"));
    assert_eq!(up.last().query, "debug=true");
}

#[cfg(unix)] // a shell script, a signal, curl or openssl: Linux only (docs/windows.md)
/// A module whose output breaks mid-line, after a character of two bytes and one cell: the
/// report gives the line and the byte's column, and its caret stands under the byte as shown.
#[tokio::test]
async fn a_broken_line_is_shown_with_a_caret_under_the_byte_at_fault() {
    let dir = tempfile::tempdir().expect("tmp");
    let body = "# TYPE temp gauge\ntemp{room=\"küche\"} warm\n";
    let printed = script(dir.path(), "kitchen.sh", &format!("printf '{}'", body.replace('\n', "\\n")));
    let textfile = dir.path().join("kitchen.prom");
    std::fs::write(&textfile, body).expect("write");
    let yaml = format!(
        "modules:\n  kitchen:\n    method: exec\n    exec: {{command: {}}}\n  \
         textfile:\n    method: file\n    file: {{path: {}}}\n",
        printed.display(),
        textfile.display()
    );
    let proxy = TestProxy::start(&yaml).await;
    // `warm` starts at byte 21 of its line; `ü` takes two bytes but one cell, so 19 cells in.
    let block = format!(
        "\nPrometheus 3 (applied): FAIL: line 2, column 21: expected a float as value, got \"warm\"\n  2 | temp{{room=\"küche\"}} warm\n    | {}^\n",
        " ".repeat(19)
    );
    for module in ["kitchen", "textfile"] {
        let r = debug(&proxy, module, &[]).await;
        has(
            &r,
            &["verification: FAIL: text format", &block, "text format line 2 column 21: expected a float"],
        );
    }
}
