//! Node and chain RPC methods (everything that is not a wallet method), answered from the
//! chain state with Elements Core 23.3.3's result shapes.

use elements::encode::{deserialize, serialize};
use elements::{BlockHash, OutPoint, Transaction, Txid};
use serde_json::{json, Map, Value};

use super::descriptor::expand;
use super::error::codes;
use super::json::{amount, block_json, header_json, script_asm, script_pubkey_json, tx_json};
use super::mempool_methods;
use super::params::{parse_hash, Params};
use super::RpcError;
use crate::chain::Chain;
use crate::node::NodeState;

/// `getnetworkinfo.version` / `subversion` of Elements Core 23.3.3.
pub const CLIENT_VERSION: i64 = 230303;
/// `getnetworkinfo.subversion`.
pub const SUBVERSION: &str = "/Elements Core:23.3.3/";
/// Tip age after which the node reports initial block download (`-maxtipage`).
const MAX_TIP_AGE: u64 = 24 * 60 * 60;

/// What the dispatcher needs to do after a call besides answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCall {
    /// Nothing.
    Continue,
    /// `stop` was called: shut the server down after answering.
    Stop,
}

/// Runs a node method; `None` when `method` is not one.
pub fn call(
    state: &mut NodeState,
    method: &str,
    params: &[Value],
) -> Option<Result<(Value, AfterCall), RpcError>> {
    let p = Params(params);
    let chain = &mut state.chain;
    let result = match method {
        "getnetworkinfo" => Ok(getnetworkinfo()),
        "getblockchaininfo" => Ok(getblockchaininfo(chain)),
        "getblockcount" => Ok(json!(chain.height())),
        "getbestblockhash" => Ok(json!(chain.tip().1.to_string())),
        "getblockhash" => getblockhash(chain, p),
        "getblock" => getblock(chain, p),
        "getblockheader" => getblockheader(chain, p),
        "getchaintips" => Ok(chain
            .chain_tips()
            .into_iter()
            .map(|t| {
                json!({"height": t.height, "hash": t.hash.to_string(),
                       "branchlen": t.branch_len, "status": t.status})
            })
            .collect()),
        "invalidateblock" => invalidateblock(chain, p),
        "reconsiderblock" => reconsiderblock(chain, p),
        "getrawtransaction" => getrawtransaction(chain, state.txindex, p),
        "getindexinfo" => getindexinfo(chain, state.txindex, p),
        "decoderawtransaction" => decoderawtransaction(chain, p),
        "gettxout" => gettxout(chain, p),
        "scantxoutset" => scantxoutset(chain, p),
        "getmempoolinfo" => Ok(mempool_methods::getmempoolinfo(chain)),
        "getrawmempool" => mempool_methods::getrawmempool(chain, p),
        "getmempoolentry" => mempool_methods::getmempoolentry(chain, p),
        "testmempoolaccept" => mempool_methods::testmempoolaccept(chain, p),
        "sendrawtransaction" => mempool_methods::sendrawtransaction(chain, p),
        "generatetoaddress" => mempool_methods::generatetoaddress(chain, p),
        "generatetodescriptor" => mempool_methods::generatetodescriptor(chain, p),
        // No fee history on a fresh regtest chain: Core answers exactly this.
        "estimatesmartfee" => p
            .i64(0, "conf_target")
            .map(|_| json!({"errors": ["Insufficient data or no feerate found"], "blocks": 0})),
        "uptime" => Ok(json!(state.started.elapsed().as_secs())),
        "stop" => return Some(Ok((json!("Elements server stopping"), AfterCall::Stop))),
        _ => return None,
    };
    Some(result.map(|v| (v, AfterCall::Continue)))
}

/// `getindexinfo ( "index_name" )`: with `-txindex` the transaction index, always in sync
/// with the tip; `{}` without it.
fn getindexinfo(chain: &Chain, txindex: bool, p: Params) -> Result<Value, RpcError> {
    let wanted = match p.get(0) {
        None => None,
        Some(_) => Some(p.str(0, "index_name")?),
    };
    if !txindex || wanted.is_some_and(|name| name != "txindex") {
        return Ok(json!({}));
    }
    Ok(json!({"txindex": {"synced": true, "best_block_height": chain.height()}}))
}

