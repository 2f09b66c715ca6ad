//! Transaction validation for mempool acceptance: structure, inputs, maturity, issuance
//! rules, confidential-transaction proofs, fees and input scripts. Reject reasons are
//! Elements Core's.

use std::collections::{BTreeMap, HashSet};

use elements::confidential::{Asset, Value};
use elements::secp256k1_zkp::{Generator, PedersenCommitment, Tweak};
use elements::{AssetId, OutPoint, Transaction, TxIn, TxOut};

use super::ct::{verify_amounts, AmountError};
use super::mempool::TOO_LONG_MEMPOOL_CHAIN;
use super::script_check::{verify_input_script, TaprootContext};
use super::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// `MAX_MONEY` of the policy asset (21M coins).
pub const MAX_MONEY: u64 = 21_000_000 * 100_000_000;
/// `-minrelaytxfee` default: 1000 sat/kvB in Bitcoin, 100 sat/kvB (0.1 sat/vB) in Elements.
pub const MIN_RELAY_FEE_PER_KVB: u64 = 100;
/// `MAX_STANDARD_TX_WEIGHT`.
const MAX_STANDARD_TX_WEIGHT: usize = 400_000;

/// Why a transaction is refused, mapped to the RPC error `sendrawtransaction` returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxCheckError {
    /// `-27 Transaction already in block chain`.
    #[error("Transaction already in block chain")]
    AlreadyInChain,
    /// `-25 bad-txns-inputs-missingorspent`.
    #[error("bad-txns-inputs-missingorspent")]
    MissingInputs,
    /// `-26 <reason>` (consensus or policy reject).
    #[error("{0}")]
    Rejected(String),
}

impl TxCheckError {
    /// The JSON-RPC error Elements returns for this rejection.
    pub fn into_rpc(self) -> RpcError {
        match self {
            TxCheckError::AlreadyInChain => RpcError::new(
                codes::VERIFY_ALREADY_IN_CHAIN,
                "Transaction already in block chain",
            ),
            TxCheckError::MissingInputs => {
                RpcError::new(codes::VERIFY_ERROR, "bad-txns-inputs-missingorspent")
            }
            TxCheckError::Rejected(reason) => RpcError::new(codes::VERIFY_REJECTED, reason),
        }
    }
}

fn reject(reason: impl Into<String>) -> TxCheckError {
    TxCheckError::Rejected(reason.into())
}

impl Chain {
    /// The output an input spends: confirmed UTXO, or an unspent output of a mempool
    /// transaction (height `None`), and whether it was made by a coinbase.
    fn spendable_output(&self, outpoint: &OutPoint) -> Option<(TxOut, Option<u32>, bool)> {
        if let Some(utxo) = self.utxos.get(outpoint) {
            return Some((utxo.txout.clone(), Some(utxo.height), utxo.is_coinbase));
        }
        let entry = self.mempool.get(&outpoint.txid)?;
        let out = entry.tx.output.get(outpoint.vout as usize)?;
        super::enters_utxo_set(out).then(|| (out.clone(), None, false))
    }

    /// BIP68 relative lock of one input against the next block (`SequenceLocks`).
    fn sequence_lock_satisfied(
        &self,
        tx: &Transaction,
        sequence: u32,
        coin_height: Option<u32>,
    ) -> bool {
        const DISABLE: u32 = 1 << 31;
        const TYPE_TIME: u32 = 1 << 22;
        const MASK: u32 = 0x0000_ffff;
        if tx.version < 2 || sequence & DISABLE != 0 {
            return true;
        }
        let next_height = self.height() + 1;
        let coin_height = coin_height.unwrap_or(next_height);
        let value = sequence & MASK;
        if sequence & TYPE_TIME != 0 {
            let base = self.median_time_past_at(coin_height.saturating_sub(1).min(self.height()));
            let min_time = i64::from(base) + (i64::from(value) << 9) - 1;
            min_time < i64::from(self.median_time_past())
        } else {
            i64::from(coin_height) + i64::from(value) - 1 < i64::from(next_height)
        }
    }

