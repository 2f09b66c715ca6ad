//! Read-only wallet RPCs: `getbalance`, `getwalletinfo`, `listunspent`, `listissuances`,
//! `rescanblockchain`, and the wallet-less `dumpassetlabels`.

use std::collections::BTreeMap;

use elements::confidential::Value as CValue;
use elements::{Address, AssetId, TxOut};
use serde_json::{json, Map, Value};

use super::keys::with_checksum;
use super::params::{
    amount, amount_json, amount_map, arg, asset_arg, asset_label, opt_bool, opt_str, opt_u64,
    reversed_hex, type_error,
};
use super::state::{is_op_true, Wallet};
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// RPC_METHOD_DEPRECATED
const METHOD_DEPRECATED: i64 = -32;

fn to_i64(map: &BTreeMap<AssetId, u64>) -> BTreeMap<AssetId, i64> {
    map.iter().map(|(a, v)| (*a, *v as i64)).collect()
}

/// `dumpassetlabels`
pub fn dumpassetlabels(chain: &Chain) -> Value {
    json!({ "bitcoin": chain.params().policy_asset().to_string() })
}

/// `getbalance dummy minconf include_watchonly avoid_reuse assetlabel`
pub fn getbalance(wallet: &mut Wallet, chain: &Chain, params: &[Value]) -> Result<Value, RpcError> {
    if let Some(d) = opt_str(params, 0)? {
        if d != "*" {
            return Err(RpcError::new(
                METHOD_DEPRECATED,
                "dummy first argument must be excluded or set to \"*\".",
            ));
        }
    }
    let minconf = opt_u64(params, 1)?.unwrap_or(0) as u32;
    let policy = chain.params().policy_asset();
    let balances = wallet.balances(minconf);
    if let Some(label) = opt_str(params, 4)? {
        let asset = asset_arg(label, &policy)?;
        let v = balances.trusted.get(&asset).copied().unwrap_or(0);
        return Ok(amount_json(v as i64));
    }
    Ok(amount_map(&to_i64(&balances.trusted), &policy))
}

/// `getbalances`
pub fn getbalances(wallet: &mut Wallet, chain: &Chain) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let b = wallet.balances(0);
    Ok(json!({
        "mine": {
            "trusted": amount_map(&to_i64(&b.trusted), &policy),
            "untrusted_pending": amount_map(&to_i64(&b.untrusted_pending), &policy),
            "immature": amount_map(&to_i64(&b.immature), &policy),
        },
        "lastprocessedblock": {
            "hash": wallet.data.synced.last().map(|h| h.to_string()),
            "height": wallet.synced_height(),
        }
    }))
}

/// `getwalletinfo`
pub fn getwalletinfo(wallet: &mut Wallet, chain: &Chain) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let b = wallet.balances(0);
    let current = wallet.data.current_seed as usize;
    let oldest = wallet
        .data
        .keys
        .iter()
        .filter(|k| !k.used)
        .map(|k| k.time)
        .min()
        .unwrap_or(wallet.data.birth_time);
    let mut obj = Map::new();
    obj.insert("walletname".into(), json!(wallet.name));
    obj.insert("walletversion".into(), json!(169900));
    obj.insert(
        "format".into(),
        json!(if wallet.data.descriptors {
            "sqlite"
        } else {
            "bdb"
        }),
    );
    obj.insert("balance".into(), amount_map(&to_i64(&b.trusted), &policy));
    obj.insert(
        "unconfirmed_balance".into(),
        amount_map(&to_i64(&b.untrusted_pending), &policy),
    );
    obj.insert(
        "immature_balance".into(),
        amount_map(&to_i64(&b.immature), &policy),
    );
    obj.insert("txcount".into(), json!(wallet.data.txs.len()));
    obj.insert("keypoololdest".into(), json!(oldest));
    obj.insert("keypoolsize".into(), json!(wallet.keypool_size(false)));
    obj.insert(
        "hdseedid".into(),
        json!(wallet.data.seed_info[current].seed_id),
    );
    obj.insert(
        "keypoolsize_hd_internal".into(),
        json!(wallet.keypool_size(true)),
    );
    if wallet.is_encrypted() {
        obj.insert("unlocked_until".into(), json!(wallet.unlocked_until()));
    }
    obj.insert("paytxfee".into(), json!(0.0));
    obj.insert("private_keys_enabled".into(), json!(true));
    obj.insert("avoid_reuse".into(), json!(false));
    obj.insert("scanning".into(), json!(false));
    obj.insert("descriptors".into(), json!(wallet.data.descriptors));
    obj.insert("external_signer".into(), json!(false));
    Ok(Value::Object(obj))
}

