//! `registry [--config FILE]`: serves the registry until SIGTERM or Ctrl-C.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(registry::SERVICE, registry::DEFAULT_PORT, registry::start).await
}
