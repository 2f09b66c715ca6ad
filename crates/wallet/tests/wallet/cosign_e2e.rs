//! Co-signing end to end: the platform over real HTTP, the node of the run (the embedded
//! regtest node, or a real `elementsd` with `ELEMENTSD_EXE`), `amphora wallet` investors and LWK's own `Amp2` client. The node's treasury issues an asset the
//! platform manages (transfer-restricted, one required category) and pays Alice; then
//! transfers are co-signed, broadcast and confirmed — or refused with the platform's reasons.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_follower::{Follower, FollowerConfig, FollowerHandle};
use amphora_rpc::Amount;
use amphora_store::{IssuanceTx, NewAsset, NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use amphora_testenv::store as fixtures;
use amphora_wallet::backend::scan;
use amphora_wallet::chain_index::ChainIndex;
use amphora_wallet::{sync, SendRequest, Wallet, WalletError};
use elements::encode::serialize_hex;
use elements::{Address, AssetId};
use lwk_common::Signer;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::WolletBuilder;

use crate::common::{env, Env, ALICE, BOB};

const CAROL: &str = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";

/// Waits until the chain follower indexed the node's tip.
async fn caught_up(env: &Env, follower: &FollowerHandle) {
    let height = env.rpc.get_block_count().await.unwrap() as i64;
    if follower
        .wait_for(Duration::from_secs(120), |s| s.tip_height >= Some(height))
        .await
        .is_none()
    {
        panic!(
            "the follower did not reach {height}: {:?}",
            follower.status()
        );
    }
}

/// The unspent indexed outputs of the asset owned by the wallet with `gaid`: amounts.
async fn owned(env: &Env, uuid: &str, gaid: &str) -> Vec<i64> {
    let mut amounts: Vec<i64> = env
        .store
        .asset_outputs(uuid)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.spent.is_none())
        .filter(|o| matches!(&o.output.owner, OutputOwner::Wallet { gaid: g, .. } if g == gaid))
        .map(|o| o.output.amount)
        .collect();
    amounts.sort();
    amounts
}

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).unwrap()
}

/// An investor wallet created from `mnemonic` and registered with the platform.
async fn investor(env: &Env, mnemonic: &str) -> (Wallet, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (mut wallet, _) =
        Wallet::create_from_mnemonic(dir.path(), mnemonic, None, env.rpc.clone()).unwrap();
    let registered = wallet.register(&env.platform).await.unwrap();
    (wallet, registered.gaid, dir)
}

fn send(to: &str, asset: AssetId, units: u64) -> SendRequest {
    SendRequest {
        asset: asset.to_string(),
        to: to.to_string(),
        amount: units.to_string(),
        fee_rate: None,
    }
}

