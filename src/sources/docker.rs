//! Discovery from labels: every running container labelled `<prefix>/scrape: "true"` becomes a
//! module, named after the container (or its `<prefix>/module` label), scraped on
//! `<prefix>/port` at `<prefix>/path` over `<prefix>/scheme`. The set is listed every
//! `refresh_interval` and handed to the module set as one source; with the daemon down the
//! last set keeps serving and one warning is logged until it answers again.

use std::collections::BTreeMap;
use std::num::{NonZeroU16, NonZeroUsize};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Wanted;
use crate::config::Module;
use crate::config::docker::{AddressMode, ContainerTarget, DockerConfig};
use crate::docker::Connection;
use crate::docker::api::DockerClient;
use crate::docker::model::ContainerSummary;
use crate::method::MethodConfig;
use crate::method::http::{DEFAULT_MAX_CONNECTIONS, Endpoint, HttpConfig, Scheme};
use crate::modules::{ModuleSet, Source};
use crate::telemetry::DockerMetrics;

/// The running discovery loop; dropping it stops the loop, and the count of discovered modules
/// goes to zero.
#[derive(Debug)]
pub struct Discovery {
    task: JoinHandle<()>,
    metrics: Arc<DockerMetrics>,
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.task.abort();
        self.metrics.stopped();
    }
}

/// Discovery, if `connection`'s block asks for it (`discover:`): it runs for that connection,
/// so a reload that keeps the connection keeps it running.
pub fn wanted(connection: &Arc<Connection>, metrics: &Arc<DockerMetrics>) -> Option<Wanted> {
    connection.config.discover.as_ref()?;
    let (for_start, metrics) = (connection.clone(), metrics.clone());
    Some(Wanted {
        source: Source::Docker,
        runs_for: connection.clone(),
        start: Box::new(move |modules| {
            let discovery = Discovery::start(&for_start.config, for_start.client.clone(), modules, metrics);
            Box::new(discovery)
        }),
    })
}

impl Discovery {
    /// Starts listing labelled containers every `config.refresh_interval`, the first time now.
    /// `None` when `config` has no `discover` block.
    pub fn start(
        config: &DockerConfig,
        client: Arc<DockerClient>,
        modules: Arc<ModuleSet>,
        metrics: Arc<DockerMetrics>,
    ) -> Option<Discovery> {
        let prefix = config.discover.as_ref()?.label_prefix.clone();
        let interval = config.refresh_interval;
        let host = config.host.to_string();
        let loop_metrics = metrics.clone();
        let task = tokio::spawn(async move {
            let metrics = loop_metrics;
            let mut failing = false;
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let filter = format!("{prefix}/scrape=true");
                // A refresh may take at most one interval: the next one starts on time.
                match client.containers(Some(&filter), Instant::now() + interval).await {
                    Ok(containers) => {
                        if failing {
                            tracing::warn!(docker = %host, "Docker daemon answers again; discovery resumed");
                        }
                        failing = false;
                        let found = modules_of(&prefix, &containers);
                        let count = found.len();
                        match modules.replace(Source::Docker, found) {
                            Ok(()) => {
                                metrics.discovered(count);
                                tracing::debug!(modules = count, "discovered containers refreshed");
                            }
                            Err(problems) => {
                                for p in problems {
                                    tracing::warn!(error = %p, "a discovered container cannot be served");
                                }
                            }
                        }
                    }
                    Err(e) => {
                        metrics.api_errors.inc();
                        if !failing {
                            tracing::warn!(docker = %host, error = %e, "cannot list containers; the last discovered set keeps serving");
                        }
                        failing = true;
                    }
                }
            }
        });
        Some(Discovery { task, metrics })
    }
}

/// The modules the labelled containers stand for. Pure; containers whose labels cannot make a
/// module are skipped with a warning.
pub fn modules_of(prefix: &str, containers: &[ContainerSummary]) -> BTreeMap<String, Module> {
    let mut out = BTreeMap::new();
    for c in containers {
        let Some(module) = module_of(prefix, c) else { continue };
        if out.contains_key(&module.name) {
            let container = module.labels.get("container").map_or("", String::as_str);
            tracing::warn!(module = %module.name, container = %container, "two labelled containers give the same module name; keeping the first");
            continue;
        }
        out.insert(module.name.clone(), module);
    }
    out
}

