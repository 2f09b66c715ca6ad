//! The ownerships reports this process built, kept with the version of the holder rows they
//! were built from (`Store::holders_version`, migration `0020_holder_report_versions`).
//!
//! At 10,000 holders the report is 850 kB that the database concatenates on every request;
//! AMP clients and the console poll it. Every request still reads the asset's version in the
//! database (the same query that checks the caller may see the asset), and a kept text is
//! answered only for the version it was built at: a text is never older than the request.
//! Replicas each keep their own; nothing needs to be told of a write. The texts are bounded by
//! their total size, the least used going first.

use amphora_store::Store;
use axum::body::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

/// Bytes of report text a process keeps at most (a report of 100,000 holders is about 8.9 MB).
pub const OWNERSHIPS_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// An asset's report at the tip (`None`) or at a height, built at a version of its holder rows.
type Key = (String, Option<i64>, i64);

/// Weighs a kept report by its text and key.
#[derive(Debug, Clone, Copy)]
struct TextSize;

impl Weighter<Key, Bytes> for TextSize {
    fn weight(&self, key: &Key, text: &Bytes) -> u64 {
        (key.0.len() + text.len()) as u64
    }
}

/// Why a report was not built.
enum Unbuilt {
    /// The asset went (deleted) between the version's read and the build.
    Gone,
    /// The database failed.
    Store(amphora_store::StoreError),
}

/// The kept ownerships reports (see the module documentation).
pub struct OwnershipsCache {
    kept: Cache<Key, Bytes, TextSize>,
}

impl std::fmt::Debug for OwnershipsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnershipsCache")
            .field("reports", &self.kept.len())
            .field("bytes", &self.kept.weight())
            .finish()
    }
}

impl OwnershipsCache {
    /// A cache keeping at most `bytes` of report text.
    pub fn new(bytes: u64) -> OwnershipsCache {
        let options = OptionsBuilder::new()
            // one shard, so that one report may use the whole budget
            .shards(1)
            .estimated_items_capacity(64)
            .weight_capacity(bytes)
            .build()
            .unwrap_or_else(|_| unreachable!("the options are complete"));
        OwnershipsCache {
            kept: Cache::with_options(options, TextSize, Default::default(), Default::default()),
        }
    }

    /// The ownerships JSON of `Store::holdings_json` for the issuer: the text kept for the
    /// version of the asset's holder rows read now, else built by the database and kept.
    /// `None` when the asset is not one the issuer sees.
    ///
    /// Requests that find no text for their version wait for the one that builds it (one
    /// build per version, not one per request in flight: at 100,000 holders each build holds
    /// tens of megabytes). The text is the database's at that version or later (a write may
    /// land between the version's read and the build): never older than the request.
    /// Texts of older versions are no longer found and leave as the budget needs room.
    pub async fn holdings_json(
        &self,
        store: &Store,
        issuer_id: i64,
        asset_uuid: &str,
        height: Option<i64>,
    ) -> amphora_store::Result<Option<Bytes>> {
        let Some(version) = store.holders_version(issuer_id, asset_uuid).await? else {
            return Ok(None);
        };
        let key: Key = (asset_uuid.to_string(), height, version);
        let build = async {
            match store.holdings_json(issuer_id, asset_uuid, height).await {
                Ok(Some(report)) => Ok(Bytes::from(report.json)),
                Ok(None) => Err(Unbuilt::Gone),
                Err(error) => Err(Unbuilt::Store(error)),
            }
        };
        match self.kept.get_or_insert_async(&key, build).await {
            Ok(text) => Ok(Some(text)),
            Err(Unbuilt::Gone) => Ok(None),
            Err(Unbuilt::Store(error)) => Err(error),
        }
    }
}
