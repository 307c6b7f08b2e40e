//! How a command runs: in a process tree of its own (`platform::ProcessTree`: a process group
//! on Unix, a Job Object on Windows), so that the run ends whole, grandchildren included,
//! however it ends (an oversized output, the deadline, an error, or the scrape's task dropped
//! at shutdown); on Linux without the proxy's own malloc tunables in its environment.

use tokio::process::{Child, Command};

pub(super) use crate::platform::ProcessTree as Group;

/// Starts `command`, which its module gives the environment `env`, in a tree of its own.
pub(super) fn spawn(mut command: Command, env: &[(String, String)]) -> std::io::Result<(Child, Group)> {
    crate::platform::prepare_command(&mut command, env);
    let mut child = command.spawn()?;
    let group = Group::adopt(&mut child)?;
    Ok((child, group))
}
