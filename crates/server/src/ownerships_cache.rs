//! The ownerships reports this process built, kept with the version of the holder rows they
//! were built from (`Store::holders_version`, migration `0020_holder_report_versions`).
//!
//! At 10,000 holders the report is 850 kB that the database concatenates on every request;
//! AMP clients and the console poll it. Every request still reads the asset's version in the
//! database (the same query that checks the caller may see the asset), and a kept text is
//! answered only when its version is the one read: a text is never older than the database.
//! Replicas each keep their own; nothing needs to be told of a write. The texts are bounded by
//! their total size, the least used going first.

use amphora_store::Store;
use axum::body::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

/// Bytes of report text a process keeps at most (a report of 100,000 holders is about 8.5 MB).
pub const OWNERSHIPS_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// An asset's report: at the tip (`None`) or at a height.
type Key = (String, Option<i64>);

/// A report's text and the version of the holder rows it was built from.
type Kept = (i64, Bytes);

/// Weighs a kept report by its text and key.
#[derive(Debug, Clone, Copy)]
struct TextSize;

impl Weighter<Key, Kept> for TextSize {
    fn weight(&self, key: &Key, value: &Kept) -> u64 {
        (key.0.len() + value.1.len()) as u64
    }
}

/// The kept ownerships reports (see the module documentation).
pub struct OwnershipsCache {
    kept: Cache<Key, Kept, TextSize>,
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

    /// The ownerships JSON of `Store::holdings_json` for the issuer: the kept text when the
    /// asset's holder rows are at its version, else built by the database and kept. `None`
    /// when the asset is not one the issuer sees.
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
        let key: Key = (asset_uuid.to_string(), height);
        if let Some((kept, text)) = self.kept.get(&key) {
            if kept == version {
                return Ok(Some(text));
            }
        }
        let Some(report) = store.holdings_json(issuer_id, asset_uuid, height).await? else {
            return Ok(None);
        };
        let text = Bytes::from(report.json);
        // a request that read an older version may finish after one that read a newer: keep
        // the newer
        let newer = self
            .kept
            .get(&key)
            .is_none_or(|(kept, _)| kept < report.version);
        if newer {
            self.kept.insert(key, (report.version, text.clone()));
        }
        Ok(Some(text))
    }
}
