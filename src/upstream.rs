//! Reaching an upstream exporter: the kept-alive connection pool of an http module and the
//! response body that carries its connection ([`pool`]), unix-socket connections ([`unix`]),
//! the TLS client configuration of `https` upstreams ([`tls`]), and the process-wide memory
//! budget for the upstream bodies held ([`budget`]) and the buffers they are held in
//! ([`buffers`]). Nothing here knows about modules, verification or requests from clients.

pub mod budget;
pub mod buffers;
pub mod pool;
pub mod tcp;
pub mod tls;
pub mod unix;
