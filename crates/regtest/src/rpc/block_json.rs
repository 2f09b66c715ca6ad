//! Block and header renderings as Elements Core 23.3.3's `blockchain.cpp` produces them
//! (`getblock`, `getblockheader`), including the dynafed parameters.

use elements::encode::serialize;
use elements::{dynafed, Block, BlockHeader};
use serde_json::{json, Map, Value};

use super::json::tx_json;
use super::script_json::script_asm;
use crate::chain::Chain;

fn dynafed_params_json(params: &dynafed::Params) -> Value {
    match params {
        dynafed::Params::Null => json!({"type": "null"}),
        dynafed::Params::Compact {
            signblockscript,
            signblock_witness_limit,
            elided_root,
        } => json!({
            "type": "compact",
            "root": params.calculate_root().to_string(),
            "signblockscript": hex::encode(signblockscript.as_bytes()),
            "max_block_witness": signblock_witness_limit,
            "extra_root": elided_root.to_string(),
        }),
        dynafed::Params::Full(full) => {
            let compact = full.clone().into_compact();
            let extra_root = compact
                .elided_root()
                .map(|r| r.to_string())
                .unwrap_or_default();
            json!({
                "type": "full",
                "root": params.calculate_root().to_string(),
                "signblockscript": hex::encode(full.signblockscript.as_bytes()),
                "max_block_witness": full.signblock_witness_limit,
                "extra_root": extra_root,
                "fedpeg_program": hex::encode(full.fedpeg_program.as_bytes()),
                "fedpegscript": hex::encode(&full.fedpegscript),
                "extension_space": full.extension_space.iter().map(hex::encode).collect::<Vec<_>>(),
            })
        }
    }
}

/// `blockheaderToJSON` (shared by `getblockheader` and `getblock`).
pub fn header_json(chain: &Chain, header: &BlockHeader, ntx: usize) -> Map<String, Value> {
    let hash = header.block_hash();
    // A block off the active chain (invalidated, or left by a reorg) has -1 confirmations
    // and no next block, as Elements Core answers.
    let active = chain.block_height(&hash);
    let height = active.unwrap_or(header.height);
    let mut obj = Map::new();
    obj.insert("hash".into(), json!(hash.to_string()));
    obj.insert(
        "confirmations".into(),
        json!(active.map_or(-1, |h| i64::from(chain.height()) - i64::from(h) + 1)),
    );
    obj.insert("height".into(), json!(height));
    obj.insert("version".into(), json!(header.version));
    obj.insert(
        "versionHex".into(),
        json!(format!("{:08x}", header.version)),
    );
    obj.insert("merkleroot".into(), json!(header.merkle_root.to_string()));
    obj.insert("time".into(), json!(header.time));
    obj.insert(
        "mediantime".into(),
        json!(chain
            .median_time_past_of(&hash)
            .unwrap_or_else(|| chain.median_time_past_at(height.min(chain.height())))),
    );
    match &header.ext {
        elements::BlockExtData::Proof {
            challenge,
            solution,
        } => {
            obj.insert(
                "signblock_witness_asm".into(),
                json!(script_asm(solution, false)),
            );
            obj.insert(
                "signblock_witness_hex".into(),
                json!(hex::encode(solution.as_bytes())),
            );
            obj.insert(
                "signblock_challenge".into(),
                json!(hex::encode(challenge.as_bytes())),
            );
        }
        elements::BlockExtData::Dynafed {
            current,
            proposed,
            signblock_witness,
        } => {
            obj.insert(
                "signblock_witness_hex".into(),
                json!(signblock_witness
                    .iter()
                    .map(hex::encode)
                    .collect::<Vec<_>>()),
            );
            obj.insert(
                "dynamic_parameters".into(),
                json!({"current": dynafed_params_json(current), "proposed": dynafed_params_json(proposed)}),
            );
        }
    }
    obj.insert("nTx".into(), json!(ntx));
    if height > 0 {
        obj.insert(
            "previousblockhash".into(),
            json!(header.prev_blockhash.to_string()),
        );
    }
    if let Some(next) = active.and_then(|h| chain.block_hash(h + 1)) {
        obj.insert("nextblockhash".into(), json!(next.to_string()));
    }
    obj
}

/// `getblock` at verbosity 1 (txids) or 2 (decoded transactions).
pub fn block_json(chain: &Chain, block: &Block, verbosity: u8) -> Value {
    let mut obj = header_json(chain, &block.header, block.txdata.len());
    let size = serialize(block).len();
    let stripped: usize = {
        let mut b = block.clone();
        for tx in &mut b.txdata {
            for i in &mut tx.input {
                i.witness = Default::default();
            }
            for o in &mut tx.output {
                o.witness = Default::default();
            }
        }
        serialize(&b).len()
    };
    obj.insert("strippedsize".into(), json!(stripped));
    obj.insert("size".into(), json!(size));
    obj.insert("weight".into(), json!(stripped * 3 + size));
    let params = chain.params().address_params();
    let txs: Vec<Value> = block
        .txdata
        .iter()
        .map(|tx| {
            if verbosity >= 2 {
                Value::Object(tx_json(tx, params, true))
            } else {
                json!(tx.txid().to_string())
            }
        })
        .collect();
    obj.insert("tx".into(), Value::Array(txs));
    Value::Object(obj)
}
