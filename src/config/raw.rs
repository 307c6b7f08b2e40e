//! The serde mirror of the YAML, exactly as operators write it. The only place where a choice
//! is still a string or an `Option`; `module.rs` turns it into types that cannot be wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The top level of `-config.file`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(rename = "defaultModule")]
    pub(super) default_module: Option<String>,
    pub(super) modules: Option<BTreeMap<String, Module>>,
    pub(super) docker: Option<Docker>,
    /// Present (and empty) in the original's schema; accepted and ignored.
    #[expect(dead_code, reason = "accepted for compatibility, never used")]
    pub(super) global: Option<serde::de::IgnoredAny>,
}

/// `modules.NAME`, or a whole file in `-config.dirs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Module {
    pub(super) method: Option<Method>,
    pub(super) timeout: Option<Timeout>,
    pub(super) labels: Option<BTreeMap<String, String>>,
    pub(super) coalesce: Option<bool>,
    pub(super) debug: Option<bool>,
    pub(super) http: Option<Http>,
    pub(super) exec: Option<Exec>,
    pub(super) file: Option<FileBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Method {
    Http,
    Exec,
    File,
}

/// A duration in Go syntax, or a bare integer of nanoseconds as Go's YAML decoder reads it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Timeout {
    Nanos(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Http {
    pub(super) port: Option<i64>,
    pub(super) address: Option<String>,
    pub(super) socket: Option<String>,
    pub(super) scheme: Option<String>,
    pub(super) path: Option<String>,
    pub(super) headers: Option<BTreeMap<String, String>>,
    pub(super) verify: Option<bool>,
    pub(super) basic_auth_username: Option<String>,
    pub(super) basic_auth_password: Option<String>,
    pub(super) tls_insecure_skip_verify: Option<bool>,
    pub(super) tls_cert_file: Option<String>,
    pub(super) tls_key_file: Option<String>,
    pub(super) tls_ca_cert_file: Option<String>,
    pub(super) tls_root_ca_file: Option<String>,
    pub(super) server_name: Option<String>,
    pub(super) container: Option<String>,
    pub(super) address_mode: Option<String>,
    pub(super) network: Option<String>,
    pub(super) max_connections: Option<i64>,
}

/// The top-level `docker:` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Docker {
    pub(super) host: Option<String>,
    pub(super) tls_verify: Option<bool>,
    pub(super) cert_path: Option<String>,
    pub(super) refresh_interval: Option<String>,
    pub(super) cache_ttl: Option<String>,
    pub(super) discover: Option<Discover>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Discover {
    pub(super) label_prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Exec {
    pub(super) command: Option<String>,
    pub(super) args: Option<Vec<String>>,
    pub(super) env: Option<BTreeMap<String, String>>,
    pub(super) allow_args: Option<bool>,
    pub(super) max_concurrency: Option<i64>,
    pub(super) max_output_bytes: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBlock {
    pub(super) path: Option<String>,
    pub(super) max_bytes: Option<i64>,
}
