//! The Windows service, with the original's `-winsvc` behaviour: `install` creates
//! `exporter_exporter` (start type automatic, the flags given as its arguments, or the
//! configuration beside the exe) and registers its Event Log source; `uninstall` stops it,
//! deletes it and the source; `start`; `stop` waits up to 35 s for the Stopped state. When the
//! service manager starts the exe, [`serve_as_service`] runs the daemon as the service:
//! reports Running once it serves, takes Stop and Shutdown, drains as on SIGTERM, and reports
//! Stopped with the daemon's exit code.

use std::ffi::OsString;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use windows_service::service::{
    ServiceAccess, ServiceControl, ServiceErrorControl, ServiceInfo, ServiceStartType, ServiceState,
    ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};
use windows_sys::Win32::Foundation::ERROR_FAILED_SERVICE_CONTROLLER_CONNECT;

use super::event_log::{self, EventLog};
use super::signals::Signals;
use super::status::Status;
use super::sys;
use crate::platform::{AsService, ServiceArg, ServiceCommand, ServiceError, Signal};

/// The service's name, display name and Event Log source, as the original's.
pub const SERVICE_NAME: &str = "exporter_exporter";
/// The service's description, as the original's.
pub const DESCRIPTION: &str = "Reverse proxy for Prometheus exporters";
/// The configuration file the service reads when installed without flags, beside the exe.
pub const DEFAULT_CONFIG: &str = "expexp.yaml";
/// How long `stop` (and `uninstall`) waits for the Stopped state, as the original.
pub const STOP_WAIT: Duration = Duration::from_secs(35);
/// How often `stop` asks for the state meanwhile, as the original.
const STOP_POLL: Duration = Duration::from_millis(300);

/// Runs a `-winsvc` command; the text to print on success.
pub fn manage_service(command: ServiceCommand, args: &[ServiceArg]) -> Result<String, ServiceError> {
    match command {
        ServiceCommand::Install => install(args),
        ServiceCommand::Uninstall => uninstall(),
        ServiceCommand::Start => start(),
        ServiceCommand::Stop => stop().map(|()| format!("service {SERVICE_NAME} stopped")),
    }
}

fn failed(action: &'static str) -> impl FnOnce(windows_service::Error) -> ServiceError {
    move |e| ServiceError::Failed { action, name: SERVICE_NAME, cause: cause(&e) }
}

/// The system's words for `e` (windows-service's own Display says only "I/O error").
fn cause(e: &windows_service::Error) -> String {
    match e {
        windows_service::Error::Winapi(io) => io.to_string(),
        other => other.to_string(),
    }
}

fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, ServiceError> {
    ServiceManager::local_computer(None::<&str>, access).map_err(failed("connect to the service manager for"))
}

/// The arguments `install` gives the service: the flags given, or the configuration file
/// beside the exe.
fn service_args(exe: &std::path::Path, given: &[ServiceArg]) -> Vec<ServiceArg> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let dir = exe.parent().unwrap_or(exe);
    let arg = format!("-config.file={}", dir.join(DEFAULT_CONFIG).display());
    vec![ServiceArg { shown: arg.clone(), arg }]
}

fn install(given: &[ServiceArg]) -> Result<String, ServiceError> {
    let exe = std::env::current_exe().map_err(|e| ServiceError::Failed {
        action: "find the exe for",
        name: SERVICE_NAME,
        cause: e.to_string(),
    })?;
    let args = service_args(&exe, given);
    let manager = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    if manager.open_service(SERVICE_NAME, ServiceAccess::QUERY_STATUS).is_ok() {
        return Err(ServiceError::Exists(SERVICE_NAME));
    }
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: SERVICE_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: args.iter().map(|a| OsString::from(&a.arg)).collect(),
        dependencies: Vec::new(),
        account_name: None,
        account_password: None,
    };
    let service = manager
        .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::DELETE)
        .map_err(failed("create"))?;
    let registered = service.set_description(DESCRIPTION).map_err(failed("describe")).and_then(|()| {
        event_log::install_source(SERVICE_NAME).map_err(|e| ServiceError::Failed {
            action: "register the Event Log source of",
            name: SERVICE_NAME,
            cause: e.to_string(),
        })
    });
    if let Err(e) = registered {
        // As the original: no half-installed service.
        let _ = service.delete();
        return Err(e);
    }
    let shown: Vec<String> = args.iter().map(|a| quoted(&a.shown)).collect();
    Ok(format!(
        "service {SERVICE_NAME} installed (start type automatic, Event Log source {SERVICE_NAME}): {} {}",
        quoted(&exe.display().to_string()),
        shown.join(" ")
    ))
}

