//! Mempool and mining methods: `getmempoolinfo`, `getrawmempool`, `getmempoolentry`,
//! `testmempoolaccept`, `sendrawtransaction` (with `maxfeerate`), `generatetoaddress` and
//! `generatetodescriptor`.

use serde_json::{json, Map, Value};

use super::descriptor::{expand, parse_address};
use super::error::codes;
use super::json::amount;
use super::node_methods::{decode_tx, SEND_DECODE_FAILED};
use super::params::{parse_hash, Params};
use super::RpcError;
use crate::chain::{Chain, ChainError, TxCheckError};
use elements::Txid;

pub(super) fn getmempoolinfo(chain: &Chain) -> Value {
    let policy = chain.params().policy_asset();
    let (mut size, mut bytes, mut fees) = (0usize, 0usize, 0u64);
    for (_, entry) in chain.mempool_entries() {
        size += 1;
        bytes += entry.vsize;
        fees += entry.fees.get(&policy).copied().unwrap_or(0);
    }
    json!({
        "loaded": true,
        "size": size,
        "bytes": bytes,
        "usage": bytes.div_ceil(8) * 8 + size * 400,
        "total_fee": amount(fees),
        "maxmempool": 300_000_000,
        "mempoolminfee": amount(100),
        "minrelaytxfee": amount(100),
        "unbroadcastcount": size,
    })
}

fn mempool_entry_json(chain: &Chain, entry: &crate::chain::MempoolEntry) -> Value {
    let fee = entry
        .fees
        .get(&chain.params().policy_asset())
        .copied()
        .unwrap_or(0);
    let relatives = chain.mempool_relatives(entry);
    let names = |txids: &[elements::Txid]| txids.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    json!({
        "vsize": entry.vsize,
        "weight": entry.tx.weight(),
        "time": entry.time,
        "height": chain.height(),
        "descendantcount": relatives.descendants.count,
        "descendantsize": relatives.descendants.vsize,
        "ancestorcount": relatives.ancestors.count,
        "ancestorsize": relatives.ancestors.vsize,
        "wtxid": entry.tx.wtxid().to_string(),
        "fees": {"base": amount(fee), "modified": amount(fee),
            "ancestor": amount(relatives.ancestors.fees),
            "descendant": amount(relatives.descendants.fees)},
        "depends": names(&relatives.depends),
        "spentby": names(&relatives.spent_by),
        "bip125-replaceable": entry.tx.input.iter().any(|i| i.sequence.to_consensus_u32() < 0xffff_fffe),
        "unbroadcast": true,
    })
}

pub(super) fn getrawmempool(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    if p.opt_bool(0)?.unwrap_or(false) {
        let mut obj = Map::new();
        for (txid, entry) in chain.mempool_entries() {
            obj.insert(txid.to_string(), mempool_entry_json(chain, entry));
        }
        return Ok(Value::Object(obj));
    }
    Ok(json!(chain
        .mempool()
        .map(|(txid, _)| txid.to_string())
        .collect::<Vec<_>>()))
}

pub(super) fn getmempoolentry(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let txid: Txid = parse_hash(p.str(0, "txid")?, "txid")?;
    chain
        .mempool_entry(&txid)
        .map(|e| mempool_entry_json(chain, e))
        .ok_or_else(|| RpcError::new(codes::INVALID_ADDRESS_OR_KEY, "Transaction not in mempool"))
}

pub(super) fn testmempoolaccept(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let Some(Value::Array(raw)) = p.get(0) else {
        return Err(RpcError::new(codes::TYPE_ERROR, "Expected type array"));
    };
    if raw.is_empty() || raw.len() > 25 {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Array must contain between 1 and 25 transactions.",
        ));
    }
    let max_rate = max_fee_rate(p, 1)?;
    let mut results = Vec::new();
    for item in raw {
        let hex_str = item
            .as_str()
            .ok_or_else(|| super::params::type_error(item, "string"))?;
        let tx = decode_tx(hex_str, SEND_DECODE_FAILED)?;
        let mut obj = Map::new();
        obj.insert("txid".into(), json!(tx.txid().to_string()));
        obj.insert("wtxid".into(), json!(tx.wtxid().to_string()));
        let check = if chain.mempool_entry(&tx.txid()).is_some() {
            Err("txn-already-in-mempool".to_string())
        } else {
            chain.test_accept_detailed(&tx).map_err(|e| match e {
                TxCheckError::AlreadyInChain => "txn-already-known".to_string(),
                TxCheckError::MissingInputs => "missing-inputs".to_string(),
                TxCheckError::Rejected(r) => r.split(", ").next().unwrap_or(&r).to_string(),
            })
        };
        match check {
            Ok(fees)
                if exceeds_max_fee(
                    fees.get(&chain.params().policy_asset())
                        .copied()
                        .unwrap_or(0),
                    tx.vsize(),
                    max_rate,
                ) =>
            {
                obj.insert("allowed".into(), json!(false));
                obj.insert("reject-reason".into(), json!("max-fee-exceeded"));
            }
            Ok(fees) => {
                let fee = fees
                    .get(&chain.params().policy_asset())
                    .copied()
                    .unwrap_or(0);
                obj.insert("allowed".into(), json!(true));
                obj.insert("vsize".into(), json!(tx.vsize()));
                obj.insert("fees".into(), json!({"base": amount(fee)}));
            }
            Err(reason) => {
                obj.insert("allowed".into(), json!(false));
                obj.insert("reject-reason".into(), json!(reason));
            }
        }
        results.push(Value::Object(obj));
    }
    Ok(Value::Array(results))
}

