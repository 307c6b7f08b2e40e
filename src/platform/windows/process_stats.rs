//! This process's resource figures on Windows, from its own APIs, as client_golang reports
//! them there: CPU from the kernel and user times, resident memory as the working set,
//! virtual memory as the private bytes, open handles as open file descriptors, and the
//! system's fixed limit of 16 Mi handles as their maximum. Windows has no virtual memory
//! limit per process to report.

use super::sys;
use crate::platform::ProcessStats;

/// 100 ns units (a FILETIME's) per second.
const FILETIME_PER_SECOND: f64 = 1e7;
/// Seconds from 1601-01-01, where FILETIMEs start, to the Unix epoch.
const FILETIME_EPOCH_TO_UNIX: f64 = 11_644_473_600.0;
/// Windows' limit on handles per process, as client_golang reports it for process_max_fds.
const MAX_HANDLES: f64 = 16.0 * 1024.0 * 1024.0;

/// Reads this process's resource usage.
#[derive(Debug, Default)]
pub struct ProcessReader;

impl ProcessReader {
    /// The figures now.
    pub fn read(&self) -> ProcessStats {
        stats(sys::usage())
    }
}

fn stats(u: sys::Usage) -> ProcessStats {
    ProcessStats {
        cpu_seconds: u.cpu.map(|t| t as f64 / FILETIME_PER_SECOND),
        open_fds: u.handles.map(f64::from),
        max_fds: Some(MAX_HANDLES),
        virtual_bytes: u.private_bytes.map(|b| b as f64),
        virtual_max_bytes: None,
        resident_bytes: u.working_set.map(|b| b as f64),
        // Whole seconds, as client_golang reports it on Windows.
        start_time_seconds: u
            .created
            .map(|t| (t as f64 / FILETIME_PER_SECOND - FILETIME_EPOCH_TO_UNIX).floor()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_become_seconds_since_the_unix_epoch() {
        // 2026-01-01T00:00:00Z is 1_767_225_600 s after the Unix epoch.
        let created = (1_767_225_600 + 11_644_473_600) * 10_000_000 + 5_000_000;
        let s = stats(sys::Usage {
            created: Some(created),
            cpu: Some(25_000_000),
            working_set: Some(4096),
            private_bytes: Some(8192),
            handles: Some(42),
        });
        assert_eq!(s.start_time_seconds, Some(1_767_225_600.0));
        assert_eq!(s.cpu_seconds, Some(2.5));
        assert_eq!((s.resident_bytes, s.virtual_bytes, s.open_fds), (Some(4096.0), Some(8192.0), Some(42.0)));
        assert_eq!(s.max_fds, Some(16_777_216.0));
    }

    #[test]
    fn this_process_started_recently_and_holds_handles() {
        let s = ProcessReader.read();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
        let started = s.start_time_seconds.expect("a start time");
        assert!(started <= now.as_secs_f64() && started > now.as_secs_f64() - 3600.0, "{s:?}");
        // Wine answers 0 open handles; Windows its real figure (docs/windows.md).
        assert!(s.open_fds.is_some() && s.resident_bytes.is_some_and(|r| r > 0.0), "{s:?}");
    }
}
