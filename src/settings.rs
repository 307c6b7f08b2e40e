//! Everything the command line decides, checked: where the configuration comes from, the
//! app's options, the listeners and inbound security, and the server's bounds. [`crate::cli`]
//! makes it from the flags; the daemon consumes it. `Settings::default()` is what an empty
//! command line gives, built from the same constants the code uses (a unit test in cli.rs
//! holds the two together).

use std::path::PathBuf;

use std::time::Duration;

use crate::config::ConfigFiles;
use crate::method::http::DEFAULT_MAX_BODY_BYTES;
use crate::routes::discovery::PathStyle;
use crate::scrape::deadline::DEFAULT_TIMEOUT_OFFSET;
use crate::security::{BearerFlag, WebSettings};
use crate::upstream::budget::DEFAULT_MAX_HELD_BYTES;

/// The default `-config.file`.
pub const DEFAULT_CONFIG_FILE: &str = "expexp.yaml";
/// The default `-web.listen-address`: every interface, the original's port.
pub const DEFAULT_LISTEN_ADDRESS: &str = ":9999";
/// The default `-web.tls.cert`.
pub const DEFAULT_TLS_CERT: &str = "cert.pem";
/// The default `-web.tls.key`.
pub const DEFAULT_TLS_KEY: &str = "key.pem";
/// The default `-web.tls.ca`.
pub const DEFAULT_TLS_CA: &str = "ca.pem";

/// Everything the flags decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the configuration comes from.
    pub config_files: ConfigFiles,
    /// Options for the app.
    pub options: Options,
    /// Listeners and inbound security.
    pub web: WebSettings,
    /// Bounds on client connections.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            config_files: ConfigFiles {
                file: Some(PathBuf::from(DEFAULT_CONFIG_FILE)),
                dirs: Vec::new(),
                skip_missing_dirs: false,
            },
            options: Options::default(),
            web: WebSettings {
                plain_address: Some(DEFAULT_LISTEN_ADDRESS.to_owned()),
                tls_address: None,
                cert: PathBuf::from(DEFAULT_TLS_CERT),
                key: PathBuf::from(DEFAULT_TLS_KEY),
                ca: PathBuf::from(DEFAULT_TLS_CA),
                verify: false,
                certmatch: None,
                tls_files_given: false,
                web_config_file: None,
                bearer: BearerFlag::None,
                allow: Vec::new(),
            },
            limits: Limits::default(),
        }
    }
}

/// Default for `-web.max-requests`.
pub const DEFAULT_MAX_REQUESTS: usize = 1024;
/// Default for `-web.debug-scrapes`: debug reports are behind the same checks as scrapes and
/// hold no secret, so they are on.
pub const DEFAULT_DEBUG_SCRAPES: bool = true;
/// Default for `-web.proxy-path`.
pub const DEFAULT_PROXY_PATH: &str = "/proxy";
/// Default for `-web.telemetry-path`.
pub const DEFAULT_TELEMETRY_PATH: &str = "/metrics";

/// The flags the app and its routes read (rather than the YAML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Path of the proxy endpoint (`-web.proxy-path`).
    pub proxy_path: String,
    /// Path of our own metrics (`-web.telemetry-path`).
    pub telemetry_path: String,
    /// Subtracted from Prometheus's scrape timeout (`-web.timeout-offset`).
    pub timeout_offset: Duration,
    /// Largest upstream body read for verification.
    pub max_body_bytes: u64,
    /// Most bytes of upstream bodies held at once (`-upstream.max-held-bytes`).
    pub max_held_bytes: u64,
    /// Whether `POST /-/reload` is allowed (`-web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// Most scrapes at once (`-web.max-requests`); 0 for no limit.
    pub max_requests: usize,
    /// How `/discovery` names the module (`-web.discovery-path-style`).
    pub discovery_style: PathStyle,
    /// Whether `&debug=true` gives a debug report (`-web.debug-scrapes`).
    pub debug_scrapes: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            proxy_path: DEFAULT_PROXY_PATH.into(),
            telemetry_path: DEFAULT_TELEMETRY_PATH.into(),
            timeout_offset: DEFAULT_TIMEOUT_OFFSET,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_held_bytes: DEFAULT_MAX_HELD_BYTES,
            enable_lifecycle: false,
            max_requests: DEFAULT_MAX_REQUESTS,
            discovery_style: PathStyle::default(),
            debug_scrapes: DEFAULT_DEBUG_SCRAPES,
        }
    }
}

/// Bounds on what clients may hold of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's headers; also how long a kept-alive connection may idle.
    pub read_header_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Most connections open at once; more wait in the listen queue.
    pub max_connections: usize,
}

/// Default for `-web.read-header-timeout`.
pub const DEFAULT_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `-web.max-header-bytes`.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 << 10;
/// Default for `-web.max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8192;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            read_header_timeout: DEFAULT_READ_HEADER_TIMEOUT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Cleans a path flag as the original does (`path.Clean("/" + p)`).
pub fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn paths_are_cleaned_like_go() {
        assert_eq!(clean_path("proxy"), "/proxy");
        assert_eq!(clean_path("/proxy/"), "/proxy");
        assert_eq!(clean_path("//a/./b/../c"), "/a/c");
        assert_eq!(clean_path(""), "/");
    }
}
