//! exporter_exporter: one port in front of every Prometheus exporter, script and textfile on a
//! host, verifying that what it serves is valid exposition format.

pub mod app;
pub mod auth;
pub mod body;
pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod docker;
#[allow(clippy::too_many_lines, reason = "the parsers are exempt: each state of a line reads best whole")]
pub mod exposition;
pub mod lasting;
pub mod logging;
pub mod method;
pub mod modules;
pub mod platform;
pub mod reload;
pub mod response;
pub mod routes;
pub mod scrape;
pub mod security;
pub mod server;
pub mod settings;
pub mod sources;
pub mod telemetry;
pub mod tls;
pub mod upstream;
