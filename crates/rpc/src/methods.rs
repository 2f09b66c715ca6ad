//! Typed methods over [`ElementsRpc::call`]: one per RPC the platform uses.
//!
//! Wallet methods must be called on a client routed with [`ElementsRpc::wallet`] when the node
//! has several wallets loaded (otherwise the node answers -19).

use std::collections::BTreeMap;

use elements::encode::deserialize;
use elements::{AssetId, BlockHash, Txid};
use serde_json::{json, Value};

use crate::client::ElementsRpc;
use crate::types::*;
use crate::RpcError;

mod wallet;
pub use wallet::{AddressType, AssetPayment, RawIssuanceRequest};

impl ElementsRpc {
    // ---- node and chain ----

    /// `getnetworkinfo`.
    pub async fn get_network_info(&self) -> Result<NetworkInfo, RpcError> {
        self.call("getnetworkinfo", &[]).await
    }

    /// `getblockchaininfo`.
    pub async fn get_blockchain_info(&self) -> Result<BlockchainInfo, RpcError> {
        self.call("getblockchaininfo", &[]).await
    }

    /// `getindexinfo`: the node's optional indexes by name; `txindex` is present only on a
    /// node started with `-txindex=1`.
    pub async fn get_index_info(&self) -> Result<BTreeMap<String, IndexInfo>, RpcError> {
        self.call("getindexinfo", &[]).await
    }

    /// `waitforblockheight <height> <timeout_ms>`: answers the tip once it is at least `height`
    /// high (at once when it already is), or when `timeout` passes (Elements Core; hidden).
    pub async fn wait_for_block_height(
        &self,
        height: u64,
        timeout: std::time::Duration,
    ) -> Result<BlockRef, RpcError> {
        let millis = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.call("waitforblockheight", &[json!(height), json!(millis)])
            .await
    }

    /// `getblockcount`: height of the best block.
    pub async fn get_block_count(&self) -> Result<u64, RpcError> {
        self.call("getblockcount", &[]).await
    }

    /// `getblockhash <height>`.
    pub async fn get_block_hash(&self, height: u64) -> Result<BlockHash, RpcError> {
        self.call("getblockhash", &[json!(height)]).await
    }

    /// `getbestblockhash`.
    pub async fn get_best_block_hash(&self) -> Result<BlockHash, RpcError> {
        self.call("getbestblockhash", &[]).await
    }

    /// `getblock <hash> 0`: the serialized block as hex.
    pub async fn get_block_hex(&self, hash: &BlockHash) -> Result<String, RpcError> {
        self.call("getblock", &[json!(hash), json!(0)]).await
    }

    /// `getblock <hash> 0` decoded with rust-elements.
    pub async fn get_block(&self, hash: &BlockHash) -> Result<elements::Block, RpcError> {
        let hex = self.get_block_hex(hash).await?;
        decode_hex("getblock", &hex)
    }

    /// The blocks at `heights` of the node's best chain, decoded, in two JSON-RPC batches (a
    /// `getblockhash` per height, then a `getblock <hash> 0` per hash) instead of two round
    /// trips per block. Any call's error fails the whole read (a height above the tip is the
    /// node's -8 "Block height out of range"). A reorg between the two batches can mix blocks
    /// of two branches: callers check that each block extends the one before it.
    pub async fn get_blocks_at(
        &self,
        heights: std::ops::RangeInclusive<u64>,
    ) -> Result<Vec<elements::Block>, RpcError> {
        let calls: Vec<Vec<Value>> = heights.map(|h| vec![json!(h)]).collect();
        let hashes = self
            .call_batch::<BlockHash>("getblockhash", &calls)
            .await?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let calls: Vec<Vec<Value>> = hashes.iter().map(|h| vec![json!(h), json!(0)]).collect();
        self.call_batch::<String>("getblock", &calls)
            .await?
            .into_iter()
            .map(|hex| decode_hex("getblock", &hex?))
            .collect()
    }

    /// `getblock <hash> 1`: header fields and txids.
    pub async fn get_block_txids(&self, hash: &BlockHash) -> Result<BlockWithTxids, RpcError> {
        self.call("getblock", &[json!(hash), json!(1)]).await
    }

    /// `getblock <hash> 2`: header fields and decoded transactions.
    pub async fn get_block_verbose(
        &self,
        hash: &BlockHash,
    ) -> Result<BlockWithTransactions, RpcError> {
        self.call("getblock", &[json!(hash), json!(2)]).await
    }

    /// `getblockheader <hash>`.
    pub async fn get_block_header_info(
        &self,
        hash: &BlockHash,
    ) -> Result<BlockHeaderInfo, RpcError> {
        self.call("getblockheader", &[json!(hash)]).await
    }

