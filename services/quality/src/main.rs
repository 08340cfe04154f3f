//! `quality [--config FILE]`: serves the quality-monitoring service until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(quality::SERVICE, quality::DEFAULT_PORT, |config, signal| {
        quality::start(config, signal)
    })
    .await
}
