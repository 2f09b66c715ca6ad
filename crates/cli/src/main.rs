//! `amphora`: the one binary of the Amphora platform.

mod admin;
mod config;
mod demo;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::admin::AdminCommand;
use crate::config::ConfigArgs;

/// Amphora: an open, self-hostable Asset Management Platform for the Liquid network.
#[derive(Debug, Parser)]
#[command(name = "amphora", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform: the AMP API under /api and the AMP2 co-signer under /amp2.
    Serve(ConfigArgs),
    /// Apply the database migrations and exit.
    Migrate(ConfigArgs),
    /// Manage the platform's accounts.
    Admin {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Run the embedded Elements-compatible regtest node.
    #[cfg(feature = "embedded-node")]
    Regtest(amphora_regtest::cli::RegtestArgs),
    /// The investor wallet (LWK, co-signed by an Amphora platform).
    Wallet(amphora_wallet::WalletArgs),
    /// The issuer's confirm client: distribute, payout, reissue, burn and update-blinders
    /// through the issuer's own Elements node (compatible with `blockstream-amp-confirm.py`).
    Confirm(amphora_confirm::ConfirmArgs),
    /// Walk the whole AMP tutorial against a running platform (issue, register users and
    /// wallets, assign, distribute, reissue, burn), printing each step.
    Demo(demo::DemoArgs),
}

fn init_tracing() {
    let filter = EnvFilter::try_from_env("AMPHORA_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Installs the SIGINT (Ctrl-C) and SIGTERM handlers now, and returns a future that completes
/// when either signal arrives. Installing eagerly means a signal sent right after start-up is
/// never missed.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
            tracing::info!("shutdown requested: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown requested: finishing in-flight requests");
        })
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = args.resolve()?;
            amphora_server::serve(config, shutdown_signal()?).await?;
        }
        Command::Migrate(args) => {
            let config = args.resolve()?;
            let store = amphora_server::open_store(&config).await?;
            store.close().await;
            println!("database migrations applied");
        }
        Command::Admin { config, command } => {
            let config = config.resolve()?;
            admin::run(&config, command).await?;
        }
        #[cfg(feature = "embedded-node")]
        Command::Regtest(args) => {
            amphora_regtest::cli::run(args, amphora_core::chain::MIN_CONFIRMATIONS).await?
        }
        Command::Wallet(args) => amphora_wallet::run(args).await?,
        Command::Confirm(args) => amphora_confirm::run(args).await?,
        Command::Demo(args) => demo::run(args).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    amphora_server::memory::return_large_blocks();
    init_tracing();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
