//! What a method's file declares, for the list in method.rs to generate every place that names
//! the methods (the YAML's `method:` names and block keys, the check that a module has its
//! method's block and no other, the messages that list the methods, the JSON listing's key,
//! the runner): [`Definition`], implemented by the method's checked configuration.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::build::{BuildContext, BuildProblem};
use super::runner::Runner;
use crate::config::block::Invalid;

/// A method: its YAML block, checked into `Self`, its view in the JSON listing, its runner.
pub trait Definition: Sized {
    /// Its name: `method: NAME` in the YAML, and the key of its block.
    const NAME: &'static str;
    /// The key of its part of a module in the JSON listing (the original's: `HTTP`, `Exec`,
    /// `File`).
    const VIEW_KEY: &'static str;

    /// Its block, as written in the YAML.
    type Block: DeserializeOwned + std::fmt::Debug;
    /// What the JSON listing shows of it: never a password, header, environment or argument.
    type View<'a>: Serialize
    where
        Self: 'a;
    /// What runs a module of this method.
    type Runner: Runner;

    /// Checks the block into a configuration that cannot be wrong.
    fn check(block: Self::Block) -> Result<Self, Invalid>;

    /// Its part of a module in the JSON listing.
    fn view(&self) -> Self::View<'_>;

    /// Builds the runner; reads what it needs (TLS files) now, so that errors show at (re)load.
    fn build(&self, context: &BuildContext<'_>) -> Result<Self::Runner, BuildProblem>;
}
