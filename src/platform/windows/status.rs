//! A running service's reports of its state to the service manager: start pending, running
//! (taking Stop and Shutdown), stop pending while it drains, and stopped with its exit code.

use std::time::Duration;

use windows_service::service::{
    ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::ServiceStatusHandle;

/// The time the service asks of the service manager to start, and to stop (the drain is at
/// most 30 s, `server::SHUTDOWN_GRACE`).
const PENDING_HINT: Duration = Duration::from_secs(35);

/// The service's reports to the service manager.
#[derive(Debug)]
pub(super) struct Status(ServiceStatusHandle);

impl Status {
    pub(super) fn new(handle: ServiceStatusHandle) -> Status {
        Status(handle)
    }

    fn set(&self, state: ServiceState, accept: ServiceControlAccept, exit: ServiceExitCode, hint: Duration) {
        let status = ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accept,
            exit_code: exit,
            checkpoint: 0,
            wait_hint: hint,
            process_id: None,
        };
        if let Err(e) = self.0.set_service_status(status) {
            tracing::warn!(error = %e, state = ?state, "cannot report the service's state");
        }
    }

    pub(super) fn starting(&self) {
        self.set(
            ServiceState::StartPending,
            ServiceControlAccept::empty(),
            ServiceExitCode::Win32(0),
            PENDING_HINT,
        );
    }

    /// Serving: Stop and Shutdown are taken from now on.
    pub(super) fn running(&self) {
        let accept = ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN;
        self.set(ServiceState::Running, accept, ServiceExitCode::Win32(0), Duration::ZERO);
    }

    /// Draining.
    pub(super) fn stopping(&self) {
        self.set(
            ServiceState::StopPending,
            ServiceControlAccept::empty(),
            ServiceExitCode::Win32(0),
            PENDING_HINT,
        );
    }

    pub(super) fn stopped(&self, code: u8) {
        let exit = if code == 0 {
            ServiceExitCode::Win32(0)
        } else {
            ServiceExitCode::ServiceSpecific(u32::from(code))
        };
        self.set(ServiceState::Stopped, ServiceControlAccept::empty(), exit, Duration::ZERO);
    }
}