fn commitment_hex(out: &TxOut) -> (Option<String>, Option<String>) {
    let asset = match out.asset {
        elements::confidential::Asset::Confidential(g) => Some(hex::encode(g.serialize())),
        _ => None,
    };
    let value = match out.value {
        CValue::Confidential(c) => Some(hex::encode(c.serialize())),
        _ => None,
    };
    (asset, value)
}

pub(super) fn unconfidential_address(wallet: &Wallet, script: &elements::Script) -> Option<String> {
    Address::from_script(script, None, wallet.params).map(|a| a.to_string())
}

/// `listunspent minconf maxconf addresses include_unsafe query_options`
pub fn listunspent(
    wallet: &mut Wallet,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let minconf = opt_u64(params, 0)?.unwrap_or(1) as u32;
    let maxconf = opt_u64(params, 1)?.unwrap_or(9_999_999) as u32;
    let mut scripts = Vec::new();
    if let Some(list) = arg(params, 2) {
        let list = list.as_array().ok_or_else(|| type_error("array", list))?;
        for a in list {
            let s = a.as_str().ok_or_else(|| type_error("string", a))?;
            let addr = super::params::parse_address(s, wallet.params).ok_or_else(|| {
                RpcError::new(
                    codes::INVALID_ADDRESS_OR_KEY,
                    format!("Invalid Bitcoin address: {s}"),
                )
            })?;
            scripts.push(addr.script_pubkey());
        }
    }
    let include_unsafe = opt_bool(params, 3)?.unwrap_or(true);
    let policy = chain.params().policy_asset();
    let (mut min_amount, mut max_amount, mut max_count, mut asset_filter) =
        (0u64, u64::MAX, usize::MAX, None);
    if let Some(opts) = arg(params, 4) {
        let opts = opts.as_object().ok_or_else(|| type_error("object", opts))?;
        if let Some(v) = opts.get("minimumAmount") {
            min_amount = amount(v)?;
        }
        if let Some(v) = opts.get("maximumAmount") {
            max_amount = amount(v)?;
        }
        if let Some(v) = opts.get("maximumCount").and_then(Value::as_u64) {
            max_count = v as usize;
        }
        if let Some(v) = opts.get("asset") {
            let s = v.as_str().ok_or_else(|| type_error("string", v))?;
            asset_filter = Some(asset_arg(s, &policy)?);
        }
    }
    let mut out = Vec::new();
    let mut coins = wallet.coins();
    coins.sort_by_key(|c| (std::cmp::Reverse(c.confirmations), c.outpoint));
    for coin in coins {
        if coin.immature || coin.confirmations < minconf || coin.confirmations > maxconf {
            continue;
        }
        if !include_unsafe && !coin.trusted {
            continue;
        }
        if !scripts.is_empty() && !scripts.contains(&coin.txout.script_pubkey) {
            continue;
        }
        if asset_filter.is_some_and(|a| a != coin.secrets.asset) {
            continue;
        }
        if coin.secrets.value < min_amount || coin.secrets.value > max_amount {
            continue;
        }
        if out.len() >= max_count {
            break;
        }
        let script = &coin.txout.script_pubkey;
        let mut e = Map::new();
        e.insert("txid".into(), json!(coin.outpoint.txid.to_string()));
        e.insert("vout".into(), json!(coin.outpoint.vout));
        if let Some(a) = unconfidential_address(wallet, script) {
            e.insert("address".into(), json!(a));
        }
        if let Some(l) = wallet.label(script) {
            e.insert("label".into(), json!(l));
        }
        let owner = wallet.owner(script);
        if let Some(o) = owner.filter(|o| o.kind == super::keys::ScriptKind::P2shSegwit) {
            let pk = wallet
                .key_pubkey(o.key)
                .map_err(|e| RpcError::new(codes::WALLET_ERROR, e))?;
            let redeem = Address::p2wpkh(&pk, None, wallet.params).script_pubkey();
            e.insert("redeemScript".into(), json!(hex::encode(redeem.as_bytes())));
        }
        e.insert("scriptPubKey".into(), json!(hex::encode(script.as_bytes())));
        e.insert("amount".into(), amount_json(coin.secrets.value as i64));
        let (ac, vc) = commitment_hex(&coin.txout);
        if let Some(ac) = ac {
            e.insert("assetcommitment".into(), json!(ac));
        }
        e.insert("asset".into(), json!(coin.secrets.asset.to_string()));
        if let Some(vc) = vc {
            e.insert("amountcommitment".into(), json!(vc));
        }
        e.insert(
            "amountblinder".into(),
            json!(coin.secrets.value_bf.to_string()),
        );
        e.insert(
            "assetblinder".into(),
            json!(coin.secrets.asset_bf.to_string()),
        );
        e.insert("confirmations".into(), json!(coin.confirmations));
        e.insert("spendable".into(), json!(true));
        e.insert("solvable".into(), json!(true));
        let desc = match owner {
            Some(o) => wallet.descriptor(o),
            None if is_op_true(script) => with_checksum("raw(51)"),
            None => with_checksum(&format!("raw({})", hex::encode(script.as_bytes()))),
        };
        e.insert("desc".into(), json!(desc));
        e.insert("safe".into(), json!(coin.trusted));
        out.push(Value::Object(e));
    }
    Ok(Value::Array(out))
}

