//! The methods a module can get its metrics by (`method:` in the YAML), one file each, and the
//! one list of them (`for_each_method!`). Everything that names the methods comes from the
//! list: the checked configuration [`MethodConfig`], the names the YAML takes ([`MethodName`],
//! and the messages that list them), the module's YAML mirror with one block per method and the
//! check that a module has its method's block and no other (config/raw.rs), the JSON listing's
//! [`MethodView`], and [`AnyRunner`], the runner of one module whatever its method. Each
//! method's file implements [`definition::Definition`] (its block, its checks, its view, its
//! runner) and [`runner::Runner`] (its counters among them); adding a method is that file and
//! its line in the list.

pub mod build;
pub mod definition;
pub mod exec;
pub mod file;
pub mod http;
pub mod runner;

use serde::{Deserialize, Serialize};

use build::{BuildContext, BuildProblem};
use definition::Definition;
use runner::{Answer, ModuleRef, Runner};

use crate::scrape::{ScrapeError, ScrapeRequest};
use crate::telemetry::{Families, ModuleMetrics};

/// Calls the macro `$then` with the list of methods, in the order the YAML schema and the JSON
/// listing give them: `Variant(ConfigType) = block_key`, one a line.
macro_rules! for_each_method {
    ($then:ident) => {
        $then! {
            Http(crate::method::http::HttpConfig) = http,
            Exec(crate::method::exec::ExecConfig) = exec,
            File(crate::method::file::FileConfig) = file,
        }
    };
}
pub(crate) use for_each_method;

macro_rules! methods {
    ($($variant:ident($config:ty) = $key:ident),* $(,)?) => {
        /// Where a module's metrics come from: its method, and its block checked.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum MethodConfig {
            $(
                #[doc = concat!("`method: ", stringify!($key), "`.")]
                $variant(Box<$config>),
            )*
        }

        /// A method's name, as `method:` gives it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum MethodName {
            $(
                #[doc = concat!("`", stringify!($key), "`.")]
                $variant,
            )*
        }

        /// What the JSON listing shows of a module's method.
        #[derive(Debug)]
        pub enum MethodView<'a> {
            $(
                #[doc = concat!("`method: ", stringify!($key), "`.")]
                $variant(<$config as Definition>::View<'a>),
            )*
        }

        /// The runner of one module, whatever its method.
        #[derive(Debug)]
        pub enum AnyRunner {
            $(
                #[doc = concat!("`method: ", stringify!($key), "`.")]
                $variant(Box<<$config as Definition>::Runner>),
            )*
        }

        impl MethodName {
            /// Every name, in the list's order.
            pub const NAMES: &'static [&'static str] = &[$(<$config as Definition>::NAME),*];

            /// The name as the YAML writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(MethodName::$variant => <$config as Definition>::NAME,)*
                }
            }

            fn from_name(name: &str) -> Option<MethodName> {
                $(if name == <$config as Definition>::NAME {
                    return Some(MethodName::$variant);
                })*
                None
            }
        }

        impl MethodConfig {
            /// The method's name, as the YAML writes it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(MethodConfig::$variant(_) => <$config as Definition>::NAME,)*
                }
            }

            /// What the JSON listing shows of it.
            pub fn view(&self) -> MethodView<'_> {
                match self {
                    $(MethodConfig::$variant(c) => MethodView::$variant(c.view()),)*
                }
            }
        }

        impl MethodView<'_> {
            /// Its key in the JSON listing.
            pub fn key(&self) -> &'static str {
                match self {
                    $(MethodView::$variant(_) => <$config as Definition>::VIEW_KEY,)*
                }
            }
        }

        impl Serialize for MethodView<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(MethodView::$variant(v) => v.serialize(serializer),)*
                }
            }
        }

        impl AnyRunner {
            /// Builds the runner of `config`; what it reads (TLS files) is read now, so that
            /// errors show at (re)load.
            pub fn build(config: &MethodConfig, context: &BuildContext<'_>) -> Result<AnyRunner, BuildProblem> {
                Ok(match config {
                    $(MethodConfig::$variant(c) => AnyRunner::$variant(Box::new(c.build(context)?)),)*
                })
            }
        }

        impl Runner for AnyRunner {
            async fn run<'r>(
                &'r self,
                req: &'r ScrapeRequest<'_>,
                module: ModuleRef<'r>,
            ) -> Result<Answer<'r>, ScrapeError> {
                match self {
                    $(AnyRunner::$variant(r) => r.run(req, module).await,)*
                }
            }

            fn method(&self) -> &'static str {
                match self {
                    $(AnyRunner::$variant(r) => r.method(),)*
                }
            }

            fn describe(&self, req: &ScrapeRequest<'_>) -> String {
                match self {
                    $(AnyRunner::$variant(r) => r.describe(req),)*
                }
            }

            fn families(&self) -> Families {
                match self {
                    $(AnyRunner::$variant(r) => r.families(),)*
                }
            }

            fn verifies(&self) -> bool {
                match self {
                    $(AnyRunner::$variant(r) => r.verifies(),)*
                }
            }

            fn count_failure(&self, failure: &ScrapeError, metrics: &ModuleMetrics) {
                match self {
                    $(AnyRunner::$variant(r) => r.count_failure(failure, metrics),)*
                }
            }

            fn stale(&self, context: &BuildContext<'_>, rereading: bool) -> bool {
                match self {
                    $(AnyRunner::$variant(r) => r.stale(context, rereading),)*
                }
            }
        }
    };
}

for_each_method!(methods);

impl MethodName {
    /// The names for a message: `http, exec or file`.
    pub fn listed() -> String {
        match MethodName::NAMES.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The name with its article, for a message: `an http`, `a file`.
    pub fn with_article(self) -> String {
        // Method names are read letter by letter (http) or as words (exec, file); those
        // starting with a vowel, or with an h read as "aitch", take "an".
        let name = self.as_str();
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u', 'h']) { "an" } else { "a" };
        format!("{article} {name}")
    }
}

impl<'de> Deserialize<'de> for MethodName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<MethodName, D::Error> {
        let name = String::deserialize(deserializer)?;
        MethodName::from_name(&name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, MethodName::NAMES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_gives_the_names_and_the_messages() {
        assert_eq!(MethodName::NAMES[..3], ["http", "exec", "file"]);
        let listed = MethodName::listed();
        assert!(listed.starts_with("http, exec") && listed.contains(" or "), "{listed}");
        assert_eq!(MethodName::Http.with_article(), "an http");
        assert_eq!(MethodName::File.with_article(), "a file");
    }
}
