//! amphora-confirm: `amphora confirm`, the confirm client of distributions, reissuances and
//! burns, with the interface and checks of Blockstream's `blockstream-amp-confirm.py` (client
//! script version 2).
//!
//! The issuer saves the platform's answer to a distribution/reissue/burn request to a file and
//! runs `amphora confirm -u USER -p PASSWORD -n http://rpcuser:rpcpass@host:port/wallet/treasury
//! distribute -f distribution.json`. The client checks the node (Elements Core ≥ 0.17.0.1,
//! synchronized, wallet unlocked), the file (`min_supported_client_script_version`,
//! `command`), logs in to the platform and checks its balance has no lost outputs, sends the
//! transaction from the node's wallet, waits for 2 confirmations (showing the blocks seen), and
//! posts the transaction data back. Every failure ends in a [`ConfirmError`] that says what to do,
//! including the `--use-existing` argument to retry a confirmation without sending again.

pub mod api;
pub mod commands;
pub mod error;
pub mod node;
pub mod output;
pub mod payload;
pub mod request;

use std::path::PathBuf;
use std::time::Duration;

use amphora_rpc::{Auth, ElementsRpc};
use clap::{ArgAction, Args, Subcommand};
use elements::Txid;

pub use api::AmpApi;
pub use commands::reissue::ReissuanceRef;
pub use commands::Context;
pub use error::ConfirmError;
pub use node::WaitPolicy;
pub use output::Console;

/// `update-blinders`' default platform.
pub const DEFAULT_BASE_URL: &str = "https://amp.blockstream.com/api/{}";

/// `amphora confirm`: make the treasury node's transactions and confirm them to the platform.
#[derive(Clone, Args)]
pub struct ConfirmArgs {
    /// Platform (AMP API) user name.
    #[arg(short = 'u', long)]
    pub username: String,
    /// Platform (AMP API) password.
    #[arg(
        short = 'p',
        long,
        env = "AMPHORA_CONFIRM_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
    /// Elements node URL, e.g. http://RPCUSER:RPCPASSWORD@HOST:PORT/wallet/NAME
    /// (the /wallet/NAME part selects the treasury wallet).
    #[arg(short = 'n', long)]
    pub node_url: String,
    /// Be more verbose (prints the payloads sent to the platform). Can be repeated.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// Longest time between two checks of the transaction's confirmations (e.g. 5s, 500ms);
    /// each new block is seen at once (`waitforblockheight`).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Give up waiting for 2 confirmations after this long (e.g. 15m); the transaction can
    /// then be confirmed later with --use-existing.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub confirmation_timeout: Duration,
    /// What to do.
    #[command(subcommand)]
    pub command: ConfirmCommand,
}

impl std::fmt::Debug for ConfirmArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmArgs")
            .field("username", &self.username)
            .field("password", &"***")
            .field("node_url", &redact_url(&self.node_url))
            .field("verbose", &self.verbose)
            .field("poll_interval", &self.poll_interval)
            .field("confirmation_timeout", &self.confirmation_timeout)
            .field("command", &self.command)
            .finish()
    }
}

