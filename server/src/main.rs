#![forbid(unsafe_code)]

use server::config::Settings;
use server::startup::{Application, shutdown_signal};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    server::telemetry::init(settings.log_format);
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err, "could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    if let Err(err) = app.run_until_stopped(shutdown_signal()).await {
        tracing::error!(error = %err, "server failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
