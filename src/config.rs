//! The YAML configuration: `-config.file` plus every `-config.dirs` entry, parsed once into a
//! [`Config`] that cannot hold an invalid value. Loading reads files and nothing else; what it
//! would like to say to the operator comes back as warnings for the caller to log.

pub mod block;
pub mod docker;
mod duration;
mod module;
mod raw;
pub mod tls;
pub mod web;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use docker::DockerConfig;
pub use duration::{parse_go_duration, parse_timeout};
pub use module::Module;

/// The modules to serve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The module used when a request names none.
    pub default_module: Option<String>,
    /// Every module, by name.
    pub modules: BTreeMap<String, Module>,
    /// How to reach the Docker Engine API: the `docker:` block, or Docker's defaults when a
    /// module names a container without one; `None` when nothing needs it.
    pub docker: Option<DockerConfig>,
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFiles {
    /// `-config.file`; `None` when given as `""`.
    pub file: Option<PathBuf>,
    /// `-config.dirs`, in order.
    pub dirs: Vec<PathBuf>,
    /// `-config.skip-dirs`: a missing directory is a warning, not an error.
    pub skip_missing_dirs: bool,
}

/// Why the configuration cannot be used. Every message names the file, and where it can, the
/// module and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML is malformed or does not fit the schema.
    #[error("{}{}: {message}", path.display(), at(*location))]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Line and column, when known.
        location: Option<(u64, u64)>,
        /// The parser's message, after the path of the key at fault.
        message: String,
    },
    /// A module's settings are wrong.
    #[error("{}: module {module:?}: {key}: {problem}", path.display())]
    Module {
        /// The file the module is in.
        path: PathBuf,
        /// The module.
        module: String,
        /// The key, as a dotted path inside the module.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// The same module name twice.
    #[error("module {module:?} is defined twice: in {} and in {}", first.display(), second.display())]
    Duplicate {
        /// The module.
        module: String,
        /// Where it was first defined.
        first: PathBuf,
        /// Where it was defined again.
        second: PathBuf,
    },
    /// The `docker:` block (or, without one, `$DOCKER_HOST` and its kin) is wrong.
    #[error("{}: {key}: {problem}", path.display())]
    Docker {
        /// The file with the block (or the one naming a container, for the environment).
        path: PathBuf,
        /// The key (`docker.host`), or the environment variable (`DOCKER_HOST`).
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// `defaultModule` names no module.
    #[error("{}: defaultModule: {module:?} is not a configured module", path.display())]
    UnknownDefault {
        /// The file with `defaultModule`.
        path: PathBuf,
        /// The name it gives.
        module: String,
    },
}

fn at(location: Option<(u64, u64)>) -> String {
    location.map(|(line, column)| format!(":{line}:{column}")).unwrap_or_default()
}

impl Config {
    /// Loads and checks the configuration from its files. Returns it with the warnings that
    /// the caller should log (skipped files and directories).
    pub fn load(files: &ConfigFiles) -> Result<(Config, Vec<String>), ConfigError> {
        let mut warnings = Vec::new();
        let mut config = Config::default();
        let mut default_from = None;
        if let Some(path) = &files.file {
            let text = read(path)?;
            config = Config::from_yaml(&text, path)?;
            default_from = Some(path.clone());
        }
        for dir in &files.dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if files.skip_missing_dirs && e.kind() == std::io::ErrorKind::NotFound => {
                    warnings.push(format!("skipping missing config directory {}", dir.display()));
                    continue;
                }
                Err(source) => return Err(ConfigError::Read { path: dir.clone(), source }),
            };
            let mut paths = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|source| ConfigError::Read { path: dir.clone(), source })?;
                paths.push(entry.path());
            }
            // Go's ReadDir returns names in order; module definition order follows it.
            paths.sort();
            for path in paths {
                let ext = path.extension().and_then(|e| e.to_str());
                let stem = path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.is_empty());
                let (Some("yml" | "yaml"), Some(name), false) = (ext, stem, path.is_dir()) else {
                    warnings.push(format!("skipping non-YAML file {}", path.display()));
                    continue;
                };
                let text = read(&path)?;
                let module = module_from_yaml(name, &text, &path)?;
                if let Some(existing) = config.modules.get(name) {
                    return Err(ConfigError::Duplicate {
                        module: name.to_owned(),
                        first: existing.defined_in.clone(),
                        second: path,
                    });
                }
                config.modules.insert(name.to_owned(), module);
            }
        }
        if let Some(name) = &config.default_module
            && !config.modules.contains_key(name)
        {
            return Err(ConfigError::UnknownDefault {
                path: default_from.unwrap_or_default(),
                module: name.clone(),
            });
        }
        if config.docker.is_none()
            && let Some(m) = config.modules.values().find(|m| m.names_a_container())
        {
            config.docker = Some(DockerConfig::from_raw(None, &process_env).map_err(|e| {
                ConfigError::Docker { path: m.defined_in.clone(), key: e.key.into(), problem: e.problem }
            })?);
        }
        if config.modules.is_empty() && config.docker.as_ref().is_none_or(|d| d.discover.is_none()) {
            warnings.push("no modules loaded from any config file".to_owned());
        }
        Ok((config, warnings))
    }

    /// Parses the text of a `-config.file`; `path` names it in errors. `defaultModule` is
    /// checked by [`Config::load`], once the directories are read too.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: raw::File = parse_yaml(text, path)?;
        let raw::File { default_module, modules, docker, global: _ } = raw;
        let docker = match docker {
            Some(block) => Some(DockerConfig::from_raw(Some(block), &process_env).map_err(|e| {
                ConfigError::Docker { path: path.to_owned(), key: e.key.into(), problem: e.problem }
            })?),
            None => None,
        };
        let mut config =
            Config { default_module: default_module.filter(|d| !d.is_empty()), docker, ..Config::default() };
        for (name, raw_module) in modules.unwrap_or_default() {
            if name.is_empty() {
                return Err(ConfigError::Yaml {
                    path: path.to_owned(),
                    location: None,
                    message: "modules: empty module name".into(),
                });
            }
            let module =
                Module::from_raw(&name, path.to_owned(), raw_module).map_err(|e| ConfigError::Module {
                    path: path.to_owned(),
                    module: name.clone(),
                    key: e.key.into(),
                    problem: e.problem,
                })?;
            config.modules.insert(name, module);
        }
        Ok(config)
    }
}

