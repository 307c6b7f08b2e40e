//! Throughput of the exposition verifier on generated bodies: text, OpenMetrics, protobuf and
//! gzip, 50 KB and 10 MB. Run with `cargo bench --bench verify`; divan prints time per body and
//! bytes per second.

use std::io::Write as _;

use divan::counter::BytesCount;
use exporter_exporter::exposition::{Dialect, Encoding, Format, verify};

fn main() {
    divan::main();
}

/// A text body like a real exporter's: families of gauges, counters and histograms with labels.
fn text_body(target: usize, openmetrics: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    let mut f = 0;
    while out.len() < target {
        let name = format!("bench_family_{f}_seconds");
        match f % 3 {
            0 => {
                let _ = writeln!(out, "# HELP {name} A gauge with a few labels.\n# TYPE {name} gauge");
                for i in 0..10 {
                    let _ = writeln!(
                        out,
                        "{name}{{instance=\"host-{i}.example.com:9100\",job=\"node\",mode=\"idle\"}} {}.{}",
                        i * 1234,
                        i
                    );
                }
            }
            1 => {
                let _ = writeln!(out, "# HELP {name} A counter.\n# TYPE {name} counter");
                for i in 0..10 {
                    let total = if openmetrics { "_total" } else { "" };
                    let _ =
                        writeln!(out, "{name}{total}{{cpu=\"{i}\",mode=\"user\"}} {}", 1_000_000 + i * 17);
                }
            }
            _ => {
                let _ = writeln!(out, "# HELP {name} A histogram.\n# TYPE {name} histogram");
                for (i, le) in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
                    .iter()
                    .enumerate()
                {
                    let _ =
                        writeln!(out, "{name}_bucket{{handler=\"/api/v1/query\",le=\"{le}\"}} {}", i * 10);
                }
                let _ = writeln!(
                    out,
                    "{name}_sum{{handler=\"/api/v1/query\"}} 12.5\n{name}_count{{handler=\"/api/v1/query\"}} 90"
                );
            }
        }
        f += 1;
    }
    if openmetrics {
        out.extend_from_slice(b"# EOF\n");
    }
    out
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(field: u64, data: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// Delimited protobuf families of ten gauges with three labels each.
fn proto_body(target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    let mut f = 0;
    while out.len() < target {
        let mut family = Vec::new();
        field_bytes(1, format!("bench_family_{f}_seconds").as_bytes(), &mut family);
        field_bytes(2, b"A gauge with a few labels.", &mut family);
        varint(3 << 3, &mut family);
        varint(1, &mut family);
        for i in 0..10 {
            let mut metric = Vec::new();
            for (k, v) in [
                ("instance", format!("host-{i}.example.com:9100")),
                ("job", "node".into()),
                ("mode", "idle".into()),
            ] {
                let mut pair = Vec::new();
                field_bytes(1, k.as_bytes(), &mut pair);
                field_bytes(2, v.as_bytes(), &mut pair);
                field_bytes(1, &pair, &mut metric);
            }
            let mut gauge = vec![0x09];
            gauge.extend_from_slice(&(i as f64 * 1.5).to_le_bytes());
            field_bytes(2, &gauge, &mut metric);
            field_bytes(4, &metric, &mut family);
        }
        varint(family.len() as u64, &mut out);
        out.extend_from_slice(&family);
        f += 1;
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

const SIZES: [usize; 2] = [50 << 10, 10 << 20];

#[allow(clippy::needless_pass_by_value, reason = "divan hands the bencher over by value")]
fn run(bencher: divan::Bencher<'_, '_>, body: Vec<u8>, dialect: Dialect, encoding: Encoding, counted: usize) {
    assert!(verify(&body, dialect, encoding).is_ok(), "the benchmark body must verify");
    bencher.counter(BytesCount::new(counted)).bench(|| verify(divan::black_box(&body), dialect, encoding));
}

#[divan::bench(args = SIZES)]
fn text(bencher: divan::Bencher<'_, '_>, size: usize) {
    let body = text_body(size, false);
    let n = body.len();
    run(bencher, body, Dialect { format: Format::Text, utf8_names: false }, Encoding::Identity, n);
}

#[divan::bench(args = SIZES)]
fn openmetrics(bencher: divan::Bencher<'_, '_>, size: usize) {
    let body = text_body(size, true);
    let n = body.len();
    run(bencher, body, Dialect { format: Format::OpenMetrics, utf8_names: true }, Encoding::Identity, n);
}

#[divan::bench(args = SIZES)]
fn protobuf(bencher: divan::Bencher<'_, '_>, size: usize) {
    let body = proto_body(size);
    let n = body.len();
    run(bencher, body, Dialect { format: Format::Protobuf, utf8_names: false }, Encoding::Identity, n);
}

/// Counted in decoded bytes, the work that matters for a scrape.
#[divan::bench(args = SIZES)]
fn text_gzip(bencher: divan::Bencher<'_, '_>, size: usize) {
    let plain = text_body(size, false);
    let n = plain.len();
    run(bencher, gzip(&plain), Dialect { format: Format::Text, utf8_names: false }, Encoding::Gzip, n);
}
