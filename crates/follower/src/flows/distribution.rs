//! Distributions: a transaction that pays an outstanding distribution completes it, even if
//! the confirm call never comes, and its treasury inputs are regular spends, not lost.
//!
//! A transaction is a distribution of an asset when
//! * it is already recorded as paying a distribution (the confirm call came first, or an
//!   earlier pass over the block), or
//! * it spends treasury outputs of the asset and pays every recipient of one or more unpaid
//!   batches of an unconfirmed distribution: exactly one output to each receiving address,
//!   identified by the follower as the recipient wallet's (GAID) with exactly the assigned
//!   amount. Those batches are then recorded ([`Store::record_distribution_batch`],
//!   `recorded_by = follower`): the outputs, the distributed assignments and, when every batch
//!   is paid, the distribution's `CONFIRMED` status, in one database transaction.
//!
//! The treasury's change stays unknown to the follower (it cannot unblind the issuer's
//! outputs); it is recorded when the confirm call posts `change_data`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use amphora_store::{NewAssetOutput, OutputOwner, OutstandingBatch, PaidBatch, Store, TxKind};

use super::{BoxFuture, FlowError, FlowInput, FlowRecognizer, Recognized};

/// The payments of a batch: (assignment id, vout), and the wallet outputs paying them.
type BatchPayment = (Vec<(i64, i64)>, Vec<NewAssetOutput>);

/// What one transaction pays of one distribution: its batches, payments and outputs.
#[derive(Default)]
struct Paid {
    batches: Vec<i64>,
    payments: Vec<(i64, i64)>,
    outputs: Vec<NewAssetOutput>,
}

/// Recognises distribution transactions (see the module documentation).
#[derive(Debug, Default)]
pub struct DistributionFlow;

impl FlowRecognizer for DistributionFlow {
    fn name(&self) -> &'static str {
        "distribution"
    }

    fn recognize<'a>(
        &'a self,
        input: FlowInput<'a>,
    ) -> BoxFuture<'a, Result<Option<Recognized>, FlowError>> {
        Box::pin(recognize(input))
    }
}

fn distribution() -> Option<Recognized> {
    Some(Recognized {
        kind: TxKind::Distribution,
        outputs: Vec::new(),
    })
}

