//! `amphora demo`: walks the AMP API tutorial against a running platform and prints each step.
//!
//! Issuer login, issuance of a transfer-restricted, reissuable asset to the treasury wallet,
//! the wait for 2 confirmations, `register-authorized`, a category required by the asset, two
//! registered users with freshly created and registered investor wallets (the `amphora wallet`
//! library), one assignment each, the distribution and its confirmation, a reissuance and a
//! burn (the `amphora confirm` library, exactly as an issuer runs it), then the asset's summary
//! and ownerships. The confirm files are written to the work directory, where they can be read
//! afterwards.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use amphora_confirm::{ConfirmArgs, ConfirmCommand};
use amphora_rpc::{AddressType, Auth, ElementsRpc};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Registered users the demo creates: name and assigned base units.
const INVESTORS: [(&str, i64); 2] = [("Alice Example", 30_000), ("Bob Example", 20_000)];
/// Base units issued, reissued and burnt.
const ISSUED: i64 = 100_000;
const REISSUED: i64 = 50_000;
const BURNT: i64 = 10_000;

/// `amphora demo`: the whole tutorial against a running platform.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The platform's base URL (without /api).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Issuer username.
    #[arg(short = 'u', long)]
    pub username: String,
    /// Issuer password.
    #[arg(
        short = 'p',
        long,
        env = "AMPHORA_DEMO_PASSWORD",
        hide_env_values = true
    )]
    pub password: String,
    /// The treasury wallet's node URL, http://RPCUSER:RPCPASSWORD@HOST:PORT/wallet/treasury
    /// [default: the embedded node of `amphora serve` with the password in
    /// <data-dir>/regtest/rpc-password]
    #[arg(short = 'n', long)]
    pub node_url: Option<String>,
    /// Data directory of the local `amphora serve` (only read to build the default node URL).
    #[arg(long, default_value = "./amphora-data")]
    pub data_dir: PathBuf,
    /// Where the confirm files and the investor wallets go.
    #[arg(long, default_value = "./amphora-demo")]
    pub work_dir: PathBuf,
    /// How often to check for confirmations (e.g. 500ms, 2s).
    #[arg(long, default_value = "1s", value_parser = amphora_confirm::parse_duration)]
    pub poll_interval: Duration,
    /// How long to wait for the chain at each step (e.g. 10m).
    #[arg(long, default_value = "10m", value_parser = amphora_confirm::parse_duration)]
    pub timeout: Duration,
}

impl DemoArgs {
    /// The node URL given, or the default embedded node's treasury wallet.
    fn treasury_url(&self) -> Result<String> {
        if let Some(url) = &self.node_url {
            return Ok(url.clone());
        }
        let path = self.data_dir.join("regtest").join("rpc-password");
        let password = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no --node-url and no embedded node password at {}; pass --node-url \
                 http://RPCUSER:RPCPASSWORD@HOST:PORT/wallet/treasury (printed by `amphora serve`)",
                path.display()
            )
        })?;
        Ok(format!(
            "http://amphora:{}@127.0.0.1:18884/wallet/treasury",
            password.trim()
        ))
    }
}

