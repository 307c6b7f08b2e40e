//! Every integration test in one crate, so the library and the test support are compiled and
//! linked once rather than once per file. Each module is one area (named as the file). Under
//! Windows (wine, docs/windows.md) the modules that need a Linux-only component are compiled
//! out: Docker and Podman, unix sockets, /proc, signals, glibc, Debian's Prometheus and the
//! original's binary, the reference programs (Linux binaries built from Prometheus), cargo.
//! tests/faults.rs stays a crate of its own: it measures the whole process (open files,
//! threads, children, memory), which other tests running beside it would disturb.

mod architecture;
mod auth;
mod bodies;
mod checker;
mod cli;
mod coalesce;
mod config;
#[cfg(unix)]
mod containers;
mod debug_scrape;
#[cfg(unix)]
mod dependencies;
#[cfg(unix)]
mod differential;
#[cfg(unix)]
mod docker_api;
#[cfg(unix)]
mod docker_real;
#[cfg(unix)]
mod docker_support;
mod docs;
#[cfg(unix)]
mod e2e_prometheus;
mod harness;
mod hostile;
mod inbound_tls;
mod listing;
#[cfg(unix)]
mod load;
#[cfg(target_os = "linux")]
mod malloc;
mod memory_budget;
mod operations;
#[cfg(unix)]
mod prometheus_versions;
#[cfg(unix)]
mod promtool;
mod properties;
#[cfg(unix)]
mod proxy_exec;
mod proxy_file;
mod proxy_http;
mod proxy_path;
mod rate_limit;
mod refcheck;
#[cfg(unix)]
mod reference;
mod support;
mod upstream_pool;
mod upstream_tls;
mod verify_cases;
#[cfg(windows)]
mod windows;
