#![no_main]
//! The Prometheus text format: never panics, and a body cut in two gets the verdict it gets whole.

#[path = "common.rs"]
mod common;

use exporter_exporter::exposition::{Dialect, Encoding, Format, Judge, Now};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((cut, body)) = common::split_input(data) else { return };
    for utf8_names in [false, true] {
        let dialect = Dialect { format: Format::Text, utf8_names };
        common::check_split(body, cut, dialect, Encoding::Identity).ok();
    }
});
