//! The reference programs (`refcheck-prometheus-3`, `refcheck-prometheus-2.42`, built from pinned
//! Prometheus sources, see their README): what a Prometheus server's scrape path does with a body.
//! Found at `$EXPEXP_REFCHECK_DIR`, by default `../shared/reference/prometheus-scrape` beside the
//! repository. Where they are absent a test says so loudly and does nothing, except under
//! `CI=true`, where their absence fails it.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The Prometheus versions the references answer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    V3,
    V2_42,
}

impl Version {
    pub const ALL: [Version; 2] = [Version::V3, Version::V2_42];

    fn program(self) -> &'static str {
        match self {
            Version::V3 => "refcheck-prometheus-3",
            Version::V2_42 => "refcheck-prometheus-2.42",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Version::V3 => "Prometheus 3",
            Version::V2_42 => "Prometheus 2.42",
        }
    }

    /// The `Accept` header the version's scrape loop sends under its default scrape config
    /// (scrape/scrape.go's `acceptHeader` at the reference's pins; the end-to-end test checks
    /// the real servers' headers are judged alike).
    pub const fn accept(self) -> &'static str {
        match self {
            Version::V3 => {
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
                 application/openmetrics-text;version=0.0.1;q=0.5,\
                 text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
            }
            Version::V2_42 => {
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
                 text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            }
        }
    }

    /// The `Accept` header of the version set to ingest native histograms, which makes it ask
    /// for protobuf first (as the real 2.42 and 3.5.3 send them: prometheus_versions.rs) (2.42: `--enable-feature=native-histograms`; 3.5:
    /// the same feature, later `scrape_native_histograms`).
    pub const fn accept_protobuf(self) -> &'static str {
        match self {
            Version::V3 => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,\
                 application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
                 application/openmetrics-text;version=0.0.1;q=0.4,\
                 text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
            }
            Version::V2_42 => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,\
                 application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,\
                 text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            }
        }
    }

    /// The judge a request with the version's `Accept` header gets: with native histograms on
    /// for protobuf bodies (the reference's `prom-protobuf` modes model that), as a server asks
    /// for protobuf only then.
    pub fn judge(self, protobuf: bool) -> exporter_exporter::exposition::Judge {
        let accept = if protobuf { self.accept_protobuf() } else { self.accept() };
        exporter_exporter::exposition::Judge::from_accept([accept.as_bytes()])
    }
}

/// What the reference says of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Err(String),
    Panic(String),
}

impl Verdict {
    pub fn is_ok(&self) -> bool {
        *self == Verdict::Ok
    }

    fn parse(line: &str) -> Verdict {
        if line == "OK" {
            Verdict::Ok
        } else if let Some(m) = line.strip_prefix("PANIC ") {
            Verdict::Panic(m.to_owned())
        } else {
            Verdict::Err(line.strip_prefix("ERR ").unwrap_or(line).to_owned())
        }
    }
}

/// The folder of the reference programs.
pub fn dir() -> PathBuf {
    match std::env::var_os("EXPEXP_REFCHECK_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/prometheus-scrape"),
    }
}

/// Whether the reference programs are there; when they are not, says so loudly, and fails under
/// `CI=true`, where they must be.
pub fn present() -> bool {
    let dir = dir();
    let missing: Vec<_> =
        Version::ALL.iter().map(|v| dir.join(v.program())).filter(|p| !p.is_file()).collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "the reference programs are not at {} (set EXPEXP_REFCHECK_DIR): missing {missing:?}",
        dir.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true: {message}");
    eprintln!("\n*** SKIPPED: {message} ***\n");
    false
}

/// One running reference program in `-batch` mode: frames in, one answer line per frame.
pub struct Batch {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Batch {
    pub fn start(version: Version) -> Batch {
        let program = dir().join(version.program());
        let mut child = Command::new(&program)
            .arg("-batch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        Batch { child, input, output }
    }

    /// The verdict of `mode` (`prom-text`, `prom-protobuf`, `prom-ct:HEX`, ...) on `body`.
    pub fn check(&mut self, mode: &str, body: &[u8]) -> Verdict {
        writeln!(self.input, "{mode} {}", body.len()).expect("write frame");
        self.input.write_all(body).expect("write body");
        self.input.flush().expect("flush");
        answer(&mut self.output)
    }

    /// Verdicts for many bodies in one mode; frames are written while answers are read, so
    /// the pipe never fills both ways.
    pub fn check_all(&mut self, mode: &str, bodies: &[Vec<u8>]) -> Vec<Verdict> {
        std::thread::scope(|s| {
            let input = &mut self.input;
            let writer = s.spawn(move || {
                for body in bodies {
                    writeln!(input, "{mode} {}", body.len()).expect("write frame");
                    input.write_all(body).expect("write body");
                }
                input.flush().expect("flush");
            });
            let output = &mut self.output;
            let out: Vec<Verdict> = bodies.iter().map(|_| answer(output)).collect();
            writer.join().expect("writer");
            out
        })
    }
}

/// The next answer line; an error message may quote bytes that are not UTF-8.
fn answer(output: &mut BufReader<ChildStdout>) -> Verdict {
    let mut line = Vec::new();
    output.read_until(b'\n', &mut line).expect("read answer");
    assert!(!line.is_empty(), "the reference program exited");
    Verdict::parse(String::from_utf8_lossy(&line).trim_end_matches('\n'))
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `prom-ct:HEX` mode for a Content-Type.
pub fn ct_mode(content_type: &str) -> String {
    let hex: String = content_type.bytes().map(|b| format!("{b:02x}")).collect();
    format!("prom-ct:{hex}")
}
