//! Confidential transaction mechanics: blinding outputs (and issuance amounts) so the
//! Pedersen commitments balance and every surjection proof covers the right domain, and
//! signing the wallet's inputs (`pkh`, `sh(wpkh)`, `wpkh`, `OP_TRUE`).

use std::collections::BTreeMap;

use rayon::prelude::*;

use elements::bitcoin::PublicKey;
use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::confidential::{Nonce, Value};
use elements::script::Builder;
use elements::secp256k1_zkp::{All, Message, Secp256k1, SecretKey};
use elements::sighash::SighashCache;
use elements::{
    Address, EcdsaSighashType, Script, SurjectionInput, Transaction, TxOut, TxOutSecrets,
};
use elements::{AssetId, RangeProof, RangeProofMessage};

use super::keys::ScriptKind;
use super::store::IssuanceSecrets;

/// Why a transaction could not be blinded or signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// An input's amount and blinders are unknown (not the wallet's, not explicit).
    #[error("Unable to blind transaction: Are you sure each input is owned by the wallet?")]
    UnknownInput(usize),
    /// Inputs are blinded but no output can carry the balancing blinder.
    #[error("Unable to blind transaction: no output to blind")]
    NothingToBlind,
    /// An output to blind carries an asset that no input (nor issuance) brings: its surjection
    /// proof cannot be made (e.g. a token id of an unblinded issuance the node blinded).
    #[error("Unable to blind transaction: Are you sure each asset type to blind is represented in the inputs?")]
    AssetNotInInputs(usize),
    /// rust-elements refused to build a proof.
    #[error("Unable to blind transaction: {0}")]
    Proof(String),
}

/// Per-input amount secrets of the spent outputs (`None` when unknown).
pub type InputSecrets = Vec<Option<TxOutSecrets>>;

/// Blinds the issuance amounts of the inputs listed in `blind_issuance_inputs`.
/// Returns the issuance secrets of every input carrying an issuance.
pub fn blind_issuances(
    secp: &Secp256k1<All>,
    tx: &mut Transaction,
    blind_issuance_inputs: &[usize],
) -> Result<BTreeMap<u32, IssuanceSecrets>, BuildError> {
    let mut rng = rand::thread_rng();
    let mut out = BTreeMap::new();
    for (i, txin) in tx.input.iter_mut().enumerate() {
        if !txin.has_issuance() {
            continue;
        }
        let asset_amount = txin.asset_issuance.amount.explicit();
        let token_amount = txin.asset_issuance.inflation_keys.explicit();
        let (mut asset_blind, mut token_blind) = ([0u8; 32], [0u8; 32]);
        let reissuance = !txin.asset_issuance.asset_blinding_nonce.is_null();
        if blind_issuance_inputs.contains(&i) && reissuance {
            // Blinded reissuance (of a token from a blinded issuance): the amount is a
            // commitment under the asset's unblinded generator.
            let asset = AssetId::from_entropy(txin.asset_issuance.asset_entropy);
            if let Some(v) = asset_amount {
                let (commitment, proof, bf) = blind_issuance_amount(secp, &mut rng, v, asset)?;
                txin.asset_issuance.amount = commitment;
                txin.witness.amount_rangeproof = proof;
                asset_blind = bf;
            }
        } else if blind_issuance_inputs.contains(&i) {
            // Blinded new issuance: the token id takes the "confidential" flag, and each
            // amount's rangeproof is made against the unblinded generator of its asset.
            let contract = txin.asset_issuance.asset_entropy.into_contract_hash();
            let entropy = AssetId::generate_asset_entropy(txin.previous_output, contract);
            let asset = AssetId::from_entropy(entropy);
            let token = AssetId::reissuance_token_from_entropy(entropy, true);
            if let Some(v) = asset_amount {
                let (commitment, proof, bf) = blind_issuance_amount(secp, &mut rng, v, asset)?;
                txin.asset_issuance.amount = commitment;
                txin.witness.amount_rangeproof = proof;
                asset_blind = bf;
            }
            if let Some(v) = token_amount {
                let (commitment, proof, bf) = blind_issuance_amount(secp, &mut rng, v, token)?;
                txin.asset_issuance.inflation_keys = commitment;
                txin.witness.inflation_keys_rangeproof = proof;
                token_blind = bf;
            }
        }
        out.insert(
            i as u32,
            IssuanceSecrets {
                asset_amount: asset_amount.unwrap_or(0),
                asset_blind,
                token_amount: token_amount.unwrap_or(0),
                token_blind,
            },
        );
    }
    Ok(out)
}

