//! `amphora regtest`: run the embedded node stand-alone.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::chain::{ChainName, DEFAULT_INITIAL_FREE_COINS};
use crate::node::{MiningPolicy, Node, NodeConfig};

/// Options of `amphora regtest` (named after `elementsd`'s).
#[derive(Debug, Clone, clap::Args)]
pub struct RegtestArgs {
    /// Data directory; chain and wallets are kept in `<datadir>/<chain>/`. In memory if unset.
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Chain: liquidregtest or elementsregtest.
    #[arg(long, default_value = "liquidregtest")]
    pub chain: ChainName,
    /// JSON-RPC port (0 = any free port).
    #[arg(long, default_value_t = 7040)]
    pub rpcport: u16,
    /// Address the JSON-RPC server binds to.
    #[arg(long, default_value = "127.0.0.1")]
    pub rpcbind: IpAddr,
    /// RPC user (with --rpcpassword; otherwise a `.cookie` file is used).
    #[arg(long, requires = "rpcpassword")]
    pub rpcuser: Option<String>,
    /// RPC password.
    #[arg(long, requires = "rpcuser", env = "AMPHORA_REGTEST_RPCPASSWORD")]
    pub rpcpassword: Option<String>,
    /// Policy-asset satoshis paid to OP_TRUE in the genesis block.
    #[arg(long, default_value_t = DEFAULT_INITIAL_FREE_COINS)]
    pub initialfreecoins: u64,
    /// Also mine a block every this many seconds; 0 mines as soon as a transaction enters
    /// the mempool, and again until it has the confirmations the platform requires, then
    /// idles.
    #[arg(long, value_name = "SECONDS")]
    pub block_interval: Option<u64>,
}

/// Runs the node until Ctrl-C or the `stop` RPC, then shuts it down cleanly. With
/// `--block-interval 0` it mines until a transaction has `confirmations`: the caller passes the
/// platform's rule (`amphora_core::chain::MIN_CONFIRMATIONS`), which this crate does not depend
/// on.
pub async fn run(args: RegtestArgs, confirmations: u32) -> anyhow::Result<()> {
    let config = NodeConfig {
        datadir: args.datadir.clone(),
        chain: args.chain,
        initial_free_coins: args.initialfreecoins,
        rpc_listen: SocketAddr::new(args.rpcbind, args.rpcport),
        rpc_user: args.rpcuser.clone(),
        rpc_password: args.rpcpassword.clone(),
        block_interval: args.block_interval.map(Duration::from_secs),
        mining_policy: if args.block_interval == Some(0) {
            MiningPolicy::WhileUnconfirmed { confirmations }
        } else {
            MiningPolicy::Always
        },
        block_script: None,
        txindex: true,
    };
    let node = Node::start(config)
        .await
        .context("starting the regtest node")?;
    {
        let state = node.state();
        let guard = state.lock().unwrap_or_else(|p| p.into_inner());
        let (height, hash) = guard.chain.tip();
        println!(
            "amphora regtest: {} at height {height} (tip {hash}, policy asset {})",
            args.chain,
            guard.chain.params().policy_asset()
        );
    }
    println!("RPC URL: {}", node.rpc_url());
    match node.cookie_path() {
        Some(path) => println!("RPC auth: cookie file {}", path.display()),
        None if args.rpcuser.is_some() => println!("RPC auth: --rpcuser/--rpcpassword"),
        None => {
            let (user, password) = node.credentials();
            println!("RPC auth: {user}:{password} (in-memory node, no cookie file)");
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => println!("amphora regtest: interrupted, shutting down"),
        _ = terminated() => println!("amphora regtest: terminated, shutting down"),
        _ = node.stopped() => println!("amphora regtest: stop requested, shutting down"),
    }
    node.shutdown().await.context("stopping the regtest node")?;
    Ok(())
}

/// Resolves on SIGTERM (Unix); never elsewhere.
async fn terminated() {
    #[cfg(unix)]
    {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RegtestArgs,
    }

    #[test]
    fn defaults_match_elementsd_on_custom_chains() {
        let cli = Cli::try_parse_from(["amphora"]).expect("defaults");
        assert_eq!(cli.args.chain, ChainName::LiquidRegtest);
        assert_eq!(cli.args.rpcport, 7040);
        assert_eq!(cli.args.initialfreecoins, DEFAULT_INITIAL_FREE_COINS);
        assert!(cli.args.datadir.is_none() && cli.args.block_interval.is_none());
    }

    #[test]
    fn options_parse_and_bad_values_are_refused() {
        let cli = Cli::try_parse_from([
            "amphora",
            "--chain",
            "elementsregtest",
            "--rpcport",
            "0",
            "--rpcuser",
            "u",
            "--rpcpassword",
            "p",
            "--block-interval",
            "5",
            "--datadir",
            "/tmp/x",
        ])
        .expect("options");
        assert_eq!(cli.args.chain, ChainName::ElementsRegtest);
        assert_eq!(cli.args.block_interval, Some(5));
        assert!(Cli::try_parse_from(["amphora", "--chain", "liquidv1"]).is_err());
        assert!(Cli::try_parse_from(["amphora", "--rpcuser", "u"]).is_err());
    }
}
