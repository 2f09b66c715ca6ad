//! Block assembly (`generatetoaddress`) and the block-level checks applied before a block is
//! connected (also when replaying the stored chain).

use std::collections::{BTreeMap, HashSet};

use elements::opcodes::all::OP_RETURN;
use elements::{
    confidential, script, AssetId, AssetIssuance, Block, BlockHeader, LockTime, OutPoint, Script,
    Sequence, Transaction, TxIn, TxInWitness, TxOut, TxOutWitness,
};

use super::merkle::{merkle_root, witness_commitment, witness_merkle_root};
use super::{now_secs, Chain, ChainError};

/// Header version of mined blocks (BIP9 top bits; the dynafed bit is added on serialization).
const BLOCK_VERSION: u32 = 0x2000_0000;
/// `DEFAULT_BLOCK_MAX_WEIGHT` of block assembly (consensus limit 4,000,000).
pub const DEFAULT_BLOCK_MAX_WEIGHT: usize = 3_996_000;
/// Consensus `MAX_BLOCK_WEIGHT`.
const MAX_BLOCK_WEIGHT: usize = 4_000_000;
/// Weight kept free for the coinbase (`-blockreservedweight`).
const COINBASE_WEIGHT_RESERVE: usize = 4_000;
/// Prefix of the segwit commitment output script (`OP_RETURN` push of 36 bytes).
const WITNESS_COMMITMENT_HEADER: [u8; 4] = [0xaa, 0x21, 0xa9, 0xed];

impl Chain {
    /// Builds the next block: coinbase (height + extra nonce, zero subsidy, one explicit fee
    /// output per asset paid to `coinbase_script`, segwit commitment) then as much of the
    /// mempool, in acceptance order, as fits in the default maximum block weight.
    pub(super) fn assemble_block(&self, coinbase_script: Script) -> Block {
        let height = self.height() + 1;
        let policy = self.params.policy_asset();
        let mut fees: BTreeMap<AssetId, u64> = BTreeMap::new();
        let mut txdata = vec![Transaction {
            version: 2,
            lock_time: LockTime::ZERO,
            input: vec![],
            output: vec![],
        }];
        // Fill the block up to Core's default `-blockmaxweight`, keeping room for the coinbase.
        // Taking a prefix of the acceptance order keeps every parent before its children.
        let mut weight = COINBASE_WEIGHT_RESERVE;
        for entry in self.mempool.ordered_txs() {
            weight += entry.tx.weight();
            if weight > DEFAULT_BLOCK_MAX_WEIGHT {
                break;
            }
            for (asset, fee) in &entry.fees {
                *fees.entry(*asset).or_default() += fee;
            }
            txdata.push(entry.tx.clone());
        }

        let mut outputs = vec![explicit_out(
            policy,
            fees.remove(&policy).unwrap_or(0),
            coinbase_script.clone(),
        )];
        for (asset, fee) in fees {
            if fee > 0 {
                outputs.push(explicit_out(asset, fee, coinbase_script.clone()));
            }
        }
        let reserved = vec![0u8; 32];
        let mut block = Block {
            header: BlockHeader {
                version: BLOCK_VERSION,
                prev_blockhash: self.tip().1,
                merkle_root: elements::TxMerkleNode::from_byte_array([0; 32]),
                time: (now_secs() as u32).max(self.median_time_past() + 1),
                height,
                ext: self.params.block_ext(height),
            },
            txdata,
        };
        let witness = TxInWitness {
            script_witness: elements::Witness::from_slice(std::slice::from_ref(&reserved)),
            ..Default::default()
        };
        block.txdata[0].input.push(TxIn {
            previous_output: OutPoint::default(),
            is_pegin: false,
            script_sig: script::Builder::new()
                .push_int(i64::from(height))
                .push_slice(&[1u8])
                .into_script(),
            sequence: Sequence::MAX,
            asset_issuance: AssetIssuance::default(),
            witness,
        });
        // The commitment output goes last. The coinbase's own witness-only hash depends on its
        // number of outputs but not on their scripts, so it is computed with a placeholder.
        outputs.push(explicit_out(policy, 0, Script::new()));
        block.txdata[0].output = outputs;
        let commitment = witness_commitment(witness_merkle_root(&block), &reserved);
        let mut commitment_script = WITNESS_COMMITMENT_HEADER.to_vec();
        commitment_script.extend_from_slice(&commitment);
        block.txdata[0]
            .output
            .last_mut()
            .expect("commitment output")
            .script_pubkey = script::Builder::new()
            .push_opcode(OP_RETURN)
            .push_slice(&commitment_script)
            .into_script();
        block.header.merkle_root = merkle_root(block.txdata.iter().map(|tx| tx.txid()));
        block
    }

