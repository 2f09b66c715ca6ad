//! The wallet's part of the raw-transaction flow: `fundrawtransaction`,
//! `blindrawtransaction`, `signrawtransactionwithwallet`.

use std::collections::BTreeMap;

use elements::confidential::Nonce;
use elements::script::Builder;
use elements::{
    AssetId, AssetIssuance, OutPoint, Script, Sequence, Transaction, TxIn, TxOut, TxOutSecrets,
};
use serde_json::{json, Map, Value};

use super::builder::{self, Signer};
use super::keys::ScriptKind;
use super::ledger::explicit_secrets;
use super::params::{amount, amount_json, arg, opt_bool, req_str, type_error};
use super::raw_build::{decode_tx, encode_tx};
use super::send::FALLBACK_FEE_SAT_PER_KVB;
use super::state::Wallet;
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// The output an input spends and its secrets, from the wallet or the chain.
fn spent_output(
    wallet: &Wallet,
    chain: &Chain,
    outpoint: &OutPoint,
) -> Option<(TxOut, Option<TxOutSecrets>)> {
    if let Some((out, s)) = wallet.owned_output(outpoint) {
        return Some((out.clone(), Some(*s)));
    }
    let out = match chain.utxo(outpoint) {
        Some(u) => u.txout.clone(),
        None => chain
            .tx(&outpoint.txid)?
            .tx
            .output
            .get(outpoint.vout as usize)?
            .clone(),
    };
    let secrets = explicit_secrets(&out);
    Some((out, secrets))
}

/// Weight a signed version of `tx` will have, with dummy signatures for the wallet's inputs.
fn estimated_vsize(wallet: &Wallet, tx: &Transaction, spent: &[TxOut]) -> usize {
    let mut t = tx.clone();
    for (input, out) in t.input.iter_mut().zip(spent) {
        let dummy_sig = vec![0u8; 72];
        let dummy_pk = vec![2u8; 33];
        match wallet.owner(&out.script_pubkey).map(|o| o.kind) {
            Some(ScriptKind::Bech32) => {
                input.witness.script_witness = vec![dummy_sig, dummy_pk].into()
            }
            Some(ScriptKind::P2shSegwit) => {
                input.script_sig = Builder::new().push_slice(&[0u8; 22]).into_script();
                input.witness.script_witness = vec![dummy_sig, dummy_pk].into();
            }
            Some(ScriptKind::Legacy) => {
                input.script_sig = Builder::new()
                    .push_slice(&dummy_sig)
                    .push_slice(&dummy_pk)
                    .into_script();
            }
            None => {}
        }
    }
    t.vsize()
}

