//! Reissuances and burns: requests, completion with verified outputs in one transaction,
//! idempotent repeats, conflicts, and the confirmed totals of the summary.

use amphora_store::{
    BurnCompletion, CompletedBy, NewAssetOutput, OutputOwner, ReissuanceCompletion, Store,
    StoreError, UtxoRef, UNKNOWN_BLINDER,
};
use amphora_testenv::store as fixtures;

use crate::contract::{on_postgres, on_sqlite};

contract!(
    reissue_requests_complete_once_and_repeat_idempotently,
    burn_requests_complete_once_and_repeat_idempotently,
    totals_count_confirmed_rows_only,
);

/// An asset `uuid` of a new issuer.
async fn asset(store: &Store, uuid: &str) {
    let issuer = fixtures::issuer(store, &format!("issuer-{uuid}")).await;
    store
        .create_asset(&fixtures::new_asset(issuer, uuid))
        .await
        .unwrap();
}

fn output(uuid: &str, txid: &str, vout: i64, amount: i64, owner: OutputOwner) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid.into(),
        vout,
        asset_uuid: uuid.into(),
        is_token: false,
        amount,
        script_pubkey: "0014ab".into(),
        owner,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height: 7,
    }
}

fn utxo(n: u8) -> UtxoRef {
    UtxoRef {
        txid: fixtures::txid(n),
        vout: i64::from(n),
    }
}

