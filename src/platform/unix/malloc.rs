//! glibc's malloc, tuned so that the memory a burst of scrapes took goes back to the system
//! once it is over. Measured (bench/README.md, "Memory returned after a burst"): with glibc's
//! defaults, 30 s after a burst the proxy still held 133-213 MiB (its dynamic mmap threshold
//! moves large buffers into per-thread arenas, which are not trimmed); with these settings it
//! held 16-20 MiB, its idle level, at a lower peak and no loss of rate. jemalloc (with its
//! background purging thread) gave memory back as well but started 13 MiB larger and peaked
//! higher; jemalloc and mimalloc without it kept most of the burst.
//!
//! The settings are glibc tunables, read only from the environment at process start (the crate
//! forbids `unsafe`, so `mallopt` is not an option): the daemon runs itself again, once, with
//! them set, unless the environment already names one of glibc's malloc settings.

use std::os::unix::process::CommandExt as _;

/// The tunables: two arenas, and fixed trim and mmap thresholds of 128 KiB (fixing them turns
/// off glibc's raising of the mmap threshold, so buffers of a large body are mapped and
/// unmapped rather than kept in an arena).
pub const TUNABLES: &str =
    "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072";

/// Runs this program again with [`TUNABLES`] in `GLIBC_TUNABLES`, keeping its process ID,
/// arguments and environment, unless the environment already sets `GLIBC_TUNABLES` or a
/// `MALLOC_*` variable (the operator's choice wins) or this is not glibc. Returns only when
/// it did not run again (or could not: then the proxy runs with glibc's defaults).
pub fn run_tuned() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let chosen = std::env::vars_os().any(|(name, _)| {
        let name = name.to_string_lossy();
        name == "GLIBC_TUNABLES" || name.starts_with("MALLOC_")
    });
    if chosen {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env("GLIBC_TUNABLES", TUNABLES).exec();
    tracing::warn!(%error, "cannot run again with the malloc settings; glibc's defaults stay");
}
