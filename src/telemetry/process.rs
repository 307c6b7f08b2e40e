//! The standard `process_*` metrics every Prometheus exporter has, read from /proc on each
//! scrape (Linux only; elsewhere they are simply absent).

use std::fmt::Write as _;

/// Reads this process's resource usage.
#[derive(Debug)]
pub(super) struct Process {
    ticks_per_second: f64,
    page_size: f64,
}

impl Process {
    pub(super) fn new() -> Process {
        Process {
            ticks_per_second: rustix::param::clock_ticks_per_second() as f64,
            page_size: rustix::param::page_size() as f64,
        }
    }

    pub(super) fn render(&self, out: &mut String) {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
        // Fields after the command name, which is in parentheses and may contain anything.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return };
        let f: Vec<&str> = after.split_whitespace().collect();
        // man 5 proc: utime=14 stime=15 starttime=22 vsize=23 rss=24 (1-based); `f` starts at 3.
        let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
        if let (Some(utime), Some(stime)) = (field(14), field(15)) {
            gauge(
                out,
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                "counter",
                (utime + stime) / self.ticks_per_second,
            );
        }
        let fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).ok();
        if let Some(fds) = fds {
            gauge(out, "process_open_fds", "Number of open file descriptors.", "gauge", fds as f64);
        }
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        if let Some(max) = limit(&limits, "Max open files") {
            gauge(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge", max);
        }
        if let Some(vsize) = field(23) {
            gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", vsize);
        }
        if let Some(max) = limit(&limits, "Max address space") {
            gauge(
                out,
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                "gauge",
                max,
            );
        }
        if let Some(rss) = field(24) {
            gauge(
                out,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                "gauge",
                rss * self.page_size,
            );
        }
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse::<f64>().ok())
        });
        if let (Some(boot), Some(start)) = (boot, field(22)) {
            gauge(
                out,
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                "gauge",
                boot + start / self.ticks_per_second,
            );
        }
    }
}

/// The soft limit from /proc/self/limits; "unlimited" is reported as -1, as client_golang does.
fn limit(limits: &str, name: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with(name))?;
    let soft = line[name.len()..].split_whitespace().next()?;
    if soft == "unlimited" { Some(-1.0) } else { soft.parse().ok() }
}

fn gauge(out: &mut String, name: &str, help: &str, kind: &str, v: f64) {
    let _ =
        writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", super::format::fmt_float(v));
}
