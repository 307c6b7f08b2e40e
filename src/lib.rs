//! exporter_exporter: one port in front of every Prometheus exporter, script and textfile on a
//! host, verifying that what it serves is valid exposition format.

pub mod cli;
pub mod config;
pub mod exposition;
pub mod logging;
pub mod telemetry;
