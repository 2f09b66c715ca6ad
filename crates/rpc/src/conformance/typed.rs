//! The typed parser of each method, applied to a whole answer: what the platform's code will
//! see when it calls the method through [`ElementsRpc`](crate::ElementsRpc).

use std::collections::BTreeMap;

use elements::{AssetId, BlockHash, Txid};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::types::*;
use crate::{parse_answer, RpcError};

fn parse<T: DeserializeOwned>(method: &str, http_status: u16, body: &[u8]) -> Result<(), RpcError> {
    parse_answer::<T>(method, http_status, body).map(drop)
}

fn decode_hex<T: elements::encode::Decodable>(
    method: &str,
    http_status: u16,
    body: &[u8],
) -> Result<(), RpcError> {
    let hex: String = parse_answer(method, http_status, body)?;
    let invalid = |reason: String| RpcError::Parse {
        method: method.to_owned(),
        source: serde::de::Error::custom(reason),
    };
    let bytes = hex::decode(hex).map_err(|e| invalid(format!("invalid hex: {e}")))?;
    elements::encode::deserialize::<T>(&bytes)
        .map(drop)
        .map_err(|e| invalid(format!("cannot decode: {e}")))
}

/// Parses an answer to `method` (called with `params`) with the client's typed parser for it.
///
/// `None` when the client has no typed method for `method`; otherwise the outcome of
/// [`parse_answer`] with the method's result type (`Err(RpcError::Node)` for error answers).
/// Serialized blocks and transactions (`getblock` verbosity 0, `getrawtransaction` false) are
/// also decoded with rust-elements.
pub fn parse_typed(
    method: &str,
    params: &[Value],
    http_status: u16,
    body: &[u8],
) -> Option<Result<(), RpcError>> {
    let flag = params.get(1).cloned().unwrap_or(Value::Null);
    let (m, s, b) = (method, http_status, body);
    Some(match method {
        "getnetworkinfo" => parse::<NetworkInfo>(m, s, b),
        "getblockchaininfo" => parse::<BlockchainInfo>(m, s, b),
        "createwallet" | "loadwallet" => parse::<LoadedWallet>(m, s, b),
        "unloadwallet" => parse::<UnloadedWallet>(m, s, b),
        "listwallets" => parse::<Vec<String>>(m, s, b),
        "getblockcount" => parse::<u64>(m, s, b),
        "getbalance" => parse::<AssetAmounts>(m, s, b),
        "rescanblockchain" => parse::<RescanResult>(m, s, b),
        "getwalletinfo" => parse::<WalletInfo>(m, s, b),
        "dumpassetlabels" => parse::<BTreeMap<String, AssetId>>(m, s, b),
        "getnewaddress"
        | "blindrawtransaction"
        | "createrawtransaction"
        | "encryptwallet"
        | "dumpmasterblindingkey"
        | "signmessage" => parse::<String>(m, s, b),
        "getaddressinfo" => parse::<AddressInfo>(m, s, b),
        "sendtoaddress" | "sendrawtransaction" | "sendmany" | "destroyamount" => {
            parse::<Txid>(m, s, b)
        }
        "generatetoaddress" => parse::<Vec<BlockHash>>(m, s, b),
        "fundrawtransaction" => parse::<FundedTransaction>(m, s, b),
        "rawissueasset" => parse::<Vec<RawIssuance>>(m, s, b),
        "decoderawtransaction" => parse::<DecodedTransaction>(m, s, b),
        "signrawtransactionwithwallet" => parse::<SignedTransaction>(m, s, b),
        "testmempoolaccept" => parse::<Vec<MempoolAcceptResult>>(m, s, b),
        "getmempoolinfo" => parse::<MempoolInfo>(m, s, b),
        "getrawmempool" => parse::<Vec<Txid>>(m, s, b),
        "gettransaction" => parse::<WalletTransaction>(m, s, b),
        "getrawtransaction" if flag == true => parse::<DecodedTransaction>(m, s, b),
        "getrawtransaction" => decode_hex::<elements::Transaction>(m, s, b),
        "listissuances" => parse::<Vec<IssuanceInfo>>(m, s, b),
        "listunspent" => parse::<Vec<UnspentOutput>>(m, s, b),
        "reissueasset" => parse::<Reissuance>(m, s, b),
        "issueasset" => parse::<IssuedAsset>(m, s, b),
        "getbestblockhash" | "getblockhash" => parse::<BlockHash>(m, s, b),
        "getblock" if flag == 0 => decode_hex::<elements::Block>(m, s, b),
        "getblock" if flag == 2 => parse::<BlockWithTransactions>(m, s, b),
        "getblock" => parse::<BlockWithTxids>(m, s, b),
        "getblockheader" => parse::<BlockHeaderInfo>(m, s, b),
        "scantxoutset" => parse::<ScanTxOutSetResult>(m, s, b),
        "gettxout" => parse::<Option<TxOutInfo>>(m, s, b),
        "walletpassphrase" | "walletlock" => parse::<()>(m, s, b),
        _ => return None,
    })
}
