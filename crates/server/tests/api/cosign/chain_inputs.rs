//! PSETs lying about the outputs they spend, against a real chain: every input must be an
//! existing, unspent output as the node has it, with the `witness_utxo`'s script, asset and value
//! commitments, else `400` with `input_utxo_mismatch`, `input_unknown` or `input_spent`, recorded
//! as a refused decision like every other refusal.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use elements::bitcoin::bip32::KeySource;
use elements::confidential::{Asset, Value};
use elements::secp256k1_zkp::Secp256k1;
use elements::{AssetId, OutPoint, TxOut, Txid};
use elements_miniscript::ForEachKey;
use lwk_common::Signer;
use lwk_wollet::Chain;

use super::pset::{blinded_pset, Coin, Out, Wallet};
use super::{assert_refused, scene, Scene};
use crate::common::TestApp;

/// Explicit coins of Alice (paid to her unconfidential addresses), mined.
async fn explicit_coins(s: &Scene, coins: &[(u32, AssetId, u64)]) -> Vec<(OutPoint, TxOut)> {
    let coins: Vec<Coin> = coins
        .iter()
        .map(|(index, asset, value)| Coin {
            owner: &s.alice,
            chain: Chain::External,
            index: *index,
            asset: *asset,
            value: *value,
        })
        .collect();
    s.funder
        .fund(&coins, true)
        .await
        .into_iter()
        .map(|(outpoint, txout, _)| (outpoint, txout))
        .collect()
}

fn secrets_of(txout: &TxOut) -> elements::TxOutSecrets {
    elements::TxOutSecrets::new(
        txout.asset.explicit().unwrap(),
        elements::confidential::AssetBlindingFactor::zero(),
        txout.value.explicit().unwrap(),
        elements::confidential::ValueBlindingFactor::zero(),
    )
}

/// The last recorded decision's reasons (and that it was refused).
async fn last_refusal(app: &TestApp) -> Vec<String> {
    let recent = app.state.store().recent_cosign_decisions(1).await.unwrap();
    assert!(!recent[0].decision.approved);
    recent[0].decision.reasons.clone()
}

/// Two equal-valued explicit coins of Alice: 100 of the asset (blacklisted by the issuer) and
/// 100 L-BTC. The PSET claims the blacklisted coin is L-BTC and the L-BTC coin is the asset: the
/// signature hash does not commit to the asset, so before the chain check the platform saw a
/// clean coin of the asset and signed a transaction moving the blacklisted one.
#[tokio::test]
async fn swapped_claimed_assets_cannot_move_a_blacklisted_output() {
    let s = scene().await;
    let lbtc = s.funder.lbtc;
    let coins = explicit_coins(&s, &[(5, s.asset, 100), (6, lbtc, 100)]).await;
    let blacklisted = coins[0].0;
    let store = s.app.state.store();
    store
        .record_asset_outputs(&[amphora_store::NewAssetOutput {
            txid: blacklisted.txid.to_string(),
            vout: i64::from(blacklisted.vout),
            asset_uuid: s.uuid.clone(),
            is_token: false,
            amount: 100,
            script_pubkey: hex::encode(coins[0].1.script_pubkey.as_bytes()),
            owner: amphora_store::OutputOwner::Wallet {
                wid: store
                    .wallet_by_gaid(&s.alice.gaid)
                    .await
                    .unwrap()
                    .unwrap()
                    .wid,
                gaid: s.alice.gaid.clone(),
            },
            asset_blinder: amphora_store::UNKNOWN_BLINDER.to_string(),
            amount_blinder: amphora_store::UNKNOWN_BLINDER.to_string(),
            height: 1,
        }])
        .await
        .unwrap();
    store
        .set_outputs_blacklisted(
            &s.uuid,
            &[(blacklisted.txid.to_string(), i64::from(blacklisted.vout))],
            true,
        )
        .await
        .unwrap();
    let bob = s.bob.address(Chain::External, 0).to_unconfidential();
    let change = s.alice.address(Chain::Internal, 0).to_unconfidential();
    let outs = [
        Out::To(&bob, s.asset, 100),
        Out::To(&change, lbtc, 90),
        Out::Fee(lbtc, 10),
    ];

    let mut as_lbtc = coins[0].1.clone();
    as_lbtc.asset = Asset::Explicit(lbtc);
    let mut as_asset = coins[1].1.clone();
    as_asset.asset = Asset::Explicit(s.asset);
    let lying = blinded_pset(
        &[
            (coins[0].0, as_lbtc.clone(), secrets_of(&as_lbtc)),
            (coins[1].0, as_asset.clone(), secrets_of(&as_asset)),
        ],
        &outs,
    );
    assert_refused(
        &s.sign(&lying).await,
        StatusCode::BAD_REQUEST,
        "input_utxo_mismatch",
    );
    assert_eq!(last_refusal(&s.app).await, ["input_utxo_mismatch"]);

    // Told the truth, the platform refuses by the rules.
    let honest = blinded_pset(
        &[
            (coins[0].0, coins[0].1.clone(), secrets_of(&coins[0].1)),
            (coins[1].0, coins[1].1.clone(), secrets_of(&coins[1].1)),
        ],
        &outs,
    );
    assert_refused(
        &s.sign(&honest).await,
        StatusCode::FORBIDDEN,
        "input_blacklisted",
    );
}

