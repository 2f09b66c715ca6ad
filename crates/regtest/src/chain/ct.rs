//! Confidential-transaction checks as Elements' `VerifyAmounts` performs them: every input,
//! issuance and output value commitment, output rangeproofs and surjection proofs, the
//! Pedersen balance, and Elements' zero-value rules (explicit zero outputs count only when
//! provably unspendable, and are then left out of the balance). rust-elements'
//! `verify_tx_amt_proofs` cannot be used for this: it rejects the zero-value `OP_RETURN`
//! outputs that Elements' own `createrawtransaction {"data": …}` produces.

use elements::confidential::{Asset, Value};
use elements::secp256k1_zkp::{
    verify_commitments_sum_to_equal, All, Generator, PedersenCommitment, RangeProof, Secp256k1,
    SurjectionProof,
};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

use elements::{AssetId, Transaction, TxOut};

/// Why the amounts of a transaction do not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Inputs (plus issuances) and outputs do not balance.
    #[error("value in != value out")]
    Unbalanced,
    /// A null or out-of-range value or asset.
    #[error("invalid amount or asset at {0}")]
    Invalid(String),
    /// A spendable output with an explicit zero value.
    #[error("output {0} is a spendable zero-value output")]
    ZeroSpendable(usize),
    /// An output rangeproof is missing or does not verify.
    #[error("rangeproof of output {0} is invalid")]
    RangeProof(usize),
    /// An output surjection proof is missing or does not verify.
    #[error("surjection proof of output {0} is invalid")]
    SurjectionProof(usize),
}

/// Generators and explicit amounts of one side of the balance. Explicit amounts of the same
/// asset are summed before committing (`commit(a) + commit(b) = commit(a + b)` with zero
/// blinding), so a transaction with thousands of explicit outputs costs one commitment per
/// asset instead of one per output; generators are derived once per asset.
#[derive(Default)]
struct Side {
    commitments: Vec<PedersenCommitment>,
    explicit: BTreeMap<AssetId, u64>,
}

impl Side {
    fn add_explicit(
        &mut self,
        secp: &Secp256k1<All>,
        gens: &mut Generators,
        asset: AssetId,
        value: u64,
    ) {
        let total = self.explicit.entry(asset).or_default();
        match total.checked_add(value) {
            Some(sum) => *total = sum,
            None => {
                let full = std::mem::replace(total, value);
                self.commitments.push(PedersenCommitment::new_unblinded(
                    secp,
                    full,
                    gens.get(secp, asset),
                ));
            }
        }
    }

    fn finish(mut self, secp: &Secp256k1<All>, gens: &mut Generators) -> Vec<PedersenCommitment> {
        for (asset, total) in std::mem::take(&mut self.explicit) {
            if total > 0 {
                self.commitments.push(PedersenCommitment::new_unblinded(
                    secp,
                    total,
                    gens.get(secp, asset),
                ));
            }
        }
        self.commitments
    }
}

/// Unblinded generators, derived once per asset.
#[derive(Default)]
struct Generators(HashMap<AssetId, Generator>);

impl Generators {
    fn get(&mut self, secp: &Secp256k1<All>, asset: AssetId) -> Generator {
        *self
            .0
            .entry(asset)
            .or_insert_with(|| Generator::new_unblinded(secp, asset.into_tag()))
    }
}

fn generator(
    secp: &Secp256k1<All>,
    gens: &mut Generators,
    asset: &Asset,
    at: &str,
) -> Result<Generator, AmountError> {
    match asset {
        Asset::Explicit(id) => Ok(gens.get(secp, *id)),
        Asset::Confidential(gen) => Ok(*gen),
        Asset::Null => Err(AmountError::Invalid(at.to_string())),
    }
}

/// Adds `value` (of `asset`, under `gen`) to `side`; explicit zeros add nothing.
fn add_value(
    secp: &Secp256k1<All>,
    gens: &mut Generators,
    side: &mut Side,
    value: &Value,
    asset: &Asset,
    gen: Generator,
    at: &str,
) -> Result<(), AmountError> {
    match (value, asset) {
        (Value::Explicit(v), _) if *v > super::validation::MAX_MONEY => {
            Err(AmountError::Invalid(at.to_string()))
        }
        (Value::Explicit(0), _) => Ok(()),
        (Value::Explicit(v), Asset::Explicit(id)) => {
            side.add_explicit(secp, gens, *id, *v);
            Ok(())
        }
        (Value::Explicit(v), _) => {
            side.commitments
                .push(PedersenCommitment::new_unblinded(secp, *v, gen));
            Ok(())
        }
        (Value::Confidential(c), _) => {
            side.commitments.push(*c);
            Ok(())
        }
        (Value::Null, _) => Err(AmountError::Invalid(at.to_string())),
    }
}

