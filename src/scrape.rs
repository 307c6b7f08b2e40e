//! One scrape, in the words every layer below the routes shares: what the client asked for and
//! by when ([`request`], [`deadline`], [`query`]), what a debug scrape saw ([`trace`]), and why
//! it failed ([`error`]). Nothing here knows a method, a module set or a socket.

pub mod deadline;
pub mod error;
pub mod query;
pub mod request;
pub mod trace;

pub use error::ScrapeError;
pub use request::ScrapeRequest;
