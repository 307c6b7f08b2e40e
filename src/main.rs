//! The `exporter_exporter` binary: parse the flags, set up logging, then check a metrics body
//! (`-check.metrics`), manage the Windows service (`-winsvc`), check the configuration, or run
//! the daemon until SIGTERM or SIGINT (on Windows: Ctrl-C, or the service being stopped). Exit
//! codes: 0 done; 1 the configuration was refused (the YAML, the web config, their files, or
//! flags that parse but cannot work together, as the original exits for those), the checked
//! body fails, or a `-winsvc` command failed; 2 a flag that does not parse (as Go's flag
//! package exits); 3 the daemon could not start (an address in use, say).

use std::process::ExitCode;

use exporter_exporter::check;
use exporter_exporter::cli;
use exporter_exporter::daemon::{self, StartError};
use exporter_exporter::exposition::Judge;
use exporter_exporter::logging;
use exporter_exporter::platform::{self, AsService, Signal, Signals};
use exporter_exporter::settings::{Flags, Settings};
use exporter_exporter::telemetry::BuildInfo;

const CONFIG_REFUSED: u8 = 1;
const CANNOT_START: u8 = 3;
const CHECK_FAILED: u8 = 1;
const SERVICE_COMMAND_FAILED: u8 = 1;

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
        println!("dependency list: {}; docs/dependencies.md says why each is there", platform::SBOM);
        return ExitCode::SUCCESS;
    }
    if !cli.check_metrics.is_empty() {
        return check_metrics(&cli);
    }
    if let Some(command) = cli.winsvc {
        return manage_service(command, &cli);
    }
    // Started by Windows' service manager, the daemon runs as the service, its log lines in
    // the Event Log; anywhere else this returns at once.
    let (service_cli, service_build) = (cli.clone(), build.clone());
    if let Some(code) =
        platform::serve_as_service(move |service| serve_as_service(&service_cli, service_build, service))
    {
        return ExitCode::from(code);
    }
    logging::init(cli.log_level, cli.log_format());
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(CONFIG_REFUSED);
        }
    };
    platform::raise_fd_limit();
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
    platform::tune_allocator();
    ExitCode::from(serve(settings, build, Signals::install))
}

/// Runs the daemon on a runtime of its own until `signals` say stop; the exit code.
fn serve(settings: Settings, build: BuildInfo, signals: impl FnOnce() -> std::io::Result<Signals>) -> u8 {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
        .and_then(|runtime| {
            runtime.block_on(async {
                let signals = signals().map_err(StartError::Signals)?;
                run(settings, build, signals).await
            })
        });
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            match e {
                StartError::Load(_) => CONFIG_REFUSED,
                StartError::Listen(_) | StartError::Signals(_) | StartError::Runtime(_) => CANNOT_START,
            }
        }
    }
}

/// The daemon as a Windows service: logs to the Event Log, stopped by the service manager.
fn serve_as_service(cli: &Flags, build: BuildInfo, service: AsService) -> u8 {
    logging::init_sink(cli.log_level, cli.log_format(), service.log);
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("{e}");
            return CONFIG_REFUSED;
        }
    };
    tracing::info!(version = build.version, "starting as a service");
    let code = serve(settings, build, move || Ok(service.signals));
    tracing::info!(code, "service stopped");
    code
}

/// `-winsvc`: prints what was done, or the error (with exit code 1, as the original).
fn manage_service(command: platform::ServiceCommand, cli: &Flags) -> ExitCode {
    // Flags that cannot work together are refused before they become the service's.
    if let Err(e) = cli.settings() {
        eprintln!("exporter_exporter: {e}");
        return ExitCode::from(CONFIG_REFUSED);
    }
    match platform::manage_service(command, &cli.service_args) {
        Ok(done) => {
            println!("{done}");
            if cli.service_args.iter().any(|a| a.arg != a.shown) {
                eprintln!(
                    "exporter_exporter: warning: a secret given as a flag is stored in the service's command \
                     line, which every local user can read; -web.bearer.token-file keeps it in a file"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("exporter_exporter: -winsvc {}: {e}", command.as_str());
            ExitCode::from(SERVICE_COMMAND_FAILED)
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

/// Runs the daemon: reload on SIGHUP, drain and return on SIGTERM or SIGINT (or what stands
/// for them on Windows).
async fn run(settings: Settings, build: BuildInfo, mut signals: Signals) -> Result<(), StartError> {
    let running = daemon::start(settings, build).await?;
    signals.ready();
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
