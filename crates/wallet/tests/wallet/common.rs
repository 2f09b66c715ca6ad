//! Helpers shared by the integration tests: the platform key, users built by LWK's `Amp2`
//! client, blocks built on demand and confidential funding transactions, and the platform
//! served over HTTP on the node of the run ([`env`]).

#![allow(dead_code)]

use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_rpc::ElementsRpc;
use amphora_server::{app, AppState};
use amphora_store::Store;
use amphora_testenv::TestNode;
use amphora_wallet::backend::scan;
use amphora_wallet::chain_index::ChainIndex;
use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::hash_types::TxMerkleNode;
use elements::secp256k1_zkp::Secp256k1;
use elements::{
    Address, AddressParams, AssetId, Block, BlockExtData, BlockHash, BlockHeader, LockTime,
    OutPoint, Script, Sequence, Transaction, TxIn, TxOut, TxOutSecrets,
};
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::{Wollet, WolletBuilder, WolletDescriptor};

pub const PLATFORM_MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
pub const ALICE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
pub const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
pub const PARAMS: &AddressParams = &AddressParams::ELEMENTS;

pub fn lbtc() -> AssetId {
    AssetId::from_byte_array([5u8; 32])
}

pub fn share() -> AssetId {
    AssetId::from_byte_array([7u8; 32])
}

pub fn network() -> lwk_common::Network {
    lwk_common::Network::CustomElements(
        lwk_common::ElementsParamsBuilder::new()
            .with_policy_asset(lbtc())
            .build()
            .unwrap(),
    )
}

pub struct User {
    pub signer: SwSigner,
    pub descriptor: WolletDescriptor,
}

pub fn platform() -> PlatformKey {
    PlatformKey::from_mnemonic(PLATFORM_MNEMONIC, Network::LiquidRegtest).unwrap()
}

pub fn user(platform: &PlatformKey, mnemonic: &str) -> User {
    let amp2 = Amp2::new(
        platform.xpub_info().keyorigin_xpub,
        "http://127.0.0.1:1/amp2".into(),
    )
    .unwrap();
    let signer = SwSigner::new_with_network(mnemonic, network()).unwrap();
    let descriptor = amp2.elip153_from_signer(&signer, 0).unwrap().descriptor();
    User { signer, descriptor }
}

pub fn wollet(user: &User) -> Wollet {
    WolletBuilder::new(network(), user.descriptor.clone())
        .build()
        .unwrap()
}

/// A chain of blocks built on demand.
pub struct Chain {
    pub blocks: Vec<Block>,
    /// Makes every block built unique (the test headers do not commit to their transactions).
    serial: u32,
}

impl Chain {
    pub fn new() -> Chain {
        let mut chain = Chain {
            blocks: Vec::new(),
            serial: 0,
        };
        chain.mine(vec![]);
        chain
    }

    pub fn block(&mut self, prev: BlockHash, height: u32, txdata: Vec<Transaction>) -> Block {
        self.serial += 1;
        let mut root = [0u8; 32];
        root[..4].copy_from_slice(&self.serial.to_le_bytes());
        Block {
            header: BlockHeader {
                version: 0x2000_0000,
                prev_blockhash: prev,
                merkle_root: TxMerkleNode::from_byte_array(root),
                time: 1_700_000_000 + height * 60,
                height,
                ext: BlockExtData::default(),
            },
            txdata,
        }
    }

    pub fn mine(&mut self, txdata: Vec<Transaction>) -> u32 {
        let height = self.blocks.len() as u32;
        let prev = self
            .blocks
            .last()
            .map_or(BlockHash::from_byte_array([0; 32]), |b| b.block_hash());
        let block = self.block(prev, height, txdata);
        self.blocks.push(block);
        height
    }

    /// Replaces the blocks from `height` by one block holding `txdata`.
    pub fn reorg(&mut self, height: u32, txdata: Vec<Transaction>) {
        self.blocks.truncate(height as usize);
        let prev = self.blocks.last().unwrap().block_hash();
        let block = self.block(prev, height, txdata);
        self.blocks.push(block);
    }

