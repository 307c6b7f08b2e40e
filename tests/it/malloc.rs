//! The daemon runs itself again with glibc's malloc tunables (src/malloc.rs): the same process,
//! with the tunables in its environment, and without them in the environment of its scripts.

use crate::support;

use exporter_exporter::platform::malloc::TUNABLES;
use support::{Daemon, get, script};

#[tokio::test]
async fn the_daemon_runs_with_the_malloc_tunables_and_its_scripts_without_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = script(dir.path(), "env.sh", "printf 'tuned{v=\"%s\"} 1\\n' \"${GLIBC_TUNABLES:-none}\"");
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        format!("modules:\n  env:\n    method: exec\n    exec: {{command: {}}}\n", s.display()),
    )
    .expect("write config");
    let d = Daemon::with_config(&cfg, &[]);
    // The PID the test started is the tuned daemon: it ran itself again in place.
    // glibc splits the variable in place (`:` becomes NUL) as it reads it.
    let environ = std::fs::read(format!("/proc/{}/environ", d.child.id())).expect("environ");
    let environ = String::from_utf8_lossy(&environ).replace('\0', ":");
    let wanted = format!("GLIBC_TUNABLES={TUNABLES}:");
    assert!(environ.contains(&wanted), "the daemon runs with {wanted}: {environ}");
    let got = get(&d.url("/proxy?module=env"), &[]).await;
    assert_eq!((got.status, got.text().as_str()), (200, "tuned{v=\"none\"} 1\n"));
}