/// Commits to an issuance amount with a random blinder, with its rangeproof (empty script,
/// unblinded generator of `asset`, as Elements' `VerifyIssuanceAmount` checks it).
fn blind_issuance_amount(
    secp: &Secp256k1<All>,
    rng: &mut rand::rngs::ThreadRng,
    value: u64,
    asset: AssetId,
) -> Result<(Value, RangeProof, [u8; 32]), BuildError> {
    let vbf = ValueBlindingFactor::new(rng);
    let shared_secret = SecretKey::new(rng);
    let msg = RangeProofMessage::new(asset, AssetBlindingFactor::zero());
    let (commitment, proof) = Value::Explicit(value)
        .blind_with_shared_secret(secp, vbf, shared_secret, &Script::new(), &msg)
        .map_err(|e| BuildError::Proof(format!("{e:?}")))?;
    Ok((commitment, proof, *vbf.into_inner().as_ref()))
}

/// Blinds every non-fee output whose nonce holds a receiver blinding key. `inputs` are
/// the secrets of the spent outputs, `issuances` those of the issuance pseudo-inputs.
/// Returns the secrets of all outputs that were blinded.
pub fn blind_outputs(
    secp: &Secp256k1<All>,
    tx: &mut Transaction,
    inputs: &InputSecrets,
    spent: &[TxOut],
    issuances: &BTreeMap<u32, IssuanceSecrets>,
) -> Result<BTreeMap<u32, TxOutSecrets>, BuildError> {
    blind_outputs_reusing(
        secp,
        tx,
        inputs,
        spent,
        issuances,
        &mut BlindCache::default(),
    )
}

/// Outputs blinded by an earlier attempt at a transaction, for the next attempt over the same
/// inputs: a wallet settling its fee builds the transaction again with only the fee and the
/// change changed, and the proofs of the unchanged outputs (most of the work) stay valid.
#[derive(Debug, Default)]
pub struct BlindCache {
    /// The inputs (outpoint, carries an issuance) the outputs were blinded over: the
    /// surjection domain.
    inputs: Vec<(elements::OutPoint, bool)>,
    /// By output index and the unblinded output's encoding: the blinded output and secrets.
    outputs: std::collections::HashMap<(usize, Vec<u8>), (TxOut, TxOutSecrets)>,
}

impl BlindCache {
    /// Forgets everything blinded over other inputs than `tx`'s.
    fn keep_only_for(&mut self, tx: &Transaction) {
        let inputs: Vec<_> = tx
            .input
            .iter()
            .map(|i| (i.previous_output, i.has_issuance()))
            .collect();
        if inputs != self.inputs {
            self.outputs.clear();
            self.inputs = inputs;
        }
    }
}

