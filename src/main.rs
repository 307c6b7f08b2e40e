//! The `exporter_exporter` binary: parse flags, load the configuration, build, serve.

use std::process::ExitCode;
use std::sync::Arc;

use exporter_exporter::cli::Cli;
use exporter_exporter::logging::{self, LogFormat};
use exporter_exporter::telemetry::{BuildInfo, Metrics};
use exporter_exporter::{app, config, server};

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
        return ExitCode::SUCCESS;
    }
    logging::init(cli.log_level, if cli.log_json { LogFormat::Json } else { LogFormat::Logfmt });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(run(cli, build))
}

async fn run(cli: Cli, build: BuildInfo) -> ExitCode {
    let settings = match app::Settings::from_cli(&cli) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let (config, warnings) = match config::Config::load(&settings.sources) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    for w in warnings {
        tracing::warn!("{w}");
    }
    let metrics = Arc::new(Metrics::new(build));
    let app = match app::App::build(config, settings.options.clone(), metrics) {
        Ok(a) => Arc::new(a),
        Err(e) => return fail(&e.to_string()),
    };
    let Some(address) = settings.listen_address else {
        tracing::info!("no web addresses to listen on, nothing to do");
        return ExitCode::SUCCESS;
    };
    let listener = match server::bind(&address).await {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(address = %address, bound = %bound, "listening");
    server::serve(listener, app, server::shutdown_signal()).await;
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    tracing::error!("{message}");
    ExitCode::FAILURE
}
