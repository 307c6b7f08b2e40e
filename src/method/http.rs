//! `method: http`, the reverse proxy: its YAML block and the checks that make it an
//! [`HttpConfig`] (config.rs: an address, a unix socket or a container; scheme, path, headers,
//! credentials, TLS), what the JSON listing shows of it, and its runner, [`HttpRunner`]
//! (proxy.rs), which answers with the upstream's head and its body still arriving.

mod config;
mod proxy;

pub use config::{
    BasicAuth, DEFAULT_MAX_CONNECTIONS, Endpoint, HttpBlock, HttpConfig, HttpView, Scheme, bracketed,
};
pub use proxy::{
    CONNECTION_WAIT_WITHOUT_DEADLINE, HttpRunner, IDLE_CONNECTION_TIMEOUT, MAX_IDLE_CONNECTIONS,
};

use super::build::{BuildContext, BuildProblem};
use super::definition::Definition;
use crate::config::block::Invalid;

impl Definition for HttpConfig {
    const NAME: &'static str = "http";
    const VIEW_KEY: &'static str = "HTTP";
    type Block = HttpBlock;
    type View<'a> = HttpView<'a>;
    type Runner = HttpRunner;

    fn check(block: HttpBlock) -> Result<HttpConfig, Invalid> {
        config::check(block)
    }

    fn view(&self) -> HttpView<'_> {
        config::view(self)
    }

    fn build(&self, context: &BuildContext<'_>) -> Result<HttpRunner, BuildProblem> {
        HttpRunner::build(self, context.roots, context.max_body, context.budget, context.docker)
    }
}
