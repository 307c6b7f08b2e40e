//! The daemon's life: load everything, bind the listeners, serve until SIGTERM or SIGINT, then
//! drain. [`load`] is the one place that turns settings into a running [`App`].

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::app::{App, Settings};
use crate::cli::Cli;
use crate::config::Config;
use crate::security::Security;
use crate::server::{self, Transport};
use crate::telemetry::{BuildInfo, Metrics};

/// Reads the configuration, the web configuration and every file they name, and builds the
/// app. Logs the warnings found on the way.
pub fn load(settings: &Settings, metrics: &Arc<Metrics>) -> Result<App, String> {
    let (config, warnings) = Config::load(&settings.sources).map_err(|e| e.to_string())?;
    let security = Security::load(&settings.web).map_err(|e| e.to_string())?;
    for w in warnings.iter().chain(&security.warnings) {
        tracing::warn!("{w}");
    }
    App::build(config, settings.options.clone(), security, metrics.clone()).map_err(|e| e.to_string())
}

/// Runs the daemon until a shutdown signal; `Err` is a startup failure, already explained.
pub async fn run(cli: &Cli, build: BuildInfo) -> Result<(), String> {
    let settings = Settings::from_cli(cli)?;
    let metrics = Arc::new(Metrics::new(build));
    let app = load(&settings, &metrics)?;
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
    let shared: server::SharedApp = Arc::new(ArcSwap::from_pointee(app));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    for (listener, transport) in bound {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        tasks.push(tokio::spawn(server::serve(listener, shared.clone(), transport, shutdown)));
    }
    server::shutdown_signal().await;
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}