    /// Full mempool-acceptance check; returns fees per asset.
    pub(super) fn check_for_mempool(
        &self,
        tx: &Transaction,
    ) -> Result<BTreeMap<AssetId, u64>, TxCheckError> {
        check_structure(tx, self.params.policy_asset())?;
        let txid = tx.txid();
        if self.mempool.get(&txid).is_some() {
            return Err(reject("txn-already-in-mempool"));
        }

        let next_height = self.height() + 1;
        if !is_final(tx, next_height, self.median_time_past()) {
            return Err(reject("non-final"));
        }
        let mut spent = Vec::with_capacity(tx.input.len());
        for input in &tx.input {
            if let Some(conflict) = self.mempool.spender(&input.previous_output) {
                if conflict != txid {
                    return Err(reject("txn-mempool-conflict"));
                }
            }
            match self.spendable_output(&input.previous_output) {
                Some((out, coin_height, is_coinbase)) => {
                    if !self.sequence_lock_satisfied(
                        tx,
                        input.sequence.to_consensus_u32(),
                        coin_height,
                    ) {
                        return Err(reject("non-BIP68-final"));
                    }
                    if let (true, Some(h)) = (is_coinbase, coin_height) {
                        let depth = next_height - h;
                        if depth < self.params.coinbase_maturity() {
                            return Err(reject(format!(
                                "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth {depth}"
                            )));
                        }
                    }
                    spent.push(out);
                }
                None => {
                    let known = (0..tx.output.len() as u32)
                        .any(|vout| self.utxos.contains_key(&OutPoint::new(txid, vout)));
                    if known || self.txindex.contains_key(&txid) {
                        return Err(TxCheckError::AlreadyInChain);
                    }
                    return Err(TxCheckError::MissingInputs);
                }
            }
        }

        for (index, input) in tx.input.iter().enumerate() {
            if input.has_issuance() {
                self.check_issuance(index, input, &spent[index])?;
            }
        }

        verify_amounts(&self.secp, tx, &spent).map_err(|e| reject(ct_reject_reason(&e)))?;

        let fees = fees_of(tx);
        let policy_fee = fees.get(&self.params.policy_asset()).copied().unwrap_or(0);
        let min_fee = (tx.vsize() as u64 * MIN_RELAY_FEE_PER_KVB).div_ceil(1000);
        if policy_fee < min_fee {
            return Err(reject(format!(
                "min relay fee not met, {policy_fee} < {min_fee}"
            )));
        }
        self.mempool
            .check_package_limits(tx)
            .map_err(|why| reject(format!("{TOO_LONG_MEMPOOL_CHAIN}, {why}")))?;

        let mut cache = elements::sighash::SighashCache::new(tx);
        let taproot = TaprootContext {
            all_spent: Some(&spent),
            genesis: self.params.genesis_hash(),
        };
        for (index, out) in spent.iter().enumerate() {
            verify_input_script(&self.secp, tx, index, out, &taproot, &mut cache)
                .map_err(|e| reject(format!("mandatory-script-verify-flag-failed ({e})")))?;
        }
        Ok(fees)
    }

    /// Issuance rules of `issuance.cpp`/`confidential_validation.cpp`: amounts in range,
    /// issuance-amount rangeproofs valid, reissuance spends the matching blinded token.
    fn check_issuance(
        &self,
        index: usize,
        input: &TxIn,
        spent: &TxOut,
    ) -> Result<(), TxCheckError> {
        let issuance = &input.asset_issuance;
        let is_reissuance = issuance.asset_blinding_nonce.as_byte_array() != &[0u8; 32];
        let (asset_id, token_id) = input.issuance_ids();
        if issuance.amount.is_null() && issuance.inflation_keys.is_null() {
            return Err(reject("bad-txns-issuance-empty"));
        }
        for (value, proof, asset, what) in [
            (
                issuance.amount,
                &input.witness.amount_rangeproof,
                asset_id,
                "asset",
            ),
            (
                issuance.inflation_keys,
                &input.witness.inflation_keys_rangeproof,
                token_id,
                "token",
            ),
        ] {
            match value {
                Value::Null => {}
                Value::Explicit(v) => {
                    if v > MAX_MONEY {
                        return Err(reject("bad-txns-issuance-amount-outofrange"));
                    }
                    if !proof.is_empty() {
                        return Err(reject("bad-txns-issuance-explicit-rangeproof"));
                    }
                }
                Value::Confidential(commitment) => {
                    verify_issuance_rangeproof(self.secp(), commitment, asset, proof).map_err(
                        |_| reject(format!("bad-txns-in-ne-out, {what} issuance rangeproof of input {index} is invalid (commitment and proof must use the generator of {asset})")),
                    )?;
                }
            }
        }
        if is_reissuance {
            if !issuance.inflation_keys.is_null() {
                return Err(reject("bad-txns-reissuance-token-issuance"));
            }
            if issuance.amount.is_null() {
                return Err(reject("bad-txns-issuance-empty"));
            }
            if !reissuance_spends_token(self.secp(), input, spent) {
                return Err(reject("bad-txns-reissuance-token-mismatch"));
            }
        }
        Ok(())
    }
}

