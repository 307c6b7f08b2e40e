//! What differs between operating systems, behind one interface: how a command's whole
//! process tree is confined and killed, the process's own resource figures, the signals the
//! daemon acts on, unix sockets, and start-up tuning. `cfg` chooses `unix` or `windows` here
//! and in `main`; no other file names an operating system. docs/windows.md says what differs.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
pub mod windows;
#[cfg(windows)]
use windows as os;

pub use os::{
    ProcessReader, ProcessTree, REUSE_ADDRESS, SBOM, Signals, UnixStream, prepare_command, raise_fd_limit,
    tune_allocator, unix_sockets,
};
#[cfg(unix)]
pub use unix::malloc;

/// What a signal (or, on Windows, a console or service control) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGHUP: reload the configuration (Windows has none: `POST /-/reload` does it).
    Reload,
    /// SIGTERM or SIGINT; Ctrl-C, Ctrl-Break, closing the console, or the service being
    /// stopped: stop accepting, drain, exit.
    Stop,
}

/// The process's own resource figures, for the standard `process_*` metrics; `None` where
/// the system does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: Option<f64>,
    /// Open file descriptors (Windows: handles).
    pub open_fds: Option<f64>,
    /// The limit on open file descriptors (Windows: its fixed limit on handles); -1 for none.
    pub max_fds: Option<f64>,
    /// Virtual memory in bytes (Windows: private bytes, as client_golang reports there).
    pub virtual_bytes: Option<f64>,
    /// The limit on virtual memory in bytes; -1 for none.
    pub virtual_max_bytes: Option<f64>,
    /// Resident memory in bytes (Windows: the working set).
    pub resident_bytes: Option<f64>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

/// A `-winsvc` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceCommand {
    /// Create the service (start type automatic) with the other flags given as its
    /// arguments, and register its Event Log source.
    Install,
    /// Stop the service, delete it and its Event Log source.
    Uninstall,
    /// Start the service.
    Start,
    /// Stop the service and wait until it has stopped.
    Stop,
}

impl ServiceCommand {
    /// Every command, as `-winsvc` takes them.
    pub const ALL: [ServiceCommand; 4] =
        [ServiceCommand::Install, ServiceCommand::Uninstall, ServiceCommand::Start, ServiceCommand::Stop];

    /// The command's name, as `-winsvc` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceCommand::Install => "install",
            ServiceCommand::Uninstall => "uninstall",
            ServiceCommand::Start => "start",
            ServiceCommand::Stop => "stop",
        }
    }

    /// Reads a `-winsvc` value.
    pub fn parse(s: &str) -> Result<ServiceCommand, String> {
        ServiceCommand::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = ServiceCommand::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown -winsvc command {s:?} (one of {})", known.join(", "))
        })
    }
}

/// One argument `-winsvc install` gives the service, and how it is shown on the terminal (a
/// secret's value hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceArg {
    /// The argument itself (`-name=value`).
    pub arg: String,
    /// What is printed for it.
    pub shown: String,
}

/// What a `-winsvc` command could not do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not on Windows.
    #[error(
        "-winsvc manages a Windows service, and this is not Windows (on Linux, run the proxy under \
         systemd: packaging/exporter_exporter.service)"
    )]
    NotWindows,
    /// `install` found the service there already.
    #[error("service {0} already exists (-winsvc uninstall removes it)")]
    Exists(&'static str),
    /// A call to the service manager, or the registry, failed.
    #[error("cannot {action} service {name}: {cause}")]
    Failed {
        /// What was being done.
        action: &'static str,
        /// The service.
        name: &'static str,
        /// The system's reason.
        cause: String,
    },
    /// `stop` waited in vain.
    #[error("service {name} did not stop within {} s", .waited.as_secs())]
    StopTimeout {
        /// The service.
        name: &'static str,
        /// How long it was given.
        waited: std::time::Duration,
    },
}

/// What the daemon gets when the Windows service manager started it: the service's controls
/// (it reports Running through [`Signals::ready`]) and the Event Log for its log lines.
pub struct AsService {
    /// Stop and Shutdown controls.
    pub signals: Signals,
    /// Where log lines go.
    pub log: Box<dyn crate::logging::LineSink>,
}

impl std::fmt::Debug for AsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsService").field("signals", &self.signals).finish_non_exhaustive()
    }
}

pub use os::{manage_service, serve_as_service};
