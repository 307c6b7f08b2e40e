#![no_main]
//! The YAML loaders: module config (`-config.file`) and web config (`-web.config.file`) must
//! turn any text into a config or an error, never a panic. Both are pure (no file is opened).

use std::path::Path;

use exporter_exporter::config::Config;
use exporter_exporter::config::web::WebConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Config::from_yaml(text, Path::new("/fuzz/expexp.yaml"));
    let _ = WebConfig::from_yaml(text, Path::new("/fuzz/web-config.yml"));
});
