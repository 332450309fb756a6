//! The `waygate` binary: parses the command line and runs it.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: a request allocates and frees many small buffers across worker
/// threads, where glibc's allocator spent a tenth of the gateway's CPU
/// (`benches/load.sh` with a perf profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = waygate_server::cli::Cli::parse();
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            // One line, for people and scripts alike.
            eprintln!("waygate: {reason}");
            ExitCode::FAILURE
        }
    }
}
