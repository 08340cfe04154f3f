//! `crediting [--config FILE]`: serves the crediting service until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(
        crediting::SERVICE,
        crediting::DEFAULT_PORT,
        crediting::start,
    )
    .await
}
