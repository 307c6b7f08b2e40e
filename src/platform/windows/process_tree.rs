//! A command's process tree on Windows: Windows has no process groups, so each run goes in a
//! Job Object of its own. The command starts suspended, joins the job, and only then runs, so
//! every process it starts is in the job from its first instruction; terminating the job
//! kills them all at once, grandchildren holding its pipes included. The job is also closed
//! (killing what is left) when the run ends however it ends, and if the proxy itself dies.

use tokio::process::{Child, Command};
use windows_sys::Win32::System::Threading::{CREATE_NO_WINDOW, CREATE_SUSPENDED};

use super::sys::{Job, resume_threads};

/// Sets up `command` to start suspended (it runs once [`ProcessTree::adopt`] has put it in
/// its job) and without a console window of its own (a service has no desktop, and an
/// interactive proxy's console is not the command's). Windows has no equivalent of glibc's
/// malloc tunables to keep out of its environment, so `module_env` needs no attention here.
pub fn prepare_command(command: &mut Command, module_env: &[(String, String)]) {
    let _ = module_env;
    command.creation_flags(CREATE_SUSPENDED | CREATE_NO_WINDOW);
}

/// The job of a command started with [`prepare_command`]; terminated on [`ProcessTree::kill`]
/// and when dropped.
#[derive(Debug)]
pub struct ProcessTree(Job);

impl ProcessTree {
    /// Puts `child` (started suspended) in a new job, then lets it run. On failure the child
    /// is killed, so nothing runs outside a job.
    pub fn adopt(child: &mut Child) -> std::io::Result<ProcessTree> {
        let confined = (|| {
            let job = Job::new()?;
            let handle = child.raw_handle().ok_or_else(|| std::io::Error::other("the command has exited"))?;
            job.assign(handle)?;
            let pid = child.id().ok_or_else(|| std::io::Error::other("the command has exited"))?;
            resume_threads(pid)?;
            Ok(ProcessTree(job))
        })();
        if confined.is_err() {
            let _ = child.start_kill();
        }
        confined
    }

    /// Kills every process of the tree at once.
    pub fn kill(&self) {
        // Gone already is fine: there is nothing left to kill.
        let _ = self.0.terminate();
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.kill();
    }
}
