//! The investor's wallet: a BIP39 mnemonic (LWK software signer), an ELIP-153 AMP2 descriptor
//! registered with an Amphora platform, an LWK watch-only `Wollet` kept in sync through an
//! Elements node's RPC, and transfers co-signed by the platform.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use amphora_core::gaid::Gaid;
use amphora_rpc::{ElementsRpc, RetryPolicy};
use elements::bitcoin::NetworkKind;
use elements::AssetId;
use lwk_signer::bip39::Mnemonic;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::{Chain, Wollet, WolletBuilder, WolletDescriptor};

use crate::backend;
use crate::chain_index::ChainIndex;
use crate::error::{Result, WalletError};
use crate::files::{self, ChainParams, Registration, WalletConfig, WalletDir};
use crate::platform::{AssetInfo, PlatformClient};
use crate::reports::{
    AddressReport, AssetBalance, AssetDelta, AssetLabel, BalanceReport, Created, Registered,
    Synced, TxReport, TxsReport,
};
use crate::sync;

mod send;

pub use send::SendRequest;

/// The ELIP-153 account used for the wallet's user key.
pub const ACCOUNT: u32 = 0;

/// The wallet state that needs a registration and known chain.
struct Live {
    network: lwk_common::Network,
    wollet: Wollet,
    index: ChainIndex,
}

/// An investor wallet stored in a directory. See the crate documentation.
pub struct Wallet {
    dir: WalletDir,
    config: WalletConfig,
    mnemonic: Mnemonic,
    node: ElementsRpc,
    registry_url: Option<String>,
    live: Option<Live>,
    assets: HashMap<AssetId, AssetInfo>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("dir", &self.dir.root())
            .field("registration", &self.config.registration)
            .finish_non_exhaustive()
    }
}

impl Wallet {
    /// Creates a wallet in `dir` with a new random 12-word mnemonic (mode 0600). The node, if
    /// reachable, gives the birth height the first sync starts at.
    pub async fn create(dir: &Path, node: ElementsRpc) -> Result<(Wallet, Created)> {
        let mnemonic =
            Mnemonic::generate(12).map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        let quick = node
            .clone()
            .with_retry(RetryPolicy::none())
            .with_timeout(Duration::from_secs(5))?;
        let birth_height = match quick.get_block_count().await {
            Ok(h) => u32::try_from(h).ok(),
            Err(e) => {
                tracing::warn!("node unreachable ({e}): the first sync will start from genesis");
                None
            }
        };
        Wallet::create_from_mnemonic(dir, &mnemonic.to_string(), birth_height, node)
    }

    /// Creates a wallet in `dir` from an existing mnemonic (restore). `birth_height`: the first
    /// height that can hold the wallet's transactions (`None`: genesis).
    pub fn create_from_mnemonic(
        dir: &Path,
        mnemonic: &str,
        birth_height: Option<u32>,
        node: ElementsRpc,
    ) -> Result<(Wallet, Created)> {
        let mnemonic = Mnemonic::parse(mnemonic.trim())
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        let dir = WalletDir::new(dir);
        dir.ensure_exists()?;
        files::write_mnemonic(&dir.mnemonic_path(), &mnemonic)?;
        let config = WalletConfig {
            birth_height,
            ..Default::default()
        };
        files::write_json(&dir.config_path(), &config)?;
        let created = Created {
            wallet_dir: dir.root().to_path_buf(),
            mnemonic_file: dir.mnemonic_path(),
            birth_height,
            mnemonic: None,
        };
        let wallet = Wallet {
            dir,
            config,
            mnemonic,
            node,
            registry_url: None,
            live: None,
            assets: HashMap::new(),
        };
        Ok((wallet, created))
    }

    /// Opens the wallet in `dir`.
    pub fn open(dir: &Path, node: ElementsRpc) -> Result<Wallet> {
        let dir = WalletDir::new(dir);
        let mnemonic_path = dir.mnemonic_path();
        if !mnemonic_path.exists() {
            return Err(WalletError::NotCreated {
                dir: dir.root().to_path_buf(),
            });
        }
        let mnemonic = files::read_mnemonic(&mnemonic_path)?;
        let config: WalletConfig = files::read_json(&dir.config_path())?.unwrap_or_default();
        let assets: Vec<AssetInfo> = files::read_json(&dir.assets_path())?.unwrap_or_default();
        Ok(Wallet {
            dir,
            config,
            mnemonic,
            node,
            registry_url: None,
            live: None,
            assets: assets.into_iter().map(|a| (a.asset_id, a)).collect(),
        })
    }

