//! This process's resource figures on Linux, read from /proc on each scrape (elsewhere they
//! are absent).

use crate::platform::ProcessStats;

/// Reads this process's resource usage.
#[derive(Debug)]
pub struct ProcessReader {
    ticks_per_second: f64,
    page_size: f64,
}

impl Default for ProcessReader {
    fn default() -> ProcessReader {
        ProcessReader {
            ticks_per_second: rustix::param::clock_ticks_per_second() as f64,
            page_size: rustix::param::page_size() as f64,
        }
    }
}

impl ProcessReader {
    /// The figures now.
    pub fn read(&self) -> ProcessStats {
        let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return ProcessStats::default() };
        // Fields after the command name, which is in parentheses and may contain anything.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return ProcessStats::default() };
        let f: Vec<&str> = after.split_whitespace().collect();
        // man 5 proc: utime=14 stime=15 starttime=22 vsize=23 rss=24 (1-based); `f` starts at 3.
        let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<f64>().ok());
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse::<f64>().ok())
        });
        ProcessStats {
            cpu_seconds: field(14).zip(field(15)).map(|(u, s)| (u + s) / self.ticks_per_second),
            open_fds: std::fs::read_dir("/proc/self/fd").map(|d| d.count() as f64).ok(),
            max_fds: limit(&limits, "Max open files"),
            virtual_bytes: field(23),
            virtual_max_bytes: limit(&limits, "Max address space"),
            resident_bytes: field(24).map(|rss| rss * self.page_size),
            start_time_seconds: boot.zip(field(22)).map(|(b, s)| b + s / self.ticks_per_second),
        }
    }
}

/// The soft limit from /proc/self/limits; "unlimited" is reported as -1, as client_golang does.
fn limit(limits: &str, name: &str) -> Option<f64> {
    let line = limits.lines().find(|l| l.starts_with(name))?;
    let soft = line[name.len()..].split_whitespace().next()?;
    if soft == "unlimited" { Some(-1.0) } else { soft.parse().ok() }
}
