//! Building co-signing requests: AMP2 wallets registered through the API (LWK's `Amp2`
//! descriptors), coins paid to them on a real chain ([`Funder`], a `TestNode`: the embedded node,
//! or `elementsd` with `ELEMENTSD_EXE`), and a blinded transfer PSET spending them, shaped like
//! LWK's `TxBuilder` output (explicit asset/amount with blind proofs, the UTXO rangeproof in its
//! own field).

use std::collections::HashMap;

use amphora_core::Network;
use amphora_cosigner::key::lwk_network;
use amphora_rpc::{Amount, AssetPayment, ElementsRpc};
use amphora_testenv::TestNode;
use axum::http::{Method, StatusCode};
use elements::confidential::{RangeProof, SurjectionProof};
use elements::pset::{self, PartiallySignedTransaction};
use elements::secp256k1_zkp::Secp256k1;
use elements::{Address, AddressParams, AssetId, OutPoint, Script, TxOut, TxOutSecrets};
use lwk_signer::SwSigner;
use lwk_wollet::{Chain, WolletDescriptor};

use crate::common::TestApp;

const PARAMS: &AddressParams = &AddressParams::ELEMENTS;

/// An AMP2 wallet registered with the test platform, with its user's signer.
pub struct Wallet {
    pub descriptor: WolletDescriptor,
    pub gaid: String,
    pub signer: SwSigner,
}

impl Wallet {
    /// Address `index` of `chain`.
    pub fn address(&self, chain: Chain, index: u32) -> Address {
        match chain {
            Chain::External => self.descriptor.address(index, PARAMS).unwrap(),
            Chain::Internal => self.descriptor.change(index, PARAMS).unwrap(),
        }
    }

    /// What `txout` (paid to this wallet) holds: explicit, or unblinded with the view key.
    pub fn open(&self, txout: &TxOut) -> Option<TxOutSecrets> {
        if let (Some(asset), Some(value)) = (txout.asset.explicit(), txout.value.explicit()) {
            return Some(TxOutSecrets::new(
                asset,
                elements::confidential::AssetBlindingFactor::zero(),
                value,
                elements::confidential::ValueBlindingFactor::zero(),
            ));
        }
        let ct = self.descriptor.ct_descriptor().ok()?;
        let key = lwk_common::derive_blinding_key(ct, &txout.script_pubkey)?;
        txout.unblind(&Secp256k1::new(), key).ok()
    }
}

/// A wallet of a random signer, registered through `POST /amp2/wallets/register` when
/// `register` (else only built: the platform does not know it).
pub async fn wallet(app: &TestApp, register: bool) -> Wallet {
    let (signer, _) = SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();
    let descriptor = app
        .amp2()
        .elip153_from_signer(&signer, 0)
        .unwrap()
        .descriptor();
    let gaid = if register {
        let body = serde_json::json!({ "descriptor": descriptor.to_string() }).to_string();
        let reply = app
            .send(Method::POST, "/amp2/wallets/register", None, Some(&body))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["gaid"].as_str().unwrap().to_string()
    } else {
        String::new()
    };
    Wallet {
        descriptor,
        gaid,
        signer,
    }
}

/// A coin to spend: `value` of `asset` at address (chain, index) of a wallet.
pub struct Coin<'a> {
    pub owner: &'a Wallet,
    pub chain: Chain,
    pub index: u32,
    pub asset: AssetId,
    pub value: u64,
}

/// A planned output.
pub enum Out<'a> {
    /// Pay an address.
    To(&'a Address, AssetId, u64),
    /// The fee.
    Fee(AssetId, u64),
}

/// The chain the co-signing tests spend from: a test node with a wallet holding the genesis
/// coins and the assets it issues.
pub struct Funder {
    pub node: TestNode,
    wallet: ElementsRpc,
    /// The policy asset.
    pub lbtc: AssetId,
}

impl Funder {
    pub async fn start() -> Funder {
        let node = TestNode::start().await;
        let wallet = node.claim_free_coins("funder").await;
        let lbtc = node.rpc().dump_asset_labels().await.unwrap()["bitcoin"];
        Funder { node, wallet, lbtc }
    }

    /// Issues a new asset of `units` base units into the funder's wallet (mined).
    pub async fn issue(&self, units: i64) -> AssetId {
        self.node
            .issue_asset(&self.wallet, units, 0, false)
            .await
            .asset
    }

