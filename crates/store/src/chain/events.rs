//! The chain's events, computed inside the follower's block transaction
//! ([`block_events!`]) and its reorg rollback ([`reorg_events!`]), and written by it at the
//! end of the transaction (after its last row change, see [`crate::events`]):
//!
//! * `asset.confirmed`: the block gives an issuance transaction its second confirmation (an
//!   issuance not yet marked broadcast gets it from `Store::set_asset_broadcast`, right after
//!   its `asset.issued`);
//! * `ownership.changed`: one per asset whose holders' balances (treasury and registered
//!   wallets; the asset, not its token) the block moved, with each holder's change and
//!   balance after the block as the index knows it (an output a confirm call posts later,
//!   such as the treasury's confidential change, is not in it);
//! * `output.lost`: one per tracked output the block spent in a transaction the platform could
//!   not attribute;
//! * `chain.reorg`: one per asset the rolled-back blocks touched, naming the events above the
//!   fork that no reorg undid yet (`asset.confirmed`, `ownership.changed`, `output.lost`: the
//!   ones that describe the undone index). Confirmed reissuances, burns, distributions and
//!   payouts stay recorded across a reorg (the platform keeps them), so their events stand.

/// The event types a reorg undoes (those derived from the chain index alone).
pub(crate) const UNDOABLE: &str = "('asset.confirmed', 'ownership.changed', 'output.lost')";

/// Rows of one (asset, holder) sum: asset uuid, owner kind, GAID (`''` for none), amount.
pub(crate) type HolderSum = (String, String, String, i64);

/// Nets created and spent sums into (asset, owner, gaid) → delta, dropping burns and zeros.
pub(crate) fn net_changes(
    created: Vec<HolderSum>,
    spent: Vec<HolderSum>,
) -> std::collections::BTreeMap<String, Vec<(String, String, i64)>> {
    let mut deltas: std::collections::BTreeMap<(String, String, String), i64> =
        std::collections::BTreeMap::new();
    for (asset, owner, gaid, amount) in created {
        *deltas.entry((asset, owner, gaid)).or_default() += amount;
    }
    for (asset, owner, gaid, amount) in spent {
        *deltas.entry((asset, owner, gaid)).or_default() -= amount;
    }
    let mut by_asset: std::collections::BTreeMap<String, Vec<(String, String, i64)>> =
        std::collections::BTreeMap::new();
    for ((asset, owner, gaid), delta) in deltas {
        if delta != 0 && owner != "burn" {
            by_asset
                .entry(asset)
                .or_default()
                .push((owner, gaid, delta));
        }
    }
    // Treasury first, then wallets by GAID.
    for holders in by_asset.values_mut() {
        holders.sort_by(|a, b| (a.0 != "treasury", &a.1).cmp(&(b.0 != "treasury", &b.1)));
    }
    by_asset
}

/// `$1` = asset uuid, `$2` = owner kind → the unspent units of the asset (not its token) that
/// this owner holds without a GAID (the treasury).
pub(crate) const HOLDER_BALANCE_TREASURY: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) \
     FROM asset_outputs WHERE asset_uuid = $1 AND is_token = FALSE AND owner = $2 \
     AND gaid IS NULL AND spent_txid IS NULL";

/// [`HOLDER_BALANCE_TREASURY`] for a wallet, `$3` = its GAID.
pub(crate) const HOLDER_BALANCE_WALLET: &str = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) \
     FROM asset_outputs WHERE asset_uuid = $1 AND is_token = FALSE AND owner = $2 \
     AND gaid = $3 AND spent_txid IS NULL";

