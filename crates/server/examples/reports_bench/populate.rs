//! The bench's data: an issuer, its asset, `holders` registered users with a wallet each, and
//! the chain index written with `Store::apply_block`, exactly as the chain follower writes it.

use std::time::Instant;

use amphora_server::credentials::hash_password;
use amphora_store::{
    IndexedTx, IssuanceTx, NewAsset, NewAssetOutput, OutputOwner, OutputSpend, Store, TxKind,
};
use amphora_testenv::store as fixtures;
use chrono::Utc;
use sqlx::QueryBuilder;

/// The benchmarked asset.
pub const ASSET: &str = "00000000-0000-4000-8000-000000000001";
/// Rows per insert statement of the bulk path.
const CHUNK: usize = 1_000;

fn txid(n: u32) -> String {
    format!("{n:064x}")
}

fn gaid(i: usize) -> String {
    format!("GAbench{i:08}")
}

fn wid(i: usize) -> String {
    format!("wid-bench-{i}")
}

fn descriptor(i: usize) -> String {
    format!("ct(bench-{i})")
}

fn name(i: usize) -> String {
    format!("Holder {i}")
}

fn output(tx: u32, vout: i64, amount: i64, owner: OutputOwner, height: i64) -> NewAssetOutput {
    fixtures::asset_output(ASSET, &txid(tx), vout, amount, owner, height)
}

/// Registers wallets and users `1..holders` of `issuer_id` in one transaction, 1,000 rows per
/// statement: the rows `Store::register_wallet` and `Store::create_registered_user` (with the
/// GAID) write, without one transaction and a dozen round trips per user.
async fn bulk_users(url: &str, issuer_id: i64, holders: usize) -> sqlx::Result<()> {
    let pool = sqlx::SqlitePool::connect(url).await?;
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let rest: Vec<usize> = (1..holders).collect();
    for chunk in rest.chunks(CHUNK) {
        let mut wallets = QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO registered_wallets (wid, descriptor, gaid, created_at) ",
        );
        wallets.push_values(chunk, |mut row, &i| {
            row.push_bind(wid(i))
                .push_bind(descriptor(i))
                .push_bind(gaid(i))
                .push_bind(now);
        });
        wallets.build().execute(&mut *tx).await?;
        let mut users = QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO registered_users \
             (issuer_id, name, is_company, default_gaid, creator_manager_id, created_at) ",
        );
        users.push_values(chunk, |mut row, &i| {
            row.push_bind(issuer_id)
                .push_bind(name(i))
                .push_bind(false)
                .push_bind(gaid(i))
                .push_bind(None::<i64>)
                .push_bind(now);
        });
        users.build().execute(&mut *tx).await?;
    }
    // each user's GAID link, created with the user
    sqlx::query(
        "INSERT INTO registered_user_gaids (registered_user_id, issuer_id, gaid, created_at) \
         SELECT u.id, u.issuer_id, u.default_gaid, u.created_at FROM registered_users u \
         WHERE u.issuer_id = $1 AND u.default_gaid IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM registered_user_gaids g WHERE g.registered_user_id = u.id)",
    )
    .bind(issuer_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(())
}

/// Checks that a user of the bulk path reads back as the one made by the store's own calls,
/// but for its id, name, GAID and time.
async fn check_bulk_rows(store: &Store, issuer_id: i64, holders: usize) {
    let user = |i: usize| async move {
        store
            .registered_user_by_gaid(issuer_id, &gaid(i))
            .await
            .unwrap()
            .expect("a registered user of the GAID")
    };
    let made = user(0).await;
    let bulk = user(holders - 1).await;
    assert_eq!(
        amphora_store::RegisteredUser {
            id: made.id,
            name: made.name.clone(),
            default_gaid: made.default_gaid.clone(),
            gaids: made.gaids.clone(),
            created_at: made.created_at,
            ..bulk.clone()
        },
        made
    );
    assert_eq!(bulk.gaids, [gaid(holders - 1)]);
    let wallet = store.wallet_by_gaid(&gaid(holders - 1)).await.unwrap();
    assert_eq!(wallet.map(|w| w.descriptor), Some(descriptor(holders - 1)));
}

/// An issuer, its asset, `holders` registered users with a wallet each, and the index: one
/// issuance to the treasury, one distribution block paying each holder, then an empty block
/// (so that height 2 is a past height). Returns the id of the first holder's registered user.
pub async fn populate(store: &Store, url: &str, holders: usize) -> amphora_store::Result<i64> {
    let started = Instant::now();
    let issuer = store
        .create_issuer("bench", &hash_password("bench password").unwrap())
        .await?;
    let asset = NewAsset {
        name: "Benchmark asset".into(),
        amount: 1_000_000_000_000,
        destination_address: "el1bench".into(),
        ticker: "BENCH".into(),
        is_confidential: false,
        ..fixtures::non_reissuable(fixtures::new_asset(issuer.id, ASSET))
    };
    let issuance = IssuanceTx {
        tx_hex: "00".into(),
        ..fixtures::without_token(fixtures::issuance_tx(0xab, &txid(1)))
    };
    fixtures::issued_asset(store, &asset, &issuance).await;
    let tx = |n: u32, kind| IndexedTx {
        asset_uuid: ASSET.into(),
        txid: txid(n),
        position: 1,
        kind,
    };
    let total = 1_000_000_000_000;
    store
        .apply_block(&fixtures::block_update(
            1,
            vec![tx(1, TxKind::Issuance)],
            vec![output(1, 0, total, OutputOwner::Treasury, 1)],
        ))
        .await?;
    // the first holder through the store's calls, the others in bulk
    store
        .register_wallet(&wid(0), &descriptor(0), &gaid(0))
        .await?;
    let first = store
        .create_registered_user(issuer.id, &name(0), false, Some(&gaid(0)), None)
        .await?;
    bulk_users(url, issuer.id, holders).await?;
    check_bulk_rows(store, issuer.id, holders).await;
    eprintln!(
        "registered {holders} users and wallets in {:.1?}",
        started.elapsed()
    );
    let started = Instant::now();
    let mut outputs: Vec<NewAssetOutput> = (0..holders)
        .map(|i| {
            let owner = OutputOwner::Wallet {
                wid: wid(i),
                gaid: gaid(i),
            };
            output(2, i as i64, 1 + i as i64, owner, 2)
        })
        .collect();
    let paid: i64 = outputs.iter().map(|o| o.amount).sum();
    outputs.push(output(
        2,
        holders as i64,
        total - paid,
        OutputOwner::Treasury,
        2,
    ));
    let mut distribution = fixtures::block_update(2, vec![tx(2, TxKind::Distribution)], outputs);
    distribution.spends = vec![OutputSpend {
        txid: txid(1),
        vout: 0,
        spent_txid: txid(2),
        spent_vin: 0,
        lost: false,
    }];
    store.apply_block(&distribution).await?;
    store
        .apply_block(&fixtures::block_update(3, vec![], vec![]))
        .await?;
    eprintln!(
        "indexed the distribution to {holders} holders in {:.1?}",
        started.elapsed()
    );
    Ok(first.id)
}
