//! Wallet transaction history: `gettransaction` and `listtransactions`, with Core's
//! per-asset net amounts, fees and `details` (blinders included).

use std::collections::BTreeMap;
use std::str::FromStr;

use elements::{AssetId, Transaction, TxOutSecrets, Txid};
use serde_json::{json, Map, Value};

use super::ledger::COINBASE_MATURITY;
use super::params::{amount_json, amount_map, asset_arg, opt_str, opt_u64, req_str};
use super::rpc_query::unconfidential_address;
use super::state::Wallet;
use super::store::WalletTx;
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// Secrets of output `vout` as the wallet knows them (own, blinded by us, or explicit).
fn output_secrets(wtx: &WalletTx, vout: u32) -> Option<TxOutSecrets> {
    wtx.mine
        .get(&vout)
        .or_else(|| wtx.sent.get(&vout))
        .copied()
        .or_else(|| super::ledger::explicit_secrets(&wtx.tx.output[vout as usize]))
}

/// Net amounts, fee, and `details` of a wallet transaction, as Core's `WalletTxToJSON` +
/// `ListTransactions` compute them.
pub struct TxSummary {
    /// Net change per asset (fee added back for our own sends).
    pub amount: BTreeMap<AssetId, i64>,
    /// Fee per asset when the wallet funded the transaction.
    pub fee: Option<BTreeMap<AssetId, u64>>,
    /// `details` entries.
    pub details: Vec<Value>,
}

fn fee_map(tx: &Transaction) -> BTreeMap<AssetId, u64> {
    let mut fees = BTreeMap::new();
    for out in tx.output.iter().filter(|o| o.is_fee()) {
        if let (Some(a), Some(v)) = (out.asset.explicit(), out.value.explicit()) {
            *fees.entry(a).or_default() += v;
        }
    }
    fees
}

/// Summarises a wallet transaction.
pub fn summarize(wallet: &Wallet, wtx: &WalletTx, policy: &AssetId) -> TxSummary {
    let tx = &wtx.tx;
    let mut debit: BTreeMap<AssetId, u64> = BTreeMap::new();
    if !tx.is_coinbase() {
        for input in &tx.input {
            if let Some((_, s)) = wallet.owned_output(&input.previous_output) {
                *debit.entry(s.asset).or_default() += s.value;
            }
        }
    }
    let from_me = !debit.is_empty();
    let mut credit: BTreeMap<AssetId, u64> = BTreeMap::new();
    for s in wtx.mine.values() {
        *credit.entry(s.asset).or_default() += s.value;
    }
    let fees = if from_me { Some(fee_map(tx)) } else { None };
    let mut amount: BTreeMap<AssetId, i64> = BTreeMap::new();
    for (a, v) in &credit {
        *amount.entry(*a).or_default() += *v as i64;
    }
    for (a, v) in &debit {
        *amount.entry(*a).or_default() -= *v as i64;
    }
    if let Some(f) = &fees {
        for (a, v) in f {
            *amount.entry(*a).or_default() += *v as i64;
        }
    }
    let fee_policy = fees
        .as_ref()
        .and_then(|f| f.get(policy).copied())
        .unwrap_or(0);
    let confirmations = wallet.confirmations(wtx);
    let mut details = Vec::new();
    let detail = |category: &str,
                  vout: u32,
                  s: Option<TxOutSecrets>,
                  negative: bool,
                  script: &elements::Script| {
        let mut e = Map::new();
        if let Some(a) = unconfidential_address(wallet, script) {
            e.insert("address".into(), json!(a));
        }
        e.insert("category".into(), json!(category));
        let (value, abf, asset, vbf) = match s {
            Some(s) => (
                s.value as i64,
                s.asset_bf.to_string(),
                s.asset.to_string(),
                s.value_bf.to_string(),
            ),
            None => (0, "0".repeat(64), "0".repeat(64), "0".repeat(64)),
        };
        e.insert(
            "amount".into(),
            amount_json(if negative { -value } else { value }),
        );
        e.insert("amountblinder".into(), json!(vbf));
        e.insert("asset".into(), json!(asset));
        e.insert("assetblinder".into(), json!(abf));
        if let Some(l) = wallet.label(script) {
            e.insert("label".into(), json!(l));
        }
        e.insert("vout".into(), json!(vout));
        e
    };
    if from_me {
        for (vout, out) in tx.output.iter().enumerate() {
            if out.is_fee() || wallet.is_change(&out.script_pubkey) {
                continue;
            }
            let mut e = detail(
                "send",
                vout as u32,
                output_secrets(wtx, vout as u32),
                true,
                &out.script_pubkey,
            );
            e.insert("fee".into(), amount_json(fee_policy as i64));
            e.insert("abandoned".into(), json!(false));
            details.push(Value::Object(e));
        }
    }
    for (vout, s) in &wtx.mine {
        let out = &tx.output[*vout as usize];
        if from_me && wallet.is_change(&out.script_pubkey) {
            continue;
        }
        let category = if tx.is_coinbase() {
            if confirmations > COINBASE_MATURITY {
                "generate"
            } else if wtx.block.is_some() {
                "immature"
            } else {
                "orphan"
            }
        } else {
            "receive"
        };
        details.push(Value::Object(detail(
            category,
            *vout,
            Some(*s),
            false,
            &out.script_pubkey,
        )));
    }
    TxSummary {
        amount,
        fee: fees,
        details,
    }
}

