//! How a command runs on this platform (Unix): in a process group of its own, so that the run
//! ends whole, grandchildren included, however it ends (an oversized output, the deadline, an
//! error, or the scrape's task dropped at shutdown); and without the proxy's own malloc
//! tunables in its environment.

use tokio::process::{Child, Command};

/// The command's process group, killed when dropped.
#[derive(Debug)]
pub(super) struct Group(Option<rustix::process::Pid>);

/// Starts `command` as the leader of a new process group.
pub(super) fn spawn(mut command: Command) -> std::io::Result<(Child, Group)> {
    command.process_group(0);
    let child = command.spawn()?;
    let group = Group(child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32)));
    Ok((child, group))
}

impl Group {
    /// Kills every process of the group at once.
    pub(super) fn kill(&self) {
        if let Some(pgid) = self.0 {
            // Gone already is fine: there is nothing left to kill.
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Leaves the proxy's own malloc settings (malloc.rs) out of the command's environment, unless
/// the module sets `GLIBC_TUNABLES` itself.
pub(super) fn without_own_tunables(command: &mut Command, env: &[(String, String)]) {
    // glibc cuts the variable at its first `:` as it reads it, so ours shows as a prefix.
    let own_tunables = std::env::var("GLIBC_TUNABLES")
        .is_ok_and(|v| !v.is_empty() && crate::malloc::TUNABLES.starts_with(v.as_str()));
    if own_tunables && !env.iter().any(|(k, _)| k == "GLIBC_TUNABLES") {
        command.env_remove("GLIBC_TUNABLES");
    }
}
