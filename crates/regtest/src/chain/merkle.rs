//! Bitcoin-style merkle trees over transaction hashes (block merkle root, witness commitment).

use elements::encode::serialize;
use elements::hashes::{sha256d, HashEngine};
use elements::{Block, Transaction, TxMerkleNode, Txid};

/// Merkle root of `hashes` (double-SHA256, last element duplicated on odd levels), as
/// `ComputeMerkleRoot` does; all zeros for an empty list.
pub fn merkle_root_bytes(mut level: Vec<[u8; 32]>) -> [u8; 32] {
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            let last = *level.last().expect("non-empty level");
            level.push(last);
        }
        level = level
            .chunks(2)
            .map(|pair| {
                let mut engine = sha256d::Hash::engine();
                engine.input(&pair[0]);
                engine.input(&pair[1]);
                sha256d::Hash::from_engine(engine).to_byte_array()
            })
            .collect();
    }
    level[0]
}

/// The block merkle root over transaction ids.
pub fn merkle_root(txids: impl Iterator<Item = Txid>) -> TxMerkleNode {
    TxMerkleNode::from_byte_array(merkle_root_bytes(
        txids.map(|txid| txid.to_byte_array()).collect(),
    ))
}

/// Elements' `BlockWitnessMerkleRoot`: fast merkle root over every transaction's
/// witness-only hash (the coinbase's included, its null input counting as an empty witness).
pub fn witness_merkle_root(block: &Block) -> [u8; 32] {
    let leaves = block
        .txdata
        .iter()
        .map(witness_only_hash)
        .collect::<Vec<_>>();
    *elements::fast_merkle_root(&leaves).as_parts().0
}

/// The segwit commitment `sha256d(witness_root ‖ reserved_value)` placed in the coinbase.
pub fn witness_commitment(witness_root: [u8; 32], reserved_value: &[u8]) -> [u8; 32] {
    let mut engine = sha256d::Hash::engine();
    engine.input(&witness_root);
    engine.input(reserved_value);
    sha256d::Hash::from_engine(engine).to_byte_array()
}

/// Elements' `GetWitnessOnlyHash` (internal byte order): fast merkle root of the per-input
/// and per-output witness hashes (coinbase inputs count as empty witnesses).
pub fn witness_only_hash(tx: &Transaction) -> [u8; 32] {
    fn hash(bytes: &[u8]) -> [u8; 32] {
        let mut engine = sha256d::Hash::engine();
        engine.input(bytes);
        sha256d::Hash::from_engine(engine).to_byte_array()
    }
    let empty = elements::TxInWitness::default();
    let ins: Vec<[u8; 32]> = tx
        .input
        .iter()
        .map(|input| {
            let w = if input.previous_output.is_null() {
                &empty
            } else {
                &input.witness
            };
            *elements::fast_merkle_root(&[
                hash(&serialize(&w.amount_rangeproof)),
                hash(&serialize(&w.inflation_keys_rangeproof)),
                hash(&serialize(&w.script_witness)),
                hash(&serialize(&w.pegin_witness)),
            ])
            .as_parts()
            .0
        })
        .collect();
    let outs: Vec<[u8; 32]> = tx
        .output
        .iter()
        .map(|o| {
            *elements::fast_merkle_root(&[
                hash(&serialize(&o.witness.surjection_proof)),
                hash(&serialize(&o.witness.rangeproof)),
            ])
            .as_parts()
            .0
        })
        .collect();
    let root = elements::fast_merkle_root(&[
        *elements::fast_merkle_root(&ins).as_parts().0,
        *elements::fast_merkle_root(&outs).as_parts().0,
    ]);
    *root.as_parts().0
}
