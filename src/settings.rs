//! Every flag, in one place: its name, its default, its help (a short line, then the text
//! docs/configuration.md's flag tables and the manual page are made from), grouped under the
//! headings those tables use. [`Flags`] is the command line as clap reads it once `cli.rs` has
//! turned Go's syntax into clap's; [`Flags::settings`] checks the flags together into the
//! [`Settings`] the daemon consumes. The app's options ([`Options`]) and the server's bounds
//! ([`Limits`]) are read straight from their flags, so a flag the routes or the server use is
//! its field here and its use there. `Settings::default()` is what an empty command line gives.

mod values;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser};
use ipnet::IpNet;

use crate::config::ConfigFiles;
use crate::logging::{LogFormat, LogLevel};
use crate::platform::{ServiceArg, ServiceCommand};
use crate::routes::discovery::PathStyle;
use crate::security::{BearerFlag, Secret, WebSettings};

const FILES: &str = "Configuration files";
const LISTENERS: &str = "Listeners";
const ACCESS: &str = "Access control";
const PATHS: &str = "Paths";
const OPERATIONS: &str = "Operations and limits";
const LOGGING: &str = "Logging";
const WINDOWS: &str = "Windows service";

/// Every flag of the original, and ours, with its default.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "exporter_exporter",
    about = "A reverse proxy for Prometheus exporters, scripts and textfiles that verifies what it serves.",
    disable_version_flag = true,
    disable_help_flag = true,
    args_override_self = true,
    after_help = "Flags may be written Go-style, as the original takes them: -web.listen-address=:9999, \
                  -config.dirs DIR, -web.tls.verify, -web.tls.verify=false."
)]
pub struct Flags {
    /// The module configuration file; "" to use only -config.dirs.
    ///
    /// The module configuration file (below). Relative to the working directory. `""` reads no
    /// file: modules then come only from `-config.dirs`.
    #[arg(long = "config.file", value_name = "FILE", default_value = "expexp.yaml", allow_hyphen_values = true,
          help_heading = FILES)]
    pub config_file: String,

    /// A directory of module files (NAME.yaml each); may be repeated.
    ///
    /// A directory of module files: each `NAME.yml` or `NAME.yaml` in it is one module called
    /// `NAME` (the file holds what goes under `modules.NAME`). Other files and subdirectories
    /// are skipped with a warning. Files are read in name order. A module defined twice (in the
    /// file and a directory, or in two directories) is an error. May be repeated.
    #[arg(long = "config.dirs", value_name = "DIR", action = ArgAction::Append, allow_hyphen_values = true,
          help_heading = FILES)]
    pub config_dirs: Vec<PathBuf>,

    /// Skip -config.dirs entries that do not exist instead of failing.
    ///
    /// Skip `-config.dirs` entries that do not exist (with a warning) instead of refusing to
    /// start.
    #[arg(long = "config.skip-dirs", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = FILES)]
    pub config_skip_dirs: bool,

    /// Check the configuration (modules, web config, certificates, token file) and exit.
    ///
    /// Load and check everything the other flags name (modules, web configuration,
    /// certificates and keys, bearer token file), print every problem found or `configuration
    /// OK`, and exit 1 or 0. Binds no port.
    #[arg(long = "config.check", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = FILES)]
    pub config_check: bool,

    /// Verify a metrics body (a file, or - for standard input) as Prometheus 3 and 2.42, and exit.
    ///
    /// Verify a metrics body (a file, or `-` for standard input) exactly as the proxy would, as
    /// Prometheus 3 and as 2.42; print each version's verdict, `OK` with the counts or the first
    /// problem with its line and column (the line shown with a caret under the byte), and exit
    /// 1 if either refuses it, 0 otherwise; binds no port and needs no configuration. At most
    /// `-upstream.max-body-bytes` is read. See docs/verification.md.
    #[arg(long = "check.metrics", value_name = "FILE", default_value = "", allow_hyphen_values = true,
          help_heading = FILES)]
    pub check_metrics: String,

    /// The Content-Type -check.metrics reads the body as; "" sniffs it as exec output is.
    ///
    /// The `Content-Type` that `-check.metrics` reads the body as, as an upstream's header is
    /// read (`text/plain; version=0.0.4`, `application/openmetrics-text`,
    /// protobuf). `""`: sniffed as exec output is (OpenMetrics if it ends with `# EOF`, else the
    /// text format). Needs `-check.metrics`.
    #[arg(long = "check.content-type", value_name = "TYPE", default_value = "", allow_hyphen_values = true,
          help_heading = FILES)]
    pub check_content_type: String,

    /// Print the version and exit.
    ///
    /// Print the version, git revision, build date and Rust version, the licence, the number of
    /// crates built in, and where the SBOM is (docs/dependencies.md), and exit 0.
    #[arg(long = "version", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = FILES)]
    pub version: bool,

    /// Address for plain HTTP (":9999", "127.0.0.1:9999", "host:port"); "" disables it.
    ///
    /// Address of the plain HTTP listener: `:9999` (every interface, IPv6 and IPv4),
    /// `127.0.0.1:9999`, `[::1]:9999`, `host:port`. `""` disables it. With `tls_server_config`
    /// in `-web.config.file` and no `-web.tls.listen-address`, this listener serves HTTPS.
    #[arg(long = "web.listen-address", value_name = "ADDR", default_value = ":9999", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_listen_address: String,

    /// Address for HTTPS; "" (the default) disables it.
    ///
    /// Address of the HTTPS listener; may run beside the plain one. `""` (the default) turns it
    /// off. With neither listener the proxy exits with a message, as the original does.
    #[arg(long = "web.tls.listen-address", value_name = "ADDR", default_value = "", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_tls_listen_address: String,

    /// Server certificate (PEM) for HTTPS.
    ///
    /// Server certificate chain (PEM) of the HTTPS listener.
    #[arg(long = "web.tls.cert", value_name = "FILE", default_value = "cert.pem", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_tls_cert: PathBuf,

    /// Server key (PEM) for HTTPS.
    ///
    /// Server private key (PEM). RSA keys need at least 2048 bits.
    #[arg(long = "web.tls.key", value_name = "FILE", default_value = "key.pem", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_tls_key: PathBuf,

    /// CA certificates (PEM) that client certificates must chain to, with -web.tls.verify.
    ///
    /// CA certificates (PEM) that client certificates must chain to, with `-web.tls.verify`. A
    /// self-signed client certificate listed here byte for byte is accepted too (the original's
    /// recipe).
    #[arg(long = "web.tls.ca", value_name = "FILE", default_value = "ca.pem", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_tls_ca: PathBuf,

    /// Require a client certificate signed by -web.tls.ca.
    ///
    /// Require a client certificate signed by `-web.tls.ca` on the HTTPS listener. Without
    /// `-web.tls.listen-address` it logs a warning.
    #[arg(long = "web.tls.verify", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = LISTENERS)]
    pub web_tls_verify: bool,

    /// A regular expression the client certificate's CN, a DNS name or an email must match.
    ///
    /// A regular expression that the client certificate's subject common name, one of its DNS
    /// names, or one of its email addresses must match. Needs `-web.tls.verify` (or a verifying
    /// `client_auth_type`).
    #[arg(long = "web.tls.certmatch", value_name = "REGEX", default_value = "", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_tls_certmatch: String,

    /// A web configuration file in the exporter-toolkit format (TLS, headers, basic auth).
    ///
    /// A web configuration file in the exporter-toolkit format (below). Its TLS settings
    /// cannot be combined with `-web.tls.cert`, `-web.tls.key`, `-web.tls.ca` or
    /// `-web.tls.verify`.
    #[arg(long = "web.config.file", value_name = "FILE", default_value = "", allow_hyphen_values = true,
          help_heading = LISTENERS)]
    pub web_config_file: String,

    /// Require "Authorization: Bearer TOKEN" on every request.
    ///
    /// Require `Authorization: Bearer TOKEN`, compared in constant time. Visible in `ps`:
    /// prefer the file.
    #[arg(long = "web.bearer.token", value_name = "TOKEN", default_value = "", allow_hyphen_values = true,
          hide_default_value = true, help_heading = ACCESS)]
    pub web_bearer_token: String,

    /// Like -web.bearer.token, with the token read from a file.
    ///
    /// The same, with the token read from a file (trimmed; an empty file is an error). Re-read
    /// on reload. Cannot be combined with `-web.bearer.token`.
    #[arg(long = "web.bearer.token-file", value_name = "FILE", default_value = "", allow_hyphen_values = true,
          help_heading = ACCESS)]
    pub web_bearer_token_file: String,

    /// Accept connections only from this network (CIDR); may be repeated.
    ///
    /// Accept requests only from clients in this network (CIDR, e.g. `10.0.0.0/8`, `::1/128`);
    /// others get 403. IPv4-mapped IPv6 clients match IPv4 networks. May be repeated.
    #[arg(long = "allow.net", value_name = "CIDR", action = ArgAction::Append, value_parser = values::cidr,
          allow_hyphen_values = true, help_heading = ACCESS)]
    pub allow_net: Vec<IpNet>,

    /// What the app and its routes read.
    #[command(flatten)]
    pub options: Options,

    /// What the server bounds.
    #[command(flatten)]
    pub limits: Limits,

    /// Log level: trace, debug, info, warn, error.
    ///
    /// `trace`, `debug`, `info`, `warn`, `error`; logrus's names work too (`warning`; `fatal`
    /// and `panic` mean `error`). At `info` every request is logged.
    #[arg(long = "log.level", value_name = "LEVEL", default_value = "warn", value_parser = LogLevel::parse,
          help_heading = LOGGING)]
    pub log_level: LogLevel,

    /// Log line format: logfmt or json.
    ///
    /// `logfmt` (`time=… level=… msg=… key=value`) or `json`.
    #[arg(long = "log.format", value_name = "FORMAT", default_value = "logfmt", value_parser = ["logfmt", "json"],
          help_heading = LOGGING)]
    pub log_format: String,

    /// Write log lines as JSON (the original's flag; same as -log.format=json).
    ///
    /// The original's flag: the same as `-log.format=json`.
    #[arg(long = "log.json", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = LOGGING)]
    pub log_json: bool,

    /// Manage the Windows service: install, uninstall, start or stop it. Windows only.
    ///
    /// Windows only (refused elsewhere, exit code 1): `install` the service `exporter_exporter`
    /// and its Event Log source (the other flags given become its arguments; with none,
    /// `-config.file` beside the exe), `uninstall`, `start`, or `stop` it (waits up to 35 s).
    /// Any other value is an error. [windows.md](windows.md) says more.
    #[arg(long = "winsvc", value_name = "COMMAND", value_parser = ServiceCommand::parse, help_heading = WINDOWS)]
    pub winsvc: Option<ServiceCommand>,

    /// Print the flags and exit (the long texts are the manual page's).
    #[arg(short = 'h', long = "help", action = ArgAction::HelpShort)]
    pub help: Option<bool>,

    /// The long names of the flags given on the command line (not defaulted).
    #[arg(skip)]
    pub given: BTreeSet<String>,

    /// The flags given but `-winsvc`, as `-winsvc install` writes them (cli.rs).
    #[arg(skip)]
    pub service_args: Vec<ServiceArg>,
}