    /// `getrawtransaction <txid> false`: hex (needs `-txindex` for confirmed non-wallet txs).
    pub async fn get_raw_transaction_hex(&self, txid: &Txid) -> Result<String, RpcError> {
        self.call("getrawtransaction", &[json!(txid), json!(false)])
            .await
    }

    /// `getrawtransaction <txid> false` decoded with rust-elements.
    pub async fn get_raw_transaction(
        &self,
        txid: &Txid,
    ) -> Result<elements::Transaction, RpcError> {
        let hex = self.get_raw_transaction_hex(txid).await?;
        decode_hex("getrawtransaction", &hex)
    }

    /// `getrawtransaction <txid> true`.
    pub async fn get_raw_transaction_verbose(
        &self,
        txid: &Txid,
    ) -> Result<DecodedTransaction, RpcError> {
        self.call("getrawtransaction", &[json!(txid), json!(true)])
            .await
    }

    /// `decoderawtransaction <hex>`.
    pub async fn decode_raw_transaction(&self, hex: &str) -> Result<DecodedTransaction, RpcError> {
        self.call("decoderawtransaction", &[json!(hex)]).await
    }

    /// `testmempoolaccept [hex...]`.
    pub async fn test_mempool_accept(
        &self,
        hexes: &[&str],
    ) -> Result<Vec<MempoolAcceptResult>, RpcError> {
        self.call("testmempoolaccept", &[json!(hexes)]).await
    }

    /// `sendrawtransaction <hex>`.
    pub async fn send_raw_transaction(&self, hex: &str) -> Result<Txid, RpcError> {
        self.call("sendrawtransaction", &[json!(hex)]).await
    }

    /// `gettxout <txid> <vout>`: `None` when spent or unknown.
    pub async fn get_tx_out(&self, txid: &Txid, vout: u32) -> Result<Option<TxOutInfo>, RpcError> {
        self.call("gettxout", &[json!(txid), json!(vout)]).await
    }

    /// `scantxoutset start [descriptors]` (`addr(...)` strings or `{"desc": ...}` objects).
    pub async fn scan_tx_out_set(
        &self,
        descriptors: &[Value],
    ) -> Result<ScanTxOutSetResult, RpcError> {
        self.call("scantxoutset", &[json!("start"), json!(descriptors)])
            .await
    }

    /// `getmempoolinfo`.
    pub async fn get_mempool_info(&self) -> Result<MempoolInfo, RpcError> {
        self.call("getmempoolinfo", &[]).await
    }

    /// `getmempoolentry <txid>`: the entry as the node answers it; -5 when the transaction is
    /// not in the mempool.
    pub async fn get_mempool_entry(&self, txid: &Txid) -> Result<Value, RpcError> {
        self.call("getmempoolentry", &[json!(txid)]).await
    }

    /// `getrawmempool`.
    pub async fn get_raw_mempool(&self) -> Result<Vec<Txid>, RpcError> {
        self.call("getrawmempool", &[]).await
    }

    /// `dumpassetlabels`: label -> asset id.
    pub async fn dump_asset_labels(&self) -> Result<BTreeMap<String, AssetId>, RpcError> {
        self.call("dumpassetlabels", &[]).await
    }

    /// `generatetoaddress <n> <address>` (regtest).
    pub async fn generate_to_address(
        &self,
        blocks: u64,
        address: &str,
    ) -> Result<Vec<BlockHash>, RpcError> {
        self.call("generatetoaddress", &[json!(blocks), json!(address)])
            .await
    }

    // ---- wallet management (node level) ----

    /// `createwallet <name>` (legacy wallet with default options).
    pub async fn create_wallet(&self, name: &str) -> Result<LoadedWallet, RpcError> {
        self.call("createwallet", &[json!(name)]).await
    }

    /// `loadwallet <name>`.
    pub async fn load_wallet(&self, name: &str) -> Result<LoadedWallet, RpcError> {
        self.call("loadwallet", &[json!(name)]).await
    }

    /// `unloadwallet <name>`.
    pub async fn unload_wallet(&self, name: &str) -> Result<UnloadedWallet, RpcError> {
        self.call("unloadwallet", &[json!(name)]).await
    }

    /// `listwallets`: loaded wallets.
    pub async fn list_wallets(&self) -> Result<Vec<String>, RpcError> {
        self.call("listwallets", &[]).await
    }
}

/// Decodes the consensus-encoded hex a node returned from `method` (a transaction, a block).
pub fn decode_hex<T: elements::encode::Decodable>(method: &str, hex: &str) -> Result<T, RpcError> {
    let bytes = hex::decode(hex).map_err(|e| RpcError::Parse {
        method: method.to_owned(),
        source: serde::de::Error::custom(format!("invalid hex: {e}")),
    })?;
    deserialize(&bytes).map_err(|e| RpcError::Parse {
        method: method.to_owned(),
        source: serde::de::Error::custom(format!("cannot decode: {e}")),
    })
}