/// [`blind_outputs`], reusing what `cache` holds from an earlier attempt (and keeping what
/// this one blinds). Only the last output, whose value blinder balances the others, is always
/// blinded anew.
pub fn blind_outputs_reusing(
    secp: &Secp256k1<All>,
    tx: &mut Transaction,
    inputs: &InputSecrets,
    spent: &[TxOut],
    issuances: &BTreeMap<u32, IssuanceSecrets>,
    cache: &mut BlindCache,
) -> Result<BTreeMap<u32, TxOutSecrets>, BuildError> {
    let mut rng = rand::thread_rng();
    // Surjection domain and balance inputs, in Elements' order: input asset, issued
    // asset, reissuance token.
    let mut domain: Vec<SurjectionInput> = Vec::new();
    // the explicit assets the inputs and issuances bring (the surjection domain's)
    let mut brought: Vec<AssetId> = Vec::new();
    let mut balance_in: Vec<(u64, AssetBlindingFactor, ValueBlindingFactor)> = Vec::new();
    let mut all_known = true;
    for (i, txin) in tx.input.iter().enumerate() {
        match (inputs.get(i).copied().flatten(), spent.get(i)) {
            (Some(s), _) => {
                brought.push(s.asset);
                domain.push(SurjectionInput::from_txout_secrets(s));
                balance_in.push((s.value, s.asset_bf, s.value_bf));
            }
            (None, Some(prev)) => {
                domain.push(SurjectionInput::Unknown(prev.asset));
                all_known = false;
            }
            (None, None) => return Err(BuildError::UnknownInput(i)),
        }
        if txin.has_issuance() {
            let (asset, token) = txin.issuance_ids();
            let secrets = issuances.get(&(i as u32));
            let zero = AssetBlindingFactor::zero();
            if !txin.asset_issuance.amount.is_null() {
                brought.push(asset);
                domain.push(SurjectionInput::from_txout_secrets(TxOutSecrets::new(
                    asset,
                    zero,
                    0,
                    ValueBlindingFactor::zero(),
                )));
                let (v, bf) = issuance_value(
                    txin.asset_issuance.amount,
                    secrets.map(|s| (s.asset_amount, s.asset_blind)),
                )
                .ok_or(BuildError::UnknownInput(i))?;
                balance_in.push((v, zero, bf));
            }
            if !txin.asset_issuance.inflation_keys.is_null() {
                brought.push(token);
                domain.push(SurjectionInput::from_txout_secrets(TxOutSecrets::new(
                    token,
                    zero,
                    0,
                    ValueBlindingFactor::zero(),
                )));
                let (v, bf) = issuance_value(
                    txin.asset_issuance.inflation_keys,
                    secrets.map(|s| (s.token_amount, s.token_blind)),
                )
                .ok_or(BuildError::UnknownInput(i))?;
                balance_in.push((v, zero, bf));
            }
        }
    }
    let to_blind: Vec<usize> = tx
        .output
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.is_fee() && o.nonce.is_confidential())
        .map(|(i, _)| i)
        .collect();
    if to_blind.is_empty() {
        let blinded_inputs = balance_in.iter().any(|(_, abf, vbf)| {
            *abf != AssetBlindingFactor::zero() || *vbf != ValueBlindingFactor::zero()
        });
        if blinded_inputs {
            return Err(BuildError::NothingToBlind);
        }
        return Ok(BTreeMap::new());
    }
    if !all_known {
        // The last blinder must balance every input: all of them must be known.
        let unknown = inputs.iter().position(Option::is_none).unwrap_or(0);
        return Err(BuildError::UnknownInput(unknown));
    }
    if let Some(&i) = to_blind.iter().find(|&&i| {
        tx.output[i]
            .asset
            .explicit()
            .is_some_and(|asset| !brought.contains(&asset))
    }) {
        return Err(BuildError::AssetNotInInputs(i));
    }
    let mut balance_out = Vec::new();
    for (i, out) in tx.output.iter().enumerate() {
        if to_blind.contains(&i) {
            continue;
        }
        if let (Some(v), true) = (out.value.explicit(), out.asset.is_explicit()) {
            balance_out.push((v, AssetBlindingFactor::zero(), ValueBlindingFactor::zero()));
        }
    }
    let last = *to_blind.last().expect("non-empty");
    cache.keep_only_for(tx);
    // Every output but the last takes random blinders: reused from an earlier blinding of the
    // same output over the same inputs, or made now, spread over the machine's cores (rayon).
    let mut made: BTreeMap<usize, (TxOut, TxOutSecrets)> = BTreeMap::new();
    let mut jobs: Vec<(usize, Vec<u8>)> = Vec::new();
    for &i in to_blind.iter().filter(|&&i| i != last) {
        let key = elements::encode::serialize(&tx.output[i]);
        match cache.outputs.get(&(i, key.clone())) {
            Some(done) => {
                made.insert(i, done.clone());
            }
            None => jobs.push((i, key)),
        }
    }
    let blind_one = |i: usize, abf: AssetBlindingFactor, vbf: ValueBlindingFactor| {
        let out = &tx.output[i];
        let (Some(asset), Some(value)) = (out.asset.explicit(), out.value.explicit()) else {
            return Err(BuildError::Proof(format!("output {i} is already blinded")));
        };
        let receiver = out.nonce.commitment().expect("confidential nonce");
        let secrets = TxOutSecrets::new(asset, abf, value, vbf);
        let mut rng = rand::thread_rng();
        let ephemeral = SecretKey::new(&mut rng);
        TxOut::with_txout_secrets(
            &mut rng,
            secp,
            out.script_pubkey.clone(),
            receiver,
            ephemeral,
            secrets,
            &domain,
        )
        .map(|blinded| (blinded, secrets))
        .map_err(|e| BuildError::Proof(format!("{e:?}")))
    };
    let random_blinders = |i: usize| {
        let mut rng = rand::thread_rng();
        let abf = AssetBlindingFactor::new(&mut rng);
        blind_one(i, abf, ValueBlindingFactor::new(&mut rng))
    };
    let results: Vec<_> = jobs.par_iter().map(|(i, _)| random_blinders(*i)).collect();
    for ((i, _), done) in jobs.iter().zip(results) {
        made.insert(*i, done?);
    }
    for (i, key) in jobs {
        cache.outputs.insert((i, key), made[&i].clone());
    }
    for (_, s) in made.values() {
        balance_out.push((s.value, s.asset_bf, s.value_bf));
    }
    // The last output's value blinder balances every commitment.
    let (Some(value), Some(_)) = (
        tx.output[last].value.explicit(),
        tx.output[last].asset.explicit(),
    ) else {
        return Err(BuildError::Proof(format!(
            "output {last} is already blinded"
        )));
    };
    let abf = AssetBlindingFactor::new(&mut rng);
    let vbf = ValueBlindingFactor::last(secp, value, abf, &balance_in, &balance_out);
    let last_done = blind_one(last, abf, vbf)?;
    made.insert(last, last_done);
    let mut result = BTreeMap::new();
    for (i, (blinded, secrets)) in made {
        tx.output[i] = blinded;
        result.insert(i as u32, secrets);
    }
    Ok(result)
}

