//! Every integration test in one crate, so the library and the test support are compiled and
//! linked once rather than once per file. Each module is one area (named as the file).
//! tests/faults.rs stays a crate of its own: it measures the whole process (open files,
//! threads, children, memory), which other tests running beside it would disturb.

mod architecture;
mod auth;
mod bodies;
mod checker;
mod cli;
mod coalesce;
mod config;
mod containers;
mod debug_scrape;
mod dependencies;
mod differential;
mod docker_api;
mod docker_real;
mod docker_support;
mod docs;
mod e2e_prometheus;
mod harness;
mod hostile;
mod inbound_tls;
mod listing;
mod load;
mod malloc;
mod memory_budget;
mod operations;
mod prometheus_versions;
mod promtool;
mod properties;
mod proxy_exec;
mod proxy_file;
mod proxy_http;
mod proxy_path;
mod rate_limit;
mod refcheck;
mod reference;
mod support;
mod upstream_pool;
mod upstream_tls;
mod verify_cases;
