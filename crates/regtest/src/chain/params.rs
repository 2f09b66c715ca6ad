//! Chain parameters of the custom Elements chains the node runs (`liquidregtest`,
//! `elementsregtest`), reproducing Elements Core's `CCustomParams` defaults.

use elements::bitcoin;
use elements::bitcoin::hashes::Hash as _;
use elements::hashes::sha256;
use elements::opcodes::all::OP_RETURN;
use elements::opcodes::OP_TRUE;
use elements::AssetBlindingNonce;
use elements::{
    confidential, dynafed, genesis, script, AddressParams, AssetEntropy, AssetId, AssetIssuance,
    Block, BlockExtData, BlockHash, BlockHeader, ContractHash, LockTime, OutPoint, Script,
    Sequence, Transaction, TxIn, TxInWitness, TxMerkleNode, TxOut, TxOutWitness, Txid,
};

use super::merkle::merkle_root;

/// Coins created by the genesis block of the transcript's node (`-initialfreecoins`).
pub const DEFAULT_INITIAL_FREE_COINS: u64 = 2_100_000_000_000_000;
/// Blocks a coinbase output must wait before it can be spent (`COINBASE_MATURITY`).
pub const COINBASE_MATURITY: u32 = 100;
/// Genesis time of every custom Elements chain.
const GENESIS_TIME: u32 = 1_296_688_602;
/// `max_block_signature_size` / dynafed `signblock_witness_limit` default.
const SIGNBLOCK_WITNESS_LIMIT: u32 = 74;
/// The default PAK list Elements puts in the dynafed extension space of custom chains.
const DEFAULT_EXTENSION_SPACE: &str = "02fcba7ecf41bc7e1be4ee122d9d22e3333671eb0a3a87b5cdf099d59874e1940f02fcba7ecf41bc7e1be4ee122d9d22e3333671eb0a3a87b5cdf099d59874e1940f";
/// Dynafed epoch length on custom chains.
pub const DYNAFED_EPOCH_LENGTH: u32 = 10;

/// The chains the node knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainName {
    /// `-chain=liquidregtest` (LWK, the `elementsd` crate, the transcript).
    LiquidRegtest,
    /// `-chain=elementsregtest` (Elements tutorials).
    ElementsRegtest,
}

impl ChainName {
    /// The `-chain=` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainName::LiquidRegtest => "liquidregtest",
            ChainName::ElementsRegtest => "elementsregtest",
        }
    }
}

impl std::fmt::Display for ChainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChainName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "liquidregtest" => Ok(ChainName::LiquidRegtest),
            "elementsregtest" => Ok(ChainName::ElementsRegtest),
            other => Err(format!(
                "unsupported chain '{other}' (expected liquidregtest or elementsregtest)"
            )),
        }
    }
}

/// Consensus parameters of one chain, with its genesis block computed as Elements Core does.
#[derive(Debug, Clone)]
pub struct ChainParams {
    name: ChainName,
    initial_free_coins: u64,
    signblockscript: Script,
    fedpegscript: Script,
    policy_asset: AssetId,
    genesis: Block,
    genesis_hash: BlockHash,
}

impl ChainParams {
    /// `-chain=liquidregtest -initialfreecoins=2100000000000000` (the transcript's node).
    pub fn liquidregtest() -> Self {
        Self::new(ChainName::LiquidRegtest, DEFAULT_INITIAL_FREE_COINS)
    }

    /// `-chain=elementsregtest -initialfreecoins=2100000000000000`.
    pub fn elementsregtest() -> Self {
        Self::new(ChainName::ElementsRegtest, DEFAULT_INITIAL_FREE_COINS)
    }