#[tokio::test]
async fn inflated_and_unknown_inputs_are_refused() {
    let s = scene().await;
    let coins = explicit_coins(&s, &[(7, s.asset, 100)]).await;
    let (outpoint, real) = coins[0].clone();
    let bob = s.bob.address(Chain::External, 0).to_unconfidential();

    // An output of 100 claimed as 1000 (the managed asset invented from nothing).
    let mut inflated = real.clone();
    inflated.value = Value::Explicit(1000);
    let pset = blinded_pset(
        &[(outpoint, inflated.clone(), secrets_of(&inflated))],
        &[Out::To(&bob, s.asset, 1000)],
    );
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::BAD_REQUEST,
        "input_utxo_mismatch",
    );

    // An output index the transaction does not have, and a transaction nobody has.
    let ghosts = [
        OutPoint::new(outpoint.txid, 99),
        OutPoint::new(Txid::from_byte_array(rand::random()), 0),
    ];
    for ghost in ghosts {
        let pset = blinded_pset(
            &[(ghost, real.clone(), secrets_of(&real))],
            &[Out::To(&bob, s.asset, 100)],
        );
        assert_refused(
            &s.sign(&pset).await,
            StatusCode::BAD_REQUEST,
            "input_unknown",
        );
        assert_eq!(last_refusal(&s.app).await, ["input_unknown"]);
    }

    // The truth goes through.
    let pset = blinded_pset(
        &[(outpoint, real.clone(), secrets_of(&real))],
        &[Out::To(&bob, s.asset, 100)],
    );
    assert_eq!(s.sign(&pset).await.status, StatusCode::OK);
}

/// The BIP32 hints and witness script LWK puts on an input of `wallet` at (chain, index).
fn add_signing_hints(
    pset: &mut elements::pset::PartiallySignedTransaction,
    vin: usize,
    wallet: &Wallet,
    chain: Chain,
    index: u32,
) {
    let secp = Secp256k1::new();
    let definite = wallet.descriptor.definite_descriptor(chain, index).unwrap();
    let mut hints: BTreeMap<elements::bitcoin::PublicKey, KeySource> = BTreeMap::new();
    definite.for_each_key(|k| {
        let pk = k.derive_public_key(&secp).unwrap();
        hints.insert(
            pk,
            (k.master_fingerprint(), k.full_derivation_path().unwrap()),
        );
        true
    });
    let input = &mut pset.inputs_mut()[vin];
    input.bip32_derivation = hints;
    input.witness_script = Some(definite.explicit_script().unwrap());
}