/// `listissuances asset`
pub fn listissuances(
    wallet: &mut Wallet,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let filter = match opt_str(params, 0)? {
        Some(s) => Some(asset_arg(s, &policy)?),
        None => None,
    };
    let mut out = Vec::new();
    for (txid, wtx) in wallet.data.txs.iter().rev() {
        for (vin, input) in wtx.tx.input.iter().enumerate() {
            if !input.has_issuance() {
                continue;
            }
            let iss = &input.asset_issuance;
            let reissuance = !iss.asset_blinding_nonce.is_null();
            let entropy = if reissuance {
                iss.asset_entropy
            } else {
                AssetId::generate_asset_entropy(
                    input.previous_output,
                    iss.asset_entropy.into_contract_hash(),
                )
            };
            let (asset, token) = input.issuance_ids();
            if filter.is_some_and(|f| f != asset) {
                continue;
            }
            let secrets = wtx.issuances.get(&(vin as u32));
            let amount_of = |v: CValue, known: Option<(u64, [u8; 32])>| -> (i64, String) {
                match v {
                    CValue::Explicit(x) => (x as i64, "0".repeat(64)),
                    CValue::Null => (0, "0".repeat(64)),
                    CValue::Confidential(_) => match known {
                        Some((x, bf)) => (x as i64, reversed_hex(&bf)),
                        None => (-100_000_000, "0".repeat(64)),
                    },
                }
            };
            let mut e = Map::new();
            e.insert("isreissuance".into(), json!(reissuance));
            if !reissuance {
                let (t, tb) = amount_of(
                    iss.inflation_keys,
                    secrets.map(|s| (s.token_amount, s.token_blind)),
                );
                e.insert("token".into(), json!(token.to_string()));
                e.insert("tokenamount".into(), amount_json(t));
                e.insert("tokenblinds".into(), json!(tb));
            }
            e.insert("entropy".into(), json!(entropy.to_string()));
            e.insert("txid".into(), json!(txid.to_string()));
            e.insert("vin".into(), json!(vin));
            e.insert("asset".into(), json!(asset.to_string()));
            if asset == policy {
                e.insert("assetlabel".into(), json!(asset_label(&asset, &policy)));
            }
            let (a, ab) = amount_of(iss.amount, secrets.map(|s| (s.asset_amount, s.asset_blind)));
            e.insert("assetamount".into(), amount_json(a));
            e.insert("assetblinds".into(), json!(ab));
            out.push(Value::Object(e));
        }
    }
    Ok(Value::Array(out))
}

/// `rescanblockchain start_height stop_height`
pub fn rescanblockchain(
    wallet: &mut Wallet,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let (tip, _) = chain.tip();
    let start = opt_u64(params, 0)?.unwrap_or(0);
    if start > u64::from(tip) {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Invalid start_height",
        ));
    }
    let stop = opt_u64(params, 1)?.unwrap_or(u64::from(tip));
    if stop < start || stop > u64::from(tip) {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Invalid stop_height",
        ));
    }
    wallet.rescan(chain, start as u32, stop as u32)?;
    Ok(json!({ "start_height": start, "stop_height": stop }))
}
