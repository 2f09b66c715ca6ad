//! Payouts: a transaction that pays every line of one or more unpaid batches of an
//! unconfirmed payout completes them, even if the confirm call never comes, whatever the
//! payout asset (L-BTC and other assets the platform does not manage included).
//!
//! [`complete_payouts`] runs for every transaction paying a registered wallet, before the
//! recognizers: a batch is paid when the transaction has exactly one output to each of its
//! receiving addresses and each, unblinded with the recipient wallet's view key, carries the
//! payout asset and exactly the line's amount to the line's GAID. Those batches are recorded
//! ([`Store::record_payout_batch`], `recorded_by = follower`). When the payout asset is a
//! managed asset, [`PayoutFlow`] then gives the transaction the kind `distribution` for it, so
//! the treasury outputs it spends are regular spends, not lost.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use amphora_store::{OutstandingPayoutBatch, PaidBatch, Store, TxKind};
use elements::Transaction;

use super::distribution::hex_of;
use super::{BoxFuture, FlowError, FlowInput, FlowRecognizer, Recognized};
use crate::context::Context;

/// What a transaction's output carries to a registered wallet: (GAID, asset id hex, amount).
type WalletPayment = (String, String, u64);

/// What one transaction pays of one payout: its batches and (line id, vout) payments.
type PaidLines = (Vec<i64>, Vec<(i64, i64)>);

/// Records the payout batches `tx` pays (see the module documentation).
pub async fn complete_payouts(
    store: &Store,
    ctx: &mut Context,
    tx: &Transaction,
    txid: &str,
    height: i64,
) -> Result<(), FlowError> {
    let mut paid_to_wallets: BTreeMap<usize, WalletPayment> = BTreeMap::new();
    for (vout, txout) in tx.output.iter().enumerate() {
        let Some(owner) = ctx.wallets.owner(&txout.script_pubkey) else {
            continue;
        };
        if let Some(secrets) = ctx.wallets.unblind(txout) {
            paid_to_wallets.insert(vout, (owner.gaid, secrets.asset.to_string(), secrets.value));
        }
    }
    if paid_to_wallets.is_empty() {
        return Ok(());
    }
    let scripts: Vec<String> = tx
        .output
        .iter()
        .map(|o| hex_of(o.script_pubkey.as_bytes()))
        .collect();
    let mut by_payout: BTreeMap<String, PaidLines> = BTreeMap::new();
    for batch in store.outstanding_payout_batches().await? {
        if let Some(payments) = paid_by(&batch, &scripts, &paid_to_wallets) {
            let entry = by_payout.entry(batch.payout_uuid.clone()).or_default();
            entry.0.push(batch.batch);
            entry.1.extend(payments);
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for (uuid, (batches, payments)) in by_payout {
        store
            .record_payout_batch(&PaidBatch {
                uuid,
                batches,
                txid: txid.to_string(),
                height,
                block_time: now,
                recorded_by: "follower".into(),
                payments,
                // Outputs of a managed payout asset are the follower's identified outputs.
                outputs: Vec::new(),
            })
            .await?;
    }
    Ok(())
}

/// The (line id, vout) payments of `batch` when the transaction pays all of it.
fn paid_by(
    batch: &OutstandingPayoutBatch,
    scripts: &[String],
    paid_to_wallets: &BTreeMap<usize, WalletPayment>,
) -> Option<Vec<(i64, i64)>> {
    let mut payments = Vec::new();
    for line in &batch.lines {
        let script = line.script_pubkey.as_deref()?;
        let mut matching = scripts.iter().enumerate().filter(|(_, s)| *s == script);
        let (vout, _) = matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        let (gaid, asset, value) = paid_to_wallets.get(&vout)?;
        if Some(gaid.as_str()) != line.gaid.as_deref()
            || *asset != batch.payout_asset_id
            || *value != line.amount as u64
        {
            return None;
        }
        payments.push((line.id, vout as i64));
    }
    Some(payments)
}

/// Gives a recorded payout transaction the kind `distribution` for its managed payout asset.
#[derive(Debug, Default)]
pub struct PayoutFlow;

impl FlowRecognizer for PayoutFlow {
    fn name(&self) -> &'static str {
        "payout"
    }

    fn recognize<'a>(
        &'a self,
        input: FlowInput<'a>,
    ) -> BoxFuture<'a, Result<Option<Recognized>, FlowError>> {
        Box::pin(async move {
            let paid = input.store.payout_batches_paid_by(input.txid).await?;
            Ok((!paid.is_empty()).then_some(Recognized {
                kind: TxKind::Distribution,
                outputs: Vec::new(),
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amphora_store::PayoutLine;

    const ASSET: &str = "aa";

    fn line(id: i64, script: &str, amount: i64) -> PayoutLine {
        PayoutLine {
            id,
            payout_uuid: "p".into(),
            registered_user_id: id,
            gaid: Some(format!("GA{id}")),
            holding: 1,
            amount,
            batch: Some(0),
            receiving_address: Some(format!("el1{id}")),
            script_pubkey: Some(script.into()),
            txid: None,
            vout: None,
        }
    }

    #[test]
    fn a_batch_is_paid_only_when_every_line_gets_exactly_its_amount_and_asset() {
        let batch = OutstandingPayoutBatch {
            payout_uuid: "p".into(),
            payout_asset_id: ASSET.into(),
            batch: 0,
            lines: vec![line(1, "s1", 10), line(2, "s2", 20)],
        };
        let scripts: Vec<String> = ["s0", "s2", "s1"].iter().map(|s| s.to_string()).collect();
        let paid = |entries: &[(usize, &str, &str, u64)]| -> BTreeMap<usize, WalletPayment> {
            entries
                .iter()
                .map(|(vout, gaid, asset, value)| {
                    (*vout, (gaid.to_string(), asset.to_string(), *value))
                })
                .collect()
        };
        let right = paid(&[(2, "GA1", ASSET, 10), (1, "GA2", ASSET, 20)]);
        assert_eq!(
            paid_by(&batch, &scripts, &right),
            Some(vec![(1, 2), (2, 1)])
        );
        for wrong in [
            paid(&[(2, "GA1", ASSET, 11), (1, "GA2", ASSET, 20)]),
            paid(&[(2, "GA1", "bb", 10), (1, "GA2", ASSET, 20)]),
            paid(&[(2, "GA9", ASSET, 10), (1, "GA2", ASSET, 20)]),
            paid(&[(1, "GA2", ASSET, 20)]),
        ] {
            assert_eq!(paid_by(&batch, &scripts, &wrong), None);
        }
        let doubled: Vec<String> = ["s1", "s2", "s1"].iter().map(|s| s.to_string()).collect();
        assert_eq!(paid_by(&batch, &doubled, &right), None);
    }
}
