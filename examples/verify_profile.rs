//! Verifies a generated 10 MB text body a few times; for profiling the verifier with callgrind
//! or perf (`cargo build --release --example verify_profile`).

use std::io::Write as _;

use exporter_exporter::exposition::{Dialect, Encoding, Format, Judge, Now, verify};

fn main() {
    // `verify_profile ROUNDS [FILE [text|openmetrics|protobuf [3|2.42]]]`: a file (say a real
    // node_exporter page) in the given format, judged as the given Prometheus (3 by default),
    // or a generated text body.
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let body = match std::env::args().nth(2) {
        Some(path) => std::fs::read(path).expect("read the body"),
        None => generated(),
    };
    let format = match std::env::args().nth(3).as_deref() {
        None | Some("text") => Format::Text,
        Some("openmetrics") => Format::OpenMetrics,
        Some("protobuf") => Format::Protobuf,
        Some(other) => panic!("unknown format {other:?}: text, openmetrics or protobuf"),
    };
    let judge = match std::env::args().nth(4).as_deref() {
        None | Some("3") => Judge::PROMETHEUS_3,
        Some("2.42") => Judge::PROMETHEUS_2_42,
        Some(other) => panic!("unknown Prometheus {other:?}: 3 or 2.42"),
    };
    let dialect = Dialect { format, judge };
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        verify(&body, dialect, Encoding::Identity, Now::system()).expect("valid");
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0} MB/s", (body.len() * rounds) as f64 / secs / 1e6);
}

fn generated() -> Vec<u8> {
    let mut body = Vec::new();
    let mut f = 0;
    while body.len() < 10 << 20 {
        let name = format!("bench_family_{f}_seconds");
        let _ = writeln!(body, "# HELP {name} A histogram.\n# TYPE {name} histogram");
        for (i, le) in
            ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"].iter().enumerate()
        {
            let _ = writeln!(body, "{name}_bucket{{handler=\"/api/v1/query\",le=\"{le}\"}} {}", i * 10);
        }
        let _ = writeln!(
            body,
            "{name}_sum{{handler=\"/api/v1/query\"}} 12.5\n{name}_count{{handler=\"/api/v1/query\"}} 90"
        );
        let _ = writeln!(body, "# HELP g_{f} A gauge.\n# TYPE g_{f} gauge");
        for i in 0..10 {
            let _ = writeln!(
                body,
                "g_{f}{{instance=\"host-{i}.example.com:9100\",job=\"node\",mode=\"idle\"}} {}.{}",
                i * 1234,
                i
            );
        }
        f += 1;
    }
    body
}
