//! The Windows Event Log as a log destination (`logging::LineSink`): where a service's log
//! lines go, since a service's standard error goes nowhere. Each line becomes one entry of the
//! Application log under the source `exporter_exporter`, its kind from its level (error,
//! warning, information for the rest). The source is registered by `-winsvc install`, as the
//! original does, with EventCreate.exe as its message file, so Event Viewer shows the text.

use std::io;

use super::sys::{self, EventSource, EventType, RegValue};
use crate::logging::{LineSink, LogLevel};

/// The one event ID our entries use (EventCreate.exe's messages cover IDs 1 to 1000).
pub const EVENT_ID: u32 = 1;

/// The registry key of an Application log source.
fn source_key(name: &str) -> String {
    format!(r"SYSTEM\CurrentControlSet\Services\EventLog\Application\{name}")
}

/// Registers `name` as a source of the Application log, as Go's
/// `eventlog.InstallAsEventCreate` does: EventCreate.exe's messages, error, warning and
/// information entries.
pub fn install_source(name: &str) -> io::Result<()> {
    sys::set_machine_values(
        &source_key(name),
        &[
            ("EventMessageFile", RegValue::ExpandString(r"%SystemRoot%\System32\EventCreate.exe")),
            ("TypesSupported", RegValue::Dword(7)),
            ("CustomSource", RegValue::Dword(1)),
        ],
    )
}

/// Removes the source `name` (gone already is fine).
pub fn remove_source(name: &str) -> io::Result<()> {
    sys::delete_machine_key(&source_key(name))
}

/// The kind of entry a line of `level` becomes.
fn kind(level: LogLevel) -> EventType {
    match level {
        LogLevel::Error => EventType::Error,
        LogLevel::Warn => EventType::Warning,
        LogLevel::Info | LogLevel::Debug | LogLevel::Trace => EventType::Information,
    }
}

/// An open source, writing entries.
#[derive(Debug)]
pub struct EventLog(EventSource);

impl EventLog {
    /// Opens the source `name`.
    pub fn open(name: &str) -> io::Result<EventLog> {
        EventSource::open(name).map(EventLog)
    }
}

impl LineSink for EventLog {
    fn line(&self, level: LogLevel, line: &str) {
        // Nowhere else to say that logging failed.
        let _ = self.0.report(kind(level), EVENT_ID, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_become_entry_kinds() {
        assert_eq!(kind(LogLevel::Error), EventType::Error);
        assert_eq!(kind(LogLevel::Warn), EventType::Warning);
        for l in [LogLevel::Info, LogLevel::Debug, LogLevel::Trace] {
            assert_eq!(kind(l), EventType::Information);
        }
    }

    #[test]
    fn the_source_key_is_under_the_application_log() {
        assert_eq!(
            source_key("exporter_exporter"),
            r"SYSTEM\CurrentControlSet\Services\EventLog\Application\exporter_exporter"
        );
    }

    #[test]
    fn entries_can_be_written() {
        // Wine and Windows both accept entries from an unregistered source; what they say is
        // not readable back under wine (docs/windows.md), so this checks the calls succeed.
        let log = EventSource::open("exporter_exporter_test").expect("open");
        log.report(EventType::Warning, EVENT_ID, "a test entry\nwith two lines").expect("report");
    }
}
