//! The `waygate` binary: parses the command line and runs it.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator (decision 37).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
