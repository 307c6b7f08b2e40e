//! What lives as long as the daemon, across reloads, in one place: the module set, the metrics,
//! the way to ask for a reload, the flags' options, the scrape slots (`-web.max-requests`), what
//! a reload keeps while its part of the configuration is unchanged (the rate limiter's bucket,
//! the Docker connection), and the sources of modules running besides the configuration. The
//! daemon makes it once; each `App` is built from a configuration and it, and what an `App` was
//! built with is kept here once it serves ([`Lasting::keep`]).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Semaphore;

use crate::config::docker::DockerConfig;
use crate::config::web::RateLimit;
use crate::docker::Connection;
use crate::docker::api::DockerError;
use crate::modules::ModuleSet;
use crate::reload::ReloadHandle;
use crate::routes::rate_limit::RateLimiter;
use crate::settings::Options;
use crate::sources;
use crate::telemetry::{BuildInfo, Metrics};

/// What lives as long as the daemon.
#[derive(Debug, Clone)]
pub struct Lasting {
    /// The flags' options; they never change (flags are read at startup).
    pub options: Arc<Options>,
    /// The modules being served.
    pub modules: Arc<ModuleSet>,
    /// The proxy's own metrics.
    pub metrics: Arc<Metrics>,
    /// Asks the daemon to reload.
    pub reloader: ReloadHandle,
    /// Slots for scrapes in flight (`-web.max-requests`); `None` for no limit.
    pub scrape_slots: Option<Arc<Semaphore>>,
    /// The sources of modules running besides the configuration.
    pub sources: Arc<sources::Running>,
    kept: Arc<Mutex<Kept>>,
}

/// What an `App` was built with that the next one keeps while its configuration is unchanged.
#[derive(Debug, Default, Clone)]
pub struct Kept {
    /// The web configuration's `rate_limit` bucket.
    pub rate_limiter: Option<Arc<RateLimiter>>,
    /// The Docker connection of the `docker:` block.
    pub docker: Option<Arc<Connection>>,
}

impl Lasting {
    /// Everything that lasts, empty: no modules yet, nothing kept.
    pub fn new(options: Options, build: BuildInfo, reloader: ReloadHandle) -> Lasting {
        let metrics = Arc::new(Metrics::new(build));
        let modules =
            Arc::new(ModuleSet::new(metrics.clone(), options.max_body_bytes, options.max_held_bytes));
        let scrape_slots = (options.max_requests > 0).then(|| Arc::new(Semaphore::new(options.max_requests)));
        Lasting {
            options: Arc::new(options),
            modules,
            metrics,
            reloader,
            scrape_slots,
            sources: Arc::default(),
            kept: Arc::default(),
        }
    }

    /// The bucket for `limit`: the kept one while it enforces the same terms (a reload neither
    /// refills nor empties it), else a new, full one.
    pub fn rate_limiter(&self, limit: Option<RateLimit>) -> Option<Arc<RateLimiter>> {
        let kept = self.kept().rate_limiter;
        limit.map(|limit| match kept {
            Some(kept) if kept.limit() == limit => kept,
            Some(_) | None => Arc::new(RateLimiter::new(limit)),
        })
    }

    /// The Docker connection for `config`: the kept one while the block is the same (its
    /// address cache and its discovery carry on), else a new one.
    pub fn docker(&self, config: Option<DockerConfig>) -> Result<Option<Arc<Connection>>, DockerError> {
        let Some(config) = config else { return Ok(None) };
        match self.kept().docker.filter(|d| d.config == config) {
            Some(same) => Ok(Some(same)),
            None => Ok(Some(Arc::new(Connection::open(config, &self.metrics.docker)?))),
        }
    }

    /// Keeps what the `App` now serving was built with.
    pub fn keep(&self, kept: Kept) {
        *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = kept;
    }

    fn kept(&self) -> Kept {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