    /// Uses `url` as the asset registry instead of the platform's `/registry`.
    pub fn set_registry_url(&mut self, url: Option<String>) {
        self.registry_url = url;
    }

    /// The wallet's configuration (registration, chain, birth height).
    pub fn config(&self) -> &WalletConfig {
        &self.config
    }

    /// The mnemonic (for `create --show-mnemonic` and backups).
    pub fn mnemonic(&self) -> String {
        self.mnemonic.to_string()
    }

    /// The registration, or [`WalletError::NotRegistered`].
    pub fn registration(&self) -> Result<&Registration> {
        self.config
            .registration
            .as_ref()
            .ok_or(WalletError::NotRegistered)
    }

    fn signer(&self, network: lwk_common::Network) -> Result<SwSigner> {
        SwSigner::new_with_network(&self.mnemonic.to_string(), network)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))
    }

    /// The chain parameters: stored, or read from the node (and stored) the first time.
    async fn chain(&mut self) -> Result<ChainParams> {
        if let Some(stored) = &self.config.chain {
            return Ok(stored.clone());
        }
        let node_chain = sync::node_chain(&self.node).await?;
        self.config.chain = Some(node_chain.clone());
        self.save_config()?;
        Ok(node_chain)
    }

    /// Refuses a node on another chain than the wallet's.
    async fn check_node_chain(&mut self) -> Result<()> {
        let stored = self.chain().await?;
        let genesis = self.node.get_block_hash(0).await?;
        if genesis != stored.genesis_hash {
            return Err(WalletError::WrongChain {
                chain: self.node.get_blockchain_info().await?.chain,
                reason: format!(
                    "the wallet lives on {} with genesis {}, the node's genesis is {genesis}",
                    stored.name, stored.genesis_hash
                ),
            });
        }
        Ok(())
    }

    fn save_config(&self) -> Result<()> {
        files::write_json(&self.dir.config_path(), &self.config)
    }

    /// Builds the ELIP-153 AMP2 descriptor of this wallet for the platform key
    /// `server_keyorigin_xpub`, exactly as LWK's `Amp2::elip153_from_signer` does.
    pub fn descriptor_for(
        &self,
        server_keyorigin_xpub: &str,
        platform: &str,
        network: lwk_common::Network,
    ) -> Result<WolletDescriptor> {
        let amp2 = Amp2::new(
            server_keyorigin_xpub.to_string(),
            format!("{platform}/amp2"),
        )?;
        let signer = self.signer(network)?;
        Ok(amp2.elip153_from_signer(&signer, ACCOUNT)?.descriptor())
    }

    /// Registers the wallet with the platform at `platform_url`: fetches the platform key,
    /// builds the descriptor, posts it, and checks the wallet id and GAID returned.
    /// Registering again with the same platform is harmless and returns the same ids.
    pub async fn register(&mut self, platform_url: &str) -> Result<Registered> {
        let platform = PlatformClient::new(platform_url, None)?;
        if let Some(existing) = &self.config.registration {
            if existing.platform != platform.url() {
                return Err(WalletError::OtherPlatform {
                    registered: existing.platform.clone(),
                    requested: platform.url().to_string(),
                });
            }
        }
        let chain = self.chain().await?;
        let network = chain.lwk_network();
        let server_xpub = platform.server_xpub().await?;
        let (_, xpub) = lwk_common::keyorigin_xpub_from_str(&server_xpub).map_err(|e| {
            WalletError::Platform {
                url: platform.url().to_string(),
                reason: format!("invalid platform key '{server_xpub}': {e}"),
            }
        })?;
        if (xpub.network == NetworkKind::Main) != chain.is_mainnet() {
            return Err(WalletError::WrongChain {
                chain: chain.name,
                reason: "the platform key is for another network".to_string(),
            });
        }
        let descriptor = self.descriptor_for(&server_xpub, platform.url(), network)?;
        let text = descriptor.to_string();
        let answer = platform.register(&text).await?;
        let wid = descriptor.dwid(network)?;
        if answer.wid != wid {
            return Err(WalletError::RegistrationMismatch(format!(
                "wallet id {} returned, the descriptor's is {wid}",
                answer.wid
            )));
        }
        let gaid = Gaid::from_descriptor(&text);
        if let Some(theirs) = &answer.gaid {
            let parsed = Gaid::parse(theirs).map_err(|e| {
                WalletError::RegistrationMismatch(format!("invalid GAID '{theirs}': {e}"))
            })?;
            if parsed != gaid {
                return Err(WalletError::RegistrationMismatch(format!(
                    "GAID {theirs} returned, the descriptor's is {}",
                    gaid.as_str()
                )));
            }
        }
        let registration = Registration {
            platform: platform.url().to_string(),
            server_keyorigin_xpub: server_xpub,
            account: ACCOUNT,
            descriptor: text.clone(),
            wid: wid.clone(),
            gaid: gaid.as_str().to_string(),
        };
        self.config.registration = Some(registration);
        self.save_config()?;
        self.live = None;
        Ok(Registered {
            platform: platform.url().to_string(),
            wid,
            gaid: gaid.as_str().to_string(),
            descriptor: text,
        })
    }

    /// Loads the LWK wallet and the chain index (first use after registration).
    async fn live(&mut self) -> Result<&mut Live> {
        if self.live.is_none() {
            let registration = self.registration()?.clone();
            let chain = self.chain().await?;
            let network = chain.lwk_network();
            let descriptor = WolletDescriptor::from_str(&registration.descriptor).map_err(|e| {
                WalletError::corrupt(self.dir.config_path(), format!("descriptor: {e}"))
            })?;
            let wollet = self.open_wollet(network, &descriptor)?;
            let index_path = self.dir.index_path();
            let index = match files::read_json(&index_path)? {
                Some(file) => ChainIndex::from_file(descriptor, file).map_err(|reason| {
                    WalletError::corrupt(
                        &index_path,
                        format!("{reason} (delete it to sync again from the wallet's birth)"),
                    )
                })?,
                None => ChainIndex::new(descriptor, self.config.birth_height.unwrap_or(0))?,
            };
            self.live = Some(Live {
                network,
                wollet,
                index,
            });
        }
        Ok(self.live.as_mut().expect("just set"))
    }

    fn open_wollet(
        &self,
        network: lwk_common::Network,
        descriptor: &WolletDescriptor,
    ) -> Result<Wollet> {
        Ok(WolletBuilder::new(network, descriptor.clone())
            .with_legacy_fs_store(self.dir.lwk_dir())?
            .build()?)
    }

    /// Walks the node's chain from the last synced height and applies what changed to the
    /// wallet. Reorgs are undone by comparing the kept block hashes with the node's.
    pub async fn sync(&mut self) -> Result<Synced> {
        self.check_node_chain().await?;
        let index_path = self.dir.index_path();
        let node = self.node.clone();
        let live = self.live().await?;
        let walk = sync::walk(&node, &mut live.index, |index| {
            files::write_json(&index_path, &index.to_file())
        })
        .await?;
        self.apply_index()?;
        Ok(Synced {
            height: walk.height,
            walk,
        })
    }

    /// Brings the LWK wallet to the state of the chain index.
    fn apply_index(&mut self) -> Result<()> {
        let lwk_dir = self.dir.lwk_dir();
        let live = self.live.as_mut().ok_or(WalletError::NotRegistered)?;
        match backend::scan(&live.index, &live.wollet) {
            Ok(Some(update)) => match live.wollet.apply_update(update) {
                Ok(()) => return Ok(()),
                Err(lwk_wollet::Error::UpdateHeightTooOld { .. }) => {}
                Err(e) => return Err(e.into()),
            },
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // The chain went back below the wallet's tip (a reorg to a shorter chain): LWK only moves
        // forward, so rebuild its state from the index.
        tracing::info!("chain shorter than the wallet's tip: rebuilding the wallet state");
        std::fs::remove_dir_all(&lwk_dir).map_err(|e| WalletError::io(&lwk_dir, e))?;
        let descriptor = live.index.descriptor().clone();
        let network = live.network;
        let wollet = WolletBuilder::new(network, descriptor)
            .with_legacy_fs_store(&lwk_dir)?
            .build()?;
        live.wollet = wollet;
        if let Some(update) = backend::scan(&live.index, &live.wollet)? {
            live.wollet.apply_update(update)?;
        }
        Ok(())
    }

    /// A receive address: the first unused one, or the one at `index`.
    pub async fn address(&mut self, index: Option<u32>) -> Result<AddressReport> {
        let index_path = self.dir.index_path();
        let live = self.live().await?;
        let result = live.wollet.address(index)?;
        if live.index.watch_up_to(Chain::External, result.index())? {
            files::write_json(&index_path, &live.index.to_file())?;
        }
        Ok(AddressReport {
            address: result.address().to_string(),
            index: result.index(),
        })
    }

    /// The balance per asset, labelled from the registry (L-BTC always listed).
    pub async fn balance(&mut self) -> Result<BalanceReport> {
        let live = self.live().await?;
        let height = live.wollet.tip().height();
        let policy = live.wollet.policy_asset();
        let mut amounts: BTreeMap<AssetId, u64> = live.wollet.balance()?.as_ref().clone();
        amounts.entry(policy).or_insert(0);
        let labels = self.labels(amounts.keys().copied().collect()).await?;
        let mut assets: Vec<AssetBalance> = amounts
            .into_iter()
            .map(|(asset, amount)| {
                let label = labels[&asset].clone();
                AssetBalance {
                    display: label.display(amount as i64),
                    asset: label,
                    amount,
                }
            })
            .collect();
        // L-BTC first, then by ticker (unknown assets last).
        assets.sort_by_key(|a| {
            (
                a.asset.asset_id != policy,
                a.asset.ticker.is_none(),
                a.asset.ticker.clone(),
                a.asset.asset_id,
            )
        });
        Ok(BalanceReport { height, assets })
    }

    /// The wallet's transactions, newest first.
    pub async fn txs(&mut self) -> Result<TxsReport> {
        let live = self.live().await?;
        let txs = live.wollet.transactions()?;
        let mut assets: Vec<AssetId> = txs
            .iter()
            .flat_map(|t| t.balance.as_ref().keys().copied().collect::<Vec<_>>())
            .collect();
        assets.sort();
        assets.dedup();
        let labels = self.labels(assets).await?;
        let txs = txs
            .into_iter()
            .map(|t| TxReport {
                txid: t.txid.to_string(),
                height: t.height,
                timestamp: t.timestamp,
                kind: t.type_.clone(),
                fee: t.fee,
                balance: t
                    .balance
                    .as_ref()
                    .iter()
                    .map(|(asset, amount)| {
                        let label = labels[asset].clone();
                        AssetDelta {
                            display: label.display(*amount),
                            asset: label,
                            amount: *amount,
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(TxsReport { txs })
    }

    /// Labels for `assets`, from the cache or the registry (failures leave an asset unlabelled).
    async fn labels(&mut self, assets: Vec<AssetId>) -> Result<HashMap<AssetId, AssetLabel>> {
        let policy = self.live.as_ref().map(|l| l.wollet.policy_asset());
        let platform = match &self.config.registration {
            Some(r) => Some(PlatformClient::new(
                &r.platform,
                self.registry_url.as_deref(),
            )?),
            None => None,
        };
        let mut fetched = false;
        let mut labels = HashMap::new();
        for asset in assets {
            if Some(asset) == policy {
                labels.insert(
                    asset,
                    AssetLabel {
                        asset_id: asset,
                        ticker: Some("L-BTC".into()),
                        name: Some("Liquid Bitcoin".into()),
                        precision: 8,
                    },
                );
                continue;
            }
            if let (std::collections::hash_map::Entry::Vacant(slot), Some(platform)) =
                (self.assets.entry(asset), &platform)
            {
                match platform.asset_info(&asset).await {
                    Ok(Some(info)) => {
                        slot.insert(info);
                        fetched = true;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("no registry data for {asset}: {e}"),
                }
            }
            let label = match self.assets.get(&asset) {
                Some(info) => AssetLabel {
                    asset_id: asset,
                    ticker: info.ticker.clone(),
                    name: info.name.clone(),
                    precision: info.precision.min(8),
                },
                None => AssetLabel {
                    asset_id: asset,
                    ticker: None,
                    name: None,
                    precision: 0,
                },
            };
            labels.insert(asset, label);
        }
        if fetched {
            let mut cached: Vec<&AssetInfo> = self.assets.values().collect();
            cached.sort_by_key(|a| a.asset_id);
            files::write_json(&self.dir.assets_path(), &cached)?;
        }
        Ok(labels)
    }
}