/// `fundrawtransaction hexstring options iswitness`
pub fn fundrawtransaction(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let policy = chain.params().policy_asset();
    let mut tx = decode_tx(req_str(params, 0, "hexstring")?)?;
    let mut rate = FALLBACK_FEE_SAT_PER_KVB;
    let mut change_position = None;
    if let Some(opts) = arg(params, 1) {
        let opts = opts.as_object().ok_or_else(|| type_error("object", opts))?;
        if let Some(v) = opts.get("fee_rate") {
            rate = super::send::fee_rate_arg(v)?;
        }
        if let Some(v) = opts.get("feeRate") {
            rate = amount(v)?;
        }
        if let Some(v) = opts.get("changePosition").and_then(Value::as_u64) {
            change_position = Some(v as usize);
        }
    }
    // What the outputs need per asset, minus what pre-set inputs bring.
    let mut need: BTreeMap<AssetId, i128> = BTreeMap::new();
    for out in tx.output.iter().filter(|o| !o.is_fee()) {
        let (Some(a), Some(v)) = (out.asset.explicit(), out.value.explicit()) else {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Outputs must be unblinded to be funded",
            ));
        };
        *need.entry(a).or_default() += i128::from(v);
    }
    let mut base_spent = Vec::new();
    for input in &tx.input {
        let (out, secrets) =
            spent_output(wallet, chain, &input.previous_output).ok_or_else(|| {
                RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Insufficient info about inputs: unknown input",
                )
            })?;
        let s = secrets.ok_or_else(|| {
            RpcError::new(
                codes::INVALID_PARAMETER,
                "Unable to unblind a pre-selected input",
            )
        })?;
        *need.entry(s.asset).or_default() -= i128::from(s.value);
        base_spent.push(out);
    }
    tx.output.retain(|o| !o.is_fee());
    let coins = wallet.spendable_coins();
    let mut change_addr: BTreeMap<AssetId, elements::Address> = BTreeMap::new();
    let mut fee = 0u64;
    let mut sizing = builder::BlindCache::default();
    for _ in 0..8 {
        let mut t = tx.clone();
        let mut spent = base_spent.clone();
        let mut totals = need.clone();
        *totals.entry(policy).or_default() += i128::from(fee);
        for (asset, amount_needed) in totals.clone() {
            let mut have: i128 = 0;
            for coin in coins.iter().filter(|c| c.secrets.asset == asset) {
                if have >= amount_needed {
                    break;
                }
                if t.input.iter().any(|i| i.previous_output == coin.outpoint) {
                    continue;
                }
                have += i128::from(coin.secrets.value);
                t.input.push(TxIn {
                    previous_output: coin.outpoint,
                    is_pegin: false,
                    script_sig: Script::new(),
                    sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                    asset_issuance: AssetIssuance::null(),
                    witness: Default::default(),
                });
                spent.push(coin.txout.clone());
            }
            if have < amount_needed {
                // Elements Core's fundrawtransaction reports every funding failure as a
                // generic wallet error (-4), not as -6 like the send calls.
                return Err(RpcError::new(codes::WALLET_ERROR, "Insufficient funds"));
            }
            *totals.get_mut(&asset).expect("present") -= have;
        }
        // Negative totals are change.
        let mut policy_change_pos = -1i64;
        for (asset, left) in &totals {
            if *left >= 0 {
                continue;
            }
            let addr = match change_addr.get(asset) {
                Some(a) => a.clone(),
                None => {
                    let a = wallet.new_change()?;
                    change_addr.insert(*asset, a.clone());
                    a
                }
            };
            let out = builder::unblinded_output(
                addr.script_pubkey(),
                addr.blinding_pubkey,
                *asset,
                (-*left) as u64,
            );
            let pos = if *asset == policy {
                change_position.unwrap_or(0).min(t.output.len())
            } else {
                t.output.len()
            };
            t.output.insert(pos, out);
            if *asset == policy {
                policy_change_pos = pos as i64;
            } else if policy_change_pos >= pos as i64 {
                policy_change_pos += 1;
            }
        }
        t.output.push(TxOut::new_fee(fee, policy));
        // Estimate the final size: blind a copy (proof sizes are fixed) and add dummy signatures.
        let mut sized = t.clone();
        let secrets: Vec<Option<TxOutSecrets>> = t
            .input
            .iter()
            .map(|i| spent_output(wallet, chain, &i.previous_output).and_then(|(_, s)| s))
            .collect();
        let _ = builder::blind_outputs_reusing(
            &wallet.secp,
            &mut sized,
            &secrets,
            &spent,
            &BTreeMap::new(),
            &mut sizing,
        );
        let needed = (estimated_vsize(wallet, &sized, &spent) as u64 * rate).div_ceil(1000);
        if fee >= needed {
            wallet.save()?;
            return Ok(json!({
                "hex": encode_tx(&t),
                "fee": amount_json(fee as i64),
                "changepos": policy_change_pos,
            }));
        }
        fee = needed;
    }
    Err(RpcError::new(
        codes::WALLET_ERROR,
        "Transaction fee could not be settled",
    ))
}

