#![forbid(unsafe_code)]
//! The `server` binary: parses the command line and hands it to [`cli`]; with no command it
//! runs the service.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// Page rendering is mostly allocation: with glibc's malloc, allocating and freeing took about
/// a third of a page's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(cli.run()),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}
