//! Linux (and unix) parts: process groups for commands, signals, unix sockets, /proc, the
//! open files limit and glibc's malloc tunables.

pub mod malloc;
mod process_stats;
mod process_tree;
mod signals;

pub use process_stats::ProcessReader;
pub use process_tree::{ProcessTree, prepare_command};
pub use signals::Signals;
pub use tokio::net::UnixStream;

/// Where the dependency list is, for `-version`: a released binary embeds it, the Debian
/// package installs the SBOM (packaging/build-deb.sh), and an archive has its SBOM beside it
/// (packaging/release.sh); the same binary is in all three.
pub const SBOM: &str = "embedded in a released binary (cargo auditable), \
    /usr/share/doc/exporter-exporter/sbom.cdx.json from the Debian package, \
    ARCHIVE.sbom.json beside a release archive (CycloneDX)";

/// Listeners set SO_REUSEADDR, as tokio's own bind does: a restarted proxy can listen again at
/// once, while connections of the last one wait out their TIME_WAIT.
pub const REUSE_ADDRESS: bool = true;

/// Unix sockets are there: `http.socket` and `unix://` Docker hosts work.
pub fn unix_sockets() -> Result<(), &'static str> {
    Ok(())
}

/// Raises the soft limit on open files to the hard limit, as Go programs do at startup: a
/// proxy holds a client connection and an upstream connection per scrape.
pub fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "cannot raise the open files limit");
        }
    }
}

/// Before any thread starts: runs the daemon again with glibc's malloc tunables
/// ([`malloc::run_tuned`]); returns only where it did not.
pub fn tune_allocator() {
    malloc::run_tuned();
}

/// `-winsvc`: refused, this is not Windows.
pub fn manage_service(
    _: crate::platform::ServiceCommand,
    _: &[crate::platform::ServiceArg],
) -> Result<String, crate::platform::ServiceError> {
    Err(crate::platform::ServiceError::NotWindows)
}

/// Never started by a service manager of Windows' kind: returns `None` without calling `body`
/// (systemd runs the proxy as a plain process).
pub fn serve_as_service<F>(body: F) -> Option<u8>
where
    F: FnOnce(crate::platform::AsService) -> u8 + Send + 'static,
{
    drop(body);
    None
}
