//! The composition root: a checked [`Config`] and the web options become a running [`App`]
//! (modules with their clients and counters) that answers requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::Cli;
use crate::config::{Config, Module, Sources};
use crate::daemon::ReloadHandle;
use crate::modules::deadline::DEFAULT_TIMEOUT_OFFSET;
use crate::modules::http::DEFAULT_MAX_BODY_BYTES;
use tokio::sync::Semaphore;

/// Default for `-web.max-requests`.
pub const DEFAULT_MAX_REQUESTS: usize = 1024;
use crate::modules::{BuildError, Modules};
use crate::security::{Security, WebSettings};
use crate::telemetry::Metrics;

/// Settings that come from flags rather than the YAML.
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
    /// Whether `POST /-/reload` is allowed (`-web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// Most scrapes at once (`-web.max-requests`); 0 for no limit.
    pub max_requests: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            proxy_path: "/proxy".into(),
            telemetry_path: "/metrics".into(),
            timeout_offset: DEFAULT_TIMEOUT_OFFSET,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            enable_lifecycle: false,
            max_requests: DEFAULT_MAX_REQUESTS,
        }
    }
}

/// Everything the flags decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the configuration comes from.
    pub sources: Sources,
    /// Options for the app.
    pub options: Options,
    /// Listeners and inbound security.
    pub web: WebSettings,
    /// Bounds on client connections.
    pub limits: crate::server::Limits,
}

impl Settings {
    /// Checks the flags and derives the settings; the message says which flag is wrong.
    pub fn from_cli(cli: &Cli) -> Result<Settings, String> {
        let proxy_path = clean_path(&cli.web_proxy_path);
        let telemetry_path = clean_path(&cli.web_telemetry_path);
        if proxy_path == telemetry_path {
            return Err(
                "flags -web.proxy-path and -web.telemetry-path can not be set to the same value".into()
            );
        }
        if proxy_path == "/" || telemetry_path == "/" {
            return Err(
                "flags -web.proxy-path and -web.telemetry-path can not be \"/\", the module list".into()
            );
        }
        Ok(Settings {
            sources: Sources {
                file: (!cli.config_file.is_empty()).then(|| cli.config_file.clone().into()),
                dirs: cli.config_dirs.clone(),
                skip_missing_dirs: cli.config_skip_dirs,
            },
            options: Options {
                proxy_path,
                telemetry_path,
                timeout_offset: cli.web_timeout_offset,
                enable_lifecycle: cli.web_enable_lifecycle,
                max_requests: cli.web_max_requests,
                max_body_bytes: cli.upstream_max_body_bytes,
            },
            web: WebSettings::from_cli(cli)?,
            limits: crate::server::Limits {
                read_header_timeout: cli.web_read_header_timeout,
                max_header_bytes: cli.web_max_header_bytes,
                max_connections: cli.web_max_connections,
            },
        })
    }
}

/// The running proxy.
#[derive(Debug)]
pub struct App {
    pub(crate) options: Options,
    pub(crate) default_module: Option<String>,
    pub(crate) modules: Modules,
    pub(crate) metrics: Arc<Metrics>,
    /// Inbound security: request checks, TLS, headers.
    pub security: Security,
    pub(crate) reloader: Option<ReloadHandle>,
    /// Slots for scrapes in flight; shared with the app this one replaced, so a reload does not
    /// reset the limit.
    pub(crate) scrape_slots: Option<Arc<Semaphore>>,
    config: Config,
}

impl App {
    /// Builds the modules of `config`; fails if one cannot be built (a TLS file, say). Runners
    /// of unchanged exec modules are taken over from `previous`, so a reload does not reset
    /// their concurrency limit.
    pub fn build(
        config: Config,
        options: Options,
        security: Security,
        metrics: Arc<Metrics>,
        previous: Option<&App>,
    ) -> Result<App, BuildError> {
        let modules =
            Modules::build(&config, &metrics, options.max_body_bytes, previous.map(|p| &p.modules))?;
        let default_module = config.default_module.clone();
        let scrape_slots = match previous {
            Some(p) if p.options.max_requests == options.max_requests => p.scrape_slots.clone(),
            _ => (options.max_requests > 0).then(|| Arc::new(Semaphore::new(options.max_requests))),
        };
        Ok(App { options, default_module, modules, metrics, security, reloader: None, scrape_slots, config })
    }

    /// Lets `POST /-/reload` ask for reloads through `reloader`.
    pub fn with_reloader(mut self, reloader: ReloadHandle) -> App {
        self.reloader = Some(reloader);
        self
    }

    /// The TLS configuration of the listeners that use TLS.
    pub fn tls(&self) -> Option<&Arc<rustls::ServerConfig>> {
        self.security.tls.as_ref()
    }

    /// The configured modules, by name.
    pub fn config_modules(&self) -> &BTreeMap<String, Module> {
        &self.config.modules
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
