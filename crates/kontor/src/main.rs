//! The `kontor` binary: server, demo, offline administration and a
//! command-line client, all in one.
//!
//! Layout: `cli` (argument definitions), `run` (serve and demo), `admin`
//! (offline commands against the data directory), `client` (commands that
//! talk to a running server through `kontor-client`).

mod admin;
mod cli;
mod client;
mod migrate;
mod run;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kontor: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::dispatch(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kontor: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
