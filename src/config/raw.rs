//! The serde mirror of the YAML, exactly as operators write it. The only place where a choice
//! is still a string or an `Option` (with each method's block, in the method's file);
//! `module.rs` turns it into types that cannot be wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::block::Invalid;
use super::docker::DockerBlock;
use crate::method::definition::Definition;
use crate::method::{MethodConfig, MethodName};

/// The top level of `-config.file`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(rename = "defaultModule")]
    pub(super) default_module: Option<String>,
    pub(super) modules: Option<BTreeMap<String, Module>>,
    pub(super) docker: Option<DockerBlock>,
    /// Present (and empty) in the original's schema; accepted and ignored.
    #[expect(dead_code, reason = "accepted for compatibility, never used")]
    pub(super) global: Option<serde::de::IgnoredAny>,
}

macro_rules! module {
    ($($variant:ident($config:ty) = $key:ident),* $(,)?) => {
        /// `modules.NAME`, or a whole file in `-config.dirs`: the keys every module has, and
        /// one block per method (method.rs's list).
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct Module {
            pub(super) method: Option<MethodName>,
            pub(super) timeout: Option<Timeout>,
            pub(super) labels: Option<BTreeMap<String, String>>,
            pub(super) coalesce: Option<bool>,
            pub(super) debug: Option<bool>,
            $(pub(super) $key: Option<<$config as Definition>::Block>,)*
        }

        impl Module {
            /// The names of the method blocks given.
            pub(super) fn blocks_given(&self) -> Vec<&'static str> {
                let mut given = Vec::new();
                $(if self.$key.is_some() {
                    given.push(<$config as Definition>::NAME);
                })*
                given
            }

            /// The block of `method`, checked; `None` when it is not given.
            pub(super) fn take_block(&mut self, method: MethodName) -> Option<Result<MethodConfig, Invalid>> {
                match method {
                    $(MethodName::$variant => self.$key.take().map(|block| {
                        <$config as Definition>::check(block).map(|c| MethodConfig::$variant(Box::new(c)))
                    }),)*
                }
            }
        }
    };
}

crate::method::for_each_method!(module);

/// A duration in Go syntax, or a bare integer of nanoseconds as Go's YAML decoder reads it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Timeout {
    Nanos(i64),
    Text(String),
}
