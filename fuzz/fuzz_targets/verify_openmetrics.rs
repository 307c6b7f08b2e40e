#![no_main]
//! OpenMetrics text: never panics, and a body cut in two gets the verdict it gets whole.

#[path = "common.rs"]
mod common;

use exporter_exporter::exposition::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((cut, body)) = common::split_input(data) else { return };
    common::judge_all(body, cut, Format::OpenMetrics);
});