/// The flags the app and its routes read (rather than the YAML).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Options {
    /// Path of the proxy's own metrics.
    #[arg(long = "web.telemetry-path", value_name = "PATH", default_value = "/metrics", value_parser = values::path,
          allow_hyphen_values = true, help_heading = PATHS)]
    pub telemetry_path: String,

    /// Path of the proxy endpoint.
    ///
    /// Path of the scrape endpoint (`/proxy?module=NAME`, and `/proxy/NAME`, which passes every
    /// query parameter upstream, `module` included). Must differ from `-web.telemetry-path`.
    #[arg(long = "web.proxy-path", value_name = "PATH", default_value = "/proxy", value_parser = values::path,
          allow_hyphen_values = true, help_heading = PATHS)]
    pub proxy_path: String,

    /// How /discovery names a target's module: query (/proxy?module=NAME) or path (/proxy/NAME).
    ///
    /// How `/discovery` names a target's module: `query` (`__metrics_path__` is the proxy path,
    /// `__param_module` the name) or `path` (`__metrics_path__` is `/proxy/NAME`, no
    /// `__param_module`, so a job's own `module` parameter reaches blackbox or snmp exporters).
    #[arg(long = "web.discovery-path-style", value_name = "STYLE", default_value = "query",
          value_parser = PathStyle::parse, help_heading = PATHS)]
    pub discovery_style: PathStyle,

    /// Enable POST /-/reload, as Prometheus's flag of that name does.
    ///
    /// Allow `POST /-/reload` (a 403 otherwise, as in Prometheus).
    #[arg(long = "web.enable-lifecycle", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = OPERATIONS)]
    pub enable_lifecycle: bool,

    /// Answer &debug=true on a scrape with a debug report (never a secret).
    ///
    /// Answer `&debug=true` on a scrape with a debug report instead of the body (upstream
    /// request, status, timings, the verifier's verdict; never a secret; docs/operations.md);
    /// `false`: `debug` goes upstream like any other parameter, for every module.
    #[arg(long = "web.debug-scrapes", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "true", default_missing_value = "true", value_parser = values::go_bool,
          help_heading = OPERATIONS)]
    pub debug_scrapes: bool,

    /// Subtracted from Prometheus's scrape timeout to get the deadline: seconds or a Go duration.
    ///
    /// Subtracted from Prometheus's scrape timeout (`X-Prometheus-Scrape-Timeout-Seconds`) to
    /// get a scrape's deadline. Seconds (`0.5`) or a Go duration (`500ms`).
    #[arg(long = "web.timeout-offset", value_name = "DURATION", default_value = "500ms",
          value_parser = values::duration, help_heading = OPERATIONS)]
    pub timeout_offset: Duration,

    /// Most scrapes served at once; more get a 503 at once (0: no limit).
    ///
    /// Most scrapes served at once; more get a 503 at once. `0`: no limit.
    #[arg(long = "web.max-requests", value_name = "N", default_value_t = 1024, help_heading = OPERATIONS)]
    pub max_requests: usize,

    /// Largest upstream body read for verification, in bytes; more is a 502.
    ///
    /// Largest upstream body read for verification, in bytes (256 MiB by default); a larger
    /// one is a 502.
    #[arg(long = "upstream.max-body-bytes", value_name = "BYTES", default_value_t = 256 << 20,
          help_heading = OPERATIONS)]
    pub max_body_bytes: u64,

    /// Most bytes of upstream bodies held in memory at once, by all scrapes together.
    ///
    /// Most bytes of upstream bodies held in memory at once (256 MiB by default), by all
    /// scrapes together: bodies read for verification, and the answers of coalesced scrapes
    /// (`verify: false` ones too, shared as they arrive, and non-200 ones). A scrape reserves
    /// all of a declared `Content-Length` before reading (before a shared pass-through answer's
    /// head goes out), else room step by step as the body arrives; beyond the budget it waits
    /// for room until its deadline (60 s without one), then gets a 503, as does a body larger
    /// than the whole budget. Each piece of a body takes its share of the room with it: given
    /// back when the last response that sends it has sent it (or is dropped), so room comes back
    /// as the body goes out, and the count is what is still in memory. Reserved room a body did
    /// not fill goes back at once. Streamed bodies (`verify: false` or non-200 with `coalesce:
    /// false`, HEAD) and exec and file output (bounded by their own limits) are not counted.
    /// `expexp_held_body_bytes` and `expexp_scrapes_waiting_for_memory` show it.
    #[arg(long = "upstream.max-held-bytes", value_name = "BYTES", default_value_t = 256 << 20,
          help_heading = OPERATIONS)]
    pub max_held_bytes: u64,
}