/// The sub-commands of `amphora confirm`.
#[derive(Debug, Clone, Subcommand)]
pub enum ConfirmCommand {
    /// Reissue the amount of a reissue request file.
    Reissue {
        /// File holding the platform's answer to the reissue request.
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Advanced option, use it only if requested by the platform's support: the
        /// reissuance token is split over several outputs.
        #[arg(long)]
        have_split_reissuance_token: bool,
        /// Skip sending and confirm an existing reissuance, given as TXID:VIN.
        #[arg(long, value_name = "TXID:VIN")]
        use_existing: Option<ReissuanceRef>,
    },
    /// Pay the assignments of a distribution file.
    Distribute {
        /// File holding the platform's answer to the distribution creation.
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Skip sending and confirm an existing distribution transaction.
        #[arg(long, value_name = "TXID")]
        use_existing: Option<Txid>,
        /// Finish an interrupted run of a distribution in several transactions: confirm those
        /// the wallet already sent, send the others.
        #[arg(long, conflicts_with = "use_existing")]
        resume: bool,
    },
    /// Pay the holders of a payout file (payouts/create) in its payout asset.
    Payout {
        /// File holding the platform's answer to the payout creation.
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Skip sending and confirm an existing payout transaction.
        #[arg(long, value_name = "TXID")]
        use_existing: Option<Txid>,
        /// Finish an interrupted run of a payout in several transactions: confirm those the
        /// wallet already sent, send the others.
        #[arg(long, conflicts_with = "use_existing")]
        resume: bool,
    },
    /// Burn the amount of a burn request file.
    Burn {
        /// File holding the platform's answer to the burn request.
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
        /// Skip sending and confirm an existing burn transaction.
        #[arg(long, value_name = "TXID")]
        use_existing: Option<Txid>,
    },
    /// Send the platform the issuance blinders it lacks.
    UpdateBlinders {
        /// The asset's uuid on the platform.
        #[arg(short = 'a', long)]
        asset_uuid: String,
        /// The platform's API root as a format string ending in /{}.
        #[arg(short = 'b', long, default_value = DEFAULT_BASE_URL)]
        base_url: String,
    },
}

impl ConfirmCommand {
    /// The sub-command's name.
    pub fn name(&self) -> &'static str {
        match self {
            ConfirmCommand::Reissue { .. } => "reissue",
            ConfirmCommand::Distribute { .. } => "distribute",
            ConfirmCommand::Payout { .. } => "payout",
            ConfirmCommand::Burn { .. } => "burn",
            ConfirmCommand::UpdateBlinders { .. } => "update-blinders",
        }
    }
}

/// Runs `amphora confirm`; an error means a non-zero exit, its message says what to do.
pub async fn run(args: ConfirmArgs) -> anyhow::Result<()> {
    execute(&args).await?;
    Ok(())
}

/// [`run`] with the typed error.
pub async fn execute(args: &ConfirmArgs) -> Result<(), ConfirmError> {
    if is_onion(&args.node_url) && !proxy_configured(|name| std::env::var_os(name).is_some()) {
        return Err(ConfirmError::OnionWithoutProxy);
    }
    let rpc = ElementsRpc::new(&args.node_url, Auth::None).map_err(ConfirmError::NodeUrl)?;
    let ctx = Context::new(
        rpc,
        Console::new(args.verbose),
        WaitPolicy {
            poll_interval: args.poll_interval,
            timeout: args.confirmation_timeout,
        },
        args.username.clone(),
        args.password.clone(),
    );
    tokio::select! {
        outcome = run_command(&ctx, &args.command) => outcome,
        Ok(()) = tokio::signal::ctrl_c() => Err(ConfirmError::Interrupted {
            retry: ctx.in_flight(),
        }),
    }
}

async fn run_command(ctx: &Context, command: &ConfirmCommand) -> Result<(), ConfirmError> {
    let network = node::preflight(&ctx.rpc).await?;
    ctx.console.debug(format!(
        "Connected to Elements node, version: {:06} ({})",
        network.version, network.subversion
    ));
    match command {
        ConfirmCommand::Reissue {
            file,
            have_split_reissuance_token,
            use_existing,
        } => {
            commands::reissue::run(ctx, file, *have_split_reissuance_token, *use_existing).await?;
        }
        ConfirmCommand::Distribute {
            file,
            use_existing,
            resume,
        } => {
            commands::distribute::run(ctx, file, *use_existing, *resume).await?;
        }
        ConfirmCommand::Payout {
            file,
            use_existing,
            resume,
        } => {
            commands::payout::run(ctx, file, *use_existing, *resume).await?;
        }
        ConfirmCommand::Burn { file, use_existing } => {
            commands::burn::run(ctx, file, *use_existing).await?;
        }
        ConfirmCommand::UpdateBlinders {
            asset_uuid,
            base_url,
        } => {
            commands::update_blinders::run(ctx, base_url, asset_uuid).await?;
        }
    }
    Ok(())
}