    /// Header-level checks: linkage, height, time, dynafed params, block signature witness,
    /// merkle root, segwit commitment, single leading coinbase.
    pub(super) fn check_block_links(&self, block: &Block, height: u32) -> Result<(), ChainError> {
        let fail = |reason: &str| ChainError::InvalidBlock {
            height,
            reason: reason.to_string(),
        };
        let header = &block.header;
        if header.prev_blockhash != self.tip().1 {
            return Err(fail("prev-blk-not-found"));
        }
        if header.height != height {
            return Err(fail("bad-header-height"));
        }
        if header.time <= self.median_time_past() {
            return Err(fail("time-too-old"));
        }
        if header.ext != self.params.block_ext(height) {
            return Err(fail("bad-dynafed-params or bad-signblock-witness"));
        }
        if block.weight() > MAX_BLOCK_WEIGHT {
            return Err(fail("bad-blk-weight"));
        }
        let Some(coinbase) = block.txdata.first() else {
            return Err(fail("bad-blk-length"));
        };
        if !coinbase.is_coinbase() || block.txdata[1..].iter().any(|tx| tx.is_coinbase()) {
            return Err(fail("bad-cb-missing or bad-cb-multiple"));
        }
        if header.merkle_root != merkle_root(block.txdata.iter().map(|tx| tx.txid())) {
            return Err(fail("bad-txnmrklroot"));
        }
        let reserved = coinbase.input[0]
            .witness
            .script_witness
            .get(0)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let commitment = witness_commitment(witness_merkle_root(block), &reserved);
        let found = coinbase.output.iter().rev().find_map(|out| {
            let bytes = out.script_pubkey.as_bytes();
            (bytes.len() >= 38
                && bytes[0] == 0x6a
                && bytes[1] == 0x24
                && bytes[2..6] == WITNESS_COMMITMENT_HEADER)
                .then(|| bytes[6..38].to_vec())
        });
        if found.as_deref() != Some(&commitment[..]) {
            return Err(fail("bad-witness-merkle-match"));
        }
        Ok(())
    }

    /// Contextual transaction checks of a block: every input exists exactly once and is
    /// mature, amounts balance for explicit transactions, and the coinbase claims no more than
    /// the fees (zero subsidy). Scripts and proofs of non-coinbase transactions are checked
    /// when they enter the mempool, the only way transactions reach our blocks.
    pub(super) fn check_block_inputs(&self, block: &Block) -> Result<(), String> {
        let height = self.height() + 1;
        let mut spent: HashSet<OutPoint> = HashSet::new();
        let mut created: BTreeMap<OutPoint, &TxOut> = BTreeMap::new();
        let mut fees: BTreeMap<AssetId, u64> = BTreeMap::new();
        for tx in block.txdata.iter().skip(1) {
            let txid = tx.txid();
            for input in &tx.input {
                let prevout = input.previous_output;
                if !spent.insert(prevout) {
                    return Err("bad-txns-inputs-missingorspent".into());
                }
                if let Some(utxo) = self.utxos.get(&prevout) {
                    if utxo.is_coinbase && height - utxo.height < self.params.coinbase_maturity() {
                        return Err("bad-txns-premature-spend-of-coinbase".into());
                    }
                } else if created.remove(&prevout).is_none() {
                    return Err("bad-txns-inputs-missingorspent".into());
                }
            }
            for (vout, out) in tx.output.iter().enumerate() {
                if super::enters_utxo_set(out) {
                    created.insert(OutPoint::new(txid, vout as u32), out);
                }
                if out.is_fee() {
                    if let (confidential::Asset::Explicit(a), confidential::Value::Explicit(v)) =
                        (out.asset, out.value)
                    {
                        *fees.entry(a).or_default() += v;
                    }
                }
            }
        }
        let coinbase = &block.txdata[0];
        let mut claimed: BTreeMap<AssetId, u64> = BTreeMap::new();
        for out in &coinbase.output {
            match (out.asset, out.value) {
                (confidential::Asset::Explicit(a), confidential::Value::Explicit(v)) => {
                    *claimed.entry(a).or_default() += v;
                }
                _ => return Err("bad-cb-amount".into()),
            }
        }
        for (asset, amount) in claimed {
            if amount > fees.get(&asset).copied().unwrap_or(0) {
                return Err("bad-cb-amount".into());
            }
        }
        Ok(())
    }
}

fn explicit_out(asset: AssetId, value: u64, script_pubkey: Script) -> TxOut {
    TxOut {
        asset: confidential::Asset::Explicit(asset),
        value: confidential::Value::Explicit(value),
        nonce: confidential::Nonce::Null,
        script_pubkey,
        witness: TxOutWitness::default(),
    }
}