    /// Parameters for `name` with `initial_free_coins` satoshis of the policy asset paid to
    /// `OP_TRUE` in the genesis block (0 = none), other settings at Elements' defaults
    /// (`signblockscript=51`, `fedpegscript=51`).
    pub fn new(name: ChainName, initial_free_coins: u64) -> Self {
        let op_true = script::Builder::new().push_opcode(OP_TRUE).into_script();
        let network = genesis::NetworkParams::custom_network(
            name.as_str().to_string(),
            Some(op_true.clone()),
            Some(op_true.clone()),
            Some(initial_free_coins),
        );
        let commit = genesis::commit_to_custom_network_parameters(&network);
        let parent_genesis = bitcoin::constants::genesis_block(bitcoin::Network::Regtest)
            .block_hash()
            .to_byte_array();
        let asset_outpoint = OutPoint::new(Txid::from_byte_array(commit.to_byte_array()), 0);
        let entropy = AssetId::generate_asset_entropy(
            asset_outpoint,
            ContractHash::from_byte_array(parent_genesis),
        );
        let policy_asset = AssetId::from_entropy(entropy);
        let genesis = genesis_block(
            commit,
            &op_true,
            initial_free_coins,
            asset_outpoint,
            parent_genesis,
            policy_asset,
        );
        let genesis_hash = genesis.block_hash();
        ChainParams {
            name,
            initial_free_coins,
            signblockscript: op_true.clone(),
            fedpegscript: op_true,
            policy_asset,
            genesis,
            genesis_hash,
        }
    }

    /// The chain name (`liquidregtest`, `elementsregtest`).
    pub fn name(&self) -> ChainName {
        self.name
    }

    /// Address prefixes of custom Elements chains (`el1…`, `ert1…`, `CTE…`, `Azp…`).
    pub fn address_params(&self) -> &'static AddressParams {
        &AddressParams::ELEMENTS
    }

    /// The pegged/policy asset (fees, `bitcoin` label).
    pub fn policy_asset(&self) -> AssetId {
        self.policy_asset
    }

    /// The genesis block.
    pub fn genesis(&self) -> &Block {
        &self.genesis
    }

    /// Hash of the genesis block.
    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis_hash
    }

    /// Policy-asset satoshis created by the genesis block.
    pub fn initial_free_coins(&self) -> u64 {
        self.initial_free_coins
    }

    /// Blocks before a coinbase output can be spent.
    pub fn coinbase_maturity(&self) -> u32 {
        COINBASE_MATURITY
    }

    /// The legacy block-signing script (`-signblockscript`, `OP_TRUE`).
    pub fn signblockscript(&self) -> &Script {
        &self.signblockscript
    }

    /// The fedpeg script (`-fedpegscript`, `OP_TRUE`).
    pub fn fedpegscript(&self) -> &Script {
        &self.fedpegscript
    }

    /// Full dynafed parameters in force from height 1: P2WSH of the signblockscript, witness
    /// limit 74, P2SH-P2WSH fedpeg program, fedpegscript, default PAK extension space.
    pub fn dynafed_full_params(&self) -> dynafed::FullParams {
        let sign_program = Script::new_v0_wsh(&elements::WScriptHash::from_byte_array(
            sha256::Hash::hash(self.signblockscript.as_bytes()).to_byte_array(),
        ));
        let fedpeg_wsh = bitcoin::ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::hash(
            self.fedpegscript.as_bytes(),
        ));
        let fedpeg_program = bitcoin::ScriptBuf::new_p2sh(&fedpeg_wsh.script_hash());
        let extension = hex::decode(DEFAULT_EXTENSION_SPACE).expect("constant hex");
        dynafed::FullParams::new(
            sign_program,
            SIGNBLOCK_WITNESS_LIMIT,
            fedpeg_program,
            self.fedpegscript.to_bytes(),
            vec![extension],
        )
    }

    /// The dynafed `current` params of the header at `height`: full at height 1 and at every
    /// epoch start, compact otherwise.
    pub fn dynafed_current_params(&self, height: u32) -> dynafed::Params {
        let full = self.dynafed_full_params();
        if height == 1 || height % DYNAFED_EPOCH_LENGTH == 0 {
            dynafed::Params::Full(full)
        } else {
            full.into_compact()
        }
    }

    /// The header extension of a block at `height` (≥ 1): dynafed with an `OP_TRUE` witness.
    pub fn block_ext(&self, height: u32) -> BlockExtData {
        BlockExtData::Dynafed {
            current: self.dynafed_current_params(height),
            proposed: dynafed::Params::Null,
            signblock_witness: vec![vec![OP_TRUE.into_u8()]],
        }
    }
}

