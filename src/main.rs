//! The `exporter_exporter` binary: parse the flags, set up logging, then check a metrics body
//! (`-check.metrics`), check the configuration, or run the daemon until SIGTERM or SIGINT. Exit
//! codes: 0 done; 1 the configuration was refused (the YAML, the web config, their files, or
//! flags that parse but cannot work together, as the original exits for those), or the checked
//! body fails; 2 a flag that does not parse (as Go's flag package exits); 3 the daemon could
//! not start (an address in use, say).

use std::process::ExitCode;

use exporter_exporter::check;
use exporter_exporter::cli;
use exporter_exporter::daemon::{self, StartError};
use exporter_exporter::exposition::Judge;
use exporter_exporter::logging;
use exporter_exporter::settings::{Flags, Settings};
use exporter_exporter::signals::{Signal, Signals};
use exporter_exporter::telemetry::BuildInfo;

const CONFIG_REFUSED: u8 = 1;
const CANNOT_START: u8 = 3;
const CHECK_FAILED: u8 = 1;

/// Where the Debian package installs the SBOM (packaging/build-deb.sh).
const SBOM: &str = "/usr/share/doc/exporter-exporter/sbom.cdx.json";

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os()) {
        Ok(flags) => flags,
        // 2 for a flag that does not parse, 0 for -help, as Go's flag package exits.
        Err(refused) => return refused.exit(),
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
    if !cli.check_metrics.is_empty() {
        return check_metrics(&cli);
    }
    logging::init(cli.log_level, cli.log_format());
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(CONFIG_REFUSED);
        }
    };
    raise_fd_limit();
    if cli.config_check {
        return match daemon::check_config(&settings, build) {
            Ok(()) => {
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprintln!("configuration has errors:\n{problems}");
                ExitCode::from(CONFIG_REFUSED)
            }
        };
    }
    // Before any thread starts: this may replace the process with itself, tuned.
    exporter_exporter::malloc::run_tuned();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
        .and_then(|runtime| runtime.block_on(run(settings, build)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(match e {
                StartError::Load(_) => CONFIG_REFUSED,
                StartError::Listen(_) | StartError::Signals(_) | StartError::Runtime(_) => CANNOT_START,
            })
        }
    }
}

/// `-check.metrics`: the verdicts of Prometheus 3 and 2.42, on stdout when both ingest the body,
/// on stderr (exit 1) when either refuses it.
fn check_metrics(cli: &Flags) -> ExitCode {
    let body = match check::Input::from_flag(&cli.check_metrics).read(cli.options.max_body_bytes) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(CHECK_FAILED);
        }
    };
    let content_type = Some(cli.check_content_type.as_str()).filter(|ct| !ct.is_empty());
    let checked = check::check(&body, content_type, cli.options.max_body_bytes, &Judge::BOTH);
    if checked.ok() {
        print!("{}", checked.report());
        ExitCode::SUCCESS
    } else {
        eprint!("{}", checked.report());
        ExitCode::from(CHECK_FAILED)
    }
}

/// Runs the daemon: reload on SIGHUP, drain and return on SIGTERM or SIGINT.
async fn run(settings: Settings, build: BuildInfo) -> Result<(), StartError> {
    let mut signals = Signals::install().map_err(StartError::Signals)?;
    let running = daemon::start(settings, build).await?;
    if running.listening().is_empty() {
        return Ok(());
    }
    while let Signal::Reload = signals.next().await {
        let reloader = running.reloader();
        // The outcome is logged where the reload runs; signals keep being read meanwhile.
        tokio::spawn(async move { reloader.reload().await });
    }
    running.stop().await;
    Ok(())
}

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
