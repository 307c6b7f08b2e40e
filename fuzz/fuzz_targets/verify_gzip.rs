#![no_main]
//! gzip bodies: the input (after the first byte) is compressed bytes, verified with
//! `Encoding::Gzip` in each format. Never panics; two pieces through `BodyVerifier` get the
//! one-shot verdict; and where the whole stream decompresses cleanly, the gzip verdict is the
//! verdict of the decompressed body.

#[path = "common.rs"]
mod common;

use std::io::Read;

use exporter_exporter::exposition::{Dialect, Encoding, Format, verify};
use flate2::read::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;

/// Decoded output beyond this is not compared (the verifier still runs on it).
const MAX_DECODED: u64 = 16 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((cut, body)) = common::split_input(data) else { return };
    let mut decoded = Vec::new();
    let clean = MultiGzDecoder::new(body).take(MAX_DECODED).read_to_end(&mut decoded).is_ok()
        && (decoded.len() as u64) < MAX_DECODED;
    for dialect in [
        Dialect { format: Format::Text, utf8_names: true },
        Dialect { format: Format::OpenMetrics, utf8_names: true },
        Dialect { format: Format::Protobuf, utf8_names: false },
    ] {
        let gz = common::check_split(body, cut, dialect, Encoding::Gzip);
        if clean {
            let plain = verify(&decoded, dialect, Encoding::Identity);
            assert_eq!(
                gz.is_ok(),
                plain.is_ok(),
                "{dialect:?}: gzip verdict {gz:?} but decompressed body verdict {plain:?}"
            );
        }
    }
});