/// Pushes the events of `$block` (an [`crate::IndexedBlock`], already applied in `$tx`) onto
/// `$events` (a `Vec<NewEvent>`).
macro_rules! block_events {
    ($tx:expr, $block:expr, $events:expr) => {{
        use amphora_core::event as ev;
        let block: &$crate::IndexedBlock = $block;
        let confirmed: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
            "SELECT a.issuer_id, a.uuid, a.asset_id, t.txid, t.height FROM asset_txs t \
             JOIN assets a ON a.uuid = t.asset_uuid AND a.txid = t.txid \
             WHERE t.height = $1 AND t.kind = 'issuance' AND a.asset_id IS NOT NULL \
             AND a.status = 'broadcast' \
             ORDER BY a.uuid",
        )
        .bind(block.height - 1)
        .fetch_all(&mut *$tx)
        .await?;
        for (issuer_id, uuid, asset_id, txid, issuance_height) in confirmed {
            let data = ev::EventData::AssetConfirmed(ev::AssetConfirmed {
                asset_id,
                txid,
                issuance_height,
            });
            $events.push(
                $crate::events::NewEvent::new(issuer_id, Some(&uuid), data).at_height(block.height),
            );
        }
        let sums = |column: &str| {
            format!(
                "SELECT asset_uuid, owner, COALESCE(gaid, ''), CAST(SUM(amount) AS BIGINT) \
                 FROM asset_outputs WHERE {column} = $1 AND is_token = FALSE \
                 GROUP BY asset_uuid, owner, COALESCE(gaid, '')"
            )
        };
        let created: Vec<$crate::chain::events::HolderSum> = sqlx::query_as(&sums("height"))
            .bind(block.height)
            .fetch_all(&mut *$tx)
            .await?;
        let spent: Vec<$crate::chain::events::HolderSum> = sqlx::query_as(&sums("spent_height"))
            .bind(block.height)
            .fetch_all(&mut *$tx)
            .await?;
        for (asset_uuid, changes) in $crate::chain::events::net_changes(created, spent) {
            let issuer: Option<(i64,)> =
                sqlx::query_as("SELECT issuer_id FROM assets WHERE uuid = $1")
                    .bind(&asset_uuid)
                    .fetch_optional(&mut *$tx)
                    .await?;
            let Some((issuer_id,)) = issuer else { continue };
            let mut holders = Vec::new();
            for (owner, gaid, delta) in changes {
                // From the outputs (what the maintained asset_holder_balances hold, read
                // from the rows themselves so it does not depend on migration 0014), one range
                // of the index asset_outputs_reports per holder: the GAID compared as it is
                // stored (`COALESCE(gaid, '')` would read every output of the asset for each
                // holder, quadratic in a block paying many).
                let (sql, gaid_bound) = if gaid.is_empty() {
                    ($crate::chain::events::HOLDER_BALANCE_TREASURY, None)
                } else {
                    ($crate::chain::events::HOLDER_BALANCE_WALLET, Some(&gaid))
                };
                let query = sqlx::query_as(sql).bind(&asset_uuid).bind(&owner);
                let query = match gaid_bound {
                    Some(gaid) => query.bind(gaid),
                    None => query,
                };
                let balance: Option<(i64,)> = query.fetch_optional(&mut *$tx).await?;
                holders.push(ev::HolderChange {
                    gaid: (!gaid.is_empty()).then_some(gaid),
                    owner,
                    delta,
                    balance: balance.map_or(0, |(b,)| b),
                });
            }
            let data = ev::EventData::OwnershipChanged(ev::OwnershipChanged {
                block_hash: block.block_hash.clone(),
                holders,
            });
            $events.push(
                $crate::events::NewEvent::new(issuer_id, Some(&asset_uuid), data)
                    .at_height(block.height),
            );
        }
        #[allow(clippy::type_complexity)]
        let lost: Vec<(
            i64,
            String,
            String,
            i64,
            bool,
            i64,
            String,
            Option<String>,
            String,
        )> = sqlx::query_as(
            "SELECT a.issuer_id, o.asset_uuid, o.txid, o.vout, o.is_token, o.amount, \
                 o.owner, o.gaid, o.spent_txid FROM asset_outputs o \
                 JOIN assets a ON a.uuid = o.asset_uuid \
                 WHERE o.spent_height = $1 AND o.is_lost = TRUE ORDER BY o.txid, o.vout",
        )
        .bind(block.height)
        .fetch_all(&mut *$tx)
        .await?;
        for (issuer_id, asset_uuid, txid, vout, is_token, amount, owner, gaid, spent_txid) in lost {
            let data = ev::EventData::OutputLost(ev::OutputLost {
                txid,
                vout,
                is_token,
                amount,
                owner,
                gaid,
                spent_txid,
            });
            $events.push(
                $crate::events::NewEvent::new(issuer_id, Some(&asset_uuid), data)
                    .at_height(block.height),
            );
        }
    }};
}
pub(crate) use block_events;