fn refusal_reasons(result: Result<amphora_wallet::reports::Sent, WalletError>) -> Vec<String> {
    match result {
        Err(WalletError::Refused(refusal)) => refusal.reasons,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Records the node-issued `asset` as an asset of a new issuer, authorized, transfer-restricted
/// and requiring one category; returns (issuer id, asset uuid, category id).
async fn manage_asset(env: &Env, asset: AssetId, issuance_txid: &str) -> (i64, String, i64) {
    let store = &env.store;
    let issuer = store.create_issuer("issuer", "unused-hash").await.unwrap();
    let uuid = uuid_like(&asset);
    let managed = NewAsset {
        name: "Cosigned share".into(),
        amount: 500,
        destination_address: String::new(),
        ticker: "SHR".into(),
        pubkey: amphora_testenv::ISSUER_PUBKEY.into(),
        ..fixtures::non_reissuable(fixtures::new_asset(issuer.id, &uuid))
    };
    let issuance = IssuanceTx {
        asset_id: asset.to_string(),
        tx_hex: "00".into(),
        ..fixtures::without_token(fixtures::issuance_tx(0, issuance_txid))
    };
    fixtures::issued_asset(store, &managed, &issuance).await;
    store.set_asset_authorized(issuer.id, &uuid).await.unwrap();
    let category = store
        .create_category(issuer.id, "Qualified", "")
        .await
        .unwrap();
    store
        .add_asset_category(issuer.id, &uuid, category.id)
        .await
        .unwrap();
    (issuer.id, uuid, category.id)
}

fn uuid_like(asset: &AssetId) -> String {
    let h = asset.to_string();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A local issuer authorization endpoint answering `answer` and counting calls.
async fn authorizer(answer: &'static str) -> (String, Arc<Mutex<usize>>) {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let router = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            *counter.lock().unwrap() += 1;
            answer
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn transfers_are_cosigned_or_refused_end_to_end() {
    let env = env().await;
    let store = &env.store;
    // The node's treasury issues the asset.
    let treasury = env.node.claim_free_coins("treasury").await;
    let issued = treasury
        .issue_asset(amount("0.00000500"), amount("0.00000001"), true)
        .await
        .unwrap();
    let share = issued.asset;
    env.node.mine(1).await;
    let (issuer_id, uuid, category) = manage_asset(&env, share, &issued.txid.to_string()).await;
    // Ownership moves through the chain follower only.
    let follower = Follower::new(store.clone(), env.rpc.clone(), FollowerConfig::default()).spawn();

    let (mut alice, alice_gaid, _a) = investor(&env, ALICE).await;
    let (mut bob, bob_gaid, _b) = investor(&env, BOB).await;
    let (mut carol, carol_gaid, _c) = investor(&env, CAROL).await;
    for (name, gaid, in_category) in [
        ("Alice", &alice_gaid, true),
        ("Bob", &bob_gaid, true),
        ("Carol", &carol_gaid, false),
    ] {
        let user = store
            .create_registered_user(issuer_id, name, false, Some(gaid), None)
            .await
            .unwrap();
        if in_category {
            store
                .add_category_registered_user(issuer_id, category, user.id)
                .await
                .unwrap();
        }
    }

    // Treasury -> Alice: a plain payment to her wallet address (asset and L-BTC for fees).
    let alice_address = alice.address(None).await.unwrap().address;
    treasury
        .send_to_address(&alice_address, amount("0.00000120"), Some(&share))
        .await
        .unwrap();
    treasury
        .send_to_address(&alice_address, amount("0.001"), None)
        .await
        .unwrap();
    // Bob gets L-BTC for the fee of his own transfer (at the end).
    let bob_address = bob.address(None).await.unwrap().address;
    treasury
        .send_to_address(&bob_address, amount("0.001"), None)
        .await
        .unwrap();
    env.node.mine(1).await;
    alice.sync().await.unwrap();

    // Alice -> Bob: allowed, co-signed, broadcast and confirmed.
    let sent = alice.send(&send(&bob_address, share, 100)).await.unwrap();
    env.node.mine(1).await;
    bob.sync().await.unwrap();
    let bob_balance = bob.balance().await.unwrap();
    let held = bob_balance
        .assets
        .iter()
        .find(|a| a.asset.asset_id == share);
    assert_eq!(held.map(|a| a.amount), Some(100));
    caught_up(&env, &follower).await;
    assert_eq!(owned(&env, &uuid, &bob_gaid).await, [100]);
    assert_eq!(owned(&env, &uuid, &alice_gaid).await, [20]);
    let decisions = store.cosign_decisions_for_txid(&sent.txid).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert!(decisions[0].decision.approved);
    assert_eq!(
        decisions[0].decision.recipient_gaids,
        std::slice::from_ref(&bob_gaid)
    );

    // Alice -> Carol (not in the category): refused with the reason code.
    alice.sync().await.unwrap();
    let carol_address = carol.address(None).await.unwrap().address;
    let reasons = refusal_reasons(alice.send(&send(&carol_address, share, 5)).await);
    assert_eq!(reasons, ["recipient_missing_category"]);

    // Locked asset: refused; unlocked again afterwards.
    store
        .set_asset_locked(issuer_id, &uuid, true)
        .await
        .unwrap();
    let reasons = refusal_reasons(alice.send(&send(&bob_address, share, 5)).await);
    assert_eq!(reasons, ["asset_locked"]);
    store
        .set_asset_locked(issuer_id, &uuid, false)
        .await
        .unwrap();

    // Issuer authorization endpoint: false refuses, garbage refuses, true approves.
    for (answer, code) in [
        (r#"{"result": false}"#, "issuer_authorization_rejected"),
        ("not json", "issuer_authorization_unavailable"),
    ] {
        let (url, calls) = authorizer(answer).await;
        store
            .set_asset_authorization_endpoint(issuer_id, &uuid, Some(&url))
            .await
            .unwrap();
        let reasons = refusal_reasons(alice.send(&send(&bob_address, share, 5)).await);
        assert_eq!(reasons, [code]);
        assert_eq!(*calls.lock().unwrap(), 1);
    }
    let (url, calls) = authorizer(r#"{"result": true}"#).await;
    store
        .set_asset_authorization_endpoint(issuer_id, &uuid, Some(&url))
        .await
        .unwrap();
    let approved = alice.send(&send(&bob_address, share, 5)).await.unwrap();
    assert_eq!(*calls.lock().unwrap(), 1);
    store
        .set_asset_authorization_endpoint(issuer_id, &uuid, None)
        .await
        .unwrap();
    env.node.mine(1).await;

    // Blacklisting Alice's only share output (her change) makes her transfers refused.
    alice.sync().await.unwrap();
    caught_up(&env, &follower).await;
    assert_eq!(owned(&env, &uuid, &alice_gaid).await, [15]);
    let tx = env
        .rpc
        .get_raw_transaction(&approved.txid.parse().unwrap())
        .await
        .unwrap();
    let alice_wallet = store.wallet_by_gaid(&alice_gaid).await.unwrap().unwrap();
    let mut change = None;
    for (vout, txout) in tx.output.iter().enumerate() {
        if let Some(secrets) = env
            .key
            .unblind_wallet_output(&alice_wallet.descriptor, txout)
            .unwrap()
        {
            if secrets.asset == share {
                change = Some((vout, secrets.value, txout.script_pubkey.clone()));
            }
        }
    }
    let (vout, value, script) = change.expect("Alice's share change");
    assert_eq!(value, 120 - 100 - 5);
    // Indexed by the follower already; recorded here only if it were not.
    let indexed = store
        .asset_output(&approved.txid, vout as i64)
        .await
        .unwrap();
    if indexed.is_none() {
        store
            .record_asset_outputs(&[NewAssetOutput {
                txid: approved.txid.clone(),
                vout: vout as i64,
                asset_uuid: uuid.clone(),
                is_token: false,
                amount: value as i64,
                script_pubkey: format!("{script:x}"),
                owner: OutputOwner::Wallet {
                    wid: alice_wallet.wid.clone(),
                    gaid: alice_gaid.clone(),
                },
                asset_blinder: UNKNOWN_BLINDER.into(),
                amount_blinder: UNKNOWN_BLINDER.into(),
                height: 0,
            }])
            .await
            .unwrap();
    }
    store
        .set_outputs_blacklisted(&uuid, &[(approved.txid.clone(), vout as i64)], true)
        .await
        .unwrap();
    let reasons = refusal_reasons(alice.send(&send(&bob_address, share, 1)).await);
    assert_eq!(reasons, ["input_blacklisted"]);

    // LWK's own Amp2 client: Bob (105 shares) gets a co-signature for a transfer to Alice.
    let params = sync::node_chain(&env.rpc).await.unwrap();
    let network = params.lwk_network();
    let signer = SwSigner::new_with_network(BOB, network).unwrap();
    let amp2 = Amp2::new(
        env.key.xpub_info().keyorigin_xpub,
        format!("{}/amp2", env.platform),
    )
    .unwrap();
    let descriptor = amp2.elip153_from_signer(&signer, 0).unwrap().descriptor();
    let mut index = ChainIndex::new(descriptor.clone(), 0).unwrap();
    sync::walk(&env.rpc, &mut index, |_| Ok(())).await.unwrap();
    let mut wollet = WolletBuilder::new(network, descriptor).build().unwrap();
    if let Some(update) = scan(&index, &wollet).unwrap() {
        wollet.apply_update(update).unwrap();
    }
    let to_alice = Address::from_str(&alice.address(None).await.unwrap().address).unwrap();
    let mut pset = wollet
        .tx_builder()
        .add_recipient(&to_alice, 7, share)
        .unwrap()
        .disable_ct_discount()
        .finish()
        .unwrap();
    assert!(signer.sign(&mut pset).unwrap() > 0);
    let outputs_before = store.asset_outputs(&uuid).await.unwrap();
    let cosigned = amp2.cosign(&pset).await.unwrap();
    // Co-signed but never broadcast: nothing moves (the decision is recorded, nothing else),
    // also once the follower indexed a further block.
    let unsigned_txid = pset.extract_tx().unwrap().txid().to_string();
    let recorded = store
        .cosign_decisions_for_txid(&unsigned_txid)
        .await
        .unwrap();
    assert!(recorded.len() == 1 && recorded[0].decision.approved);
    env.node.mine(1).await;
    caught_up(&env, &follower).await;
    assert_eq!(store.asset_outputs(&uuid).await.unwrap(), outputs_before);
    bob.sync().await.unwrap();
    let again = bob.balance().await.unwrap();
    assert_eq!(
        again
            .assets
            .iter()
            .find(|a| a.asset.asset_id == share)
            .map(|a| a.amount),
        Some(105)
    );
    // Broadcast, it confirms.
    pset.merge(cosigned.pset).unwrap();
    let tx = wollet.finalize(&mut pset).unwrap();
    env.rpc
        .send_raw_transaction(&serialize_hex(&tx))
        .await
        .unwrap();
    env.node.mine(1).await;
    bob.sync().await.unwrap();
    let after = bob.balance().await.unwrap();
    assert_eq!(
        after
            .assets
            .iter()
            .find(|a| a.asset.asset_id == share)
            .map(|a| a.amount),
        Some(98)
    );
    caught_up(&env, &follower).await;
    // LWK picks one or both of Bob's outputs (100 and 5): only the total is fixed.
    assert_eq!(owned(&env, &uuid, &bob_gaid).await.iter().sum::<i64>(), 98);
    assert_eq!(owned(&env, &uuid, &alice_gaid).await, [7, 15]);
    follower.shutdown().await;
    env.node.stop().await;
}