/// Parses `500ms`, `5s`, `15m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(pos) => text.split_at(pos),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 500ms, 5s or 15m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        _ => Err(format!(
            "{text:?} is not a duration such as 500ms, 5s or 15m"
        )),
    }
}

/// Whether `url`'s host is a Tor hidden service.
fn is_onion(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.ends_with(".onion")))
        .unwrap_or(false)
}

/// Whether the environment names a proxy the HTTP client uses (the official script sends
/// .onion node URLs through socks5h://localhost:9050; the node client follows these variables).
fn proxy_configured(is_set: impl Fn(&str) -> bool) -> bool {
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ]
    .iter()
    .any(|name| is_set(name))
}

fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        confirm: ConfirmArgs,
    }

    #[test]
    fn the_official_command_lines_parse() {
        let cli = Cli::try_parse_from([
            "confirm",
            "-u",
            "amp_user",
            "-p",
            "amp_pw",
            "-n",
            "http://rpc:pw@127.0.0.1:7041/wallet/treasury",
            "-vv",
            "reissue",
            "-f",
            "r.json",
            "--have-split-reissuance-token",
        ])
        .unwrap();
        let args = cli.confirm;
        assert_eq!(args.verbose, 2);
        assert!(matches!(
            args.command,
            ConfirmCommand::Reissue {
                have_split_reissuance_token: true,
                use_existing: None,
                ..
            }
        ));
        assert!(!format!("{args:?}").contains("amp_pw"));
        assert!(!format!("{args:?}").contains("rpc:pw"));

        let txid = "ab".repeat(32);
        let cli = Cli::try_parse_from([
            "confirm",
            "-u",
            "u",
            "-p",
            "p",
            "-n",
            "http://h:1",
            "distribute",
            "-f",
            "d.json",
            "--use-existing",
            &txid,
        ])
        .unwrap();
        assert!(matches!(
            cli.confirm.command,
            ConfirmCommand::Distribute {
                use_existing: Some(_),
                resume: false,
                ..
            }
        ));
        let resume = |command: &str, more: &[&str]| {
            let mut args = vec!["confirm", "-u", "u", "-p", "p", "-n", "http://h:1"];
            args.extend([command, "-f", "d.json", "--resume"]);
            args.extend(more);
            Cli::try_parse_from(args).map(|cli| cli.confirm.command)
        };
        assert!(matches!(
            resume("distribute", &[]),
            Ok(ConfirmCommand::Distribute { resume: true, .. })
        ));
        assert!(matches!(
            resume("payout", &[]),
            Ok(ConfirmCommand::Payout { resume: true, .. })
        ));
        assert!(resume("distribute", &["--use-existing", &txid]).is_err());
        assert!(resume("burn", &[]).is_err());
        assert!(Cli::try_parse_from([
            "confirm",
            "-u",
            "u",
            "-p",
            "p",
            "-n",
            "http://h:1",
            "reissue",
            "-f",
            "r.json",
            "--use-existing",
            &txid,
        ])
        .is_err());
        let cli = Cli::try_parse_from([
            "confirm",
            "-u",
            "u",
            "-p",
            "p",
            "-n",
            "http://h:1",
            "update-blinders",
            "-a",
            "uuid",
        ])
        .unwrap();
        assert!(matches!(
            cli.confirm.command,
            ConfirmCommand::UpdateBlinders { ref base_url, .. } if base_url == DEFAULT_BASE_URL
        ));
        assert_eq!(cli.confirm.poll_interval, Duration::from_secs(5));
    }

    #[test]
    fn onion_nodes_need_a_proxy() {
        assert!(is_onion("http://u:p@abcdefgh.onion:7041/wallet/t"));
        assert!(!is_onion("http://u:p@127.0.0.1:7041"));
        assert!(!proxy_configured(|_| false));
        assert!(proxy_configured(|name| name == "ALL_PROXY"));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("").is_err());
    }
}