/// The issuer API over HTTP with a token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(base_url: &str, username: &str, password: &str) -> Result<Api> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("{}/api", base_url.trim_end_matches('/'));
        let mut api = Api {
            http,
            base,
            token: String::new(),
        };
        let body = json!({ "username": username, "password": password });
        let answer = api
            .call(
                Method::POST,
                "/user/obtain_token",
                Some(&body),
                StatusCode::OK,
            )
            .await
            .context("logging in (check -u/-p and --url)")?;
        api.token = answer["token"]
            .as_str()
            .ok_or_else(|| anyhow!("obtain_token returned no token: {answer}"))?
            .to_owned();
        Ok(api)
    }

    /// Calls `path` and checks the status; the body as JSON (`null` when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if !self.token.is_empty() {
            request = request.header("authorization", format!("token {}", self.token));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status != expected {
            bail!("{method} {path} answered {status}: {text}");
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: not JSON: {text}"))
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.call(Method::GET, path, None, StatusCode::OK).await
    }

    /// Retries a call answered 400 (a rule waiting for the chain) until `timeout`.
    async fn until_ready(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: StatusCode,
        args: &DemoArgs,
    ) -> Result<Value> {
        let deadline = Instant::now() + args.timeout;
        loop {
            match self.call(method.clone(), path, body, expected).await {
                Ok(value) => return Ok(value),
                Err(e) if Instant::now() < deadline && e.to_string().contains(" 400 ") => {
                    tokio::time::sleep(args.poll_interval).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

fn show(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Waits until the treasury wallet sees `txid` with 2 confirmations.
async fn wait_confirmed(treasury: &ElementsRpc, txid: &str, args: &DemoArgs) -> Result<()> {
    let txid: elements::Txid = txid.parse().context("txid")?;
    let deadline = Instant::now() + args.timeout;
    loop {
        let confirmations = treasury
            .get_transaction(&txid)
            .await
            .map(|tx| tx.confirmations)
            .unwrap_or(0);
        if confirmations >= 2 {
            println!("    {txid}: {confirmations} confirmations");
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{txid} has {confirmations} confirmations after {:?}",
                args.timeout
            );
        }
        tokio::time::sleep(args.poll_interval).await;
    }
}

/// Writes a confirm file and runs `amphora confirm <command> -f FILE` through the library.
async fn confirm(
    args: &DemoArgs,
    treasury_url: &str,
    file: &Path,
    content: &Value,
    command: ConfirmCommand,
) -> Result<()> {
    std::fs::write(file, serde_json::to_vec_pretty(content)?)
        .with_context(|| format!("writing {}", file.display()))?;
    println!(
        "    saved {}; running amphora confirm {}",
        file.display(),
        command.name()
    );
    let confirm_args = ConfirmArgs {
        username: args.username.clone(),
        password: args.password.clone(),
        node_url: treasury_url.to_owned(),
        verbose: 0,
        poll_interval: args.poll_interval,
        confirmation_timeout: args.timeout,
        command,
    };
    amphora_confirm::execute(&confirm_args)
        .await
        .with_context(|| format!("amphora confirm -f {}", file.display()))
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<()> {
    let treasury_url = args.treasury_url()?;
    let treasury = ElementsRpc::new(&treasury_url, Auth::None).context("--node-url")?;
    let mut root = reqwest::Url::parse(&treasury_url).context("--node-url")?;
    root.set_path("");
    let node = ElementsRpc::new(root.as_str(), Auth::None).context("--node-url")?;
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("creating {}", args.work_dir.display()))?;
    let platform = args.url.trim_end_matches('/').to_owned();

    step(1, &format!("Issuer login at {platform}/api"));
    let api = Api::login(&platform, &args.username, &args.password).await?;
    println!("    token obtained");

    step(
        2,
        "Issue a transfer-restricted, reissuable asset to the treasury wallet",
    );
    let destination = treasury.get_new_address(Some(AddressType::Blech32)).await?;
    let token_address = treasury.get_new_address(Some(AddressType::Blech32)).await?;
    let pubkey = treasury
        .get_address_info(&destination)
        .await?
        .pubkey
        .ok_or_else(|| anyhow!("the treasury address has no public key"))?;
    let issuance = json!({
        "name": "Amphora Demo Security",
        "amount": ISSUED,
        "destination_address": destination,
        "domain": "example.com",
        "ticker": "ADEMO",
        "pubkey": pubkey,
        "precision": 2,
        "is_confidential": true,
        "is_reissuable": true,
        "reissuance_amount": 1,
        "reissuance_address": token_address,
        "transfer_restricted": true,
    });
    let issued = api
        .call(
            Method::POST,
            "/assets/issue",
            Some(&issuance),
            StatusCode::CREATED,
        )
        .await?;
    show(&issued);
    let uuid = issued["asset_uuid"]
        .as_str()
        .ok_or_else(|| anyhow!("no asset_uuid"))?
        .to_owned();
    let asset = format!("/assets/{uuid}");

    step(3, "Wait for 2 confirmations of the issuance");
    wait_confirmed(
        &treasury,
        issued["txid"].as_str().unwrap_or_default(),
        &args,
    )
    .await?;

    step(4, "Authorize the asset (register-authorized)");
    let authorized = api
        .until_ready(
            Method::GET,
            &format!("{asset}/register-authorized"),
            None,
            StatusCode::OK,
            &args,
        )
        .await?;
    println!("    is_authorized: {}", authorized["is_authorized"]);

    step(5, "Create a category and require it for the asset");
    let category = api
        .call(
            Method::POST,
            "/categories/add",
            Some(&json!({"name": format!("Demo investors {}", &uuid[..8]), "description": "Eligible for the demo asset"})),
            StatusCode::CREATED,
        )
        .await?;
    let category_id = category["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no category id"))?;
    api.call(
        Method::PUT,
        &format!("/categories/{category_id}/assets/{uuid}/add"),
        None,
        StatusCode::OK,
    )
    .await?;
    println!("    category {category_id} required by the asset");

    step(6, "Registered users with new investor wallets");
    let mut users = Vec::new();
    for (name, amount) in INVESTORS {
        let dir = args.work_dir.join(format!(
            "wallet-{}-{}",
            &uuid[..8],
            name.split(' ').next().unwrap_or(name)
        ));
        let (mut wallet, _) = amphora_wallet::Wallet::create(&dir, node.clone()).await?;
        let registered = wallet.register(&platform).await?;
        let user = api
            .call(
                Method::POST,
                "/registered_users/add",
                Some(&json!({"name": name, "GAID": registered.gaid, "is_company": false})),
                StatusCode::CREATED,
            )
            .await?;
        let id = user["id"].as_i64().ok_or_else(|| anyhow!("no user id"))?;
        api.call(
            Method::PUT,
            &format!("/categories/{category_id}/registered_users/{id}/add"),
            None,
            StatusCode::OK,
        )
        .await?;
        println!(
            "    {name}: registered user {id}, GAID {}, wallet {}",
            registered.gaid,
            dir.display()
        );
        users.push((id, amount));
    }

    step(7, "Assign amounts to the registered users");
    for (id, amount) in &users {
        let body = json!({"assignments": [{"registered_user": id, "amount": amount, "ready_for_distribution": true}]});
        let assigned = api
            .until_ready(
                Method::POST,
                &format!("{asset}/assignments/create"),
                Some(&body),
                StatusCode::OK,
                &args,
            )
            .await?;
        println!(
            "    assignment {} of {amount} to user {id}",
            assigned[0]["id"]
        );
    }

    step(8, "Distribute the assignments and confirm the distribution");
    let distribution = api.get(&format!("{asset}/distributions/create/")).await?;
    let file = args
        .work_dir
        .join(format!("distribution-{}.json", &uuid[..8]));
    confirm(
        &args,
        &treasury_url,
        &file,
        &distribution,
        ConfirmCommand::Distribute {
            file: file.clone(),
            use_existing: None,
            resume: false,
        },
    )
    .await?;

    step(9, &format!("Reissue {REISSUED} units and confirm"));
    let request = api
        .until_ready(
            Method::POST,
            &format!("{asset}/reissue-request"),
            Some(&json!({"amount_to_reissue": REISSUED})),
            StatusCode::OK,
            &args,
        )
        .await?;
    let file = args.work_dir.join(format!("reissue-{}.json", &uuid[..8]));
    confirm(
        &args,
        &treasury_url,
        &file,
        &request,
        ConfirmCommand::Reissue {
            file: file.clone(),
            have_split_reissuance_token: false,
            use_existing: None,
        },
    )
    .await?;

    step(10, &format!("Burn {BURNT} units and confirm"));
    let request = api
        .until_ready(
            Method::POST,
            &format!("{asset}/burn-request"),
            Some(&json!({"amount": BURNT})),
            StatusCode::OK,
            &args,
        )
        .await?;
    let file = args.work_dir.join(format!("burn-{}.json", &uuid[..8]));
    confirm(
        &args,
        &treasury_url,
        &file,
        &request,
        ConfirmCommand::Burn {
            file: file.clone(),
            use_existing: None,
        },
    )
    .await?;

    step(11, "Summary");
    show(&api.get(&format!("{asset}/summary")).await?);
    step(12, "Ownerships");
    show(&api.get(&format!("{asset}/ownerships")).await?);
    step(13, "Reissuances");
    show(&api.get(&format!("{asset}/reissuances")).await?);
    println!(
        "\nDone: asset {uuid}. Files and wallets are in {}.",
        args.work_dir.display()
    );
    Ok(())
}
