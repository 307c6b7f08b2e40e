//! The daemon's life: load everything, bind the listeners, serve, reload on SIGHUP or
//! `POST /-/reload`, and on SIGTERM or SIGINT stop accepting and drain. [`load`] is the one
//! place that turns settings into a running [`App`].

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot, watch};

use crate::app::{App, Settings};
use crate::cli::Cli;
use crate::config::Config;
use crate::security::Security;
use crate::server::{self, SharedApp, Transport};
use crate::telemetry::{BuildInfo, Metrics};

/// Reload requests waiting at most; more wait for room.
const RELOAD_QUEUE: usize = 16;

type ReloadReply = oneshot::Sender<Result<(), String>>;

/// Asks the daemon to reload, and waits for the outcome.
#[derive(Debug, Clone)]
pub struct ReloadHandle {
    tx: mpsc::Sender<ReloadReply>,
}

impl ReloadHandle {
    /// Reloads everything; `Err` says why the new configuration was refused (the old one
    /// keeps serving).
    pub async fn reload(&self) -> Result<(), String> {
        let (reply, outcome) = oneshot::channel();
        self.tx.send(reply).await.map_err(|_| "the daemon is shutting down".to_string())?;
        outcome.await.map_err(|_| "the daemon is shutting down".to_string())?
    }
}

/// Reads the configuration, the web configuration and every file they name, and builds the
/// app. Every problem found is reported, not just the first; warnings are logged.
pub fn load(settings: &Settings, metrics: &Arc<Metrics>, previous: Option<&App>) -> Result<App, String> {
    let config = Config::load(&settings.sources);
    let security = Security::load(&settings.web);
    let (config, security) = match (config, security) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => {
            let problems: Vec<String> = [c.err().map(|e| e.to_string()), s.err().map(|e| e.to_string())]
                .into_iter()
                .flatten()
                .collect();
            return Err(problems.join("\n"));
        }
    };
    let (config, warnings) = config;
    for w in warnings.iter().chain(&security.warnings) {
        tracing::warn!("{w}");
    }
    App::build(config, settings.options.clone(), security, metrics.clone(), previous)
        .map_err(|e| e.to_string())
}

/// Loads and builds everything, without binding a port (`-config.check`).
pub fn check(cli: &Cli, build: BuildInfo) -> Result<(), String> {
    let settings = Settings::from_cli(cli)?;
    load(&settings, &Arc::new(Metrics::new(build)), None).map(drop)
}

/// Swaps in a freshly loaded app, or keeps the running one and says why.
#[derive(Debug)]
struct Reloader {
    settings: Settings,
    metrics: Arc<Metrics>,
    shared: SharedApp,
    handle: ReloadHandle,
}

impl Reloader {
    fn reload(&self) -> Result<(), String> {
        let previous = self.shared.load_full();
        match load(&self.settings, &self.metrics, Some(&previous)) {
            Ok(app) => {
                self.metrics.retain_modules(app.config_modules().keys());
                self.shared.store(Arc::new(app.with_reloader(self.handle.clone())));
                self.metrics.reload_succeeded();
                tracing::info!("configuration reloaded");
                Ok(())
            }
            Err(e) => {
                self.metrics.reload_failed();
                tracing::error!(error = %e, "reload refused; the running configuration keeps serving");
                Err(e)
            }
        }
    }
}

/// Runs the daemon until a shutdown signal; `Err` is a startup failure, already explained.
pub async fn run(cli: &Cli, build: BuildInfo) -> Result<(), String> {
    let settings = Settings::from_cli(cli)?;
    // Signals first: until these handlers exist, SIGHUP or SIGTERM would kill the process.
    let shutdown = server::shutdown_signal()?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot install the SIGHUP handler: {e}"))?;
    let metrics = Arc::new(Metrics::new(build));
    let (tx, mut requests) = mpsc::channel::<ReloadReply>(RELOAD_QUEUE);
    let handle = ReloadHandle { tx };
    let app = load(&settings, &metrics, None)?.with_reloader(handle.clone());
    metrics.reload_succeeded();
    let mut listeners = Vec::new();
    if let Some(address) = &settings.web.plain_address {
        let transport = if app.security.tls_on_plain { Transport::Tls } else { Transport::Plain };
        listeners.push((address.clone(), transport));
    }
    if let Some(address) = &settings.web.tls_address {
        listeners.push((address.clone(), Transport::Tls));
    }
    if listeners.is_empty() {
        tracing::info!("no web addresses to listen on, nothing to do");
        return Ok(());
    }
    let mut bound = Vec::new();
    for (address, transport) in listeners {
        let listener = server::bind(&address).await.map_err(|e| e.to_string())?;
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(address = %address, bound = %local, tls = (transport == Transport::Tls), "listening");
        bound.push((listener, transport));
    }
    let shared: SharedApp = Arc::new(ArcSwap::from_pointee(app));
    let limits = settings.limits;
    let reloader = Arc::new(Reloader { settings, metrics, shared: shared.clone(), handle });
    tokio::spawn(async move {
        loop {
            let reply = tokio::select! {
                Some(()) = hangup.recv() => {
                    tracing::info!("SIGHUP received, reloading");
                    None
                }
                request = requests.recv() => match request {
                    Some(reply) => Some(reply),
                    None => return,
                },
            };
            let r = reloader.clone();
            let outcome = tokio::task::spawn_blocking(move || r.reload())
                .await
                .unwrap_or_else(|e| Err(format!("reload panicked: {e}")));
            if let Some(reply) = reply {
                let _ = reply.send(outcome);
            }
        }
    });
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    for (listener, transport) in bound {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        tasks.push(tokio::spawn(server::serve(listener, shared.clone(), transport, limits, shutdown)));
    }
    shutdown.await;
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}
