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
pub mod exposition;
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
pub mod telemetry;
pub mod tls;
pub mod upstream;
