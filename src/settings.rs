//! Everything the command line decides, checked: where the configuration comes from, the
//! app's options, the listeners and inbound security, and the server's bounds. [`crate::cli`]
//! makes it from the flags; the daemon consumes it. `Settings::default()` is what an empty
//! command line gives, built from the same constants the code uses (a unit test in cli.rs
//! holds the two together).

use std::path::PathBuf;

use crate::app::Options;
use crate::config::ConfigFiles;
use crate::security::{BearerFlag, WebSettings};
use crate::server::Limits;

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