/// Pushes the `chain.reorg` events of a rollback of `$tx` to `$height` onto `$events`; run
/// before the rows above `$height` are deleted.
macro_rules! reorg_events {
    ($tx:expr, $height:expr, $events:expr) => {{
        let height: i64 = $height;
        let tip: Option<(i64,)> = sqlx::query_as("SELECT height FROM chain_cursor WHERE id = 1")
            .fetch_optional(&mut *$tx)
            .await?;
        let undone_from_height = tip.map_or(height, |(h,)| h);
        let touched: Vec<(i64, String)> = sqlx::query_as(
            "SELECT DISTINCT a.issuer_id, a.uuid FROM asset_txs t \
             JOIN assets a ON a.uuid = t.asset_uuid WHERE t.height > $1 ORDER BY a.uuid",
        )
        .bind(height)
        .fetch_all(&mut *$tx)
        .await?;
        let live: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
            "SELECT e.id, e.issuer_id, e.asset_uuid FROM events e \
             WHERE e.block_height > $1 AND e.asset_uuid IS NOT NULL \
             AND e.type IN {undoable} AND NOT EXISTS (SELECT 1 FROM events r \
             WHERE r.type = 'chain.reorg' AND r.issuer_id = e.issuer_id \
             AND r.asset_uuid = e.asset_uuid AND r.id > e.id \
             AND r.block_height < e.block_height) ORDER BY e.id",
            undoable = $crate::chain::events::UNDOABLE
        ))
        .bind(height)
        .fetch_all(&mut *$tx)
        .await?;
        let mut assets: std::collections::BTreeMap<(String, i64), Vec<i64>> = touched
            .into_iter()
            .map(|(issuer_id, uuid)| ((uuid, issuer_id), Vec::new()))
            .collect();
        for (id, issuer_id, uuid) in live {
            assets.entry((uuid, issuer_id)).or_default().push(id);
        }
        for ((uuid, issuer_id), undone_event_ids) in assets {
            let data =
                amphora_core::event::EventData::ChainReorg(amphora_core::event::ChainReorg {
                    undone_from_height,
                    undone_event_ids,
                });
            $events.push(
                $crate::events::NewEvent::new(issuer_id, Some(&uuid), data).at_height(height),
            );
        }
    }};
}
pub(crate) use reorg_events;

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(asset: &str, owner: &str, gaid: &str, amount: i64) -> HolderSum {
        (asset.into(), owner.into(), gaid.into(), amount)
    }

    #[test]
    fn changes_net_per_holder_without_burns_or_zeros() {
        let created = vec![
            sum("a", "wallet", "GA2", 30),
            sum("a", "wallet", "GA1", 10),
            sum("a", "treasury", "", 60),
            sum("a", "burn", "", 5),
            sum("b", "wallet", "GA1", 7),
        ];
        let spent = vec![sum("a", "treasury", "", 100), sum("b", "wallet", "GA1", 7)];
        let changes = net_changes(created, spent);
        assert_eq!(
            changes.get("a").unwrap(),
            &vec![
                ("treasury".to_string(), String::new(), -40),
                ("wallet".to_string(), "GA1".to_string(), 10),
                ("wallet".to_string(), "GA2".to_string(), 30),
            ]
        );
        assert!(!changes.contains_key("b"), "a zero change is no change");
    }
}