/// The genesis block per Elements' `CreateGenesisBlock` for custom chains: the commitment
/// coinbase plus, with free coins, the policy-asset issuance paying `OP_TRUE`.
fn genesis_block(
    commit: sha256::Hash,
    signblockscript: &Script,
    initial_free_coins: u64,
    asset_outpoint: OutPoint,
    parent_genesis: [u8; 32],
    policy_asset: AssetId,
) -> Block {
    let coinbase = Transaction {
        version: 1,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::default(),
            is_pegin: false,
            script_sig: script::Builder::new()
                .push_slice(commit.as_byte_array())
                .into_script(),
            sequence: Sequence::MAX,
            asset_issuance: AssetIssuance::default(),
            witness: TxInWitness::default(),
        }],
        output: vec![TxOut {
            asset: confidential::Asset::Explicit(AssetId::default()),
            value: confidential::Value::Explicit(0),
            nonce: confidential::Nonce::Null,
            script_pubkey: script::Builder::new().push_opcode(OP_RETURN).into_script(),
            witness: TxOutWitness::default(),
        }],
    };
    let mut txdata = vec![coinbase];
    if initial_free_coins > 0 {
        txdata.push(Transaction {
            version: 1,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: asset_outpoint,
                is_pegin: false,
                script_sig: Script::new(),
                sequence: Sequence::MAX,
                asset_issuance: AssetIssuance {
                    asset_blinding_nonce: AssetBlindingNonce::from_byte_array([0; 32]),
                    asset_entropy: AssetEntropy::from_byte_array(parent_genesis),
                    amount: confidential::Value::Explicit(initial_free_coins),
                    inflation_keys: confidential::Value::Explicit(0),
                },
                witness: TxInWitness::default(),
            }],
            output: vec![TxOut {
                asset: confidential::Asset::Explicit(policy_asset),
                value: confidential::Value::Explicit(initial_free_coins),
                nonce: confidential::Nonce::Null,
                script_pubkey: script::Builder::new().push_opcode(OP_TRUE).into_script(),
                witness: TxOutWitness::default(),
            }],
        });
    }
    let merkle: TxMerkleNode = merkle_root(txdata.iter().map(|tx| tx.txid()));
    Block {
        header: BlockHeader {
            version: 1,
            prev_blockhash: BlockHash::from_byte_array([0; 32]),
            merkle_root: merkle,
            time: GENESIS_TIME,
            height: 0,
            ext: BlockExtData::Proof {
                challenge: signblockscript.clone(),
                solution: Script::new(),
            },
        },
        txdata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liquidregtest_genesis_and_policy_asset_match_elements_core() {
        let params = ChainParams::liquidregtest();
        assert_eq!(
            params.policy_asset().to_string(),
            "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
        );
        assert_eq!(
            params.genesis_hash().to_string(),
            "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"
        );
    }

    #[test]
    fn elementsregtest_genesis_and_policy_asset_match_elements_core() {
        let params = ChainParams::elementsregtest();
        assert_eq!(
            params.policy_asset().to_string(),
            "b2e15d0d7a0c94e4e2ce0fe6e8691b9e451377f6e46e8045a86f7c4b5d4f0f23"
        );
        assert_eq!(
            params.genesis_hash().to_string(),
            "209577bda6bf4b5804bd46f8621580dd6d4e8bfa2d190e1c50e932492baca07d"
        );
    }

    #[test]
    fn smaller_free_coins_give_lwk_test_genesis() {
        let params = ChainParams::new(ChainName::LiquidRegtest, 2_100_000_000);
        assert_eq!(
            params.genesis_hash().to_string(),
            "c7af03b0774a3498a574902bd41045c1633fd40b69ca163345c5d9c78bfd6af7"
        );
    }

    #[test]
    fn dynafed_params_match_transcript_root() {
        let params = ChainParams::liquidregtest();
        let full = params.dynafed_full_params();
        assert_eq!(
            hex::encode(full.signblockscript.as_bytes()),
            "00204ae81572f06e1b88fd5ced7a1a000945432e83e1551e6f721ee9c00b8cc33260"
        );
        assert_eq!(
            hex::encode(full.fedpeg_program.as_bytes()),
            "a91472c44f957fc011d97e3406667dca5b1c930c402687"
        );
        assert_eq!(
            dynafed::Params::Full(full).calculate_root().to_string(),
            "3700bdb2975ff8e0dadaaba2b33857b0ca2610c950a92b1db725025e3647a8e1"
        );
    }
}
