//! Shared helpers for the wallet integration tests: a real in-memory (or on-disk) chain,
//! the wallet manager, and RPC calls through `wallet::dispatch`.

#![allow(dead_code)]

use std::path::Path;

use amphora_regtest::chain::{Chain, ChainParams};
use amphora_regtest::rpc::RpcError;
use amphora_regtest::wallet::{dispatch, WalletManager};
use elements::encode::deserialize;
use elements::{Address, Transaction, TxOut};
use serde_json::Value;

/// A node: chain plus wallets.
pub struct Node {
    pub chain: Chain,
    pub wallets: WalletManager,
}

impl Node {
    /// An in-memory `liquidregtest` node with the transcript's 21M free coins.
    pub fn new() -> Node {
        Node::open(None)
    }

    /// A node stored under `datadir` (reopens what is there).
    pub fn open(datadir: Option<&Path>) -> Node {
        let chain = Chain::open(datadir, ChainParams::liquidregtest()).expect("chain opens");
        let wallets = WalletManager::open(datadir, &chain).expect("wallets open");
        Node { chain, wallets }
    }

    /// Calls a wallet RPC; panics when the method is not a wallet method.
    pub fn try_call(
        &mut self,
        wallet: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, RpcError> {
        let params = params.as_array().cloned().unwrap_or_default();
        dispatch(&mut self.wallets, &mut self.chain, wallet, method, &params)
            .unwrap_or_else(|| panic!("{method} is not a wallet method"))
    }

    /// Calls a wallet RPC that must succeed.
    pub fn call(&mut self, wallet: &str, method: &str, params: Value) -> Value {
        self.try_call(Some(wallet), method, params)
            .unwrap_or_else(|e| panic!("{method} on {wallet} failed: {e}"))
    }

    /// Mines `n` blocks paying fees to an unrelated script.
    pub fn mine(&mut self, n: usize) {
        for _ in 0..n {
            let script = elements::Script::from(
                vec![0x00, 0x14]
                    .into_iter()
                    .chain([9u8; 20])
                    .collect::<Vec<u8>>(),
            );
            self.chain.mine_block(script).expect("block mined");
        }
    }

    /// `sendrawtransaction` against the chain.
    pub fn send_raw(&mut self, hex_str: &str) -> Result<elements::Txid, RpcError> {
        let tx: Transaction = deserialize(&hex::decode(hex_str).unwrap()).unwrap();
        self.chain.submit_transaction(tx)
    }

    /// Checks a transaction's range and surjection proofs and balance with rust-elements.
    pub fn verify_proofs(&self, txid: &str) {
        let txid: elements::Txid = txid.parse().unwrap();
        let mut tx = self.chain.tx(&txid).expect("tx known").tx.clone();
        // rust-elements rejects Elements' explicit zero-value OP_RETURN outputs, which take
        // no part in the balance: check the proofs without them.
        tx.output
            .retain(|o| o.value != elements::confidential::Value::Explicit(0));
        let spent: Vec<TxOut> = tx
            .input
            .iter()
            .map(|i| {
                self.chain
                    .tx(&i.previous_output.txid)
                    .expect("parent known")
                    .tx
                    .output[i.previous_output.vout as usize]
                    .clone()
            })
            .collect();
        tx.verify_tx_amt_proofs(self.chain.secp(), &spent)
            .expect("rust-elements accepts the proofs");
    }
}

/// Amount in 8-decimal units from a JSON number.
pub fn sats(v: &Value) -> i64 {
    (v.as_f64().expect("number") * 100_000_000.0).round() as i64
}

/// Parses an address string.
pub fn addr(v: &Value) -> Address {
    v.as_str().unwrap().parse().unwrap()
}
