//! The daemon's life: [`start`] loads everything, binds the listeners and serves; reloads
//! come through the [`ReloadHandle`] (from `POST /-/reload`, or from `main` on SIGHUP);
//! [`Running::stop`] stops accepting and drains. `main` and the tests go through this one
//! path. [`load`] is the one place that turns settings into an [`App`].

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{App, BuildFailure};
use crate::config::Config;
use crate::lasting::Lasting;
use crate::reload::{self, LoadError, Problem, ReloadError, ReloadHandle, ReloadRequests};
use crate::security::Security;
use crate::server::{self, ListenError, SharedApp, Transport};
use crate::settings::Settings;
use crate::telemetry::{BuildInfo, Metrics};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration was refused.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// An address could not be listened on.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    /// The async runtime could not be started.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Reads the configuration, the web configuration and every file they name, and builds the
/// app; the modules go into `lasting.modules`. Every problem found is reported, not just the
/// first; warnings are logged.
pub fn load(settings: &Settings, lasting: &Lasting) -> Result<App, LoadError> {
    let config = Config::load(&settings.config_files);
    let security = Security::load(&settings.web);
    let (config, security) = match (config, security) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => {
            let problems = [c.err().map(Problem::from), s.err().map(Problem::from)].into_iter().flatten();
            return Err(LoadError { problems: problems.collect() });
        }
    };
    let (config, warnings): (Config, Vec<String>) = config;
    for w in warnings.iter().chain(&security.warnings) {
        tracing::warn!("{w}");
    }
    App::build(config, security, lasting).map_err(|e| LoadError {
        problems: match e {
            BuildFailure::Docker(e) => vec![Problem::from(e)],
            BuildFailure::Modules(e) => e.into_iter().map(Problem::from).collect(),
        },
    })
}

/// Puts `app` in service as far as what lasts is concerned: what it was built with is kept for
/// the next reload, and the sources of modules it asks for run (started, kept or stopped).
fn adopt(lasting: &Lasting, app: &App) {
    lasting.keep(app.kept());
    lasting.sources.sync(app.sources(lasting), &lasting.modules);
}

/// Loads and builds everything, without binding a port (`-config.check`).
pub fn check_config(settings: &Settings, build: BuildInfo) -> Result<(), LoadError> {
    let (reloader, _requests) = reload::channel();
    load(settings, &Lasting::new(settings.options.clone(), build, reloader)).map(drop)
}

/// A started daemon.
#[derive(Debug)]
pub struct Running {
    listening: Vec<(SocketAddr, Transport)>,
    lasting: Lasting,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
    reloads: JoinHandle<()>,
}

impl Running {
    /// The addresses bound, in flag order (plain first), with what each speaks. Empty when
    /// no address was given: then there is nothing to do.
    pub fn listening(&self) -> &[(SocketAddr, Transport)] {
        &self.listening
    }

    /// The proxy's own metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.lasting.metrics
    }

    /// Asks for a reload (as SIGHUP does) and waits for the outcome.
    pub fn reloader(&self) -> ReloadHandle {
        self.lasting.reloader.clone()
    }

    /// Stops accepting, lets in-flight requests finish (for at most
    /// [`server::SHUTDOWN_GRACE`]), and stops reloading.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        self.lasting.sources.stop();
        for s in std::mem::take(&mut self.servers) {
            let _ = s.await;
        }
    }
}

/// Dropped without [`Running::stop`], the daemon stops at once: connections are cut.
impl Drop for Running {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
        self.reloads.abort();
        self.lasting.sources.stop();
    }
}

/// Loads everything, binds every address of the settings, and serves.
pub async fn start(settings: Settings, build: BuildInfo) -> Result<Running, StartError> {
    let (reloader, requests) = reload::channel();
    let lasting = Lasting::new(settings.options.clone(), build, reloader);
    let app = load(&settings, &lasting)?;
    adopt(&lasting, &app);
    lasting.metrics.reload_succeeded();
    let mut addresses = Vec::new();
    if let Some(address) = &settings.web.plain_address {
        let transport = if app.tls_on_plain() { Transport::Tls } else { Transport::Plain };
        addresses.push((address.clone(), transport));
    }
    if let Some(address) = &settings.web.tls_address {
        addresses.push((address.clone(), Transport::Tls));
    }
    if addresses.is_empty() {
        tracing::info!("no web addresses to listen on, nothing to do");
    }
    let mut bound = Vec::new();
    for (address, transport) in addresses {
        let listener = server::bind(&address).await?;
        let local = listener
            .local_addr()
            .map_err(|e| ListenError { address: address.clone(), cause: e.to_string() })?;
        tracing::info!(address = %address, bound = %local, tls = (transport == Transport::Tls), "listening");
        bound.push((listener, local, transport));
    }
    let shared: SharedApp = Arc::new(ArcSwap::from_pointee(app));
    let reloads = tokio::spawn(serve_reloads(requests, settings.clone(), lasting.clone(), shared.clone()));
    let (stop, stopped) = watch::channel(false);
    let mut servers = Vec::new();
    let mut listening = Vec::new();
    for (listener, local, transport) in bound {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        servers.push(tokio::spawn(server::serve(
            listener,
            shared.clone(),
            transport,
            settings.limits,
            shutdown,
        )));
        listening.push((local, transport));
    }
    Ok(Running { listening, lasting, stop, servers, reloads })
}

/// Answers reload requests one at a time: a new app is swapped in, or the running one keeps
/// serving and the reason goes back.
async fn serve_reloads(
    mut requests: ReloadRequests,
    settings: Settings,
    lasting: Lasting,
    shared: SharedApp,
) {
    let settings = Arc::new(settings);
    while let Some(reply) = requests.next().await {
        let (settings, lasting, shared) = (settings.clone(), lasting.clone(), shared.clone());
        // Loading reads files and may hash bcrypt passwords: off the async workers.
        let outcome = tokio::task::spawn_blocking(move || reload(&settings, &lasting, &shared))
            .await
            .unwrap_or(Err(ReloadError::Panicked));
        let _ = reply.send(outcome);
    }
}

fn reload(settings: &Settings, lasting: &Lasting, shared: &SharedApp) -> Result<(), ReloadError> {
    match load(settings, lasting) {
        Ok(app) => {
            shared.store(Arc::new(app));
            adopt(lasting, &shared.load());
            lasting.metrics.reload_succeeded();
            tracing::info!("configuration reloaded");
            Ok(())
        }
        Err(e) => {
            lasting.metrics.reload_failed();
            tracing::error!(error = %e, "reload refused; the running configuration keeps serving");
            Err(ReloadError::Refused(e))
        }
    }
}
