//! Transactions the wallet's unit tests start from.

use elements::{AssetIssuance, OutPoint, Script, Sequence, Transaction, TxIn, TxOut, Txid};

/// An unsigned input spending output 0 of the made-up transaction `[n; 32]`.
pub(crate) fn input(n: u8) -> TxIn {
    TxIn {
        previous_output: OutPoint::new(Txid::from_byte_array([n; 32]), 0),
        is_pegin: false,
        script_sig: Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: AssetIssuance::null(),
        witness: Default::default(),
    }
}

/// A transaction from one made-up input to `outputs`.
pub(crate) fn paying(outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: vec![input(7)],
        output: outputs,
    }
}
