//! Shared helpers of the validation tests: keys from fixed seeds, transaction builders and
//! signers made with rust-elements, and a chain with the genesis free coins to fund from.

#![allow(dead_code, unused_imports)]

pub use std::collections::BTreeMap;

pub use amphora_regtest::chain::{Chain, ChainParams};
pub use amphora_regtest::rpc::RpcError;
pub use elements::bitcoin::PublicKey as BtcPublicKey;
pub use elements::confidential::{Asset, Nonce, Value};
pub use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
pub use elements::hashes::sha256;
pub use elements::opcodes::all::{OP_CHECKMULTISIG, OP_PUSHNUM_2, OP_RETURN};
pub use elements::opcodes::OP_TRUE;
pub use elements::script::Builder;
pub use elements::secp256k1_zkp::{All, Message, PublicKey, Secp256k1, SecretKey};
pub use elements::sighash::SighashCache;
pub use elements::{
    Address, AssetId, AssetIssuance, ContractHash, EcdsaSighashType, LockTime, OutPoint, Script,
    Sequence, Transaction, TxIn, TxInWitness, TxOut, TxOutSecrets, TxOutWitness,
};
pub use rand::SeedableRng;

pub const FEE: u64 = 2_000;

pub struct Fixture {
    pub chain: Chain,
    pub secp: Secp256k1<All>,
    pub policy: AssetId,
    /// The anyone-can-spend coins left (genesis free coins, then their change).
    pub coins: (OutPoint, TxOut),
}

pub fn key(seed: u8) -> (SecretKey, PublicKey) {
    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[seed; 32]).expect("key");
    (sk, PublicKey::from_secret_key(&secp, &sk))
}

pub fn p2wpkh(pk: &PublicKey) -> Script {
    Address::p2wpkh(
        &BtcPublicKey::new(*pk),
        None,
        &elements::AddressParams::ELEMENTS,
    )
    .script_pubkey()
}

pub fn explicit(asset: AssetId, value: u64, script: Script) -> TxOut {
    TxOut {
        asset: Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: Nonce::Null,
        script_pubkey: script,
        witness: TxOutWitness::default(),
    }
}

pub fn input(prevout: OutPoint) -> TxIn {
    TxIn {
        previous_output: prevout,
        is_pegin: false,
        script_sig: Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: AssetIssuance::default(),
        witness: TxInWitness::default(),
    }
}

pub fn tx(inputs: Vec<TxIn>, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: inputs,
        output: outputs,
    }
}

pub fn sign_p2wpkh(
    secp: &Secp256k1<All>,
    tx: &mut Transaction,
    index: usize,
    sk: &SecretKey,
    spent: &TxOut,
) {
    let pk = PublicKey::from_secret_key(secp, sk);
    let script_code = Script::new_p2pkh(&BtcPublicKey::new(pk).pubkey_hash());
    let sighash = SighashCache::new(&*tx).segwitv0_sighash(
        index,
        &script_code,
        spent.value,
        EcdsaSighashType::All,
    );
    let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), sk);
    let mut der = sig.serialize_der().to_vec();
    der.push(EcdsaSighashType::All as u8);
    tx.input[index].witness.script_witness =
        elements::Witness::from_slice(&[der, pk.serialize().to_vec()]);
}

pub fn multisig_script(a: &PublicKey, b: &PublicKey) -> Script {
    Builder::new()
        .push_opcode(OP_PUSHNUM_2)
        .push_slice(&a.serialize())
        .push_slice(&b.serialize())
        .push_opcode(OP_PUSHNUM_2)
        .push_opcode(OP_CHECKMULTISIG)
        .into_script()
}

pub fn multisig_sig(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    index: usize,
    sk: &SecretKey,
    ws: &Script,
    spent: &TxOut,
) -> Vec<u8> {
    let sighash =
        SighashCache::new(tx).segwitv0_sighash(index, ws, spent.value, EcdsaSighashType::All);
    let mut der = secp
        .sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), sk)
        .serialize_der()
        .to_vec();
    der.push(EcdsaSighashType::All as u8);
    der
}

impl Fixture {
    pub fn new() -> Self {
        let chain = Chain::open(None, ChainParams::liquidregtest()).expect("chain");
        let policy = chain.params().policy_asset();
        let genesis_tx = &chain.params().genesis().txdata[1];
        let coins = (
            OutPoint::new(genesis_tx.txid(), 0),
            genesis_tx.output[0].clone(),
        );
        Fixture {
            chain,
            secp: Secp256k1::new(),
            policy,
            coins,
        }
    }

    /// Pays `amount` from the free coins to `script`, confirmed; returns the outpoint.
    pub fn fund(&mut self, script: Script, amount: u64) -> (OutPoint, TxOut) {
        let (prevout, coins) = self.coins.clone();
        let total = coins.value.explicit().expect("explicit");
        let out = explicit(self.policy, amount, script);
        let t = tx(
            vec![input(prevout)],
            vec![
                out.clone(),
                explicit(
                    self.policy,
                    total - amount - FEE,
                    Script::from(vec![OP_TRUE.into_u8()]),
                ),
                TxOut::new_fee(FEE, self.policy),
            ],
        );
        let change = t.output[1].clone();
        let txid = self.chain.submit_transaction(t).expect("funding accepted");
        self.coins = (OutPoint::new(txid, 1), change);
        self.chain
            .mine_block(Script::new_op_return(&[]))
            .expect("mined");
        (OutPoint::new(txid, 0), out)
    }
}

pub fn expect_reject(
    result: Result<BTreeMap<AssetId, u64>, RpcError>,
    code: i64,
    reason_prefix: &str,
) {
    let err = result.expect_err("must be rejected");
    assert_eq!(err.code, code, "{err:?}");
    assert!(err.message.starts_with(reason_prefix), "{err:?}");
}

pub fn blinded_spend(f: &mut Fixture, seed: u8) -> (Transaction, SecretKey, TxOut) {
    let (sk, pk) = key(seed);
    let (_, blinding_pk) = key(seed + 100);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 30_000_000);
    let mut out_a = explicit(f.policy, 10_000_000, p2wpkh(&pk));
    out_a.nonce = Nonce::Confidential(blinding_pk);
    let mut out_b = explicit(f.policy, 20_000_000 - FEE, p2wpkh(&pk));
    out_b.nonce = Nonce::Confidential(blinding_pk);
    let mut t = tx(
        vec![input(prevout)],
        vec![out_a, out_b, TxOut::new_fee(FEE, f.policy)],
    );
    let secrets = TxOutSecrets::new(
        f.policy,
        AssetBlindingFactor::zero(),
        30_000_000,
        ValueBlindingFactor::zero(),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(seed));
    t.blind(&mut rng, &f.secp, &[secrets], false)
        .expect("blinded");
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    (t, sk, spent)
}

pub fn issuance_tx(f: &mut Fixture, issued: u64, paid_out: u64) -> Transaction {
    let (sk, pk) = key(9);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 1_000_000);
    let contract = ContractHash::from_byte_array([7; 32]);
    let asset = AssetId::new_issuance(prevout, contract);
    let mut inp = input(prevout);
    inp.asset_issuance = AssetIssuance {
        asset_blinding_nonce: elements::AssetBlindingNonce::NEW_ISSUANCE,
        asset_entropy: elements::AssetEntropy::from_byte_array(contract.to_byte_array()),
        amount: Value::Explicit(issued),
        inflation_keys: Value::Null,
    };
    let mut t = tx(
        vec![inp],
        vec![
            explicit(asset, paid_out, p2wpkh(&pk)),
            explicit(f.policy, 1_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    t
}