/// `s` as the service's command line shows it: in double quotes if it has a space or is empty.
fn quoted(s: &str) -> String {
    if s.is_empty() || s.contains([' ', '\t']) { format!("\"{s}\"") } else { s.to_owned() }
}

fn uninstall() -> Result<String, ServiceError> {
    // As the original: stop it first, whatever its state (a stopped service is fine).
    match stop() {
        Ok(()) | Err(ServiceError::Failed { .. }) => {}
        Err(e) => return Err(e),
    }
    let manager = manager(ServiceManagerAccess::CONNECT)?;
    let service = manager.open_service(SERVICE_NAME, ServiceAccess::DELETE).map_err(failed("open"))?;
    service.delete().map_err(failed("delete"))?;
    event_log::remove_source(SERVICE_NAME).map_err(|e| ServiceError::Failed {
        action: "remove the Event Log source of",
        name: SERVICE_NAME,
        cause: e.to_string(),
    })?;
    Ok(format!("service {SERVICE_NAME} uninstalled"))
}

fn start() -> Result<String, ServiceError> {
    let manager = manager(ServiceManagerAccess::CONNECT)?;
    let service = manager.open_service(SERVICE_NAME, ServiceAccess::START).map_err(failed("open"))?;
    service.start::<&str>(&[]).map_err(failed("start"))?;
    Ok(format!("service {SERVICE_NAME} started"))
}

/// Asks the service to stop, then waits until it has (or [`STOP_WAIT`] has passed).
fn stop() -> Result<(), ServiceError> {
    let manager = manager(ServiceManagerAccess::CONNECT)?;
    let service = manager
        .open_service(SERVICE_NAME, ServiceAccess::STOP | ServiceAccess::QUERY_STATUS)
        .map_err(failed("open"))?;
    let mut status = service.stop().map_err(failed("stop"))?;
    let deadline = Instant::now() + STOP_WAIT;
    while status.current_state != ServiceState::Stopped {
        if Instant::now() >= deadline {
            return Err(ServiceError::StopTimeout { name: SERVICE_NAME, waited: STOP_WAIT });
        }
        std::thread::sleep(STOP_POLL);
        status = service.query_status().map_err(failed("query"))?;
    }
    Ok(())
}

type Body = Box<dyn FnOnce(AsService) -> u8 + Send>;

/// The daemon's body, until the service starts. A static because the service manager calls
/// `ServiceMain` with no context of ours (the one global of the crate, set once by `main` and
/// taken once).
static SERVICE: Mutex<Option<Body>> = Mutex::new(None);

/// The service manager's program: the parent of every service it starts.
const SERVICE_MANAGER: &str = "services.exe";