async fn recognize(input: FlowInput<'_>) -> Result<Option<Recognized>, FlowError> {
    let store: &Store = input.store;
    if !store
        .distribution_batches_paid_by(input.txid)
        .await?
        .is_empty()
    {
        return Ok(distribution());
    }
    let spends_treasury = input
        .spent
        .iter()
        .any(|o| o.output.owner == OutputOwner::Treasury && !o.output.is_token);
    if !spends_treasury {
        return Ok(None);
    }
    let scripts: Vec<String> = input
        .tx
        .output
        .iter()
        .map(|o| hex_of(o.script_pubkey.as_bytes()))
        .collect();
    let outstanding = store
        .outstanding_distribution_batches_to(&input.asset.tracked.uuid, &scripts)
        .await?;
    let mut by_distribution: BTreeMap<String, Paid> = BTreeMap::new();
    for batch in &outstanding {
        if let Some((payments, outputs)) = paid_by(batch, &scripts, input.identified) {
            let entry = by_distribution
                .entry(batch.distribution_uuid.clone())
                .or_default();
            entry.batches.push(batch.batch);
            entry.payments.extend(payments);
            entry.outputs.extend(outputs);
        }
    }
    if by_distribution.is_empty() {
        return Ok(None);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for (uuid, paid) in by_distribution {
        store
            .record_distribution_batch(&PaidBatch {
                uuid,
                batches: paid.batches,
                txid: input.txid.to_string(),
                height: input.height,
                block_time: now,
                recorded_by: "follower".into(),
                payments: paid.payments,
                outputs: paid.outputs,
            })
            .await?;
    }
    Ok(distribution())
}

/// The payments and wallet outputs of `batch` when the transaction pays all of it: one
/// output per receiving address, identified as the recipient GAID's with the assigned amount.
fn paid_by(
    batch: &OutstandingBatch,
    scripts: &[String],
    identified: &[NewAssetOutput],
) -> Option<BatchPayment> {
    let mut payments = Vec::new();
    let mut outputs = Vec::new();
    for assignment in &batch.assignments {
        let script = assignment.script_pubkey.as_deref()?;
        let mut matching = scripts
            .iter()
            .enumerate()
            .filter(|(_, s)| s.as_str() == script);
        let (vout, _) = matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        let output = identified.iter().find(|o| o.vout == vout as i64)?;
        let to_gaid = matches!(&output.owner, OutputOwner::Wallet { gaid, .. }
            if Some(gaid.as_str()) == assignment.gaid.as_deref());
        if !to_gaid || output.is_token || output.amount != assignment.amount {
            return None;
        }
        payments.push((assignment.id, vout as i64));
        outputs.push(output.clone());
    }
    Some((payments, outputs))
}

/// Lower-case hex of `bytes` (scripts are compared as the store keeps them).
pub(super) fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use amphora_store::{Assignment, UNKNOWN_BLINDER};

    fn assignment(id: i64, script: &str, amount: i64) -> Assignment {
        Assignment {
            id,
            issuer_id: 1,
            asset_uuid: "a".into(),
            registered_user_id: id,
            amount,
            ready_for_distribution: true,
            is_locked: false,
            vesting_timestamp: None,
            creator_manager_id: None,
            distribution_uuid: Some("d".into()),
            batch: Some(0),
            gaid: Some(format!("GA{id}")),
            receiving_address: Some(format!("el1{id}")),
            script_pubkey: Some(script.into()),
            txid: None,
            vout: None,
            is_distributed: false,
            created_at: Default::default(),
        }
    }

    fn output(vout: i64, gaid: &str, amount: i64) -> NewAssetOutput {
        NewAssetOutput {
            txid: "t".into(),
            vout,
            asset_uuid: "a".into(),
            is_token: false,
            amount,
            script_pubkey: String::new(),
            owner: OutputOwner::Wallet {
                wid: "w".into(),
                gaid: gaid.into(),
            },
            asset_blinder: UNKNOWN_BLINDER.into(),
            amount_blinder: UNKNOWN_BLINDER.into(),
            height: 5,
        }
    }

    #[test]
    fn a_batch_is_paid_only_when_every_recipient_gets_exactly_its_amount() {
        let batch = OutstandingBatch {
            distribution_uuid: "d".into(),
            asset_uuid: "a".into(),
            batch: 0,
            assignments: vec![assignment(1, "aa", 10), assignment(2, "bb", 20)],
        };
        let scripts: Vec<String> = ["cc", "bb", "aa"].iter().map(|s| s.to_string()).collect();
        let identified = vec![output(2, "GA1", 10), output(1, "GA2", 20)];
        let (payments, outputs) = paid_by(&batch, &scripts, &identified).unwrap();
        assert_eq!(payments, vec![(1, 2), (2, 1)]);
        assert_eq!(outputs.len(), 2);
        // Wrong amount, wrong GAID, a missing or a doubled recipient: not this batch.
        assert!(paid_by(
            &batch,
            &scripts,
            &[output(2, "GA1", 11), output(1, "GA2", 20)]
        )
        .is_none());
        assert!(paid_by(
            &batch,
            &scripts,
            &[output(2, "GA9", 10), output(1, "GA2", 20)]
        )
        .is_none());
        assert!(paid_by(&batch, &scripts[..2], &identified).is_none());
        let doubled: Vec<String> = ["aa", "bb", "aa"].iter().map(|s| s.to_string()).collect();
        assert!(paid_by(&batch, &doubled, &identified).is_none());
    }
}
