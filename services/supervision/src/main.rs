//! `supervision [--config FILE]`: serves the supervision service until SIGTERM or Ctrl-C.

/// mimalloc: glibc malloc was a sixth of the CPU of a status read
/// (`make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ce_server::app::run_main(
        supervision::SERVICE,
        supervision::DEFAULT_PORT,
        supervision::start,
    )
    .await
}
