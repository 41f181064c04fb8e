//! `server` / `server serve`: the service itself, until SIGINT or SIGTERM.

use server::infra::config::Settings;
use server::startup::{Application, shutdown_signal};
use std::process::ExitCode;

pub async fn run(settings: Settings) -> ExitCode {
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err, "could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "listening on http://{} (operations: http://{}/healthz, /metrics)",
        app.local_addr(),
        app.ops_addr()
    );
    if let Err(err) = app.run_until_stopped(shutdown_signal()).await {
        tracing::error!(error = %err, "server failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