async fn reissue_requests_complete_once_and_repeat_idempotently(store: Store) {
    asset(&store, "a").await;
    let first = store
        .create_reissue_request("a", 500, &[utxo(1), utxo(2)])
        .await
        .unwrap();
    assert_eq!(first.reissuance_utxos, vec![utxo(1), utxo(2)]);
    assert!(first.completion.is_none());
    let second = store
        .create_reissue_request("a", 700, &[utxo(1)])
        .await
        .unwrap();
    assert_eq!(
        store
            .pending_reissuance("a", None)
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert_eq!(
        store
            .pending_reissuance("a", Some(700))
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
    assert!(store
        .pending_reissuance("a", Some(1))
        .await
        .unwrap()
        .is_none());
    assert!(store.reissuances("a", true).await.unwrap().is_empty());

    let txid = "cc".repeat(32);
    let completion = ReissuanceCompletion {
        txid: txid.clone(),
        vin: 0,
        vout: None,
        destination_address: None,
        block_hash: String::new(),
        height: 7,
        completed_by: CompletedBy::Follower,
    };
    let done = store
        .complete_reissuance(first.id, &completion, &[])
        .await
        .unwrap();
    let confirmed = done.completion.clone().unwrap();
    assert_eq!(confirmed.completed_by, CompletedBy::Follower);
    assert_eq!(
        (confirmed.txid.as_str(), confirmed.height),
        (txid.as_str(), 7)
    );
    assert_eq!(done.vout, None);

    // The confirm call comes later: same row, outputs and destination filled in.
    let mut by_confirm = completion.clone();
    by_confirm.completed_by = CompletedBy::Confirm;
    by_confirm.vout = Some(1);
    by_confirm.destination_address = Some("el1new".into());
    by_confirm.block_hash = "bb".repeat(32);
    let outputs = [
        output("a", &txid, 1, 500, OutputOwner::Treasury),
        NewAssetOutput {
            is_token: true,
            ..output("a", &txid, 2, 1, OutputOwner::Treasury)
        },
    ];
    let again = store
        .complete_reissuance(second.id, &by_confirm, &outputs)
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "the transaction's row is answered");
    assert_eq!(again.vout, Some(1));
    assert_eq!(again.destination_address.as_deref(), Some("el1new"));
    assert_eq!(
        again.completion.as_ref().unwrap().block_hash,
        "bb".repeat(32)
    );
    assert_eq!(
        again.completion.as_ref().unwrap().completed_by,
        CompletedBy::Follower
    );
    let recorded = store.asset_outputs("a").await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert!(recorded
        .iter()
        .any(|o| o.output.is_token && o.output.vout == 2));
    assert_eq!(
        store
            .reissuance_of_tx("a", &txid, 0)
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert!(store
        .reissuance_of_tx("a", &txid, 1)
        .await
        .unwrap()
        .is_none());

    // The second request is still outstanding; completing the first again with another
    // transaction is refused and changes nothing.
    let other = ReissuanceCompletion {
        txid: "dd".repeat(32),
        ..by_confirm.clone()
    };
    let err = store
        .complete_reissuance(
            first.id,
            &other,
            &[output("a", &"dd".repeat(32), 0, 9, OutputOwner::Treasury)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.asset_outputs("a").await.unwrap().len(), 2);
    assert_eq!(
        store
            .pending_reissuance("a", None)
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
    assert!(matches!(
        store.complete_reissuance(9999, &other, &[]).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.reissuances("a", true).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(store.reissuances("a", false).await.unwrap().len(), 2);
}

async fn burn_requests_complete_once_and_repeat_idempotently(store: Store) {
    asset(&store, "b").await;
    let request = store
        .create_burn_request("b", 300, &[utxo(3)])
        .await
        .unwrap();
    assert_eq!(request.utxos, vec![utxo(3)]);
    assert_eq!(
        store
            .pending_burn("b", Some(300))
            .await
            .unwrap()
            .unwrap()
            .id,
        request.id
    );
    assert!(store.pending_burn("b", Some(301)).await.unwrap().is_none());

    let txid = "ab".repeat(32);
    let completion = BurnCompletion {
        txid: txid.clone(),
        block_hash: "bb".repeat(32),
        height: 7,
        completed_by: CompletedBy::Confirm,
    };
    let outputs = [
        output("b", &txid, 0, 300, OutputOwner::Burn),
        output("b", &txid, 1, 700, OutputOwner::Treasury),
    ];
    let done = store
        .complete_burn(request.id, &completion, &outputs)
        .await
        .unwrap();
    assert_eq!(done.completion.as_ref().unwrap().txid, txid);
    let repeated = store
        .complete_burn(request.id, &completion, &outputs)
        .await
        .unwrap();
    assert_eq!(repeated, done);
    assert_eq!(store.asset_outputs("b").await.unwrap().len(), 2);
    assert_eq!(
        store.burn_of_tx("b", &txid).await.unwrap().unwrap().id,
        request.id
    );

    let other = BurnCompletion {
        txid: "ef".repeat(32),
        ..completion
    };
    assert!(matches!(
        store.complete_burn(request.id, &other, &[]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.burns("b", true).await.unwrap().len(), 1);
    assert!(store.pending_burn("b", None).await.unwrap().is_none());
}

async fn totals_count_confirmed_rows_only(store: Store) {
    asset(&store, "t").await;
    asset(&store, "other").await;
    assert_eq!(store.reissue_burn_totals("t").await.unwrap().reissued, 0);
    let r1 = store.create_reissue_request("t", 1_000, &[]).await.unwrap();
    store.create_reissue_request("t", 50, &[]).await.unwrap();
    let b1 = store.create_burn_request("t", 40, &[]).await.unwrap();
    store.create_burn_request("t", 5, &[]).await.unwrap();
    let o = store.create_reissue_request("other", 9, &[]).await.unwrap();
    let block = |txid: &str| ReissuanceCompletion {
        txid: txid.into(),
        vin: 0,
        vout: None,
        destination_address: None,
        block_hash: "bb".repeat(32),
        height: 3,
        completed_by: CompletedBy::Confirm,
    };
    store
        .complete_reissuance(r1.id, &block(&"01".repeat(32)), &[])
        .await
        .unwrap();
    store
        .complete_reissuance(o.id, &block(&"02".repeat(32)), &[])
        .await
        .unwrap();
    store
        .complete_burn(
            b1.id,
            &BurnCompletion {
                txid: "03".repeat(32),
                block_hash: "bb".repeat(32),
                height: 4,
                completed_by: CompletedBy::Follower,
            },
            &[],
        )
        .await
        .unwrap();
    let totals = store.reissue_burn_totals("t").await.unwrap();
    assert_eq!((totals.reissued, totals.burned), (1_000, 40));
    let other = store.reissue_burn_totals("other").await.unwrap();
    assert_eq!((other.reissued, other.burned), (9, 0));
}