/// `gettransaction txid include_watchonly verbose assetlabel`
pub fn gettransaction(
    wallet: &mut Wallet,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let txid_str = req_str(params, 0, "txid")?;
    let not_found = || {
        RpcError::new(
            codes::INVALID_ADDRESS_OR_KEY,
            "Invalid or non-wallet transaction id",
        )
    };
    let txid = Txid::from_str(txid_str).map_err(|_| {
        RpcError::new(
            codes::INVALID_PARAMETER,
            format!(
                "txid must be of length 64 (not {}, for '{}')",
                txid_str.len(),
                txid_str
            ),
        )
    })?;
    let policy = chain.params().policy_asset();
    let wtx = wallet.data.txs.get(&txid).ok_or_else(not_found)?;
    let summary = summarize(wallet, wtx, &policy);
    let mut obj = Map::new();
    match opt_str(params, 3)? {
        Some(label) => {
            let asset = asset_arg(label, &policy)?;
            obj.insert(
                "amount".into(),
                amount_json(summary.amount.get(&asset).copied().unwrap_or(0)),
            );
            if let Some(f) = &summary.fee {
                obj.insert(
                    "fee".into(),
                    amount_json(-(f.get(&asset).copied().unwrap_or(0) as i64)),
                );
            }
        }
        None => {
            obj.insert("amount".into(), amount_map(&summary.amount, &policy));
            if let Some(f) = &summary.fee {
                let neg: BTreeMap<AssetId, i64> =
                    f.iter().map(|(a, v)| (*a, -(*v as i64))).collect();
                obj.insert("fee".into(), amount_map(&neg, &policy));
            }
        }
    }
    status_fields(wallet, &txid, wtx, &mut obj);
    obj.insert("details".into(), Value::Array(summary.details));
    obj.insert(
        "hex".into(),
        json!(hex::encode(elements::encode::serialize(&wtx.tx))),
    );
    Ok(Value::Object(obj))
}

/// The fields Core's `WalletTxToJSON` adds to `gettransaction` and each `listtransactions`
/// entry: depth (negative when conflicted), block or trust, txid, conflicts and times.
fn status_fields(wallet: &Wallet, txid: &Txid, wtx: &WalletTx, obj: &mut Map<String, Value>) {
    obj.insert("confirmations".into(), json!(wallet.depth(wtx)));
    if wtx.tx.is_coinbase() {
        obj.insert("generated".into(), json!(true));
    }
    if let Some(b) = wtx.block {
        obj.insert("blockhash".into(), json!(b.hash.to_string()));
        obj.insert("blockheight".into(), json!(b.height));
        obj.insert("blockindex".into(), json!(b.index));
        obj.insert("blocktime".into(), json!(b.time));
    } else {
        obj.insert(
            "trusted".into(),
            json!(wallet.is_from_me(&wtx.tx) && wallet.is_active(txid)),
        );
    }
    obj.insert("txid".into(), json!(txid.to_string()));
    let conflicts: Vec<String> = wallet
        .wallet_conflicts(txid)
        .iter()
        .map(Txid::to_string)
        .collect();
    obj.insert("walletconflicts".into(), json!(conflicts));
    obj.insert("time".into(), json!(wtx.time));
    obj.insert("timereceived".into(), json!(wtx.time));
    // Core's `isRBFOptIn`: signalling inputs, else unknown outside the mempool.
    let replaceable = if wallet.depth(wtx) > 0 {
        "no"
    } else if wtx.tx.input.iter().any(|i| i.sequence.0 < 0xffff_fffe) {
        "yes"
    } else if !wallet.is_active(txid) {
        "unknown"
    } else {
        "no"
    };
    obj.insert("bip125-replaceable".into(), json!(replaceable));
}

/// `listtransactions label count skip include_watchonly`
pub fn listtransactions(
    wallet: &mut Wallet,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let count = opt_u64(params, 1)?.unwrap_or(10) as usize;
    let skip = opt_u64(params, 2)?.unwrap_or(0) as usize;
    let policy = chain.params().policy_asset();
    let mut txs: Vec<(&Txid, &WalletTx)> = wallet.data.txs.iter().collect();
    txs.sort_by_key(|(_, w)| {
        (
            w.block.map_or(u32::MAX, |b| b.height),
            w.block.map_or(0, |b| b.index),
            w.time,
        )
    });
    let mut entries = Vec::new();
    for (txid, wtx) in txs {
        let summary = summarize(wallet, wtx, &policy);
        for d in summary.details {
            let mut e = d.as_object().cloned().unwrap_or_default();
            status_fields(wallet, txid, wtx, &mut e);
            entries.push(Value::Object(e));
        }
    }
    let end = entries.len().saturating_sub(skip);
    let start = end.saturating_sub(count);
    Ok(Value::Array(entries[start..end].to_vec()))
}
