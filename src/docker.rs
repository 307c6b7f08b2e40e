//! Containers as a source of scrape targets: the Docker Engine API client ([`api`]) and the
//! shapes of its answers ([`model`]). The Engine API is also what Podman's compatible service
//! speaks, so both are reached through it.

pub mod api;
pub mod model;
