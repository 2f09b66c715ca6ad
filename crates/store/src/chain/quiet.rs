//! Quiet blocks: blocks that touch no managed asset (no transaction, output or spend to
//! record), most of a chain. A follower catching up applies a run of consecutive quiet blocks
//! with one multi-row `INSERT` of their block rows and one query for the heights among them
//! where the chain's events could say something, instead of a handful of queries per block
//! ([`apply_quiet_run!`]).
//!
//! The events are the same, in the same order: a quiet block changes no row the events read
//! (`asset_txs`, `asset_outputs`, `assets`), so the events of each block of a run, computed
//! when the run ends, are the ones computed right after that block; and a block whose height
//! has no issuance just below it, no output created and none spent at it gets none (each
//! event of [`crate::chain::events::block_events!`] needs one of those rows).

use crate::chain::BlockUpdate;

/// Block rows per multi-row `INSERT` (4 parameters each: far below both engines' limits).
pub(crate) const ROWS_PER_INSERT: usize = 250;

/// The heights in `$1..=$2` where [`crate::chain::events::block_events!`] may find rows: an
/// issuance at the height below (`$3..=$4` is the run shifted down by one), an output created
/// or spent at the height. A superset of the heights that get events.
pub(crate) const EVENTFUL_HEIGHTS: &str = "SELECT height + 1 FROM asset_txs \
     WHERE height BETWEEN $3 AND $4 AND kind = 'issuance' \
     UNION SELECT height FROM asset_outputs WHERE height BETWEEN $1 AND $2 \
     UNION SELECT spent_height FROM asset_outputs WHERE spent_height BETWEEN $1 AND $2";

/// Whether `update` records nothing besides its block row.
pub(crate) fn is_quiet(update: &BlockUpdate) -> bool {
    update.txs.is_empty() && update.outputs.is_empty() && update.spends.is_empty()
}

/// `INSERT INTO chain_blocks … VALUES ($1, $2, $3, $4), ($5, …)` for `rows` blocks.
pub(crate) fn insert_blocks_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO chain_blocks (height, block_hash, prev_hash, block_time) VALUES ",
    );
    for row in 0..rows {
        let n = row * 4;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4));
    }
    sql
}

/// Applies `$run` (a `&[&IndexedBlock]` of consecutive quiet blocks, each extending the one
/// before it, the first extending what `$tx` applied last) in `$tx`: their block rows, and
/// onto `$events` the chain's events of each, in block order (see the module docs). An empty
/// run does nothing.
macro_rules! apply_quiet_run {
    ($tx:expr, $run:expr, $events:expr) => {{
        let run: &[&$crate::IndexedBlock] = $run;
        if let (Some(first), Some(last)) = (run.first(), run.last()) {
            for chunk in run.chunks($crate::chain::quiet::ROWS_PER_INSERT) {
                let sql = $crate::chain::quiet::insert_blocks_sql(chunk.len());
                let mut insert = sqlx::query(&sql);
                for block in chunk {
                    insert = insert
                        .bind(block.height)
                        .bind(&block.block_hash)
                        .bind(&block.prev_hash)
                        .bind(block.block_time);
                }
                insert.execute(&mut *$tx).await?;
            }
            let eventful: Vec<(i64,)> = sqlx::query_as($crate::chain::quiet::EVENTFUL_HEIGHTS)
                .bind(first.height)
                .bind(last.height)
                .bind(first.height - 1)
                .bind(last.height - 1)
                .fetch_all(&mut *$tx)
                .await?;
            let eventful: std::collections::BTreeSet<i64> =
                eventful.into_iter().map(|(h,)| h).collect();
            for block in run.iter().filter(|b| eventful.contains(&b.height)) {
                $crate::chain::events::block_events!($tx, *block, $events);
            }
        }
    }};
}
pub(crate) use apply_quiet_run;

#[cfg(test)]
mod tests {
    use super::insert_blocks_sql;

    #[test]
    fn the_insert_numbers_four_parameters_per_row() {
        assert_eq!(
            insert_blocks_sql(2),
            "INSERT INTO chain_blocks (height, block_hash, prev_hash, block_time) VALUES \
             ($1, $2, $3, $4), ($5, $6, $7, $8)"
        );
    }
}
