//! The real binary, started the way operators start it: Go-style flags, exit codes, messages.

#[cfg(unix)]
use std::time::Duration;

use crate::support::Daemon;

fn run(args: &[&str]) -> (i32, String, String) {
    let ran = Daemon::run(args);
    (ran.code.unwrap_or(-1), ran.stdout, ran.stderr)
}

#[cfg(unix)] // a signal: Linux only (docs/windows.md; tests/it/windows.rs reloads over HTTP)
#[test]
fn serves_with_go_style_flags_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let prom = dir.path().join("a.prom");
    std::fs::write(&prom, "a 1\n").expect("write");
    let modules = dir.path().join("expexp.d");
    std::fs::create_dir(&modules).expect("mkdir");
    std::fs::write(modules.join("tf.yaml"), format!("method: file\nfile:\n  path: {}\n", prom.display()))
        .expect("write");
    let mut daemon = Daemon::start(&[
        "-config.file",
        "",
        "-config.dirs",
        modules.to_str().expect("utf8"),
        "-web.listen-address=127.0.0.1:0",
        "--log.level",
        "info",
        "-log.json=false",
    ]);
    let body = http_get(&daemon.bound[0], "/proxy?module=tf");
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(body.contains("\r\n\r\na 1\n# HELP expexp_file_mtime_timestamp"), "{body}");
    daemon.signal(rustix::process::Signal::TERM);
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "a clean stop on SIGTERM");
}

#[cfg(unix)]
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn version_and_help_exit_zero() {
    let (code, out, _) = run(&["-version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("exporter_exporter {}", env!("CARGO_PKG_VERSION"))), "{out}");
    assert!(out.contains("revision "), "{out}");
    for help in ["-h", "-help", "--help"] {
        let (code, out, _) = run(&[help]);
        assert_eq!(code, 0);
        // The flags as the original's users type them, never clap's double dashes.
        assert!(out.contains(" -web.listen-address <ADDR>") && out.contains("Go-style"), "{out}");
        assert!(!out.contains("--"), "{out}");
    }
}

#[test]
fn bad_flags_exit_two_like_go() {
    let (code, _, err) = run(&["-no.such.flag"]);
    assert_eq!(code, 2);
    assert!(err.contains("'-no.such.flag'") && !err.contains("--"), "{err}");
    let (code, _, err) = run(&["--web.listen-adress=:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("'-web.listen-adress'") && err.contains("'-web.listen-address'"), "{err}");
    // The program's name as clap reads it from the command line (exporter_exporter.exe on Windows).
    let usage =
        format!("Usage: exporter_exporter{} -web.listen-address <ADDR>", std::env::consts::EXE_SUFFIX);
    assert!(err.contains(&usage) && !err.contains("--"), "{err}");
}

#[test]
fn an_address_in_use_exits_three_and_says_which() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = busy.local_addr().expect("addr").to_string();
    let (code, _, err) = run(&["-config.file", "", &format!("-web.listen-address={address}")]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&address) && err.contains("cannot listen"), "{err}");
}

#[test]
fn config_errors_exit_nonzero_naming_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "modules:\n  node:\n    method: http\n    http: {prot: 1}\n").expect("write");
    let (code, _, err) =
        run(&["-config.file", cfg.to_str().expect("utf8"), "-web.listen-address=127.0.0.1:0"]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.yaml") && err.contains("modules.node.http.prot"), "{err}");
    let (code, _, err) = run(&["-config.file", "/nonexistent.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.yaml"), "{err}");
}

#[test]
fn same_proxy_and_telemetry_paths_are_refused() {
    let (code, _, err) = run(&["-config.file", "", "-web.proxy-path", "/metrics"]);
    assert_eq!(code, 1);
    assert!(err.contains("can not be set to the same value"), "{err}");
}

#[test]
fn no_listener_is_a_clean_exit() {
    let (code, _, err) = run(&["-config.file", "", "-web.listen-address=", "-log.level=info"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to do"), "{err}");
}

#[cfg(unix)]
#[test]
fn winsvc_is_refused_here_with_what_to_use_instead() {
    let (code, _, stderr) = run(&["-winsvc", "install", "-config.file=/etc/exporter_exporter.yaml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("-winsvc manages a Windows service, and this is not Windows"), "{stderr}");
    assert!(stderr.contains("exporter_exporter.service"), "{stderr}");
    // An unknown command is a usage error first, as on Windows.
    let (code, _, stderr) = run(&["-winsvc", "remove"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown -winsvc command \"remove\""), "{stderr}");
}
