#![no_main]
//! OpenMetrics text: never panics, and a body cut in two gets the verdict it gets whole.

#[path = "common.rs"]
mod common;

use exporter_exporter::exposition::{Dialect, Encoding, Format, Judge, Now};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((cut, body)) = common::split_input(data) else { return };
    // Prometheus's OpenMetrics parser always allows UTF-8 names (Dialect::from_content_type).
    let dialect = Dialect { format: Format::OpenMetrics, judge: Judge::PROMETHEUS_3 };
    common::check_split(body, cut, dialect, Encoding::Identity).ok();
});
