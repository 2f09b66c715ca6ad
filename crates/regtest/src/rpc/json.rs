//! JSON renderings of transactions exactly as Elements Core 23.3.3's `core_write.cpp`
//! produces them (key names, order and JSON types), and amounts. Scripts are rendered by
//! [`super::script_json`], blocks by [`super::block_json`].

use amphora_ct::RangeProofHeader;
use elements::confidential::{Asset, Nonce, Value as CtValue};
use elements::encode::serialize;
use elements::{AddressParams, AssetId, Transaction};
use serde_json::{json, Map, Value};

pub use super::block_json::{block_json, header_json};
pub use super::script_json::{
    script_address, script_asm, script_pubkey_json, script_type, with_checksum,
};

/// Satoshis as a JSON number of coins (`ValueFromAmount`).
pub fn amount(sats: u64) -> Value {
    json!(sats as f64 / 100_000_000.0)
}

/// Signed satoshis as a JSON number of coins.
pub fn signed_amount(sats: i64) -> Value {
    json!(sats as f64 / 100_000_000.0)
}

/// Elements' `GetWitnessOnlyHash` ("withash"): fast merkle root of the input-witness and
/// output-witness hash roots (coinbase inputs count as empty witnesses).
pub fn witness_only_hash(tx: &Transaction) -> String {
    let mut bytes = crate::chain::witness_only_hash(tx);
    bytes.reverse();
    hex::encode(bytes)
}

fn asset_hex(asset: AssetId) -> String {
    asset.to_string()
}

fn issuance_json(input: &elements::TxIn) -> Value {
    let issuance = &input.asset_issuance;
    let mut obj = Map::new();
    let mut nonce = *issuance.asset_blinding_nonce.as_byte_array();
    nonce.reverse();
    obj.insert("assetBlindingNonce".into(), json!(hex::encode(nonce)));
    let is_reissuance = issuance.asset_blinding_nonce.as_byte_array() != &[0u8; 32];
    let (asset, token) = input.issuance_ids();
    if is_reissuance {
        let mut entropy = *issuance.asset_entropy.as_byte_array();
        entropy.reverse();
        obj.insert("assetEntropy".into(), json!(hex::encode(entropy)));
        obj.insert("isreissuance".into(), json!(true));
    } else {
        let entropy = elements::AssetId::generate_asset_entropy(
            input.previous_output,
            issuance.asset_entropy.into_contract_hash(),
        );
        let mut bytes = *entropy.as_byte_array();
        bytes.reverse();
        obj.insert("assetEntropy".into(), json!(hex::encode(bytes)));
        obj.insert("isreissuance".into(), json!(false));
        obj.insert("token".into(), json!(asset_hex(token)));
    }
    obj.insert("asset".into(), json!(asset_hex(asset)));
    match issuance.amount {
        CtValue::Explicit(v) => {
            obj.insert("assetamount".into(), amount(v));
        }
        CtValue::Confidential(c) => {
            obj.insert(
                "assetamountcommitment".into(),
                json!(hex::encode(c.serialize())),
            );
        }
        CtValue::Null => {}
    }
    match issuance.inflation_keys {
        CtValue::Explicit(v) => {
            obj.insert("tokenamount".into(), amount(v));
        }
        CtValue::Confidential(c) => {
            obj.insert(
                "tokenamountcommitment".into(),
                json!(hex::encode(c.serialize())),
            );
        }
        CtValue::Null => {}
    }
    Value::Object(obj)
}

fn nonce_json(nonce: &Nonce) -> (String, bool) {
    match nonce {
        Nonce::Null => (String::new(), false),
        Nonce::Explicit(_) => (hex::encode(serialize(nonce)), false),
        Nonce::Confidential(pk) => (hex::encode(pk.serialize()), true),
    }
}