/// Checks value commitments, proofs and balance of `tx` spending `spent` (one per input).
/// Issuance-amount rangeproofs are checked separately (`check_issuance`).
pub fn verify_amounts(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    spent: &[TxOut],
) -> Result<(), AmountError> {
    let mut gens = Generators::default();
    let mut inputs = Side::default();
    let mut domain = Vec::new();
    for (i, (input, prev)) in tx.input.iter().zip(spent).enumerate() {
        let at = format!("input {i}");
        let gen = generator(secp, &mut gens, &prev.asset, &at)?;
        domain.push(gen);
        add_value(
            secp,
            &mut gens,
            &mut inputs,
            &prev.value,
            &prev.asset,
            gen,
            &at,
        )?;
        if input.has_issuance() {
            let (asset, token) = input.issuance_ids();
            let issuance = &input.asset_issuance;
            for (value, id) in [(issuance.amount, asset), (issuance.inflation_keys, token)] {
                if value.is_null() {
                    continue;
                }
                let issued = Asset::Explicit(id);
                let gen = generator(secp, &mut gens, &issued, &at)?;
                domain.push(gen);
                let at = format!("issuance of input {i}");
                add_value(secp, &mut gens, &mut inputs, &value, &issued, gen, &at)?;
            }
        }
    }
    // The outputs' structure first, in order, stopping at the first fault; the proofs up to it
    // are then verified over the cores, and the first failure in output order is the answer
    // (as checking each output's range proof, then its surjection proof, one after the other).
    let mut outputs = Side::default();
    let mut proofs: Vec<ProofCheck<'_>> = Vec::new();
    let mut fault: Option<AmountError> = None;
    for (i, out) in tx.output.iter().enumerate() {
        if let Err(e) = output_structure(secp, &mut gens, &mut outputs, &mut proofs, i, out) {
            fault = Some(e);
            break;
        }
    }
    let failed = proofs
        .par_iter()
        .map(|check| check.verify(secp, &domain))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .next();
    if let Some(e) = failed.or(fault) {
        return Err(e);
    }
    let inputs = inputs.finish(secp, &mut gens);
    let outputs = outputs.finish(secp, &mut gens);
    if !verify_commitments_sum_to_equal(secp, &inputs, &outputs) {
        return Err(AmountError::Unbalanced);
    }
    Ok(())
}

/// One proof of an output to verify.
enum ProofCheck<'a> {
    /// The range proof of a value commitment.
    Range {
        output: usize,
        proof: &'a RangeProof,
        commitment: PedersenCommitment,
        script: &'a [u8],
        generator: Generator,
    },
    /// The surjection proof of an asset commitment over the inputs' assets.
    Surjection {
        output: usize,
        proof: &'a SurjectionProof,
        generator: Generator,
    },
}

impl ProofCheck<'_> {
    /// The failure, if the proof does not verify.
    fn verify(&self, secp: &Secp256k1<All>, domain: &[Generator]) -> Option<AmountError> {
        match self {
            ProofCheck::Range {
                output,
                proof,
                commitment,
                script,
                generator,
            } => proof
                .verify(secp, *commitment, script, *generator)
                .err()
                .map(|_| AmountError::RangeProof(*output)),
            ProofCheck::Surjection {
                output,
                proof,
                generator,
            } => (!proof.verify(secp, *generator, domain))
                .then_some(AmountError::SurjectionProof(*output)),
        }
    }
}

/// Output `i`'s value and asset, added to `outputs`; its proofs go to `proofs`. A missing
/// proof or an invalid value is the error; the proofs themselves are verified later.
fn output_structure<'a>(
    secp: &Secp256k1<All>,
    gens: &mut Generators,
    outputs: &mut Side,
    proofs: &mut Vec<ProofCheck<'a>>,
    i: usize,
    out: &'a TxOut,
) -> Result<(), AmountError> {
    let at = format!("output {i}");
    let gen = generator(secp, gens, &out.asset, &at)?;
    match out.value {
        Value::Explicit(0) => {
            if !out.script_pubkey.is_provably_unspendable() {
                return Err(AmountError::ZeroSpendable(i));
            }
        }
        Value::Confidential(c) => {
            let proof = out
                .witness
                .rangeproof
                .as_ref()
                .ok_or(AmountError::RangeProof(i))?;
            proofs.push(ProofCheck::Range {
                output: i,
                proof,
                commitment: c,
                script: out.script_pubkey.as_bytes(),
                generator: gen,
            });
            outputs.commitments.push(c);
        }
        ref value => add_value(secp, gens, outputs, value, &out.asset, gen, &at)?,
    }
    if let Asset::Confidential(gen) = out.asset {
        let proof = out
            .witness
            .surjection_proof
            .as_ref()
            .ok_or(AmountError::SurjectionProof(i))?;
        proofs.push(ProofCheck::Surjection {
            output: i,
            proof,
            generator: gen,
        });
    }
    Ok(())
}
