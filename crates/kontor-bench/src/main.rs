//! `kontor-bench`: see the crate documentation and BENCHMARKS.md.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kontor_bench::run::{self, RunArgs};

#[derive(Parser)]
#[command(name = "kontor-bench", about = "Load generator for Kontor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario against a fresh server and report.
    Run {
        #[command(flatten)]
        args: RunArgs,
        /// Write <name>.json and .svg here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Name of the output files (default: the scenario).
        #[arg(long)]
        name: Option<String>,
    },
    /// Fill a fresh server with many messages and measure search latency
    /// and index size.
    Search {
        #[command(flatten)]
        args: kontor_bench::search::SearchArgs,
        /// Write the report as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Upload worst-case images at once and report the server's peak
    /// memory.
    Images {
        #[command(flatten)]
        args: kontor_bench::images::ImagesArgs,
        /// Write the report as JSON to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a Markdown table of saved reports (for BENCHMARKS.md).
    Summary {
        /// Report files written by `run --out`.
        files: Vec<PathBuf>,
    },
    /// Internal: the bare fan-out probe server.
    #[command(hide = true)]
    ProbeServer,
    /// Internal: hold idle connections for the idle scenario.
    #[command(hide = true)]
    IdleWorker {
        #[arg(long)]
        url: String,
        #[arg(long)]
        tokens: PathBuf,
        #[arg(long)]
        from: usize,
        #[arg(long)]
        to: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run {
            mut args,
            out,
            name,
        } => {
            args.helper = std::env::current_exe().ok();
            let report = run::run(&args).await?;
            print!("{}", report.table());
            if let Some(dir) = out {
                let name = name.unwrap_or_else(|| report.scenario.clone());
                report.write(&dir, &name)?;
                println!("wrote {}/{name}.json", dir.display());
            }
            Ok(())
        }
        Command::Images { args, out } => {
            let report = kontor_bench::images::run(&args).await?;
            print!("{}", report.table());
            if let Some(path) = out {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
            }
            Ok(())
        }
        Command::Search { args, out } => {
            let report = kontor_bench::search::run(&args).await?;
            print!("{}", report.table());
            if let Some(path) = out {
                std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Summary { files } => {
            print!("{}", kontor_bench::report::summary(&files)?);
            Ok(())
        }
        Command::ProbeServer => kontor_bench::probe::serve().await,
        Command::IdleWorker {
            url,
            tokens,
            from,
            to,
        } => run::idle_worker(&url, &tokens, from, to).await,
    }
}