/// Bounds on what clients may hold of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct Limits {
    /// Most client connections open at once; more wait in the listen queue.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = 8192, help_heading = OPERATIONS)]
    pub max_connections: usize,

    /// How long a client may take to send a request's headers, and a kept-alive connection idle.
    ///
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle. Seconds or a Go duration.
    #[arg(long = "web.read-header-timeout", value_name = "DURATION", default_value = "10s",
          value_parser = values::duration, help_heading = OPERATIONS)]
    pub read_header_timeout: Duration,

    /// Largest request head (request line and headers) accepted, in bytes.
    #[arg(long = "web.max-header-bytes", value_name = "BYTES", default_value_t = 64 << 10,
          help_heading = OPERATIONS)]
    pub max_header_bytes: usize,
}

/// Everything the flags decide, checked together.
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

/// Flags that parse but cannot work together (the original refuses these after parsing, as
/// it refuses a bad configuration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// The proxy and telemetry paths are the same.
    #[error("flags -web.proxy-path and -web.telemetry-path can not be set to the same value")]
    SamePaths,
    /// The proxy or telemetry path is `/`, the module list.
    #[error("flags -web.proxy-path and -web.telemetry-path can not be \"/\", the module list")]
    RootPath,
    /// Both bearer token flags are given.
    #[error("-web.bearer.token and -web.bearer.token-file are mutually exclusive options")]
    BearerConflict,
    /// `-check.content-type` without the body it is for.
    #[error("-check.content-type needs -check.metrics")]
    CheckContentTypeAlone,
}