fn getnetworkinfo() -> Value {
    let network = |name: &str, limited: bool| json!({"name": name, "limited": limited, "reachable": !limited, "proxy": "", "proxy_randomize_credentials": false});
    json!({
        "version": CLIENT_VERSION,
        "subversion": SUBVERSION,
        "protocolversion": 70016,
        "localservices": "0000000000000409",
        "localservicesnames": ["NETWORK", "WITNESS", "NETWORK_LIMITED"],
        "localrelay": true,
        "timeoffset": 0,
        "networkactive": true,
        "connections": 0,
        "connections_in": 0,
        "connections_out": 0,
        "networks": [network("ipv4", false), network("ipv6", false), network("onion", true), network("i2p", true), network("cjdns", true)],
        "relayfee": amount(100),
        "incrementalfee": amount(100),
        "localaddresses": [],
        "warnings": "",
    })
}

fn getblockchaininfo(chain: &Chain) -> Value {
    let (height, hash) = chain.tip();
    let tip_time = chain.block_at(height).map(|b| b.header.time).unwrap_or(0);
    let ibd = u64::from(tip_time) + MAX_TIP_AGE < crate::chain::now_secs();
    let full = chain.params().dynafed_full_params();
    let root = elements::dynafed::Params::Full(full.clone()).calculate_root();
    let size_on_disk = chain.size_on_disk();
    json!({
        "chain": chain.params().name().as_str(),
        "blocks": height,
        "headers": height,
        "bestblockhash": hash.to_string(),
        "time": tip_time,
        "mediantime": chain.median_time_past(),
        "verificationprogress": if height == 0 { 0.0 } else { 1.0 },
        "initialblockdownload": ibd,
        "size_on_disk": size_on_disk,
        "pruned": false,
        "trim_headers": false,
        "current_params_root": root.to_string(),
        "current_signblock_asm": script_asm(&full.signblockscript, false),
        "current_signblock_hex": hex::encode(full.signblockscript.as_bytes()),
        "max_block_witness": full.signblock_witness_limit,
        "current_fedpeg_program": hex::encode(full.fedpeg_program.as_bytes()),
        "current_fedpeg_script": hex::encode(&full.fedpegscript),
        "extension_space": full.extension_space.iter().map(hex::encode).collect::<Vec<_>>(),
        "epoch_length": crate::chain::DYNAFED_EPOCH_LENGTH,
        "total_valid_epochs": 2,
        "epoch_age": height % crate::chain::DYNAFED_EPOCH_LENGTH,
        "warnings": "",
    })
}

fn getblockhash(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let height = p.i64(0, "height")?;
    u32::try_from(height)
        .ok()
        .and_then(|h| chain.block_hash(h))
        .map(|h| json!(h.to_string()))
        .ok_or_else(|| RpcError::new(codes::INVALID_PARAMETER, "Block height out of range"))
}

fn block_hash_param(chain: &Chain, p: Params<'_>) -> Result<BlockHash, RpcError> {
    let hash: BlockHash = parse_hash(p.str(0, "blockhash")?, "blockhash")?;
    if chain.known_block(&hash).is_none() {
        return Err(RpcError::new(
            codes::INVALID_ADDRESS_OR_KEY,
            "Block not found",
        ));
    }
    Ok(hash)
}

fn getblock(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let hash = block_hash_param(chain, p)?;
    let verbosity = match p.get(1) {
        None => 1,
        Some(Value::Bool(b)) => u8::from(*b),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(1).clamp(0, 3) as u8,
        Some(v) => return Err(super::params::type_error(v, "number")),
    };
    let block = chain.known_block(&hash).expect("checked");
    if verbosity == 0 {
        return Ok(json!(hex::encode(serialize(block))));
    }
    Ok(block_json(chain, block, verbosity))
}

fn getblockheader(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let hash = block_hash_param(chain, p)?;
    let block = chain.known_block(&hash).expect("checked");
    if p.opt_bool(1)? == Some(false) {
        return Ok(json!(hex::encode(serialize(&block.header))));
    }
    Ok(Value::Object(header_json(
        chain,
        &block.header,
        block.txdata.len(),
    )))
}

/// `invalidateblock`: disconnects the block and its descendants (a reorg for tests).
fn invalidateblock(chain: &mut Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let hash = block_hash_param(chain, p)?;
    chain
        .invalidate_block(&hash)
        .map(|_| Value::Null)
        .map_err(|e| RpcError::new(codes::MISC_ERROR, e.to_string()))
}

/// `reconsiderblock`: the block, its descendants and ancestors are valid again; the best
/// valid branch is followed (see `Chain::reconsider_block`); `null`, as Elements Core answers.
fn reconsiderblock(chain: &mut Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let hash: BlockHash = parse_hash(p.str(0, "blockhash")?, "blockhash")?;
    match chain.reconsider_block(&hash) {
        Ok(true) => Ok(Value::Null),
        Ok(false) => Err(RpcError::new(
            codes::INVALID_ADDRESS_OR_KEY,
            "Block not found",
        )),
        Err(e) => Err(RpcError::new(codes::MISC_ERROR, e.to_string())),
    }
}

