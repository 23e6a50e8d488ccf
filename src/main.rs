//! The `cairn` binary: parse the command line and hand over to the library.

use clap::Parser;

/// See Cargo.toml: resident memory and allocation speed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cairn::config::Cli::parse();
    match cairn::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
