//! The command line, in the original's Go `flag` syntax: `-name value`, `-name=value`,
//! `--name value`, `--name=value`, booleans as `-name` or `-name=false`, repeatable
//! `-config.dirs` and `-allow.net`. Parsed by clap after a small argv rewrite, then checked
//! into [`Settings`] by [`Cli::settings`]. Every default that the code also uses comes from
//! the constant that the code uses.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use ipnet::IpNet;

use crate::app::{
    DEFAULT_DEBUG_SCRAPES, DEFAULT_MAX_REQUESTS, DEFAULT_PROXY_PATH, DEFAULT_TELEMETRY_PATH, Options,
    clean_path,
};
use crate::config::Sources;
use crate::logging::{DEFAULT_LOG_LEVEL, LogFormat, LogLevel};
use crate::method::http::DEFAULT_MAX_BODY_BYTES;
use crate::platform::{ServiceArg, ServiceCommand};
use crate::routes::discovery::PathStyle;
use crate::scrape::deadline::DEFAULT_TIMEOUT_OFFSET;
use crate::security::{BearerSource, Secret, WebSettings};
use crate::server::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES, DEFAULT_READ_HEADER_TIMEOUT, Limits};
use crate::settings::{
    DEFAULT_CONFIG_FILE, DEFAULT_LISTEN_ADDRESS, DEFAULT_TLS_CA, DEFAULT_TLS_CERT, DEFAULT_TLS_KEY, Settings,
};
use crate::upstream::budget::DEFAULT_MAX_HELD_BYTES;

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
    #[error("web.bearer.token and web.bearer.token-file are mutually exclusive options")]
    BearerConflict,
    /// `-check.content-type` without the body it is for.
    #[error("-check.content-type needs -check.metrics")]
    CheckContentTypeAlone,
}

/// A duration flag: seconds as a number (blackbox's `--timeout-offset=0.5`) or a Go duration
/// (`500ms`); shown as a Go duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagDuration(pub Duration);

impl fmt::Display for FlagDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else if d.as_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}ms", d.as_millis())
        } else {
            write!(f, "{}ns", d.as_nanos())
        }
    }
}

/// Go's `strconv.ParseBool`, which its `flag` package uses for boolean flags.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean value {s:?}")),
    }
}

/// Seconds as a number (blackbox's `--timeout-offset=0.5`) or a Go duration (`500ms`).
fn parse_offset(s: &str) -> Result<FlagDuration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map(FlagDuration)
            .map_err(|_| format!("invalid offset {s:?}"));
    }
    let ns = crate::config::parse_go_duration(s)?;
    u64::try_from(ns)
        .map(|ns| FlagDuration(Duration::from_nanos(ns)))
        .map_err(|_| format!("negative offset {s:?}"))
}

/// Go's `net.ParseCIDR`: an address with a prefix length; host bits are dropped.
fn parse_cidr(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>().map(|n| n.trunc()).map_err(|_| format!("invalid CIDR address: {s}"))
}

