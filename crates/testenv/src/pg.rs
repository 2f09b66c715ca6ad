//! A PostgreSQL schema of its own for one test, dropped when the test ends.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;

/// The environment variable naming the test PostgreSQL database.
pub const DATABASE_URL_VAR: &str = "AMPHORA_TEST_DATABASE_URL";
/// The test database when [`DATABASE_URL_VAR`] is not set (`.ci/run` starts it).
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// How long dropping the schema waits for a lock (a connection still inside a transaction)
/// before it gives up and leaves the schema behind, which is harmless in a test database.
const DROP_LOCK_TIMEOUT: &str = "5s";

/// The test database URL: [`DATABASE_URL_VAR`], or [`DEFAULT_DATABASE_URL`].
pub fn database_url() -> String {
    std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_string())
}

/// A fresh schema `amphora_<tag>_<random>` of the test database; dropped (with everything in
/// it) when this value is dropped, also when the test panics.
///
/// Connections select it with `search_path`: [`PgSchema::options`] for `sqlx`,
/// [`PgSchema::url`] for a URL handed to another process (`amphora serve`). Dropping runs
/// `DROP SCHEMA … CASCADE` from a thread of its own with its own runtime (`Drop` cannot await,
/// and the test's runtime may be the one blocked in this drop), so pools of the test need not
/// be closed first: idle connections hold no locks.
#[derive(Debug)]
pub struct PgSchema {
    base: String,
    name: String,
}

impl PgSchema {
    /// Creates the schema. Panics with a clear message when PostgreSQL is unreachable.
    pub async fn create(tag: &str) -> PgSchema {
        let base = database_url();
        let mut admin = admin(&base).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is unreachable at {base} ({e}); start it (see .ci/run)")
        });
        let name = format!("amphora_{tag}_{}", hex::encode(rand::random::<[u8; 8]>()));
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE SCHEMA {name}: {e}"));
        PgSchema { base, name }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection options of the test database selecting this schema.
    pub fn options(&self) -> PgConnectOptions {
        base_options(&self.base).options([("search_path", self.name.as_str())])
    }

    /// The test database URL selecting this schema (`options=-c search_path=<name>`).
    pub fn url(&self) -> String {
        let separator = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.base, self.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let base = self.base.clone();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test schema");
            runtime.block_on(async move {
                let mut admin = admin(&base).await?;
                sqlx::query(&format!("SET lock_timeout = '{DROP_LOCK_TIMEOUT}'"))
                    .execute(&mut admin)
                    .await?;
                sqlx::query(&sql).execute(&mut admin).await?;
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
        // A schema left behind costs nothing but space; a panic here would hide the test's own.
        if let Ok(Err(e)) = dropped {
            eprintln!("the test schema {} stays behind: {e}", self.name);
        }
    }
}

fn base_options(url: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is not a PostgreSQL URL ({url}): {e}"))
}

/// A connection of the test database's default schema, bounded in time.
async fn admin(url: &str) -> Result<sqlx::PgConnection, sqlx::Error> {
    let options = base_options(url);
    let connect = sqlx::PgConnection::connect_with(&options);
    tokio::time::timeout(Duration::from_secs(30), connect)
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the schema `name` exists in the test database.
    async fn exists(name: &str) -> bool {
        let mut admin = admin(&database_url()).await.unwrap();
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT schema_name::text FROM information_schema.schemata WHERE schema_name = $1",
        )
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
        found.is_some()
    }

    #[tokio::test]
    async fn the_schema_is_selected_and_dropped_with_its_value() {
        let schema = PgSchema::create("testenv").await;
        let name = schema.name().to_string();
        assert!(exists(&name).await, "{name} was not created");
        for mut conn in [
            sqlx::PgConnection::connect_with(&schema.options())
                .await
                .unwrap(),
            sqlx::PgConnection::connect(&schema.url()).await.unwrap(),
        ] {
            let (current,): (String,) = sqlx::query_as("SELECT current_schema()::text")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(current, name);
        }
        sqlx::query("CREATE TABLE t (id INTEGER)")
            .execute(
                &mut sqlx::PgConnection::connect_with(&schema.options())
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
        drop(schema);
        assert!(!exists(&name).await, "{name} outlived its PgSchema");
    }

    #[tokio::test]
    async fn a_panicking_test_drops_its_schema_too() {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let test = tokio::spawn(async move {
            let schema = PgSchema::create("testenv_panic").await;
            sender.send(schema.name().to_string()).unwrap();
            panic!("the test fails");
        });
        assert!(test.await.unwrap_err().is_panic());
        let name = receiver.await.unwrap();
        assert!(!exists(&name).await, "{name} outlived the panicking test");
    }
}
