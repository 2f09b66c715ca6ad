//! Confidential transaction mechanics: blinding outputs (and issuance amounts) so the
//! Pedersen commitments balance and every surjection proof covers the right domain, and
//! signing the wallet's inputs (`pkh`, `sh(wpkh)`, `wpkh`, `OP_TRUE`).

use std::collections::BTreeMap;

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
    let mut result = BTreeMap::new();
    let last = *to_blind.last().expect("non-empty");
    for &i in &to_blind {
        let out = &tx.output[i];
        let (Some(asset), Some(value)) = (out.asset.explicit(), out.value.explicit()) else {
            return Err(BuildError::Proof(format!("output {i} is already blinded")));
        };
        let receiver = out.nonce.commitment().expect("confidential nonce");
        let abf = AssetBlindingFactor::new(&mut rng);
        let vbf = if i == last {
            ValueBlindingFactor::last(secp, value, abf, &balance_in, &balance_out)
        } else {
            ValueBlindingFactor::new(&mut rng)
        };
        balance_out.push((value, abf, vbf));
        let secrets = TxOutSecrets::new(asset, abf, value, vbf);
        let ephemeral = SecretKey::new(&mut rng);
        let blinded = TxOut::with_txout_secrets(
            &mut rng,
            secp,
            out.script_pubkey.clone(),
            receiver,
            ephemeral,
            secrets,
            &domain,
        )
        .map_err(|e| BuildError::Proof(format!("{e:?}")))?;
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
