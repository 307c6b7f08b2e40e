//! A command's process tree on unix: the command leads a process group of its own, so that
//! one signal kills it with every child it started, grandchildren holding its pipes included.

use tokio::process::{Child, Command};

use super::malloc;

/// Sets up `command` to lead a process group of its own, and keeps the proxy's own malloc
/// tunables (malloc.rs) out of its environment unless the module sets them.
pub fn prepare_command(command: &mut Command, module_env: &[(String, String)]) {
    command.process_group(0);
    // glibc cuts the variable at its first `:` as it reads it, so ours shows as a prefix.
    let own_tunables = std::env::var("GLIBC_TUNABLES")
        .is_ok_and(|v| !v.is_empty() && malloc::TUNABLES.starts_with(v.as_str()));
    if own_tunables && !module_env.iter().any(|(k, _)| k == "GLIBC_TUNABLES") {
        command.env_remove("GLIBC_TUNABLES");
    }
}

/// The process group of a command started with [`prepare_command`], killed when the run ends
/// however it ends (a timeout, an error, or the scrape's task being dropped at shutdown), so
/// no child of it outlives it.
#[derive(Debug)]
pub struct ProcessTree(Option<rustix::process::Pid>);

impl ProcessTree {
    /// Takes charge of `child`'s process group. Never fails on unix: the group exists from
    /// the start (the `Result` is for Windows, where the tree is put in a Job Object now).
    pub fn adopt(child: &mut Child) -> std::io::Result<ProcessTree> {
        Ok(ProcessTree(child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32))))
    }

    /// Kills every process of the tree at once.
    pub fn kill(&self) {
        if let Some(pgid) = self.0 {
            // Gone already is fine: there is nothing left to kill.
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.kill();
    }
}