/// Parses one file of a `-config.dirs` directory: a module named after the file.
fn module_from_yaml(name: &str, text: &str, path: &Path) -> Result<Module, ConfigError> {
    let raw: Option<raw::Module> = parse_yaml(text, path)?;
    let Some(raw) = raw else {
        return Err(ConfigError::Module {
            path: path.to_owned(),
            module: name.to_owned(),
            key: "method".into(),
            problem: "the file is empty".into(),
        });
    };
    Module::from_raw(name, path.to_owned(), raw).map_err(|e| ConfigError::Module {
        path: path.to_owned(),
        module: name.to_owned(),
        key: e.key.into(),
        problem: e.problem,
    })
}

/// The process's environment, where Docker's client reads its defaults.
fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    String::from_utf8(bytes).map_err(|e| ConfigError::Yaml {
        path: path.to_owned(),
        location: None,
        message: format!("not UTF-8 text: {e}"),
    })
}

/// Deserializes YAML, prefixing errors with the path of the key at fault.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    path: &Path,
) -> Result<T, ConfigError> {
    // An empty document (or only comments) is an empty config, as in Go.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(T::default());
    }
    let mut key_path = String::new();
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            key_path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let location = e.location().map(|l| (l.line(), l.column()));
        let text = e.without_snippet().to_string();
        let mut text = text.strip_prefix("error: ").unwrap_or(&text);
        if let Some((line, column)) = location {
            text = text.strip_prefix(&format!("line {line} column {column}: ")).unwrap_or(text);
        }
        let key =
            if key_path.is_empty() || key_path == "." { String::new() } else { format!("{key_path}: ") };
        ConfigError::Yaml { path: path.to_owned(), location, message: format!("{key}{text}") }
    })
}
