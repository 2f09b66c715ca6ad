//! Building co-signing requests offline: AMP2 wallets registered through the API (LWK's `Amp2`
//! descriptors), a synthetic confidential funding transaction paying them, and a blinded
//! transfer PSET spending it, shaped like LWK's `TxBuilder` output (explicit asset/amount with
//! blind proofs, the UTXO rangeproof in its own field).

use std::collections::HashMap;

use amphora_core::Network;
use amphora_cosigner::key::lwk_network;
use axum::http::{Method, StatusCode};
use elements::confidential::{
    AssetBlindingFactor, RangeProof, SurjectionProof, ValueBlindingFactor,
};
use elements::pset::{self, PartiallySignedTransaction};
use elements::secp256k1_zkp::Secp256k1;
use elements::{
    Address, AddressParams, AssetId, LockTime, OutPoint, Script, Sequence, Transaction, TxIn,
    TxOut, TxOutSecrets,
};
use lwk_signer::SwSigner;
use lwk_wollet::{Chain, WolletDescriptor};

use crate::common::TestApp;

const PARAMS: &AddressParams = &AddressParams::ELEMENTS;

/// An AMP2 wallet registered with the test platform.
pub struct Wallet {
    pub descriptor: WolletDescriptor,
    pub gaid: String,
}

impl Wallet {
    /// Address `index` of `chain`.
    pub fn address(&self, chain: Chain, index: u32) -> Address {
        match chain {
            Chain::External => self.descriptor.address(index, PARAMS).unwrap(),
            Chain::Internal => self.descriptor.change(index, PARAMS).unwrap(),
        }
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
    Wallet { descriptor, gaid }
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

/// A blinded PSET spending `coins` (all funded by one synthetic transaction, whose outpoints are
/// returned in the order of `coins`) and paying `outs`.
pub fn transfer(coins: &[Coin], outs: &[Out]) -> (PartiallySignedTransaction, Vec<OutPoint>) {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let mut funding_outputs = Vec::new();
    let mut secrets = HashMap::new();
    for (i, coin) in coins.iter().enumerate() {
        let address = coin.owner.address(coin.chain, coin.index);
        let (txout, abf, vbf, _) = TxOut::new_not_last_confidential(
            &mut rng,
            &secp,
            coin.value,
            &address,
            coin.asset,
            &[TxOutSecrets::new(
                coin.asset,
                AssetBlindingFactor::zero(),
                coin.value,
                ValueBlindingFactor::zero(),
            )],
        )
        .unwrap();
        funding_outputs.push(txout);
        secrets.insert(i, TxOutSecrets::new(coin.asset, abf, coin.value, vbf));
    }
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rng, &mut seed);
    let funding = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(elements::Txid::from_byte_array(seed), 0),
            is_pegin: false,
            script_sig: Script::new(),
            sequence: Sequence::MAX,
            asset_issuance: Default::default(),
            witness: Default::default(),
        }],
        output: funding_outputs,
    };
    let mut pset = PartiallySignedTransaction::new_v2();
    let mut outpoints = Vec::new();
    for i in 0..coins.len() {
        let outpoint = OutPoint::new(funding.txid(), i as u32);
        outpoints.push(outpoint);
        let mut input = pset::Input::from_prevout(outpoint);
        let mut utxo = funding.output[i].clone();
        let sec = &secrets[&i];
        let asset_comm = utxo.asset.commitment().unwrap();
        let value_comm = utxo.value.commitment().unwrap();
        input.asset = Some(sec.asset);
        input.amount = Some(sec.value);
        input.blind_asset_proof = Some(
            SurjectionProof::blind_asset_proof(&mut rng, &secp, sec.asset, sec.asset_bf).unwrap(),
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
        input.witness_utxo = Some(utxo);
        pset.add_input(input);
    }
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
        }
        pset.add_output(output);
    }
    pset.blind_last(&mut rng, &secp, &secrets).unwrap();
    (pset, outpoints)
}