impl Flags {
    /// What an empty command line gives.
    pub fn defaults() -> Flags {
        Flags::try_parse_from(["exporter_exporter"]).expect("an empty command line parses")
    }

    /// The log format, with `-log.json` as an alias for `-log.format=json`.
    pub fn log_format(&self) -> LogFormat {
        if self.log_json || self.log_format == "json" { LogFormat::Json } else { LogFormat::Logfmt }
    }

    /// Checks the flags together and derives the settings; the error names the flags.
    pub fn settings(&self) -> Result<Settings, FlagError> {
        let Options { proxy_path, telemetry_path, .. } = &self.options;
        if proxy_path == telemetry_path {
            return Err(FlagError::SamePaths);
        }
        if proxy_path == "/" || telemetry_path == "/" {
            return Err(FlagError::RootPath);
        }
        if self.check_metrics.is_empty() && !self.check_content_type.is_empty() {
            return Err(FlagError::CheckContentTypeAlone);
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let bearer = match (non_empty(&self.web_bearer_token), non_empty(&self.web_bearer_token_file)) {
            (Some(_), Some(_)) => return Err(FlagError::BearerConflict),
            (Some(t), None) => BearerFlag::Token(Secret(t)),
            (None, Some(f)) => BearerFlag::File(f.into()),
            (None, None) => BearerFlag::None,
        };
        let given = |f: &str| self.given.contains(f);
        Ok(Settings {
            config_files: ConfigFiles {
                file: non_empty(&self.config_file).map(PathBuf::from),
                dirs: self.config_dirs.clone(),
                skip_missing_dirs: self.config_skip_dirs,
            },
            options: self.options.clone(),
            web: WebSettings {
                plain_address: non_empty(&self.web_listen_address),
                tls_address: non_empty(&self.web_tls_listen_address),
                cert: self.web_tls_cert.clone(),
                key: self.web_tls_key.clone(),
                ca: self.web_tls_ca.clone(),
                verify: self.web_tls_verify,
                certmatch: non_empty(&self.web_tls_certmatch),
                tls_files_given: given("web.tls.cert") || given("web.tls.key") || given("web.tls.ca"),
                web_config_file: non_empty(&self.web_config_file).map(PathBuf::from),
                bearer,
                allow: self.allow_net.clone(),
            },
            limits: self.limits,
        })
    }
}

impl Default for Settings {
    /// What an empty command line gives.
    fn default() -> Settings {
        Flags::defaults().settings().expect("the defaults work together")
    }
}

impl Default for Options {
    /// What an empty command line gives.
    fn default() -> Options {
        Flags::defaults().options
    }
}

impl Default for Limits {
    /// What an empty command line gives.
    fn default() -> Limits {
        Flags::defaults().limits
    }
}

#[cfg(test)]
mod tests;
