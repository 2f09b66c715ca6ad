//! `amphora wallet ...`: the command line over [`Wallet`].

use std::io::Read;
use std::path::PathBuf;

use amphora_rpc::{Auth, ElementsRpc};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::error::WalletError;
use crate::platform::normalize_url;
use crate::wallet::{SendRequest, Wallet};

/// The JSON-RPC address of the embedded regtest node of a local `amphora serve` /
/// `amphora regtest` (its default `--rpcport`).
pub const DEFAULT_NODE_URL: &str = "http://127.0.0.1:7040";
/// The wallet directory under the home directory.
pub const DEFAULT_WALLET_DIR: &str = ".amphora-wallet";

/// `amphora wallet`: the investor's wallet (LWK, AMP2 co-signed by an Amphora platform).
#[derive(Debug, Clone, Args)]
pub struct WalletArgs {
    /// Directory holding the wallet's mnemonic and state [default: ~/.amphora-wallet].
    #[arg(long, global = true, env = "AMPHORA_WALLET_DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Elements node JSON-RPC URL (credentials may be given as http://user:pass@host:port;
    /// otherwise see --node-cookie).
    #[arg(long, global = true, env = "AMPHORA_NODE_URL", default_value = DEFAULT_NODE_URL)]
    pub node_url: String,
    /// The node's RPC cookie file, instead of credentials in the URL.
    #[arg(long, global = true, env = "AMPHORA_NODE_COOKIE")]
    pub node_cookie: Option<PathBuf>,
    /// The Amphora platform's base URL (required by `register`).
    #[arg(long, global = true, env = "AMPHORA_PLATFORM")]
    pub platform: Option<String>,
    /// Asset registry base URL for tickers [default: <platform>/registry].
    #[arg(long, global = true, env = "AMPHORA_REGISTRY_URL")]
    pub registry_url: Option<String>,
    /// Print one JSON document instead of text (errors too, as {"error", "reasons"?}).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// The wallet's sub-commands.
#[derive(Debug, Clone, Subcommand)]
pub enum WalletCommand {
    /// Create a wallet with a new mnemonic (stored with mode 0600).
    Create {
        /// Also print the mnemonic.
        #[arg(long)]
        show_mnemonic: bool,
        /// Restore from a mnemonic read from standard input instead of generating one.
        #[arg(long)]
        restore: bool,
        /// With --restore: first block height that can hold the wallet's transactions
        /// [default: 0].
        #[arg(long, requires = "restore")]
        birth_height: Option<u32>,
    },
    /// Register the wallet with the platform given by --platform; prints the wallet id and GAID.
    Register,
    /// Sync the wallet with the node.
    Sync,
    /// Show a receive address (the first unused one).
    Address {
        /// Derivation index of the address instead of the first unused one.
        #[arg(long)]
        index: Option<u32>,
        /// Do not sync with the node first.
        #[arg(long)]
        no_sync: bool,
    },
    /// Show the balance per asset.
    Balance {
        /// Do not sync with the node first.
        #[arg(long)]
        no_sync: bool,
    },
    /// Send an asset: build, sign, have the platform co-sign, broadcast.
    Send {
        /// Asset id (hex), ticker of an asset you hold, or L-BTC.
        #[arg(long)]
        asset: String,
        /// Confidential address of the recipient.
        #[arg(long)]
        to: String,
        /// Amount in the asset's display unit (e.g. 1.5).
        #[arg(long)]
        amount: String,
        /// Fee rate in sat/kvB.
        #[arg(long)]
        fee_rate: Option<f32>,
    },
    /// List the wallet's transactions.
    Txs {
        /// Do not sync with the node first.
        #[arg(long)]
        no_sync: bool,
    },
}

/// Runs one `amphora wallet` command, printing its result (text, or JSON with `--json`).
/// With `--json`, a failure is also printed as JSON on stdout before being returned.
pub async fn run(args: WalletArgs) -> anyhow::Result<()> {
    let json = args.json;
    match execute(args).await {
        Ok(output) => {
            println!("{output}");
            Ok(())
        }
        Err(e) => {
            if json {
                println!("{}", error_json(&e));
            }
            Err(e.into())
        }
    }
}

/// The `--json` form of an error: `{"error": message}`, plus `"reasons"` for a refused transfer.
pub fn error_json(e: &WalletError) -> serde_json::Value {
    match e {
        WalletError::Refused(refusal) => serde_json::json!({
            "error": e.to_string(),
            "status": refusal.status,
            "reasons": refusal.reasons,
        }),
        _ => serde_json::json!({ "error": e.to_string() }),
    }
}

fn render<T: Serialize + std::fmt::Display>(value: &T, json: bool) -> Result<String, WalletError> {
    if json {
        serde_json::to_string_pretty(value)
            .map_err(|e| WalletError::InvalidInput(format!("cannot print JSON: {e}")))
    } else {
        Ok(value.to_string())
    }
}

fn wallet_dir(args: &WalletArgs) -> Result<PathBuf, WalletError> {
    if let Some(dir) = &args.wallet_dir {
        return Ok(dir.clone());
    }
    let home = std::env::var_os("HOME").ok_or_else(|| {
        WalletError::InvalidInput("HOME is not set: pass --wallet-dir".to_string())
    })?;
    Ok(PathBuf::from(home).join(DEFAULT_WALLET_DIR))
}

fn node(args: &WalletArgs) -> Result<ElementsRpc, WalletError> {
    let auth = match &args.node_cookie {
        Some(path) => Auth::CookieFile(path.clone()),
        None => Auth::None,
    };
    Ok(ElementsRpc::new(&args.node_url, auth)?)
}

/// Runs one command and returns what [`run`] prints (text, or JSON with `--json`).
pub async fn execute(args: WalletArgs) -> Result<String, WalletError> {
    let dir = wallet_dir(&args)?;
    let node = node(&args)?;
    let json = args.json;
    if let WalletCommand::Create {
        show_mnemonic,
        restore,
        birth_height,
    } = &args.command
    {
        let (wallet, mut created) = if *restore {
            let mut words = String::new();
            std::io::stdin()
                .read_to_string(&mut words)
                .map_err(|e| WalletError::io("<stdin>", e))?;
            Wallet::create_from_mnemonic(&dir, &words, Some(birth_height.unwrap_or(0)), node)?
        } else {
            Wallet::create(&dir, node).await?
        };
        if *show_mnemonic {
            created.mnemonic = Some(wallet.mnemonic());
        }
        return render(&created, json);
    }

    let mut wallet = Wallet::open(&dir, node)?;
    wallet.set_registry_url(args.registry_url.clone());
    if let (Some(given), Ok(registration)) = (&args.platform, wallet.registration()) {
        let given = normalize_url(given, "platform")?;
        if !matches!(args.command, WalletCommand::Register) && given != registration.platform {
            return Err(WalletError::OtherPlatform {
                registered: registration.platform.clone(),
                requested: given,
            });
        }
    }
    match args.command {
        WalletCommand::Create { .. } => unreachable!("handled above"),
        WalletCommand::Register => {
            let platform = args.platform.as_deref().ok_or_else(|| {
                WalletError::InvalidInput("register needs --platform <URL>".to_string())
            })?;
            render(&wallet.register(platform).await?, json)
        }
        WalletCommand::Sync => render(&wallet.sync().await?, json),
        WalletCommand::Address { index, no_sync } => {
            if !no_sync {
                wallet.sync().await?;
            }
            render(&wallet.address(index).await?, json)
        }
        WalletCommand::Balance { no_sync } => {
            if !no_sync {
                wallet.sync().await?;
            }
            render(&wallet.balance().await?, json)
        }
        WalletCommand::Send {
            asset,
            to,
            amount,
            fee_rate,
        } => {
            wallet.sync().await?;
            let request = SendRequest {
                asset,
                to,
                amount,
                fee_rate,
            };
            render(&wallet.send(&request).await?, json)
        }
        WalletCommand::Txs { no_sync } => {
            if !no_sync {
                wallet.sync().await?;
            }
            render(&wallet.txs().await?, json)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::refusal_from_body;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: WalletArgs,
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from([
            "amphora-wallet",
            "send",
            "--asset",
            "ACME",
            "--to",
            "el1x",
            "--amount",
            "2",
            "--json",
            "--wallet-dir",
            "/tmp/w",
        ])
        .unwrap();
        assert!(cli.args.json);
        assert_eq!(cli.args.wallet_dir, Some(PathBuf::from("/tmp/w")));
        assert_eq!(cli.args.node_url, DEFAULT_NODE_URL);
        assert!(
            matches!(cli.args.command, WalletCommand::Send { ref asset, .. } if asset == "ACME")
        );
        let cli = Cli::try_parse_from(["w", "register", "--platform", "http://p"]).unwrap();
        assert_eq!(cli.args.platform.as_deref(), Some("http://p"));
        assert!(Cli::try_parse_from(["w", "create", "--birth-height", "3"]).is_err());
    }

    #[test]
    fn refusal_json_error_carries_the_reasons() {
        let e = WalletError::Refused(refusal_from_body(
            403,
            r#"{"error":"transfer refused","reasons":["asset_locked"]}"#,
        ));
        let v = error_json(&e);
        assert_eq!(v["reasons"], serde_json::json!(["asset_locked"]));
        assert_eq!(v["status"], 403);
        assert!(v["error"]
            .as_str()
            .unwrap()
            .contains("the asset is locked by its issuer"));
        let v = error_json(&WalletError::NotRegistered);
        assert_eq!(v.as_object().unwrap().len(), 1);
    }
}
