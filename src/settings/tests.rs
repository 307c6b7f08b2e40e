//! The defaults an empty command line gives, as the original and docs/configuration.md have them.

use super::*;

#[test]
fn the_defaults_are_the_documented_ones() {
    let s = Settings::default();
    assert_eq!(s.config_files.file, Some(PathBuf::from("expexp.yaml")));
    assert_eq!(s.web.plain_address.as_deref(), Some(":9999"));
    assert_eq!((s.web.tls_address.as_deref(), s.web.bearer.clone()), (None, BearerFlag::None));
    let o = &s.options;
    assert_eq!((o.proxy_path.as_str(), o.telemetry_path.as_str()), ("/proxy", "/metrics"));
    assert_eq!(o.timeout_offset, Duration::from_millis(500));
    assert_eq!((o.max_requests, o.max_body_bytes, o.max_held_bytes), (1024, 256 << 20, 256 << 20));
    assert!(o.debug_scrapes && !o.enable_lifecycle);
    assert_eq!(o.discovery_style, PathStyle::Query);
    assert_eq!(s.limits.read_header_timeout, Duration::from_secs(10));
    assert_eq!((s.limits.max_header_bytes, s.limits.max_connections), (64 << 10, 8192));
    assert_eq!((Options::default(), Limits::default()), (s.options.clone(), s.limits));
}