/// `TxToUniv` without the block fields: `txid, hash, wtxid, withash, version, size, vsize,
/// weight, locktime, vin, vout, fee` (+ `hex` when `include_hex`).
pub fn tx_json(
    tx: &Transaction,
    params: &'static AddressParams,
    include_hex: bool,
) -> Map<String, Value> {
    let mut obj = Map::new();
    obj.insert("txid".into(), json!(tx.txid().to_string()));
    obj.insert("hash".into(), json!(tx.wtxid().to_string()));
    obj.insert("wtxid".into(), json!(tx.wtxid().to_string()));
    obj.insert("withash".into(), json!(witness_only_hash(tx)));
    obj.insert("version".into(), json!(tx.version));
    obj.insert("size".into(), json!(serialize(tx).len()));
    obj.insert("vsize".into(), json!(tx.vsize()));
    obj.insert("weight".into(), json!(tx.weight()));
    obj.insert("locktime".into(), json!(tx.lock_time.to_consensus_u32()));
    let coinbase = tx.is_coinbase();
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|input| {
            let mut i = Map::new();
            if coinbase {
                i.insert(
                    "coinbase".into(),
                    json!(hex::encode(input.script_sig.as_bytes())),
                );
            } else {
                i.insert("txid".into(), json!(input.previous_output.txid.to_string()));
                i.insert("vout".into(), json!(input.previous_output.vout));
                i.insert(
                    "scriptSig".into(),
                    json!({
                        "asm": script_asm(&input.script_sig, true),
                        "hex": hex::encode(input.script_sig.as_bytes()),
                    }),
                );
                i.insert("is_pegin".into(), json!(input.is_pegin));
            }
            i.insert("sequence".into(), json!(input.sequence.to_consensus_u32()));
            if !input.witness.script_witness.is_empty() {
                let items: Vec<String> = input
                    .witness
                    .script_witness
                    .iter()
                    .map(hex::encode)
                    .collect();
                i.insert("txinwitness".into(), json!(items));
            }
            if !input.asset_issuance.is_null() {
                i.insert("issuance".into(), issuance_json(input));
            }
            Value::Object(i)
        })
        .collect();
    obj.insert("vin".into(), Value::Array(vin));
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, out)| {
            let mut o = Map::new();
            match out.value {
                CtValue::Explicit(v) => {
                    o.insert("value".into(), amount(v));
                }
                CtValue::Confidential(c) => {
                    if let Some(proof) = out.witness.rangeproof.as_ref() {
                        // the fields of `secp256k1_rangeproof_info`
                        if let Some(header) = RangeProofHeader::parse(&proof.serialize()) {
                            if header.exp == -1 {
                                o.insert("value".into(), amount(header.min_value));
                            } else {
                                o.insert("value-minimum".into(), amount(header.min_value));
                                o.insert("value-maximum".into(), amount(header.max_value));
                            }
                            o.insert("ct-exponent".into(), json!(header.exp));
                            o.insert("ct-bits".into(), json!(header.mantissa));
                        }
                    }
                    if let Some(proof) = out.witness.surjection_proof.as_ref() {
                        o.insert(
                            "surjectionproof".into(),
                            json!(hex::encode(proof.serialize())),
                        );
                    }
                    o.insert("valuecommitment".into(), json!(hex::encode(c.serialize())));
                }
                CtValue::Null => {}
            }
            match out.asset {
                Asset::Explicit(a) => {
                    o.insert("asset".into(), json!(asset_hex(a)));
                }
                Asset::Confidential(g) => {
                    o.insert("assetcommitment".into(), json!(hex::encode(g.serialize())));
                }
                Asset::Null => {}
            }
            let (nonce_hex, valid) = nonce_json(&out.nonce);
            o.insert("commitmentnonce".into(), json!(nonce_hex));
            o.insert("commitmentnonce_fully_valid".into(), json!(valid));
            o.insert("n".into(), json!(n));
            o.insert(
                "scriptPubKey".into(),
                script_pubkey_json(&out.script_pubkey, params),
            );
            Value::Object(o)
        })
        .collect();
    obj.insert("vout".into(), Value::Array(vout));
    let mut fee = Map::new();
    for (asset, v) in crate::chain::fees_of(tx) {
        fee.insert(asset.to_string(), amount(v));
    }
    obj.insert("fee".into(), Value::Object(fee));
    if include_hex {
        obj.insert("hex".into(), json!(hex::encode(serialize(tx))));
    }
    obj
}
