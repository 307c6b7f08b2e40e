//! Containers as a source of scrape targets: the Docker Engine API client ([`api`]) and the
//! shapes of its answers ([`model`]), the resolution of a container's name to its exporter's
//! address ([`resolve`]), and discovery of modules from container labels ([`discover`]). The
//! Engine API is also what Podman's compatible service speaks, so both are reached through it.

pub mod api;
pub mod discover;
pub mod model;
pub mod resolve;