/// The module one container stands for, if it is labelled for scraping and its labels make one.
fn module_of(prefix: &str, c: &ContainerSummary) -> Option<Module> {
    let label = |key: &str| c.labels.get(&format!("{prefix}/{key}")).filter(|v| !v.is_empty());
    let container = c.name().map_or_else(|| c.id.clone(), str::to_owned);
    if label("scrape").map(String::as_str) != Some("true") {
        return None;
    }
    let name = sanitise(label("module").unwrap_or(&container));
    let port = match label("port") {
        Some(p) => p.parse::<u16>().ok().and_then(NonZeroU16::new),
        // One exposed TCP port: that is the exporter's.
        None => {
            match c.ports.iter().filter(|p| p.protocol == "tcp").map(|p| p.private_port).collect::<Vec<_>>()[..]
            {
                [only] => NonZeroU16::new(only),
                _ => None,
            }
        }
    };
    let Some(port) = port else {
        tracing::warn!(container = %container, "labelled for scraping but no usable {prefix}/port label (and not exactly one exposed port); skipped");
        return None;
    };
    let scheme = match label("scheme").map(String::as_str) {
        None | Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        Some(other) => {
            tracing::warn!(container = %container, scheme = %other, "{prefix}/scheme is not http or https; skipped");
            return None;
        }
    };
    let (path, query) = match label("path") {
        Some(p) => match p.split_once('?') {
            Some((p, q)) => (p.to_owned(), form_urlencoded::parse(q.as_bytes()).into_owned().collect()),
            None => (p.clone(), Vec::new()),
        },
        None => ("/metrics".to_owned(), Vec::new()),
    };
    if !path.starts_with('/') {
        tracing::warn!(container = %container, path = %path, "{prefix}/path must start with /; skipped");
        return None;
    }
    let endpoint = Endpoint::Container(ContainerTarget {
        name: c.id.clone(),
        port,
        mode: AddressMode::Network,
        network: None,
    });
    let Ok(default_host) = HttpConfig::default_host(scheme, &endpoint) else {
        tracing::warn!(container = %container, "its ID does not make a Host header; skipped");
        return None;
    };
    let config = HttpConfig {
        scheme,
        endpoint,
        path,
        query,
        headers: Vec::new(),
        host: None,
        verify: true,
        basic_auth: None,
        tls: Default::default(),
        max_connections: NonZeroUsize::new(DEFAULT_MAX_CONNECTIONS).unwrap_or(NonZeroUsize::MIN),
        default_host,
    };
    Some(Module {
        name,
        defined_in: PathBuf::from(format!("docker container {container}")),
        timeout: None,
        labels: target_labels(prefix, c, &container),
        coalesce: true,
        debug: true,
        method: MethodConfig::Http(Box::new(config)),
    })
}

/// The target labels of a container's module: `container`, `image`, and its
/// `<prefix>/label.NAME` labels.
fn target_labels(prefix: &str, c: &ContainerSummary, container: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("container".to_owned(), container.to_owned()),
        ("image".to_owned(), c.image.clone()),
    ]);
    let extra = format!("{prefix}/label.");
    for (k, v) in &c.labels {
        if let Some(target_label) = k.strip_prefix(&extra)
            && is_target_label(target_label)
        {
            labels.insert(target_label.to_owned(), v.clone());
        }
    }
    labels
}

/// A module name from a container name or label: letters, digits, `_`, `-` and `.` kept,
/// anything else made `_`.
fn sanitise(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "_-.".contains(c) { c } else { '_' }).collect()
}

fn is_target_label(name: &str) -> bool {
    let mut b = name.bytes();
    name != "module"
        && !name.starts_with("__")
        && b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::model::PortSummary;

    fn container(name: &str, labels: &[(&str, &str)]) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name}-id"),
            names: vec![format!("/{name}")],
            image: "busybox:test".into(),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..ContainerSummary::default()
        }
    }

    #[test]
    fn labelled_containers_become_modules() {
        let found = modules_of(
            "prometheus.io",
            &[
                container(
                    "pg",
                    &[
                        ("prometheus.io/scrape", "true"),
                        ("prometheus.io/port", "9187"),
                        ("prometheus.io/path", "/m?x=1"),
                        ("prometheus.io/label.team", "db"),
                        ("prometheus.io/label.__bad", "x"),
                    ],
                ),
                container("web", &[("prometheus.io/scrape", "false"), ("prometheus.io/port", "80")]),
                container(
                    "named",
                    &[
                        ("prometheus.io/scrape", "true"),
                        ("prometheus.io/port", "1"),
                        ("prometheus.io/module", "my mod"),
                    ],
                ),
            ],
        );
        assert_eq!(found.keys().collect::<Vec<_>>(), ["my_mod", "pg"]);
        let pg = &found["pg"];
        let MethodConfig::Http(h) = &pg.method else { panic!("http") };
        assert_eq!(h.path, "/m");
        assert_eq!(h.query, [("x".to_owned(), "1".to_owned())]);
        assert_eq!(
            h.endpoint,
            Endpoint::Container(ContainerTarget {
                name: "pg-id".into(),
                port: NonZeroU16::new(9187).expect("port"),
                mode: AddressMode::Network,
                network: None,
            })
        );
        assert_eq!(
            pg.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
            [("container", "pg"), ("image", "busybox:test"), ("team", "db")]
        );
    }

    #[test]
    fn the_port_comes_from_the_one_exposed_port_or_the_container_is_skipped() {
        let mut one = container("one", &[("p/scrape", "true")]);
        one.ports =
            vec![PortSummary { private_port: 9100, protocol: "tcp".into(), ..PortSummary::default() }];
        let mut two = container("two", &[("p/scrape", "true")]);
        two.ports = vec![
            PortSummary { private_port: 1, protocol: "tcp".into(), ..PortSummary::default() },
            PortSummary { private_port: 2, protocol: "tcp".into(), ..PortSummary::default() },
        ];
        let bad_scheme = container("s", &[("p/scrape", "true"), ("p/port", "1"), ("p/scheme", "ftp")]);
        let found = modules_of("p", &[one, two, bad_scheme]);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["one"]);
    }

    #[test]
    fn two_containers_with_one_module_name_keep_the_first() {
        let a = container("a", &[("p/scrape", "true"), ("p/port", "1"), ("p/module", "x")]);
        let b = container("b", &[("p/scrape", "true"), ("p/port", "2"), ("p/module", "x")]);
        let found = modules_of("p", &[a, b]);
        assert_eq!(found["x"].labels["container"], "a");
    }
}
