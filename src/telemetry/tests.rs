//! Unit tests of the self-metrics: names, kinds, escaping, and that the page verifies.

use std::time::Duration;

use super::*;
use crate::exposition::{Dialect, Encoding, Format, verify};

fn build() -> BuildInfo {
    BuildInfo { version: "1.2.3", revision: "abc", date: "2026-11-25", rustc: "rustc 1.95.0" }
}

#[test]
fn renders_the_original_names_and_verifies() {
    let m = Metrics::new(build());
    let node = m.module("node", Families::default());
    node.observe(200, Duration::from_millis(1500));
    assert_eq!(node.last(), Some((200, Duration::from_millis(1500))));
    assert_eq!(m.module("never", Families { files: true, ..Families::default() }).last(), None);
    node.errors.inc();
    let script = m.module("script", Families { commands: true, ..Families::default() });
    script.command_starts.inc();
    script.command_fails.inc();
    m.module("we\"ird\nname", Families { files: true, ..Families::default() }).file_fails.inc();
    m.unknown_module().errors.inc();
    let text = m.render();
    for line in [
        "# TYPE expexp_proxy_duration_seconds summary",
        "expexp_proxy_duration_seconds_sum{module=\"node\"} 1.5",
        "expexp_proxy_duration_seconds_count{module=\"node\"} 1",
        "expexp_proxy_errors_total{module=\"node\"} 1",
        "expexp_proxy_errors_total{module=\"unknown\"} 1",
        "expexp_proxy_timeout_errors_total{module=\"script\"} 0",
        "expexp_malformed_content_errors_total{module=\"node\"} 0",
        "expexp_command_starts_total{module=\"script\"} 1",
        "expexp_command_fails_total{module=\"script\"} 1",
        "expexp_file_fails_total{module=\"we\\\"ird\\nname\"} 1",
        "expexp_build_info{version=\"1.2.3\",revision=\"abc\",build_date=\"2026-11-25\",rustversion=\"rustc 1.95.0\"} 1",
        "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_cpu_seconds_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains("expexp_command_starts_total{module=\"node\"}"),
        "exec families only for exec modules"
    );
    let dialect = Dialect { format: Format::Text, utf8_names: false };
    verify(text.as_bytes(), dialect, Encoding::Identity).expect("our own metrics verify");
}

#[test]
fn counters_survive_a_second_registration() {
    let m = Metrics::new(build());
    m.module("a", Families::default()).errors.inc();
    assert_eq!(m.module("a", Families { commands: true, ..Families::default() }).errors.get(), 1);
}

#[test]
fn floats_format_like_go() {
    assert_eq!(fmt_float(1.5), "1.5");
    assert_eq!(fmt_float(0.0), "0");
    assert_eq!(fmt_float(1e21), "1e21");
    assert_eq!(fmt_float(f64::INFINITY), "+Inf");
    assert_eq!(fmt_float(1_700_000_000.25), "1700000000.25");
}

#[test]
fn every_declared_family_is_rendered_once_in_the_declared_order() {
    let m = Metrics::new(build());
    m.docker.activate();
    m.module("a", Families { commands: true, files: true, connections: true });
    let text = m.render();
    let helps: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .filter(|n| n.starts_with("expexp_"))
        .collect();
    let declared: Vec<&str> = families().map(|f| f.name).collect();
    assert_eq!(helps, declared);
    let names: std::collections::BTreeSet<&str> = declared.iter().copied().collect();
    assert_eq!(names.len(), declared.len(), "each family is declared once");
}