/// A co-signed transfer, signed by the user too, is accepted by the node (the platform's
/// signatures are valid there); asking again for the same PSET is refused once its inputs are
/// spent, in the mempool and in a block.
#[tokio::test]
async fn a_spent_input_is_refused() {
    let s = scene().await;
    let (mut pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 300).await;
    add_signing_hints(&mut pset, 0, &s.alice, Chain::External, 0);
    add_signing_hints(&mut pset, 1, &s.alice, Chain::External, 1);
    let reply = s.sign(&pset).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let mut signed: elements::pset::PartiallySignedTransaction =
        reply.body["pset"].as_str().unwrap().parse().unwrap();
    assert_eq!(s.alice.signer.sign(&mut signed).unwrap(), 2);
    let genesis = s.funder.node.rpc().get_block_hash(0).await.unwrap();
    elements_miniscript::psbt::finalize(&mut signed, &Secp256k1::new(), genesis).unwrap();
    let tx = signed.extract_tx().unwrap();
    let hex = elements::encode::serialize_hex(&tx);
    s.funder
        .node
        .rpc()
        .send_raw_transaction(&hex)
        .await
        .unwrap();

    assert_refused(&s.sign(&pset).await, StatusCode::BAD_REQUEST, "input_spent");
    s.funder.node.mine(1).await;
    assert_refused(&s.sign(&pset).await, StatusCode::BAD_REQUEST, "input_spent");
    assert_eq!(last_refusal(&s.app).await, ["input_spent"]);
}

/// Without a node the inputs cannot be checked: nothing is signed (503), and the refusal is
/// recorded.
#[tokio::test]
async fn without_a_node_nothing_is_cosigned() {
    let app = TestApp::new().await;
    let alice = super::pset::wallet(&app, true).await;
    let coin = TxOut {
        asset: Asset::Explicit(AssetId::from_byte_array([5; 32])),
        value: Value::Explicit(100),
        nonce: elements::confidential::Nonce::Null,
        script_pubkey: alice.address(Chain::External, 0).script_pubkey(),
        witness: Default::default(),
    };
    let to = alice.address(Chain::Internal, 0).to_unconfidential();
    let pset = blinded_pset(
        &[(
            OutPoint::new(Txid::from_byte_array([1; 32]), 0),
            coin.clone(),
            secrets_of(&coin),
        )],
        &[Out::To(&to, AssetId::from_byte_array([5; 32]), 100)],
    );
    let body = serde_json::json!({ "pset": pset.to_string() }).to_string();
    let reply = super::sign_raw(&app, &body).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert!(reply.body["detail"].as_str().is_some());
    assert_eq!(last_refusal(&app).await, ["node_unavailable"]);
}

/// Where the chain index holds an input, it must agree with the node: an indexed output of
/// another amount or another holder than the node's output opens to is refused; an agreeing
/// record is co-signed.
#[tokio::test]
async fn the_chain_index_must_agree_where_it_holds_an_input() {
    let s = scene().await;
    let coins = explicit_coins(
        &s,
        &[(8, s.asset, 100), (9, s.asset, 100), (10, s.asset, 100)],
    )
    .await;
    let store = s.app.state.store();
    let wid_of =
        |gaid: String| async move { store.wallet_by_gaid(&gaid).await.unwrap().unwrap().wid };
    let (alice, bob_wid) = (
        wid_of(s.alice.gaid.clone()).await,
        wid_of(s.bob.gaid.clone()).await,
    );
    let bob = s.bob.address(Chain::External, 0).to_unconfidential();
    for ((outpoint, real), (amount, holder, agrees)) in coins.iter().zip([
        (99, &alice, false),
        (100, &bob_wid, false),
        (100, &alice, true),
    ]) {
        store
            .record_asset_outputs(&[amphora_store::NewAssetOutput {
                txid: outpoint.txid.to_string(),
                vout: i64::from(outpoint.vout),
                asset_uuid: s.uuid.clone(),
                is_token: false,
                amount,
                script_pubkey: hex::encode(real.script_pubkey.as_bytes()),
                owner: amphora_store::OutputOwner::Wallet {
                    wid: holder.clone(),
                    gaid: s.alice.gaid.clone(),
                },
                asset_blinder: amphora_store::UNKNOWN_BLINDER.to_string(),
                amount_blinder: amphora_store::UNKNOWN_BLINDER.to_string(),
                height: 1,
            }])
            .await
            .unwrap();
        let pset = blinded_pset(
            &[(*outpoint, real.clone(), secrets_of(real))],
            &[Out::To(&bob, s.asset, 100)],
        );
        let reply = s.sign(&pset).await;
        if agrees {
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        } else {
            assert_refused(&reply, StatusCode::BAD_REQUEST, "input_utxo_mismatch");
        }
    }
}