fn getrawtransaction(chain: &Chain, txindex: bool, p: Params<'_>) -> Result<Value, RpcError> {
    let txid: Txid = parse_hash(p.str(0, "txid")?, "parameter 1")?;
    let verbose = p.opt_bool(1)?.unwrap_or(false);
    let in_block: Option<BlockHash> = match p.get(2) {
        Some(Value::String(s)) => Some(parse_hash(s, "parameter 3")?),
        Some(v) => return Err(super::params::type_error(v, "string")),
        None => None,
    };
    if let Some(bh) = in_block {
        if chain.block(&bh).is_none() {
            return Err(RpcError::new(
                codes::INVALID_ADDRESS_OR_KEY,
                "Block hash not found",
            ));
        }
    }
    let found = chain.tx(&txid).filter(|l| match in_block {
        Some(bh) => l.block.is_some_and(|b| b.hash == bh),
        // without a transaction index only the mempool is searched
        None => txindex || l.block.is_none(),
    });
    let Some(lookup) = found else {
        let msg = if in_block.is_some() {
            "No such transaction found in the provided block. Use gettransaction for wallet transactions."
        } else if !txindex {
            "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions."
        } else {
            "No such mempool or blockchain transaction. Use gettransaction for wallet transactions."
        };
        return Err(RpcError::new(codes::INVALID_ADDRESS_OR_KEY, msg));
    };
    if !verbose {
        return Ok(json!(hex::encode(serialize(lookup.tx))));
    }
    let mut obj = tx_json(lookup.tx, chain.params().address_params(), true);
    if in_block.is_some() {
        obj.insert("in_active_chain".into(), json!(true));
    }
    if let Some(b) = lookup.block {
        obj.insert("blockhash".into(), json!(b.hash.to_string()));
        obj.insert("confirmations".into(), json!(chain.height() - b.height + 1));
        obj.insert("time".into(), json!(b.time));
        obj.insert("blocktime".into(), json!(b.time));
    }
    Ok(Value::Object(obj))
}

pub(super) fn decode_tx(hex_str: &str, msg: &str) -> Result<Transaction, RpcError> {
    let bytes =
        hex::decode(hex_str).map_err(|_| RpcError::new(codes::DESERIALIZATION_ERROR, msg))?;
    deserialize::<Transaction>(&bytes).map_err(|_| RpcError::new(codes::DESERIALIZATION_ERROR, msg))
}

pub(super) const SEND_DECODE_FAILED: &str =
    "TX decode failed. Make sure the tx has at least one input.";

fn decoderawtransaction(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let tx = decode_tx(p.str(0, "hexstring")?, "TX decode failed")?;
    Ok(Value::Object(tx_json(
        &tx,
        chain.params().address_params(),
        false,
    )))
}

fn gettxout(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    let txid: Txid = parse_hash(p.str(0, "txid")?, "txid")?;
    let n = u32::try_from(p.i64(1, "n")?)
        .map_err(|_| RpcError::new(codes::INVALID_PARAMETER, "Invalid parameter n"))?;
    let include_mempool = p.opt_bool(2)?.unwrap_or(true);
    let outpoint = OutPoint::new(txid, n);
    let (txout, height, coinbase) = if let Some(utxo) = chain.utxo(&outpoint) {
        if include_mempool && chain.spent_by(&outpoint).is_some() {
            return Ok(Value::Null);
        }
        (utxo.txout.clone(), Some(utxo.height), utxo.is_coinbase)
    } else if include_mempool {
        match chain
            .mempool_entry(&txid)
            .and_then(|e| e.tx.output.get(n as usize))
        {
            Some(out)
                if chain.spent_by(&outpoint).is_none()
                    && !out.is_fee()
                    && !out.script_pubkey.is_provably_unspendable() =>
            {
                (out.clone(), None, false)
            }
            _ => return Ok(Value::Null),
        }
    } else {
        return Ok(Value::Null);
    };
    let mut obj = Map::new();
    obj.insert("bestblock".into(), json!(chain.tip().1.to_string()));
    obj.insert(
        "confirmations".into(),
        json!(height.map(|h| chain.height() - h + 1).unwrap_or(0)),
    );
    insert_value_and_asset(&mut obj, &txout, "value", "valuecommitment");
    obj.insert(
        "commitmentnonce".into(),
        json!(match txout.nonce {
            elements::confidential::Nonce::Null => String::new(),
            n => hex::encode(serialize(&n)),
        }),
    );
    obj.insert(
        "scriptPubKey".into(),
        script_pubkey_json(&txout.script_pubkey, chain.params().address_params()),
    );
    obj.insert("coinbase".into(), json!(coinbase));
    Ok(Value::Object(obj))
}