    pub fn walk(&self, index: &mut ChainIndex) {
        while (index.next_height() as usize) < self.blocks.len() {
            let h = index.next_height();
            index.connect_block(h, &self.blocks[h as usize]).unwrap();
        }
    }
}

/// A transaction paying confidential outputs `(address, asset, value)`.
pub fn funding(outputs: &[(&Address, AssetId, u64)], seed: u8) -> Transaction {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let output = outputs
        .iter()
        .map(|(address, asset, value)| {
            let spent = [TxOutSecrets::new(
                *asset,
                AssetBlindingFactor::zero(),
                *value,
                ValueBlindingFactor::zero(),
            )];
            TxOut::new_not_last_confidential(&mut rng, &secp, *value, address, *asset, &spent)
                .unwrap()
                .0
        })
        .collect();
    Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(elements::Txid::from_byte_array([seed; 32]), 0),
            is_pegin: false,
            script_sig: Script::new(),
            sequence: Sequence::MAX,
            asset_issuance: Default::default(),
            witness: Default::default(),
        }],
        output,
    }
}

pub fn sync(index: &ChainIndex, wollet: &mut Wollet) {
    if let Some(update) = scan(index, wollet).unwrap() {
        wollet.apply_update(update).unwrap();
    }
}

pub fn balance(wollet: &Wollet, asset: AssetId) -> u64 {
    wollet.balance().unwrap().get(&asset).copied().unwrap_or(0)
}

/// The platform (`amphora-server`'s application on a fresh SQLite database, with the
/// [`PLATFORM_MNEMONIC`] key) served over HTTP, and the node of the run
/// ([`TestNode::start`]: the embedded node, or a real `elementsd` with `ELEMENTSD_EXE`).
pub struct Env {
    /// The node; stopped when the environment is dropped.
    pub node: TestNode,
    /// A node-level client.
    pub rpc: ElementsRpc,
    /// The platform's database.
    pub store: Store,
    /// The platform key.
    pub key: PlatformKey,
    /// The platform's base URL.
    pub platform: String,
    _db: tempfile::TempDir,
}

/// Starts an [`Env`].
pub async fn env() -> Env {
    let node = TestNode::start().await;
    let rpc = node.rpc().clone();
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", db.path().join("amphora.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let state = AppState::new(
        store.clone(),
        platform(),
        Network::LiquidRegtest,
        Duration::from_secs(3600),
    )
    // The co-signer checks every input against the node's chain.
    .with_node(rpc.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let platform_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    Env {
        node,
        rpc,
        store,
        key: platform(),
        platform: platform_url,
        _db: db,
    }
}

/// The chain's answers for the inputs of `pset` as `wollet` synced the chain: the outputs of
/// its transactions, unspent unless one of its transactions spends them.
pub fn wollet_chain(
    wollet: &Wollet,
    pset: &elements::pset::PartiallySignedTransaction,
) -> amphora_cosigner::ChainUtxos {
    let txs: Vec<Transaction> = wollet
        .transactions()
        .unwrap()
        .into_iter()
        .map(|t| t.tx)
        .collect();
    let mut chain = amphora_cosigner::ChainUtxos::new();
    for outpoint in amphora_cosigner::spent_outpoints(pset).unwrap() {
        let created = txs
            .iter()
            .find(|t| t.txid() == outpoint.txid)
            .and_then(|t| t.output.get(outpoint.vout as usize));
        let spent = txs
            .iter()
            .any(|t| t.input.iter().any(|i| i.previous_output == outpoint));
        let answer = match created {
            None => amphora_cosigner::ChainUtxo::Unknown,
            Some(_) if spent => amphora_cosigner::ChainUtxo::Spent,
            Some(out) => amphora_cosigner::ChainUtxo::Unspent(Box::new(out.clone())),
        };
        chain.insert(outpoint, answer);
    }
    chain
}
