//! The payment files (distribution, payout): their batches, and the checks of their maps
//! before anything is sent.

use std::path::Path;

use amphora_rpc::Amount;
use elements::AssetId;

use super::{DistributeBatch, DistributeRequest, PayoutRequest, Request};
use crate::error::ConfirmError;

/// The payments of each transaction to send: the `transactions` of a split file, or the whole
/// `map_address_amount` as one.
fn payment_batches(
    amounts: &[(String, Amount)],
    transactions: &[DistributeBatch],
) -> Vec<Vec<(String, Amount)>> {
    if transactions.is_empty() {
        vec![amounts.to_vec()]
    } else {
        transactions
            .iter()
            .map(|t| t.map_address_amount.clone())
            .collect()
    }
}

/// Checks a file's payment maps before anything is sent: every address has an amount above
/// zero and is paid in `asset` (Elements would otherwise pay L-BTC to a forgotten one), and
/// `transactions` split the payments exactly.
fn validate_payments(
    path: &Path,
    command: &'static str,
    asset: AssetId,
    amounts: &[(String, Amount)],
    assets: &std::collections::BTreeMap<String, AssetId>,
    transactions: &[DistributeBatch],
) -> Result<(), ConfirmError> {
    let invalid = |reason: String| ConfirmError::InvalidFile {
        path: path.to_path_buf(),
        command,
        reason,
    };
    if amounts.is_empty() {
        return Err(invalid("map_address_amount is empty".into()));
    }
    for (address, amount) in amounts {
        if *amount <= Amount::ZERO {
            return Err(invalid(format!(
                "amount {amount} for {address} is not positive"
            )));
        }
        match assets.get(address) {
            Some(found) if *found == asset => {}
            Some(found) => {
                return Err(invalid(format!(
                    "{address} is mapped to asset {found}, not the file's asset {asset}"
                )))
            }
            None => {
                return Err(invalid(format!(
                    "{address} has no entry in map_address_asset"
                )))
            }
        }
    }
    if assets.len() != amounts.len() {
        return Err(invalid(
            "map_address_asset names addresses that map_address_amount does not".into(),
        ));
    }
    if !transactions.is_empty() {
        let mut split: Vec<&(String, Amount)> = transactions
            .iter()
            .flat_map(|t| t.map_address_amount.iter())
            .collect();
        split.sort();
        let mut whole: Vec<&(String, Amount)> = amounts.iter().collect();
        whole.sort();
        if split != whole || transactions.iter().any(|t| t.map_address_amount.is_empty()) {
            return Err(invalid(
                "transactions do not split map_address_amount exactly (each address and \
                 amount in exactly one non-empty transaction)"
                    .into(),
            ));
        }
    }
    Ok(())
}

impl Request<DistributeRequest> {
    /// The payments of each transaction to send: the `transactions` of a split distribution,
    /// or the whole `map_address_amount` as one.
    pub fn batches(&self) -> Vec<Vec<(String, Amount)>> {
        payment_batches(&self.body.map_address_amount, &self.body.transactions)
    }

    /// Checks the maps before anything is sent (see [`validate_payments`]), in the file's
    /// `asset_id`.
    pub fn validate(&self, path: &Path) -> Result<(), ConfirmError> {
        let maps = &self.body;
        validate_payments(
            path,
            "distribute",
            self.common.asset_id,
            &maps.map_address_amount,
            &maps.map_address_asset,
            &maps.transactions,
        )
    }
}

impl Request<PayoutRequest> {
    /// The payments of each transaction to send.
    pub fn batches(&self) -> Vec<Vec<(String, Amount)>> {
        payment_batches(&self.body.map_address_amount, &self.body.transactions)
    }

    /// Checks the maps before anything is sent (see [`validate_payments`]), in the file's
    /// `payout_asset`.
    pub fn validate(&self, path: &Path) -> Result<(), ConfirmError> {
        let maps = &self.body;
        validate_payments(
            path,
            "payout",
            maps.payout_asset,
            &maps.map_address_amount,
            &maps.map_address_asset,
            &maps.transactions,
        )
    }
}