/// Every flag of the original, with its default.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "exporter_exporter",
    about = "A reverse proxy for Prometheus exporters, scripts and textfiles that verifies what it serves.",
    disable_version_flag = true,
    args_override_self = true,
    after_help = "Flags may be written Go-style, as the original takes them: -web.listen-address=:9999, \
                  -config.dirs DIR, -web.tls.verify, -web.tls.verify=false."
)]
pub struct Cli {
    /// The configuration file; "" to use only -config.dirs.
    #[arg(
        long = "config.file",
        value_name = "FILE",
        default_value = DEFAULT_CONFIG_FILE,
        allow_hyphen_values = true
    )]
    pub config_file: String,

    /// A directory of module files (NAME.yaml each); may be repeated.
    #[arg(long = "config.dirs", value_name = "DIR", action = ArgAction::Append, allow_hyphen_values = true)]
    pub config_dirs: Vec<PathBuf>,

    /// Skip -config.dirs entries that do not exist instead of failing.
    #[arg(long = "config.skip-dirs", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub config_skip_dirs: bool,

    /// Address for plain HTTP (":9999", "127.0.0.1:9999", "[::1]:9999"); "" disables it.
    #[arg(
        long = "web.listen-address",
        value_name = "ADDR",
        default_value = DEFAULT_LISTEN_ADDRESS,
        allow_hyphen_values = true
    )]
    pub web_listen_address: String,

    /// Address for HTTPS; "" (the default) disables it.
    #[arg(
        long = "web.tls.listen-address",
        value_name = "ADDR",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub web_tls_listen_address: String,

    /// Server certificate (PEM) for HTTPS.
    #[arg(
        long = "web.tls.cert",
        value_name = "FILE",
        default_value = DEFAULT_TLS_CERT,
        allow_hyphen_values = true
    )]
    pub web_tls_cert: PathBuf,

    /// Server key (PEM) for HTTPS.
    #[arg(long = "web.tls.key", value_name = "FILE", default_value = DEFAULT_TLS_KEY, allow_hyphen_values = true)]
    pub web_tls_key: PathBuf,

    /// CA certificates (PEM) that client certificates must chain to, with -web.tls.verify.
    #[arg(long = "web.tls.ca", value_name = "FILE", default_value = DEFAULT_TLS_CA, allow_hyphen_values = true)]
    pub web_tls_ca: PathBuf,

    /// Require a client certificate signed by -web.tls.ca.
    #[arg(long = "web.tls.verify", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub web_tls_verify: bool,

    /// A regular expression the client certificate's subject CN, a DNS name or an email address
    /// must match; needs -web.tls.verify.
    #[arg(long = "web.tls.certmatch", value_name = "REGEX", default_value = "", allow_hyphen_values = true)]
    pub web_tls_certmatch: String,

    /// Require "Authorization: Bearer TOKEN" on every request.
    #[arg(
        long = "web.bearer.token",
        value_name = "TOKEN",
        default_value = "",
        allow_hyphen_values = true,
        hide_default_value = true
    )]
    pub web_bearer_token: String,

    /// Like -web.bearer.token, with the token read from a file.
    #[arg(
        long = "web.bearer.token-file",
        value_name = "FILE",
        default_value = "",
        allow_hyphen_values = true
    )]
    pub web_bearer_token_file: String,

    /// Accept connections only from this network (CIDR); may be repeated.
    #[arg(long = "allow.net", value_name = "CIDR", action = ArgAction::Append, value_parser = parse_cidr,
          allow_hyphen_values = true)]
    pub allow_net: Vec<IpNet>,

    /// A web configuration file in the exporter-toolkit format (TLS, headers, basic auth).
    #[arg(long = "web.config.file", value_name = "FILE", default_value = "", allow_hyphen_values = true)]
    pub web_config_file: String,

    /// Path of the proxy's own metrics.
    #[arg(
        long = "web.telemetry-path",
        value_name = "PATH",
        default_value = DEFAULT_TELEMETRY_PATH,
        allow_hyphen_values = true
    )]
    pub web_telemetry_path: String,

    /// Path of the proxy endpoint.
    #[arg(
        long = "web.proxy-path",
        value_name = "PATH",
        default_value = DEFAULT_PROXY_PATH,
        allow_hyphen_values = true
    )]
    pub web_proxy_path: String,

    /// How /discovery names a target's module: query (/proxy?module=NAME) or path (/proxy/NAME).
    #[arg(long = "web.discovery-path-style", value_name = "STYLE", default_value = PathStyle::DEFAULT_NAME,
          value_parser = PathStyle::parse)]
    pub web_discovery_path_style: PathStyle,

    /// Answer `&debug=true` on a scrape with a debug report (upstream request, status, timings,
    /// the verifier's verdict; never a secret); false passes `debug` upstream like any parameter.
    #[arg(long = "web.debug-scrapes", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value_t = DEFAULT_DEBUG_SCRAPES, default_missing_value = "true", value_parser = parse_go_bool)]
    pub web_debug_scrapes: bool,

    /// Log level: trace, debug, info, warn, error.
    #[arg(long = "log.level", value_name = "LEVEL", default_value_t = DEFAULT_LOG_LEVEL, value_parser = LogLevel::parse)]
    pub log_level: LogLevel,

    /// Log line format: logfmt or json.
    #[arg(long = "log.format", value_name = "FORMAT", default_value = "logfmt", value_parser = ["logfmt", "json"])]
    pub log_format: String,

    /// Write log lines as JSON (the original's flag; same as -log.format=json).
    #[arg(long = "log.json", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub log_json: bool,

    /// Enable POST /-/reload (as Prometheus's --web.enable-lifecycle).
    #[arg(long = "web.enable-lifecycle", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub web_enable_lifecycle: bool,

    /// Subtracted from Prometheus's scrape timeout to get the deadline: seconds (0.5) or a Go
    /// duration (500ms).
    #[arg(long = "web.timeout-offset", value_name = "DURATION",
          default_value_t = FlagDuration(DEFAULT_TIMEOUT_OFFSET), value_parser = parse_offset)]
    pub web_timeout_offset: FlagDuration,

    /// Most scrapes served at once; more get a 503 at once (0: no limit).
    #[arg(long = "web.max-requests", value_name = "N", default_value_t = DEFAULT_MAX_REQUESTS)]
    pub web_max_requests: usize,

    /// Most client connections open at once; more wait in the listen queue.
    #[arg(long = "web.max-connections", value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub web_max_connections: usize,

    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle: seconds or a Go duration.
    #[arg(long = "web.read-header-timeout", value_name = "DURATION",
          default_value_t = FlagDuration(DEFAULT_READ_HEADER_TIMEOUT), value_parser = parse_offset)]
    pub web_read_header_timeout: FlagDuration,

    /// Largest request head (request line and headers) accepted, in bytes.
    #[arg(long = "web.max-header-bytes", value_name = "BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES)]
    pub web_max_header_bytes: usize,

    /// Largest upstream body read for verification, in bytes; more is a 502.
    #[arg(long = "upstream.max-body-bytes", value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub upstream_max_body_bytes: u64,

    /// Most bytes of upstream bodies held in memory at once, by all scrapes together (for
    /// verification, or shared by coalesced scrapes); a scrape beyond it waits for room until
    /// its deadline, then gets a 503.
    #[arg(long = "upstream.max-held-bytes", value_name = "BYTES", default_value_t = DEFAULT_MAX_HELD_BYTES)]
    pub upstream_max_held_bytes: u64,

    /// Check the configuration (modules, web config, certificates, token file) and exit.
    #[arg(long = "config.check", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub config_check: bool,

    /// Verify a metrics body (a file, or - for standard input) as the proxy would; print OK with
    /// the counts or the first problem, and exit 0 or 1.
    #[arg(long = "check.metrics", value_name = "FILE", default_value = "", allow_hyphen_values = true)]
    pub check_metrics: String,

    /// The Content-Type -check.metrics reads the body as; "" sniffs text or OpenMetrics, as
    /// exec output is.
    #[arg(long = "check.content-type", value_name = "TYPE", default_value = "", allow_hyphen_values = true)]
    pub check_content_type: String,

    /// Manage the Windows service: install (the other flags given become its arguments; with
    /// none, -config.file beside the exe), uninstall, start or stop. Windows only.
    #[arg(long = "winsvc", value_name = "COMMAND", value_parser = ServiceCommand::parse)]
    pub winsvc: Option<ServiceCommand>,

    /// Print the version and exit.
    #[arg(long = "version", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = parse_go_bool)]
    pub version: bool,

    /// The long names of the flags given on the command line (not defaulted).
    #[arg(skip)]
    pub given: std::collections::BTreeSet<String>,

    /// The flags given on the command line but `-winsvc`, as `-winsvc install` writes them into
    /// the service's command line: `-name=value` each (a boolean `-name` or `-name=false`; a
    /// repeatable flag once per value), a secret's value hidden in what is shown.
    #[arg(skip)]
    pub service_args: Vec<ServiceArg>,
}