fn issuance_value(
    value: Value,
    secrets: Option<(u64, [u8; 32])>,
) -> Option<(u64, ValueBlindingFactor)> {
    match value {
        Value::Explicit(v) => Some((v, ValueBlindingFactor::zero())),
        Value::Confidential(_) => {
            let (v, bf) = secrets?;
            let bf = ValueBlindingFactor::from_slice(&bf).ok()?;
            Some((v, bf))
        }
        Value::Null => Some((0, ValueBlindingFactor::zero())),
    }
}

/// How to sign one input.
#[derive(Debug, Clone)]
pub enum Signer {
    /// `OP_TRUE`: nothing to sign.
    AnyoneCanSpend,
    /// A key under a template.
    Key {
        /// Private key.
        secret: SecretKey,
        /// Script template of the spent output.
        kind: ScriptKind,
    },
}

/// Signs the inputs that have a signer (`SIGHASH_ALL`, low-R ECDSA) against the spent
/// outputs `spent`; other inputs are left untouched.
pub fn sign(
    secp: &Secp256k1<All>,
    tx: &mut Transaction,
    spent: &[TxOut],
    signers: &[Option<Signer>],
    params: &'static elements::AddressParams,
) {
    let mut sigs = Vec::new();
    {
        let mut cache = SighashCache::new(&*tx);
        for (i, signer) in signers.iter().enumerate() {
            let Some(Signer::Key { secret, kind }) = signer else {
                sigs.push(None);
                continue;
            };
            let pk = PublicKey::new(secret.public_key(secp));
            let hash = match kind {
                ScriptKind::Legacy => {
                    cache.legacy_sighash(i, &spent[i].script_pubkey, EcdsaSighashType::All)
                }
                ScriptKind::P2shSegwit | ScriptKind::Bech32 => {
                    let script_code = Address::p2pkh(&pk, None, params).script_pubkey();
                    cache.segwitv0_sighash(i, &script_code, spent[i].value, EcdsaSighashType::All)
                }
            };
            let msg = Message::from_digest(hash.to_byte_array());
            let mut der = secp.sign_ecdsa_low_r(&msg, secret).serialize_der().to_vec();
            der.push(EcdsaSighashType::All as u8);
            sigs.push(Some((der, pk, *kind)));
        }
    }
    for (i, sig) in sigs.into_iter().enumerate() {
        let Some((der, pk, kind)) = sig else { continue };
        let input = &mut tx.input[i];
        match kind {
            ScriptKind::Legacy => {
                input.script_sig = Builder::new()
                    .push_slice(&der)
                    .push_slice(&pk.to_bytes())
                    .into_script();
            }
            ScriptKind::P2shSegwit => {
                let redeem = Address::p2wpkh(&pk, None, params).script_pubkey();
                input.script_sig = Builder::new().push_slice(redeem.as_bytes()).into_script();
                input.witness.script_witness = vec![der, pk.to_bytes()].into();
            }
            ScriptKind::Bech32 => {
                input.witness.script_witness = vec![der, pk.to_bytes()].into();
            }
        }
    }
}