/// `blindrawtransaction hexstring ignoreblindfail asset_commitments blind_issuances totalblinder`
pub fn blindrawtransaction(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let mut tx = decode_tx(req_str(params, 0, "hexstring")?)?;
    let ignore_blind_fail = opt_bool(params, 1)?.unwrap_or(true);
    let blind_issuances = opt_bool(params, 3)?.unwrap_or(true);
    let mut secrets = Vec::new();
    let mut spent = Vec::new();
    for (i, input) in tx.input.iter().enumerate() {
        let (out, s) = spent_output(wallet, chain, &input.previous_output).ok_or_else(|| {
            RpcError::new(
                codes::INVALID_PARAMETER,
                format!("Unable to blind transaction: input {i} is unknown"),
            )
        })?;
        spent.push(out);
        secrets.push(s);
    }
    // Like Elements: `blind_issuances` (default true) blinds every new issuance whose amounts
    // are still explicit, whatever token id its outputs use (an output paying the token id of an
    // unblinded issuance then fails: its asset is no longer among the inputs'). Reissuances
    // (a non-null blinding nonce) are left as they are.
    let to_blind: Vec<usize> = match blind_issuances {
        true => tx
            .input
            .iter()
            .enumerate()
            .filter(|(_, input)| {
                let iss = &input.asset_issuance;
                input.has_issuance()
                    && iss.asset_blinding_nonce.is_null()
                    && !iss.amount.is_confidential()
                    && !iss.inflation_keys.is_confidential()
            })
            .map(|(i, _)| i)
            .collect(),
        false => Vec::new(),
    };
    let issuance_secrets = builder::blind_issuances(&wallet.secp, &mut tx, &to_blind)
        .map_err(|e| RpcError::new(codes::INVALID_PARAMETER, e.to_string()))?;
    let to_blind_count = tx
        .output
        .iter()
        .filter(|o| !o.is_fee() && matches!(o.nonce, Nonce::Confidential(_)))
        .count();
    let blinded =
        match builder::blind_outputs(&wallet.secp, &mut tx, &secrets, &spent, &issuance_secrets) {
            Ok(b) => b,
            Err(e) if ignore_blind_fail && to_blind_count == 0 => {
                let _ = e;
                BTreeMap::new()
            }
            Err(e) => return Err(RpcError::new(codes::INVALID_PARAMETER, e.to_string())),
        };
    wallet.remember_blinding(&tx, &blinded, &issuance_secrets);
    Ok(Value::from(encode_tx(&tx)))
}

/// `signrawtransactionwithwallet hexstring prevtxs sighashtype`
pub fn signrawtransactionwithwallet(
    wallet: &mut Wallet,
    chain: &mut Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let mut tx = decode_tx(req_str(params, 0, "hexstring")?)?;
    if let Some(t) = super::params::opt_str(params, 2)? {
        if t != "ALL" {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                format!("Unsupported sighash type: {t}"),
            ));
        }
    }
    wallet.ensure_unlocked()?;
    let mut spent = Vec::new();
    let mut missing = Vec::new();
    for (i, input) in tx.input.iter().enumerate() {
        match spent_output(wallet, chain, &input.previous_output) {
            Some((out, _)) => spent.push(out),
            None => {
                missing.push(i);
                spent.push(TxOut::default());
            }
        }
    }
    let mut signers = wallet.signers(&spent)?;
    for i in &missing {
        signers[*i] = None;
    }
    builder::sign(&wallet.secp, &mut tx, &spent, &signers, wallet.params);
    let mut errors = Vec::new();
    for (i, input) in tx.input.iter().enumerate() {
        let signed = matches!(
            signers[i],
            Some(Signer::Key { .. }) | Some(Signer::AnyoneCanSpend)
        ) || !input.witness.script_witness.is_empty()
            || !input.script_sig.is_empty();
        if !signed || missing.contains(&i) {
            let error = if missing.contains(&i) {
                "Input not found or already spent"
            } else {
                "Unable to sign input, invalid stack size (possibly missing key)"
            };
            errors.push(json!({
                "txid": input.previous_output.txid.to_string(),
                "vout": input.previous_output.vout,
                "witness": [],
                "scriptSig": hex::encode(input.script_sig.as_bytes()),
                "sequence": input.sequence.0,
                "error": error,
            }));
        }
    }
    let mut obj = Map::new();
    obj.insert("hex".into(), json!(encode_tx(&tx)));
    obj.insert("complete".into(), json!(errors.is_empty()));
    if !errors.is_empty() {
        obj.insert("errors".into(), Value::Array(errors));
    }
    Ok(Value::Object(obj))
}
