//! A module as the rest of the program sees it: its name, where it was defined, its timeout,
//! labels and switches, and its method's checked configuration ([`MethodConfig`]), nothing
//! left to interpret at request time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::block::{Invalid, invalid};
use super::duration::parse_timeout;
use super::raw;
use crate::method::http::Endpoint;
use crate::method::{MethodConfig, MethodName};

/// One configured module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its name, the `module` query parameter that selects it.
    pub name: String,
    /// The file it was defined in.
    pub defined_in: PathBuf,
    /// The module's own timeout, if any.
    pub timeout: Option<Duration>,
    /// Extra target labels for service discovery.
    pub labels: BTreeMap<String, String>,
    /// Whether identical scrapes in flight share one upstream fetch (`coalesce`, on by default).
    pub coalesce: bool,
    /// Whether `&debug=true` gives a debug report (`debug`, on by default); off, the parameter
    /// goes upstream like any other.
    pub debug: bool,
    /// Where its metrics come from.
    pub method: MethodConfig,
}

impl Module {
    /// Whether the module reaches its exporter through a container's address.
    pub fn names_a_container(&self) -> bool {
        matches!(&self.method, MethodConfig::Http(h) if matches!(h.endpoint, Endpoint::Container(_)))
    }
}

impl Module {
    pub(super) fn from_raw(name: &str, defined_in: PathBuf, mut raw: raw::Module) -> Result<Module, Invalid> {
        let Some(method) = raw.method else {
            return Err(invalid("method", format!("missing: must be {}", MethodName::listed())));
        };
        let timeout = timeout(raw.timeout.take())?;
        let labels = labels(raw.labels.take().unwrap_or_default())?;
        let method = method_config(&mut raw, method)?;
        Ok(Module {
            name: name.to_owned(),
            defined_in,
            timeout,
            labels,
            coalesce: raw.coalesce.unwrap_or(true),
            debug: raw.debug.unwrap_or(true),
            method,
        })
    }
}

/// `timeout`: a Go duration; 0 or none is no timeout of the module's own.
fn timeout(timeout: Option<raw::Timeout>) -> Result<Option<Duration>, Invalid> {
    match timeout {
        None | Some(raw::Timeout::Nanos(0)) => Ok(None),
        Some(raw::Timeout::Nanos(n)) => Err(invalid(
            "timeout",
            format!("{n} is a bare number (Go reads it as {n} nanoseconds); write a unit, e.g. {n}s"),
        )),
        Some(raw::Timeout::Text(t)) => parse_timeout(&t).map_err(|p| invalid("timeout", p)),
    }
}

/// `labels`: target label names, not `module` (the proxy's) and not reserved (`__`).
fn labels(labels: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Invalid> {
    for name in labels.keys() {
        if name == "module" {
            return Err(invalid("labels", "\"module\" is set by the proxy and cannot be overridden"));
        }
        if !is_label_name(name) || name.starts_with("__") {
            return Err(invalid(
                "labels",
                format!(
                    "{name:?} is not a valid target label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
                ),
            ));
        }
    }
    Ok(labels)
}

/// The block of `method`, checked: it must be given, and no other method's block.
fn method_config(raw: &mut raw::Module, method: MethodName) -> Result<MethodConfig, Invalid> {
    let wanted = method.as_str();
    if let Some(other) = raw.blocks_given().into_iter().find(|given| *given != wanted) {
        let problem =
            format!("block not allowed with method {wanted} (only {} block is)", method.with_article());
        return Err(Invalid { key: other, problem });
    }
    raw.take_block(method).unwrap_or_else(|| {
        Err(invalid(wanted, format!("missing: method {wanted} needs {} block", method.with_article())))
    })
}

fn is_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
