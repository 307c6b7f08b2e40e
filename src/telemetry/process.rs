//! The standard `process_*` metrics every Prometheus exporter has, from the figures the
//! operating system gives (`platform::ProcessReader`: /proc on Linux, the process's own APIs
//! on Windows), read on each scrape; a figure the system does not give is left out.

use std::fmt::Write as _;

use crate::platform::ProcessReader;

/// Reads this process's resource usage.
#[derive(Debug, Default)]
pub(super) struct Process {
    reader: ProcessReader,
}

impl Process {
    pub(super) fn new() -> Process {
        Process::default()
    }

    pub(super) fn render(&self, out: &mut String) {
        let s = self.reader.read();
        let families = [
            (
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                "counter",
                s.cpu_seconds,
            ),
            ("process_open_fds", "Number of open file descriptors.", "gauge", s.open_fds),
            ("process_max_fds", "Maximum number of open file descriptors.", "gauge", s.max_fds),
            ("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", s.virtual_bytes),
            (
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                "gauge",
                s.virtual_max_bytes,
            ),
            ("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", s.resident_bytes),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                "gauge",
                s.start_time_seconds,
            ),
        ];
        for (name, help, kind, value) in families {
            if let Some(v) = value {
                let _ = writeln!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                    super::format::fmt_float(v)
                );
            }
        }
    }
}