/// Flags whose values are secrets: never printed.
pub const SECRET_FLAGS: &[&str] = &["web.bearer.token"];

impl Cli {
    /// The log format, with `-log.json` as an alias for `-log.format=json`.
    pub fn log_format(&self) -> LogFormat {
        if self.log_json || self.log_format == "json" { LogFormat::Json } else { LogFormat::Logfmt }
    }

    /// Checks the flags together and derives the settings; the error names the flags.
    pub fn settings(&self) -> Result<Settings, FlagError> {
        let proxy_path = clean_path(&self.web_proxy_path);
        let telemetry_path = clean_path(&self.web_telemetry_path);
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
            (Some(t), None) => BearerSource::Token(Secret(t)),
            (None, Some(f)) => BearerSource::File(f.into()),
            (None, None) => BearerSource::None,
        };
        let given = |f: &str| self.given.contains(f);
        Ok(Settings {
            sources: Sources {
                file: non_empty(&self.config_file).map(PathBuf::from),
                dirs: self.config_dirs.clone(),
                skip_missing_dirs: self.config_skip_dirs,
            },
            options: Options {
                proxy_path,
                telemetry_path,
                timeout_offset: self.web_timeout_offset.0,
                enable_lifecycle: self.web_enable_lifecycle,
                debug_scrapes: self.web_debug_scrapes,
                max_requests: self.web_max_requests,
                max_body_bytes: self.upstream_max_body_bytes,
                max_held_bytes: self.upstream_max_held_bytes,
                discovery_style: self.web_discovery_path_style,
            },
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
            limits: Limits {
                read_header_timeout: self.web_read_header_timeout.0,
                max_header_bytes: self.web_max_header_bytes,
                max_connections: self.web_max_connections,
            },
        })
    }

    /// Parses a full argv (program name first) written in Go's flag syntax.
    pub fn parse_go<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(rewrite(&command, args))?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
        cli.given = command
            .get_arguments()
            .filter(|a| {
                matches.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        cli.service_args = service_args(&command, &matches);
        Ok(cli)
    }
}