/// `-maxfeerate` default of `sendrawtransaction`/`testmempoolaccept`: 0.10 coin/kvB.
const DEFAULT_MAX_FEE_RATE_SAT_PER_KVB: u64 = 10_000_000;

/// The `maxfeerate` argument in sat/kvB (0 = no limit).
fn max_fee_rate(p: Params<'_>, index: usize) -> Result<u64, RpcError> {
    match p.get(index) {
        None => Ok(DEFAULT_MAX_FEE_RATE_SAT_PER_KVB),
        Some(Value::Number(n)) => {
            let rate = n.as_f64().unwrap_or(-1.0);
            if !(0.0..=21_000_000.0).contains(&rate) {
                return Err(RpcError::new(codes::TYPE_ERROR, "Amount out of range"));
            }
            Ok((rate * 100_000_000.0).round() as u64)
        }
        Some(Value::String(s)) => s
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=21_000_000.0).contains(r))
            .map(|r| (r * 100_000_000.0).round() as u64)
            .ok_or_else(|| RpcError::new(codes::TYPE_ERROR, "Invalid amount")),
        Some(v) => Err(super::params::type_error(v, "number")),
    }
}

/// Whether `fee` for `vsize` vbytes exceeds `max_rate` sat/kvB (0 = unlimited).
fn exceeds_max_fee(fee: u64, vsize: usize, max_rate: u64) -> bool {
    max_rate > 0 && fee > (max_rate * vsize as u64).div_ceil(1000)
}

pub(super) fn sendrawtransaction(chain: &mut Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let tx = decode_tx(p.str(0, "hexstring")?, SEND_DECODE_FAILED)?;
    let max_rate = max_fee_rate(p, 1)?;
    let fee = crate::chain::fees_of(&tx)
        .get(&chain.params().policy_asset())
        .copied()
        .unwrap_or(0);
    if exceeds_max_fee(fee, tx.vsize(), max_rate) {
        return Err(RpcError::new(
            codes::VERIFY_ERROR,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        ));
    }
    chain
        .submit_transaction(tx)
        .map(|txid| json!(txid.to_string()))
}

fn mine(chain: &mut Chain, n: i64, script: elements::Script) -> Result<Value, RpcError> {
    let mut hashes = Vec::new();
    for _ in 0..n.max(0) {
        let hash = chain.mine_block(script.clone()).map_err(|e| match e {
            // What Elements Core's generate calls answer when the block they made is refused.
            ChainError::InvalidBlock { .. } => {
                tracing::warn!(error = %e, "the block mined for a generate call was refused");
                RpcError::new(codes::INTERNAL_ERROR, "ProcessNewBlock, block not accepted")
            }
            other => RpcError::new(codes::MISC_ERROR, other.to_string()),
        })?;
        hashes.push(json!(hash.to_string()));
    }
    Ok(Value::Array(hashes))
}

pub(super) fn generatetoaddress(chain: &mut Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let n = p.i64(0, "nblocks")?;
    let address = parse_address(p.str(1, "address")?, chain.params().address_params())?;
    mine(chain, n, address.script_pubkey())
}

pub(super) fn generatetodescriptor(chain: &mut Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let n = p.i64(0, "num_blocks")?;
    let desc = p.str(1, "descriptor")?;
    let expanded = expand(desc, (0, 0), chain.params().address_params())?;
    let [(script, _)] = expanded.scripts.as_slice() else {
        return Err(RpcError::new(
            codes::INVALID_ADDRESS_OR_KEY,
            "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?",
        ));
    };
    mine(chain, n, script.clone())
}