/// When the service manager started this process, runs `body` as the service and exits the
/// process with its exit code once the service has stopped; otherwise (run at a console, by a program, or by a
/// service wrapper such as nssm) returns `None` at once without calling it. The service
/// manager is recognised as the parent process, as Go's `svc.IsWindowsService` and .NET do
/// (they also check its session is 0, which wine does not give); only then is the
/// dispatcher asked, which fails for a console program only after a wait under wine.
pub fn serve_as_service<F>(body: F) -> Option<u8>
where
    F: FnOnce(AsService) -> u8 + Send + 'static,
{
    if !sys::parent_name().is_some_and(|p| p.eq_ignore_ascii_case(SERVICE_MANAGER)) {
        return None;
    }
    *SERVICE.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(body));
    let dispatched = service_dispatcher::start(SERVICE_NAME, ffi_service_main);
    SERVICE.lock().unwrap_or_else(PoisonError::into_inner).take();
    match dispatched {
        // Connected, but the service did not run its body to the end (which exits the
        // process): it could not register its control handler, a failure.
        Ok(()) => Some(1),
        // ERROR_FAILED_SERVICE_CONTROLLER_CONNECT: not a service, the documented way to tell.
        Err(windows_service::Error::Winapi(e))
            if e.raw_os_error() == Some(ERROR_FAILED_SERVICE_CONTROLLER_CONNECT as i32) =>
        {
            None
        }
        Err(e) => {
            eprintln!(
                "exporter_exporter: cannot connect to the service manager: {}; running at the console",
                cause(&e)
            );
            None
        }
    }
}

define_windows_service!(ffi_service_main, service_main);

/// The service's thread, started by the service manager through the dispatcher.
fn service_main(_start_arguments: Vec<OsString>) {
    let Some(body) = SERVICE.lock().unwrap_or_else(PoisonError::into_inner).take() else { return };
    // The service manager starts services in System32; the original's relative paths and its
    // default configuration are beside the exe.
    if let Some(dir) = std::env::current_exe().ok().as_deref().and_then(std::path::Path::parent) {
        let _ = std::env::set_current_dir(dir);
    }
    let (controls, stop) = mpsc::unbounded_channel();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            let _ = controls.send(Signal::Stop);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(handle) = service_control_handler::register(SERVICE_NAME, handler) else { return };
    let status = Status::new(handle);
    status.starting();
    let log: Box<dyn crate::logging::LineSink> = match EventLog::open(SERVICE_NAME) {
        Ok(log) => Box::new(log),
        Err(_) => Box::new(Stderr),
    };
    let code = body(AsService { signals: Signals::service(stop, Status::new(handle)), log });
    status.stopped(code);
    // Nothing is left to do once Stopped is reported ("the service process can be terminated
    // at any time", says SetServiceStatus's documentation), and an installer that stopped the
    // service goes on to replace or delete the exe, which Windows refuses while the process
    // still has it mapped: exit now rather than unwind through the dispatcher. Under wine's
    // msiexec, an uninstall left the exe behind 2 times in 9 while the process wound down.
    std::process::exit(i32::from(code));
}

/// Where log lines go if the Event Log cannot be opened: standard error, which the service
/// manager discards, but which a debugger or a wrapper may catch.
struct Stderr;

impl crate::logging::LineSink for Stderr {
    fn line(&self, _: crate::logging::LogLevel, line: &str) {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_flags_the_service_reads_the_configuration_beside_the_exe() {
        let args = service_args(std::path::Path::new(r"C:\Program Files\expexp\exporter_exporter.exe"), &[]);
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].arg, r"-config.file=C:\Program Files\expexp\expexp.yaml");
        let given = [ServiceArg {
            arg: "-web.listen-address=:9998".into(),
            shown: "-web.listen-address=:9998".into(),
        }];
        assert_eq!(service_args(std::path::Path::new(r"C:\x\e.exe"), &given), given);
    }

    #[test]
    fn a_console_program_is_not_a_service() {
        let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let c = called.clone();
        let started = Instant::now();
        let got = serve_as_service(move |_| {
            c.store(true, std::sync::atomic::Ordering::SeqCst);
            0
        });
        assert_eq!(got, None);
        assert!(!called.load(std::sync::atomic::Ordering::SeqCst));
        assert!(started.elapsed() < Duration::from_secs(5), "the check took {:?}", started.elapsed());
    }
}