fn insert_value_and_asset(
    obj: &mut Map<String, Value>,
    txout: &elements::TxOut,
    value_key: &str,
    commitment_key: &str,
) {
    use elements::confidential::{Asset, Value as V};
    match txout.value {
        V::Explicit(v) => {
            obj.insert(value_key.into(), amount(v));
        }
        V::Confidential(c) => {
            obj.insert(commitment_key.into(), json!(hex::encode(c.serialize())));
        }
        V::Null => {}
    }
    match txout.asset {
        Asset::Explicit(a) => {
            obj.insert("asset".into(), json!(a.to_string()));
        }
        Asset::Confidential(g) => {
            obj.insert("assetcommitment".into(), json!(hex::encode(g.serialize())));
        }
        Asset::Null => {}
    }
}

fn scantxoutset(chain: &Chain, p: Params<'_>) -> Result<Value, RpcError> {
    match p.str(0, "action")? {
        "start" => {}
        "abort" => return Ok(json!(false)),
        "status" => return Ok(Value::Null),
        _ => {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "Invalid action argument",
            ))
        }
    }
    let Some(Value::Array(objects)) = p.get(1) else {
        return Err(RpcError::new(
            codes::MISC_ERROR,
            "scanobjects argument is required for the start action",
        ));
    };
    let params = chain.params().address_params();
    let mut wanted: std::collections::HashMap<elements::Script, String> = Default::default();
    for object in objects {
        let (desc, range) = match object {
            Value::String(s) => (s.as_str(), (0, 999)),
            Value::Object(o) => {
                let desc = o.get("desc").and_then(Value::as_str).ok_or_else(|| {
                    RpcError::new(
                        codes::INVALID_PARAMETER,
                        "Descriptor needs to be provided in scan object",
                    )
                })?;
                let range = match o.get("range") {
                    Some(Value::Number(n)) => (0, n.as_u64().unwrap_or(999) as u32),
                    Some(Value::Array(a)) if a.len() == 2 => (
                        a[0].as_u64().unwrap_or(0) as u32,
                        a[1].as_u64().unwrap_or(999) as u32,
                    ),
                    _ => (0, 999),
                };
                (desc, range)
            }
            _ => {
                return Err(RpcError::new(
                    codes::INVALID_PARAMETER,
                    "Scan object needs to be either a string or an object",
                ))
            }
        };
        for (script, text) in expand(desc, range, params)?.scripts {
            wanted.entry(script).or_insert(text);
        }
    }
    let mut unspents: Vec<(u32, Txid, u32, Value)> = Vec::new();
    let mut total_policy: u64 = 0;
    let mut count = 0usize;
    for (outpoint, utxo) in chain.utxos() {
        count += 1;
        let Some(desc) = wanted.get(&utxo.txout.script_pubkey) else {
            continue;
        };
        let mut obj = Map::new();
        obj.insert("txid".into(), json!(outpoint.txid.to_string()));
        obj.insert("vout".into(), json!(outpoint.vout));
        obj.insert(
            "scriptPubKey".into(),
            json!(hex::encode(utxo.txout.script_pubkey.as_bytes())),
        );
        obj.insert("desc".into(), json!(desc));
        insert_value_and_asset(&mut obj, &utxo.txout, "amount", "amountcommitment");
        obj.insert("height".into(), json!(utxo.height));
        if let (
            elements::confidential::Asset::Explicit(a),
            elements::confidential::Value::Explicit(v),
        ) = (utxo.txout.asset, utxo.txout.value)
        {
            if a == chain.params().policy_asset() {
                total_policy += v;
            }
        }
        unspents.push((
            utxo.height,
            outpoint.txid,
            outpoint.vout,
            Value::Object(obj),
        ));
    }
    unspents.sort_by_key(|u| (u.1.to_string(), u.2));
    let (height, hash) = chain.tip();
    Ok(json!({
        "success": true,
        "txouts": count,
        "height": height,
        "bestblock": hash.to_string(),
        "unspents": unspents.into_iter().map(|u| u.3).collect::<Vec<_>>(),
        "total_unblinded_bitcoin_amount": amount(total_policy),
    }))
}