/// The flags given on the command line but `-winsvc`, in the order clap declares them, as the
/// service's arguments (see [`Cli::service_args`]).
fn service_args(command: &clap::Command, matches: &clap::ArgMatches) -> Vec<ServiceArg> {
    let mut out = Vec::new();
    for a in command.get_arguments() {
        let id = a.get_id().as_str();
        let Some(name) = a.get_long() else { continue };
        if name == "winsvc" || matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        // Go-style booleans are the flags whose value must follow `=`.
        let boolean = a.is_require_equals_set();
        for value in matches.get_raw(id).into_iter().flatten() {
            let value = value.to_string_lossy();
            let arg = match (boolean, value.as_ref()) {
                (true, "true") => format!("-{name}"),
                _ => format!("-{name}={value}"),
            };
            let shown = if SECRET_FLAGS.contains(&name) { format!("-{name}=<secret>") } else { arg.clone() };
            out.push(ServiceArg { arg, shown });
        }
    }
    out
}

/// Rewrites Go-style `-name[=value]` arguments to clap's `--name[=value]`, leaving alone the
/// value that follows a value-taking flag (Go takes it whatever it looks like) and everything
/// after `--`.
fn rewrite<I, T>(command: &clap::Command, args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let takes_value = |name: &str| {
        command
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .map(|a| a.get_action().takes_values() && !a.is_require_equals_set())
    };
    let mut out = Vec::new();
    let mut args = args.into_iter().map(Into::into);
    if let Some(program) = args.next() {
        out.push(program);
    }
    while let Some(arg) = args.next() {
        let Some(s) = arg.to_str().map(str::to_owned) else {
            out.push(arg);
            continue;
        };
        if s == "--" {
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        let Some(flag) = s.strip_prefix("--").or_else(|| s.strip_prefix('-')) else {
            out.push(arg);
            continue;
        };
        if flag.is_empty() || (flag.len() == 1 && !s.starts_with("--")) {
            // "-" alone, or a short flag such as -h.
            out.push(arg);
            continue;
        }
        let (name, has_value) = match flag.split_once('=') {
            Some((name, _)) => (name, true),
            None => (flag, false),
        };
        let name = if name == "help" { "help" } else { name };
        out.push(OsString::from(format!("--{flag}")));
        if !has_value
            && takes_value(name) == Some(true)
            && let Some(value) = args.next()
        {
            // Go consumes the next argument as the value, even if it starts with a dash; clap
            // would too (allow_hyphen_values), but only if it is not mistaken for a flag here.
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::parse_go(std::iter::once("exporter_exporter").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_the_original() {
        let c = parse(&[]).expect("parses");
        assert_eq!(c.config_file, "expexp.yaml");
        assert!(c.config_dirs.is_empty() && !c.config_skip_dirs);
        assert_eq!(c.web_listen_address, ":9999");
        assert_eq!(c.web_tls_listen_address, "");
        assert_eq!(c.web_tls_cert, PathBuf::from("cert.pem"));
        assert_eq!(c.web_tls_key, PathBuf::from("key.pem"));
        assert_eq!(c.web_tls_ca, PathBuf::from("ca.pem"));
        assert!(!c.web_tls_verify && c.web_tls_certmatch.is_empty());
        assert!(
            c.web_bearer_token.is_empty() && c.web_bearer_token_file.is_empty() && c.allow_net.is_empty()
        );
        assert_eq!((c.web_telemetry_path.as_str(), c.web_proxy_path.as_str()), ("/metrics", "/proxy"));
        assert_eq!(c.log_level, LogLevel::Warn);
        assert!(!c.log_json && !c.version);
        assert!(c.given.is_empty());
        let c = parse(&["-web.tls.cert=x.pem", "-log.json"]).expect("parses");
        assert_eq!(c.given.iter().map(String::as_str).collect::<Vec<_>>(), ["log.json", "web.tls.cert"]);
    }

    #[test]
    fn every_go_syntax() {
        for args in [
            &["-config.file", "a.yaml"][..],
            &["-config.file=a.yaml"],
            &["--config.file", "a.yaml"],
            &["--config.file=a.yaml"],
        ] {
            assert_eq!(parse(args).expect("parses").config_file, "a.yaml", "{args:?}");
        }
        let c = parse(&[
            "-config.dirs",
            "a",
            "--config.dirs=b",
            "-allow.net",
            "10.1.2.3/8",
            "-allow.net=::1/128",
        ])
        .expect("parses");
        assert_eq!(c.config_dirs, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(c.allow_net, ["10.0.0.0/8".parse::<IpNet>().unwrap(), "::1/128".parse().unwrap()]);
        // A value that starts with a dash is still the value, as in Go.
        assert_eq!(parse(&["-web.bearer.token", "-secret-"]).expect("parses").web_bearer_token, "-secret-");
    }

    #[test]
    fn a_repeated_flag_takes_the_last_value_as_go_does() {
        let c = parse(&["-log.level=info", "-log.level", "error", "-config.dirs=a", "-config.dirs=b"])
            .expect("parses");
        assert_eq!(c.log_level, LogLevel::Error);
        assert_eq!(c.config_dirs.len(), 2, "repeatable flags still collect every value");
    }

    #[test]
    fn go_booleans() {
        assert!(parse(&["-web.tls.verify"]).expect("bare").web_tls_verify);
        assert!(parse(&["--web.tls.verify"]).expect("bare").web_tls_verify);
        assert!(parse(&["-web.tls.verify=true"]).expect("=true").web_tls_verify);
        assert!(parse(&["-web.tls.verify=1"]).expect("=1").web_tls_verify);
        assert!(!parse(&["-web.tls.verify=false"]).expect("=false").web_tls_verify);
        assert!(!parse(&["-web.tls.verify=F"]).expect("=F").web_tls_verify);
        assert!(parse(&["-web.tls.verify=yes"]).is_err());
        // Go never takes a separate word as a boolean's value; a stray word is an error here.
        assert!(parse(&["-web.tls.verify", "false"]).is_err());
        assert!(
            parse(&["-config.skip-dirs", "-log.json"]).map(|c| c.config_skip_dirs && c.log_json).expect("ok")
        );
    }

    #[test]
    fn the_original_readme_tls_flag_line_parses() {
        let line = "-web.listen-address= -web.tls.listen-address=:9998 \
                    -web.tls.cert=/etc/prometheus/ssl/prom_node_cert.pem \
                    -web.tls.key=/etc/prometheus/ssl/prom_node_key.pem \
                    -web.tls.ca=/etc/prometheus/ssl/prometheus_cert.pem \
                    -web.tls.verify";
        let args: Vec<&str> = line.split_whitespace().collect();
        let c = parse(&args).expect("parses");
        assert_eq!(c.web_listen_address, "");
        assert_eq!(c.web_tls_listen_address, ":9998");
        assert_eq!(c.web_tls_ca, PathBuf::from("/etc/prometheus/ssl/prometheus_cert.pem"));
        assert!(c.web_tls_verify);
    }

    #[test]
    fn the_service_gets_each_flag_given_as_name_equals_value() {
        let c = parse(&[
            "--winsvc=install",
            "-web.listen-address",
            ":9998",
            "-config.dirs=C:\\a dir",
            "-config.dirs",
            "b",
            "-web.tls.verify",
            "-log.json=false",
            "-web.bearer.token",
            "hunter2",
        ])
        .expect("parses");
        assert_eq!(c.winsvc, Some(ServiceCommand::Install));
        let args: Vec<&str> = c.service_args.iter().map(|a| a.arg.as_str()).collect();
        assert_eq!(
            args,
            [
                "-config.dirs=C:\\a dir",
                "-config.dirs=b",
                "-web.listen-address=:9998",
                "-web.tls.verify",
                "-web.bearer.token=hunter2",
                "-log.json=false"
            ]
        );
        let shown: Vec<&str> = c.service_args.iter().map(|a| a.shown.as_str()).collect();
        assert!(
            shown.contains(&"-web.bearer.token=<secret>") && !shown.iter().any(|s| s.contains("hunter2"))
        );
        // Re-parsed, the service's arguments give the same flags.
        let again = Cli::parse_go(
            std::iter::once("exporter_exporter".to_owned()).chain(args.iter().map(|a| a.to_string())),
        )
        .expect("parses");
        assert_eq!(again.config_dirs, c.config_dirs);
        assert_eq!(
            (again.web_listen_address, again.web_tls_verify, again.log_json),
            (":9998".into(), true, false)
        );
        assert_eq!(again.web_bearer_token, "hunter2");
    }

    #[test]
    fn winsvc_takes_four_commands_and_refuses_others() {
        for (word, command) in [
            ("install", ServiceCommand::Install),
            ("uninstall", ServiceCommand::Uninstall),
            ("start", ServiceCommand::Start),
            ("stop", ServiceCommand::Stop),
        ] {
            assert_eq!(parse(&["-winsvc", word]).expect("parses").winsvc, Some(command));
        }
        assert_eq!(parse(&[]).expect("parses").winsvc, None);
        let e = parse(&["-winsvc", "remove"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown -winsvc command \"remove\" (one of install, uninstall, start, stop)"),
            "{e}"
        );
    }

    #[test]
    fn bad_flags_are_errors() {
        let e = parse(&["-nosuchflag"]).unwrap_err();
        assert!(e.to_string().contains("--nosuchflag"), "{e}");
        assert!(parse(&["-allow.net", "10.0.0.1"]).unwrap_err().to_string().contains("invalid CIDR"));
        assert!(parse(&["-log.level", "loud"]).unwrap_err().to_string().contains("not a valid log level"));
        assert!(parse(&["stray"]).is_err());
        assert_eq!(parse(&["-h"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(parse(&["-help"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(parse(&["--help"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
    }

    #[test]
    fn operations_flags() {
        let c = parse(&[]).expect("defaults");
        assert_eq!(c.web_timeout_offset.0, std::time::Duration::from_millis(500));
        assert!(!c.web_enable_lifecycle && !c.config_check);
        assert_eq!(c.log_format(), LogFormat::Logfmt);
        let c = parse(&[
            "-web.timeout-offset=250ms",
            "-web.enable-lifecycle",
            "-config.check",
            "-log.format=json",
        ])
        .expect("parses");
        assert_eq!(c.web_timeout_offset.0, std::time::Duration::from_millis(250));
        assert!(c.web_enable_lifecycle && c.config_check);
        assert_eq!(c.log_format(), LogFormat::Json);
        assert_eq!(parse(&["-log.json"]).expect("alias").log_format(), LogFormat::Json);
        assert_eq!(
            parse(&["-web.timeout-offset", "1"]).expect("secs").web_timeout_offset.0,
            std::time::Duration::from_secs(1)
        );
        assert!(parse(&["-web.timeout-offset=-1s"]).is_err());
        assert!(parse(&["-log.format=xml"]).is_err());
    }

    #[test]
    fn an_empty_command_line_gives_the_defaults_the_code_uses() {
        assert_eq!(parse(&[]).expect("defaults").settings().expect("settings"), Settings::default());
    }

    #[test]
    fn flags_that_cannot_work_together_are_refused_by_name() {
        let settings = |args: &[&str]| parse(args).expect("parses").settings();
        assert_eq!(settings(&["-web.proxy-path=/m", "-web.telemetry-path=m/"]), Err(FlagError::SamePaths));
        assert_eq!(settings(&["-web.proxy-path=/"]), Err(FlagError::RootPath));
        assert_eq!(
            settings(&["-web.bearer.token=a", "-web.bearer.token-file=b"]),
            Err(FlagError::BearerConflict)
        );
        assert_eq!(settings(&["-check.content-type=text/plain"]), Err(FlagError::CheckContentTypeAlone));
    }

    #[test]
    fn durations_show_as_go_writes_them() {
        assert_eq!(FlagDuration(Duration::from_millis(500)).to_string(), "500ms");
        assert_eq!(FlagDuration(Duration::from_secs(10)).to_string(), "10s");
        assert_eq!(
            parse_offset(&FlagDuration(Duration::from_nanos(1_500)).to_string()),
            Ok(FlagDuration(Duration::from_nanos(1_500)))
        );
    }

    #[test]
    fn the_checker_takes_a_file_or_a_dash_go_style() {
        for args in [&["-check.metrics", "-"][..], &["-check.metrics=-"], &["--check.metrics", "-"]] {
            assert_eq!(parse(args).expect("parses").check_metrics, "-", "{args:?}");
        }
        let c = parse(&["-check.metrics", "m.prom", "-check.content-type", "application/openmetrics-text"])
            .expect("parses");
        assert_eq!(
            (c.check_metrics.as_str(), c.check_content_type.as_str()),
            ("m.prom", "application/openmetrics-text")
        );
        assert!(parse(&["-check.metrics"]).is_err(), "the file is not optional");
    }

    #[test]
    fn log_levels_take_logrus_names() {
        assert_eq!(parse(&["-log.level=warning"]).expect("ok").log_level, LogLevel::Warn);
        assert_eq!(parse(&["-log.level", "DEBUG"]).expect("ok").log_level, LogLevel::Debug);
    }
}
