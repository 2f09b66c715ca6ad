//! The migrations' backfill of the aggregates into a database that already had outputs (0014,
//! then 0019's holder rows), on both engines.

use std::str::FromStr;

use amphora_store::Store;
use amphora_testenv::pg::PgSchema;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;

use super::{assert_aggregates_match, run_step, setup, step, Step, Walk, ASSETS};

/// A connection pool to the database under test, for the rows the store cannot write before
/// the migration.
enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawPool {
    /// Inserts assignments `(amount, is_distributed)` of `asset` for `user` as rows.
    async fn insert_assignments(&self, issuer: i64, asset: &str, user: i64, rows: &[(i64, bool)]) {
        let sql = "INSERT INTO assignments (issuer_id, asset_uuid, registered_user_id, amount, \
                   ready_for_distribution, is_distributed, created_at) \
                   VALUES ($1, $2, $3, $4, FALSE, $5, $6)";
        for (amount, distributed) in rows {
            match self {
                RawPool::Sqlite(pool) => sqlx::query(sql)
                    .bind(issuer)
                    .bind(asset)
                    .bind(user)
                    .bind(amount)
                    .bind(distributed)
                    .bind(chrono::Utc::now())
                    .execute(pool)
                    .await
                    .map(|_| ()),
                RawPool::Postgres(pool) => sqlx::query(sql)
                    .bind(issuer)
                    .bind(asset)
                    .bind(user)
                    .bind(amount)
                    .bind(distributed)
                    .bind(chrono::Utc::now())
                    .execute(pool)
                    .await
                    .map(|_| ()),
            }
            .unwrap();
        }
    }
}

/// The upgrade on SQLite: a database migrated with every migration but 0014.
async fn before_0014_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("amphora.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    migrator_without_0014("sqlite")
        .await
        .run(&pool)
        .await
        .unwrap();
    let store = Store::connect(&url).await.unwrap();
    backfill_on_upgrade(store.clone(), RawPool::Sqlite(pool.clone())).await;
    pool.close().await;
    store.close().await;
}

/// The upgrade on PostgreSQL, in a schema of its own.
async fn before_0014_postgres() {
    let schema = PgSchema::create("store_upgrade").await;
    let pool = sqlx::PgPool::connect_with(schema.options()).await.unwrap();
    migrator_without_0014("postgres")
        .await
        .run(&pool)
        .await
        .unwrap();
    let store = Store::connect_postgres(schema.options()).await.unwrap();
    let raw = RawPool::Postgres(pool.clone());
    let outcome = tokio::spawn(backfill_on_upgrade(store.clone(), raw)).await;
    pool.close().await;
    store.close().await;
    drop(schema);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// The engine's migrations without 0014 and those that extend its tables (0019's holder rows,
/// 0020's versions): the state of a database before this change.
async fn migrator_without_0014(engine: &str) -> Migrator {
    let dir = format!("{}/migrations/{engine}", env!("CARGO_MANIFEST_DIR"));
    let mut migrator = Migrator::new(std::path::Path::new(&dir)).await.unwrap();
    let kept: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| !matches!(m.version, 14 | 19 | 20))
        .cloned()
        .collect();
    assert!(kept.len() < migrator.migrations.len(), "no migration 0014");
    migrator.migrations = kept.into();
    migrator
}

#[tokio::test]
async fn sqlite_migration_backfills_existing_outputs() {
    before_0014_sqlite().await
}

#[tokio::test]
async fn postgres_migration_backfills_existing_outputs() {
    before_0014_postgres().await
}

/// Fills the index of a database without the aggregates (blocks, reorgs, confirm calls,
/// blacklisting; assignments inserted as rows, since creating one reads the aggregates), then
/// migrates: the aggregates equal the history computed before the migration.
async fn backfill_on_upgrade(store: Store, raw: RawPool) {
    let (issuer, users) = setup(&store).await;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[9; 32],
        ),
    );
    let steps = prop::collection::vec(step(), 40..41)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut walk = Walk::default();
    for step in &steps {
        if !matches!(step, Step::Assign(..) | Step::Unassign(_)) {
            run_step(&store, &mut walk, step, issuer, users).await;
        }
    }
    raw.insert_assignments(issuer, ASSETS[0], users[0], &[(5, false), (7, true)])
        .await;
    let mut before = vec![];
    for asset in ASSETS {
        before.push((
            store.holdings_from_history(asset, None).await.unwrap(),
            store.asset_totals_from_history(asset).await.unwrap(),
        ));
    }
    assert!(
        before.iter().any(|(holdings, _)| !holdings.is_empty()),
        "the walk recorded no holdings"
    );
    store.migrate().await.unwrap();
    for (asset, (holdings, totals)) in ASSETS.iter().zip(before) {
        assert_eq!(store.holdings(asset, None).await.unwrap(), holdings);
        assert_eq!(store.asset_totals(asset).await.unwrap(), totals);
        assert_aggregates_match(&store, asset).await;
    }
    assert_eq!(store.assignment_totals(ASSETS[0]).await.unwrap(), (12, 7));
    // 0019's holder rows: the ownerships JSON at the tip and at every past height
    super::holder_users::assert_reports_match(&store, walk.tip()).await;
}
