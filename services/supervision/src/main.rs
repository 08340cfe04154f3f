//! `supervision [--config FILE]`: serves the supervision service until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(
        supervision::SERVICE,
        supervision::DEFAULT_PORT,
        supervision::start,
    )
    .await
}
