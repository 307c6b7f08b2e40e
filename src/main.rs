//! The `exporter_exporter` binary: parse the flags, set up logging, run the daemon.

use std::process::ExitCode;

use exporter_exporter::cli::Cli;
use exporter_exporter::daemon;
use exporter_exporter::logging;
use exporter_exporter::telemetry::BuildInfo;

/// Raises the soft limit on open files to the hard limit, as Go programs do at startup: a
/// proxy holds a client connection and an upstream connection per scrape.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "cannot raise the open files limit");
        }
    }
}

/// Where the Debian package installs the SBOM (packaging/build-deb.sh).
const SBOM: &str = "/usr/share/doc/exporter-exporter/sbom.cdx.json";

fn main() -> ExitCode {
    let cli = match Cli::parse_go(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let build = BuildInfo::current();
    if cli.version {
        println!(
            "exporter_exporter {} (revision {}, built {}, {})",
            build.version, build.revision, build.date, build.rustc
        );
        println!("licence: {}", env!("CARGO_PKG_LICENSE"));
        println!(
            "crates: {} linked, {} in the normal dependency tree with the proc-macros run at build time",
            env!("EXPEXP_LINKED_CRATES"),
            env!("EXPEXP_NORMAL_TREE_CRATES")
        );
        println!(
            "dependency list: {SBOM} (CycloneDX, Debian package); docs/dependencies.md says why each is there"
        );
        return ExitCode::SUCCESS;
    }
    logging::init(cli.log_level, cli.log_format());
    raise_fd_limit();
    if cli.config_check {
        return match daemon::check(&cli, build) {
            Ok(()) => {
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprintln!("configuration has errors:\n{problems}");
                ExitCode::FAILURE
            }
        };
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
        .and_then(|runtime| runtime.block_on(daemon::run(&cli, build)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}