/// An output paying `value` of `asset` to `script`, to be blinded to `blinder` if given.
pub fn unblinded_output(
    script: Script,
    blinder: Option<elements::secp256k1_zkp::PublicKey>,
    asset: elements::AssetId,
    value: u64,
) -> TxOut {
    TxOut {
        asset: elements::confidential::Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: blinder.map_or(Nonce::Null, Nonce::from),
        script_pubkey: script,
        witness: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::verify_amounts;
    use crate::wallet::ledger::explicit_secrets;
    use crate::wallet::test_tx::input;
    use elements::TxIn;

    const ASSET: [u8; 32] = [2; 32];
    const POLICY: [u8; 32] = [1; 32];

    /// Five confidential payments of the asset, the policy change (`10_000 - fee`) last, the fee.
    fn unblinded(secp: &Secp256k1<All>, inputs: Vec<TxIn>, fee: u64) -> Transaction {
        let receiver = SecretKey::from_slice(&[9; 32]).unwrap().public_key(secp);
        let script = Script::from(vec![0x51]);
        let mut output: Vec<TxOut> = (0..5)
            .map(|_| {
                unblinded_output(
                    script.clone(),
                    Some(receiver),
                    AssetId::from_byte_array(ASSET),
                    200,
                )
            })
            .collect();
        output.push(unblinded_output(
            script,
            Some(receiver),
            AssetId::from_byte_array(POLICY),
            10_000 - fee,
        ));
        output.push(TxOut::new_fee(fee, AssetId::from_byte_array(POLICY)));
        Transaction {
            version: 2,
            lock_time: elements::LockTime::ZERO,
            input: inputs,
            output,
        }
    }

    #[test]
    fn a_fee_attempt_over_the_same_inputs_reblinds_only_the_last_output() {
        let secp = Secp256k1::new();
        let spent = vec![
            unblinded_output(Script::new(), None, AssetId::from_byte_array(ASSET), 1_000),
            unblinded_output(
                Script::new(),
                None,
                AssetId::from_byte_array(POLICY),
                10_000,
            ),
        ];
        let secrets: InputSecrets = spent.iter().map(explicit_secrets).collect();
        let mut cache = BlindCache::default();
        let attempt = |cache: &mut BlindCache, inputs: Vec<TxIn>, fee: u64| {
            let mut tx = unblinded(&secp, inputs, fee);
            let blinded =
                blind_outputs_reusing(&secp, &mut tx, &secrets, &spent, &BTreeMap::new(), cache)
                    .unwrap();
            assert_eq!(blinded.len(), 6);
            verify_amounts(&secp, &tx, &spent).expect("the attempt balances and its proofs verify");
            tx
        };
        let first = attempt(&mut cache, vec![input(7), input(8)], 100);
        let second = attempt(&mut cache, vec![input(7), input(8)], 250);
        assert_eq!(
            first.output[..5],
            second.output[..5],
            "the payments carried over"
        );
        assert_ne!(
            first.output[5], second.output[5],
            "the change, blinded anew"
        );
        // Other inputs: another surjection domain, every output blinded anew.
        let third = attempt(&mut cache, vec![input(7), input(9)], 250);
        for i in 0..6 {
            assert_ne!(second.output[i], third.output[i], "output {i}");
        }
        // Without the cache nothing carries over.
        let fresh = attempt(&mut BlindCache::default(), vec![input(7), input(9)], 250);
        assert_ne!(fresh.output[0], third.output[0]);
    }
}
