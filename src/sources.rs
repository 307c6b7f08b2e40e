//! Sources of modules besides the configuration (today: Docker discovery, [`docker`]), and the
//! list of those running ([`Running`]). Each runs while the configuration asks for it and hands
//! its modules to the module set as one [`Source`], replacing what it gave last; after each
//! (re)load, [`Running::sync`] starts the sources the new configuration asks for, keeps those
//! asked for as before, and stops the others (their modules go).

pub mod docker;

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

use crate::modules::{ModuleSet, Source};

/// What a configuration asks of one source of modules.
pub struct Wanted {
    /// Which source (its place in precedence).
    pub source: Source,
    /// What it runs for: while a new configuration gives the same (the same value, by
    /// pointer), the running source carries on.
    pub runs_for: Arc<dyn Any + Send + Sync>,
    /// Starts it; what it returns stops it when dropped.
    pub start: Box<dyn FnOnce(Arc<ModuleSet>) -> Box<dyn Any + Send> + Send>,
}

impl std::fmt::Debug for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wanted").field("source", &self.source).finish_non_exhaustive()
    }
}

/// One source running.
struct Started {
    source: Source,
    runs_for: Arc<dyn Any + Send + Sync>,
    _running: Box<dyn Any + Send>,
}

/// The sources of modules running besides the configuration.
#[derive(Default)]
pub struct Running(Mutex<Vec<Started>>);

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let running = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_list().entries(running.iter().map(|s| s.source)).finish()
    }
}

impl Running {
    /// Makes the running sources those of `wanted`: one asked for as before keeps running,
    /// one asked for otherwise is started again, and one no longer asked for is stopped and
    /// its modules taken out of `modules`.
    pub fn sync(&self, wanted: Vec<Wanted>, modules: &Arc<ModuleSet>) {
        let mut running = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kept = Vec::new();
        for want in wanted {
            let same = running
                .iter()
                .position(|s| s.source == want.source && Arc::ptr_eq(&s.runs_for, &want.runs_for));
            match same {
                Some(i) => kept.push(running.swap_remove(i)),
                None => {
                    running.retain(|s| s.source != want.source);
                    let started = (want.start)(modules.clone());
                    kept.push(Started { source: want.source, runs_for: want.runs_for, _running: started });
                }
            }
        }
        for stopped in std::mem::replace(&mut *running, kept) {
            if let Err(problems) = modules.replace(stopped.source, Default::default()) {
                for p in problems {
                    tracing::warn!(error = %p, "a module could not be built again after a source of modules stopped");
                }
            }
        }
    }

    /// Stops every source.
    pub fn stop(&self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::config::Config;
    use crate::telemetry::{BuildInfo, Metrics};

    /// A source that counts its starts and its stops.
    fn wanted(runs_for: &Arc<u8>, starts: &Arc<AtomicUsize>, stops: &Arc<AtomicUsize>) -> Wanted {
        struct Stops(Arc<AtomicUsize>);
        impl Drop for Stops {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let (starts, stops) = (starts.clone(), stops.clone());
        Wanted {
            source: Source::Docker,
            runs_for: runs_for.clone(),
            start: Box::new(move |_| {
                starts.fetch_add(1, Ordering::Relaxed);
                Box::new(Stops(stops))
            }),
        }
    }

    #[test]
    fn a_source_runs_while_asked_for_the_same_and_its_modules_go_when_it_stops() {
        let build = BuildInfo { version: "0", revision: "r", date: "d", rustc: "rustc" };
        let modules = Arc::new(ModuleSet::new(Arc::new(Metrics::new(build)), 1 << 20, 1 << 20));
        let found =
            Config::from_yaml("modules:\n  c: {method: exec, exec: {command: /bin/true}}\n", Path::new("t"))
                .expect("config")
                .modules;
        modules.replace(Source::Docker, found).expect("builds");
        let (starts, stops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (first, second) = (Arc::new(1), Arc::new(2));
        let running = Running::default();
        running.sync(vec![wanted(&first, &starts, &stops)], &modules);
        running.sync(vec![wanted(&first, &starts, &stops)], &modules);
        assert_eq!((starts.load(Ordering::Relaxed), stops.load(Ordering::Relaxed)), (1, 0), "kept running");
        running.sync(vec![wanted(&second, &starts, &stops)], &modules);
        assert_eq!((starts.load(Ordering::Relaxed), stops.load(Ordering::Relaxed)), (2, 1), "started again");
        assert!(
            modules.current().get("c").is_some(),
            "a source started again keeps its modules until it lists"
        );
        running.sync(Vec::new(), &modules);
        assert_eq!(stops.load(Ordering::Relaxed), 2, "stopped");
        assert!(modules.current().get("c").is_none(), "its modules went with it");
    }
}
