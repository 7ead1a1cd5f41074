//! `kontor serve` and `kontor demo`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use kontor_server::Server;
use kontor_server::config::Config;
use kontor_server::demo::{self, DemoClock};
use tokio::net::TcpListener;

use crate::cli::ConfigArgs;

/// Load the configuration: file, environment, then command-line overrides.
pub fn load_config(args: &ConfigArgs, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
    let mut config = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(dir) = &args.data_dir {
        config.storage.data_dir = dir.clone();
    }
    if let Some(l) = listen {
        config.server.listen = l;
    }
    Ok(config)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KONTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}

async fn listen_and_serve(
    server: Server,
    config: &Config,
    banner: impl FnOnce(&str),
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let url = config
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    banner(&url);
    // A line tests and scripts can wait for.
    println!("kontor listening on http://{addr}");
    server.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// `kontor serve`.
pub async fn serve(args: ConfigArgs, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let config = load_config(&args, listen)?;
    init_logging(&config);
    let server = Server::open(config.clone()).await?;
    listen_and_serve(server, &config, |_| {}).await
}

/// `kontor demo`.
pub async fn demo(
    args: ConfigArgs,
    listen: Option<SocketAddr>,
    seed_only: bool,
) -> anyhow::Result<()> {
    let mut config = load_config(&args, listen)?;
    // The demo shows what Kontor can do, presence among it (each person
    // still turns their own on); `KONTOR_PRESENCE__ENABLED=false` keeps it off.
    if std::env::var_os("KONTOR_PRESENCE__ENABLED").is_none() {
        config.presence.enabled = true;
    }
    init_logging(&config);
    let clock = Arc::new(DemoClock::default());
    let server = Server::open_with_clock(config.clone(), clock.clone()).await?;
    let summary = demo::seed(server.state(), &clock)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo company failed: {}", e.parts().2))?;
    let print_logins = |url: &str| {
        println!();
        println!("Kontor demo: {}", demo::DEMO_ORG);
        println!("  Open {url} in a browser (or use `kontor login --server {url}`)");
        println!(
            "  {} people; {} messages added in this run",
            summary.users.len(),
            summary.messages
        );
        println!(
            "  Log in as any of these with the password \"{}\":",
            demo::DEMO_PASSWORD
        );
        for u in summary.users.iter().take(6) {
            println!("    {:<22} {}", u.username, u.display_name);
        }
        println!(
            "    … and {} more (kontor admin list-users)",
            summary.users.len().saturating_sub(6)
        );
        println!();
    };
    if seed_only {
        print_logins(&format!("http://{}", config.server.listen));
        server.close().await;
        return Ok(());
    }
    listen_and_serve(server, &config, print_logins).await
}
