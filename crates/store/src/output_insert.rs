//! The one insert of an asset output (`asset_outputs`), used by the chain index, the payment
//! recording (distributions, payouts) and the reissuance and burn completions.

use std::sync::LazyLock;

use crate::UNKNOWN_BLINDER;

/// The insert without its conflict clause.
const INSERT: &str = "INSERT INTO asset_outputs (txid, vout, asset_uuid, is_token, amount, \
     script_pubkey, owner, wid, gaid, asset_blinder, amount_blinder, height) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// An output already indexed stays as it is.
static KEEP: LazyLock<String> =
    LazyLock::new(|| format!("{INSERT} ON CONFLICT (txid, vout) DO NOTHING"));

/// An output already indexed keeps its row but gets the blinders when it had none.
static FILL_BLINDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{INSERT} ON CONFLICT (txid, vout) DO UPDATE SET asset_blinder = excluded.asset_blinder, \
         amount_blinder = excluded.amount_blinder \
         WHERE asset_outputs.asset_blinder = '{UNKNOWN_BLINDER}'"
    )
});

/// What the insert does with an output that is already indexed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnIndexed {
    /// Leave its row as it is (the chain index, reissuances and burns).
    Keep,
    /// Keep its row but fill in the blinders when they are unknown (payments, whose outputs
    /// the follower may have indexed first without blinders).
    FillBlinders,
}

impl OnIndexed {
    /// The statement, binding a [`crate::NewAssetOutput`] in column order as `$1`…`$12`.
    pub(crate) fn statement(self) -> &'static str {
        match self {
            OnIndexed::Keep => KEEP.as_str(),
            OnIndexed::FillBlinders => FILL_BLINDERS.as_str(),
        }
    }
}

/// Inserts the [`crate::NewAssetOutput`] `$output` on `$executor` (a connection or a
/// transaction of the backend's pool), treating an indexed one as `$on_indexed` says.
macro_rules! insert_output {
    ($executor:expr, $output:expr, $on_indexed:expr) => {{
        let output: &$crate::NewAssetOutput = $output;
        let (wid, gaid) = match &output.owner {
            $crate::OutputOwner::Wallet { wid, gaid } => (Some(wid.as_str()), Some(gaid.as_str())),
            _ => (None, None),
        };
        let on_indexed: $crate::output_insert::OnIndexed = $on_indexed;
        sqlx::query(on_indexed.statement())
            .bind(&output.txid)
            .bind(output.vout)
            .bind(&output.asset_uuid)
            .bind(output.is_token)
            .bind(output.amount)
            .bind(&output.script_pubkey)
            .bind(output.owner.kind())
            .bind(wid)
            .bind(gaid)
            .bind(&output.asset_blinder)
            .bind(&output.amount_blinder)
            .bind(output.height)
            .execute($executor)
            .await?
    }};
}
pub(crate) use insert_output;
