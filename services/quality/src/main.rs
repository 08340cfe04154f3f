//! `quality [--config FILE]`: serves the quality-monitoring service until SIGTERM or Ctrl-C.

/// mimalloc: glibc malloc was a sixth of the CPU of a status read
/// (`make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(quality::SERVICE, quality::DEFAULT_PORT, |config, signal| {
        quality::start(config, signal)
    })
    .await
}
