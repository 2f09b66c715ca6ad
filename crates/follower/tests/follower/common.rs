//! The test platform: the test node of the run (`amphora_testenv::TestNode`: the embedded
//! regtest node, or Elements Core with `ELEMENTSD_EXE`), a funded `treasury` wallet, a
//! migrated SQLite store, helpers to issue managed assets, register AMP2 wallets, mine, and
//! run followers.

use std::str::FromStr;
use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_follower::{Follower, FollowerConfig, FollowerHandle, FollowerStatus};
use amphora_rpc::types::UnspentOutput;
use amphora_rpc::{Amount, ElementsRpc};
use amphora_store::{NewAsset, Store};
use amphora_testenv::store as fixtures;
use amphora_testenv::TestNode;
use elements::{AddressParams, AssetId, Txid};
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::WolletDescriptor;
use serde_json::json;

/// Generous bound for anything the follower should do within a few polls.
pub const WAIT: Duration = Duration::from_secs(60);

const SERVER_MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
const USER_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// Node, wallets and store of one test.
pub struct Platform {
    pub node: TestNode,
    pub rpc: ElementsRpc,
    pub treasury: ElementsRpc,
    pub other: ElementsRpc,
    pub store: Store,
    pub db_url: String,
    _dir: tempfile::TempDir,
}

/// A managed asset issued by the treasury wallet (explicit amounts).
pub struct Issued {
    pub uuid: String,
    pub asset: AssetId,
    pub txid: Txid,
    pub amount: i64,
}

/// A registered AMP2 wallet.
pub struct Registered {
    pub wid: String,
    pub gaid: String,
    pub descriptor: WolletDescriptor,
}

impl Platform {
    pub async fn start() -> Platform {
        let node = TestNode::start().await;
        let rpc = node.rpc().clone();
        // the genesis free coins (anyone-can-spend) pay the treasury's fees
        let treasury = node.claim_free_coins("treasury").await;
        let other = node.create_wallet("other").await;
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite:{}", dir.path().join("amphora.db").display());
        let store = Store::connect(&db_url).await.unwrap();
        store.migrate().await.unwrap();
        let platform = Platform {
            node,
            rpc,
            treasury,
            other,
            store,
            db_url,
            _dir: dir,
        };
        platform.mine(1).await;
        platform
    }

    /// Mines `n` blocks.
    pub async fn mine(&self, n: u64) {
        self.node.mine(n).await;
    }

    pub async fn height(&self) -> i64 {
        self.rpc.get_block_count().await.unwrap() as i64
    }

    /// Issues `amount` units (explicit) and one token to the treasury wallet, records the
    /// managed asset in the store, and mines it.
    pub async fn issue(&self, amount: i64) -> Issued {
        self.issue_recorded_in(&[&self.store], amount).await
    }

    /// [`Platform::issue`], recording the asset in each of `stores`.
    pub async fn issue_recorded_in(&self, stores: &[&Store], amount: i64) -> Issued {
        let issued = self
            .treasury
            .issue_asset(Amount::from_units(amount), Amount::from_units(1), false)
            .await
            .unwrap();
        // the wallet unblinds its own outputs: where the asset and the token went
        let unspent = |id: AssetId| async move {
            let found: Vec<UnspentOutput> = self
                .treasury
                .call(
                    "listunspent",
                    &[
                        json!(0),
                        json!(9_999_999),
                        json!([]),
                        json!(true),
                        json!({ "asset": id }),
                    ],
                )
                .await
                .unwrap();
            found
                .into_iter()
                .find(|u| u.txid == issued.txid)
                .expect("issuance output in the treasury wallet")
        };
        let (units, token) = (unspent(issued.asset).await, unspent(issued.token).await);
        let (asset_vout, token_vout) = (i64::from(units.vout), i64::from(token.vout));
        let destination = units.address.expect("address of the issuance output");
        let uuid = uuid::Uuid::new_v4().to_string();
        for store in stores {
            let issuer = match store.issuer_by_username("issuer").await.unwrap() {
                Some(issuer) => issuer,
                None => store.create_issuer("issuer", "h").await.unwrap(),
            };
            let asset = NewAsset {
                name: "Follower test".into(),
                amount,
                destination_address: destination.clone(),
                ticker: "FLW".into(),
                is_confidential: false,
                reissuance_address: String::new(),
                ..fixtures::new_asset(issuer.id, &uuid)
            };
            let issuance = fixtures::node_issuance_tx(&issued, asset_vout, token_vout);
            fixtures::issued_asset(store, &asset, &issuance).await;
        }
        self.mine(1).await;
        Issued {
            uuid,
            asset: issued.asset,
            txid: issued.txid,
            amount,
        }
    }

    /// Registers the AMP2 wallet of the test user (account `account`) in the store.
    pub async fn register_wallet(&self, account: u32) -> Registered {
        self.register_wallet_in(&[&self.store], account).await
    }

    /// [`Platform::register_wallet`] in each of `stores`.
    pub async fn register_wallet_in(&self, stores: &[&Store], account: u32) -> Registered {
        let key = PlatformKey::from_mnemonic(SERVER_MNEMONIC, Network::LiquidRegtest).unwrap();
        let network = amphora_cosigner::key::lwk_network(Network::LiquidRegtest);
        let amp2 = Amp2::new(
            key.xpub_info().keyorigin_xpub,
            "http://127.0.0.1:1/amp2".into(),
        )
        .unwrap();
        let signer = SwSigner::new_with_network(USER_MNEMONIC, network).unwrap();
        let descriptor = amp2
            .elip153_from_signer(&signer, account)
            .unwrap()
            .descriptor()
            .to_string();
        let registered = key.check_descriptor(&descriptor).unwrap();
        for store in stores {
            store
                .register_wallet(
                    &registered.wid,
                    &registered.descriptor,
                    registered.gaid.as_str(),
                )
                .await
                .unwrap();
        }
        Registered {
            wid: registered.wid,
            gaid: registered.gaid.as_str().to_string(),
            descriptor: WolletDescriptor::from_str(&registered.descriptor).unwrap(),
        }
    }

    /// A follower on this platform's store and node (fast polls).
    pub fn follower(&self, store: Store, holder: &str) -> FollowerHandle {
        Follower::new(
            store,
            self.rpc.clone(),
            FollowerConfig {
                poll_interval: Duration::from_millis(50),
                holder: holder.to_string(),
                ..FollowerConfig::default()
            },
        )
        .spawn()
    }

    /// Waits until `follower` indexed the node's current tip.
    pub async fn caught_up(&self, follower: &FollowerHandle) -> FollowerStatus {
        let height = self.height().await;
        let hash = self.rpc.get_best_block_hash().await.unwrap().to_string();
        follower
            .wait_for(WAIT, |s| {
                s.tip_height == Some(height) && s.tip_hash.as_deref() == Some(hash.as_str())
            })
            .await
            .unwrap_or_else(|| panic!("follower did not reach {height}: {:?}", follower.status()))
    }

    pub async fn stop(self) {
        self.store.close().await;
        self.node.stop().await;
    }
}

impl Registered {
    /// The wallet's confidential receive address at `index`.
    pub fn address(&self, index: u32) -> String {
        self.descriptor
            .address(index, &AddressParams::ELEMENTS)
            .unwrap()
            .to_string()
    }
}