/// Context-free checks (`CheckTransaction` + standardness we enforce).
fn check_structure(tx: &Transaction, policy_asset: AssetId) -> Result<(), TxCheckError> {
    if tx.input.is_empty() {
        return Err(reject("bad-txns-vin-empty"));
    }
    if tx.output.is_empty() {
        return Err(reject("bad-txns-vout-empty"));
    }
    if tx.is_coinbase() {
        return Err(reject("coinbase"));
    }
    if tx.weight() > MAX_STANDARD_TX_WEIGHT {
        return Err(reject("tx-size"));
    }
    let mut seen = HashSet::new();
    for input in &tx.input {
        if input.previous_output.is_null() {
            return Err(reject("bad-txns-prevout-null"));
        }
        if !seen.insert(input.previous_output) {
            return Err(reject("bad-txns-inputs-duplicate"));
        }
        if input.is_pegin {
            return Err(reject("bad-pegin-witness, this chain has no parent chain"));
        }
    }
    let mut policy_total: u64 = 0;
    for out in &tx.output {
        if matches!(out.asset, Asset::Null) || matches!(out.value, Value::Null) {
            return Err(reject("bad-txns-vout-null"));
        }
        if out.script_pubkey.is_empty() && !out.is_fee() {
            return Err(reject("bad-txns-fee-notexplicit"));
        }
        if let (Asset::Explicit(asset), Value::Explicit(v)) = (out.asset, out.value) {
            if asset == policy_asset {
                if v > MAX_MONEY {
                    return Err(reject("bad-txns-vout-toolarge"));
                }
                policy_total = policy_total.saturating_add(v);
                if policy_total > MAX_MONEY {
                    return Err(reject("bad-txns-txouttotal-toolarge"));
                }
            } else if v > MAX_MONEY {
                return Err(reject("bad-txns-vout-toolarge"));
            }
        }
    }
    Ok(())
}

/// Explicit fee outputs summed per asset.
pub fn fees_of(tx: &Transaction) -> BTreeMap<AssetId, u64> {
    let mut fees = BTreeMap::new();
    for out in tx.output.iter().filter(|o| o.is_fee()) {
        if let (Asset::Explicit(a), Value::Explicit(v)) = (out.asset, out.value) {
            *fees.entry(a).or_default() += v;
        }
    }
    fees
}

/// Verifies the rangeproof of a blinded issuance amount (not covered by
/// `verify_tx_amt_proofs`): the commitment uses the unblinded generator of the issued asset and
/// the proof commits to an empty script, as `VerifyIssuanceAmount` does.
pub fn verify_issuance_rangeproof(
    secp: &elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All>,
    commitment: PedersenCommitment,
    asset: AssetId,
    proof: &elements::RangeProof,
) -> Result<(), String> {
    let proof = proof.as_ref().ok_or("missing issuance rangeproof")?;
    let gen = Generator::new_unblinded(secp, asset.into_tag());
    proof
        .verify(secp, commitment, &[], gen)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Whether a reissuance input spends the reissuance token of the asset it reissues, blinded
/// with the issuance's blinding nonce (`asset commitment == generator(token, nonce)`).
pub fn reissuance_spends_token(
    secp: &elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All>,
    input: &TxIn,
    spent: &TxOut,
) -> bool {
    let issuance = &input.asset_issuance;
    let token = AssetId::reissuance_token_from_entropy(
        elements::AssetEntropy::from_byte_array(*issuance.asset_entropy.as_byte_array()),
        issuance.amount.is_confidential(),
    );
    let Ok(tweak) = Tweak::from_slice(issuance.asset_blinding_nonce.as_byte_array()) else {
        return false;
    };
    let expected = Generator::new_blinded(secp, token.into_tag(), tweak);
    matches!(spent.asset, Asset::Confidential(gen) if gen == expected)
}

/// Verifies the script/signatures of input `index` of `tx` spending `spent`, with the
/// templates the node supports; the error is Elements' script error string. Only the spent
/// output of this input is known here, so taproot signatures must be `ANYONECANPAY`
/// (mempool validation passes every spent output).
pub fn verify_input(
    secp: &elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
    genesis: elements::BlockHash,
) -> Result<(), String> {
    let mut cache = elements::sighash::SighashCache::new(tx);
    let taproot = TaprootContext {
        all_spent: None,
        genesis,
    };
    verify_input_script(secp, tx, index, spent, &taproot, &mut cache).map_err(str::to_string)
}

/// `IsFinalTx` for the next block: a lock time below the threshold is a height, otherwise a
/// time compared with the median time past; all-final sequences disable it.
fn is_final(tx: &Transaction, next_height: u32, median_time_past: u32) -> bool {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return true;
    }
    let limit = if lock < 500_000_000 {
        next_height
    } else {
        median_time_past
    };
    lock < limit
        || tx
            .input
            .iter()
            .all(|i| i.sequence.to_consensus_u32() == u32::MAX)
}

/// The reject reason of a failed confidential-transaction check: Elements' balance message,
/// with the failing proof named when it is a proof rather than the balance.
fn ct_reject_reason(error: &AmountError) -> String {
    match error {
        AmountError::Unbalanced => "bad-txns-in-ne-out, value in != value out".to_string(),
        other => format!("bad-txns-in-ne-out, {other}"),
    }
}