    /// Pays every coin in one transaction (mined), to the coin's confidential address, or to
    /// its unconfidential one (an explicit output) when `explicit`; returns each coin's outpoint,
    /// output and secrets, in the order of `coins`.
    pub async fn fund(
        &self,
        coins: &[Coin<'_>],
        explicit: bool,
    ) -> Vec<(OutPoint, TxOut, TxOutSecrets)> {
        let addresses: Vec<Address> = coins
            .iter()
            .map(|c| {
                let address = c.owner.address(c.chain, c.index);
                if explicit {
                    address.to_unconfidential()
                } else {
                    address
                }
            })
            .collect();
        let payments: Vec<AssetPayment> = coins
            .iter()
            .zip(&addresses)
            .map(|(c, a)| AssetPayment {
                address: a.to_string(),
                amount: Amount::from_units(i64::try_from(c.value).unwrap()),
                asset: c.asset,
            })
            .collect();
        let txid = self.wallet.send_many(&payments).await.unwrap();
        self.node.mine(1).await;
        let tx = self.node.rpc().get_raw_transaction(&txid).await.unwrap();
        coins
            .iter()
            .zip(&addresses)
            .map(|(coin, address)| {
                let (vout, txout, secrets) = tx
                    .output
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.script_pubkey == address.script_pubkey())
                    .find_map(|(vout, o)| {
                        let s = coin.owner.open(o)?;
                        (s.asset == coin.asset && s.value == coin.value)
                            .then(|| (vout, o.clone(), s))
                    })
                    .expect("the funding transaction pays the coin");
                (OutPoint::new(txid, vout as u32), txout, secrets)
            })
            .collect()
    }
}

/// A blinded PSET spending `coins` (paid on the funder's chain first; their outpoints are
/// returned in the order of `coins`) and paying `outs`.
pub async fn transfer(
    funder: &Funder,
    coins: &[Coin<'_>],
    outs: &[Out<'_>],
) -> (PartiallySignedTransaction, Vec<OutPoint>) {
    let spent = funder.fund(coins, false).await;
    (
        blinded_pset(&spent, outs),
        spent.iter().map(|(o, _, _)| *o).collect(),
    )
}

/// A blinded PSET spending `spent` (outpoint, the output as claimed, its secrets) and paying
/// `outs`.
pub fn blinded_pset(
    spent: &[(OutPoint, TxOut, TxOutSecrets)],
    outs: &[Out],
) -> PartiallySignedTransaction {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let mut pset = PartiallySignedTransaction::new_v2();
    let mut secrets = HashMap::new();
    for (i, (outpoint, txout, sec)) in spent.iter().enumerate() {
        secrets.insert(i, *sec);
        let mut input = pset::Input::from_prevout(*outpoint);
        let mut utxo = txout.clone();
        if let (Some(asset_comm), Some(value_comm)) =
            (utxo.asset.commitment(), utxo.value.commitment())
        {
            input.asset = Some(sec.asset);
            input.amount = Some(sec.value);
            input.blind_asset_proof = Some(
                SurjectionProof::blind_asset_proof(&mut rng, &secp, sec.asset, sec.asset_bf)
                    .unwrap(),
            );
            input.blind_value_proof = Some(
                RangeProof::blind_value_proof(
                    &mut rng,
                    &secp,
                    sec.value,
                    value_comm,
                    asset_comm,
                    sec.value_bf,
                )
                .unwrap(),
            );
            input.in_utxo_rangeproof = Some(std::mem::replace(
                &mut utxo.witness.rangeproof,
                RangeProof::EMPTY,
            ));
        }
        input.witness_utxo = Some(utxo);
        pset.add_input(input);
    }
    let mut blinded = false;
    for out in outs {
        let mut output = match out {
            Out::To(address, asset, value) => pset::Output::new_explicit(
                address.script_pubkey(),
                *value,
                *asset,
                address
                    .blinding_pubkey
                    .map(elements::bitcoin::PublicKey::new),
            ),
            Out::Fee(asset, value) => {
                pset::Output::new_explicit(Script::new(), *value, *asset, None)
            }
        };
        if output.blinding_key.is_some() {
            output.blinder_index = Some(0);
            blinded = true;
        }
        pset.add_output(output);
    }
    if blinded {
        pset.blind_last(&mut rng, &secp, &secrets).unwrap();
    }
    pset
}
