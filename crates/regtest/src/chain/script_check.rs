//! Input script verification for the script templates Elements wallets produce: p2pkh,
//! p2wpkh, p2sh-p2wpkh, p2wsh, p2sh-p2wsh, legacy p2sh and taproot key-path (single key or `m`-of-`n` multisig, incl. the
//! 2-of-2 `elwsh(multi(…))` of investor wallets) and the `OP_TRUE` genesis outputs. Signatures
//! are checked with rust-elements' sighash (Elements' digest) and secp256k1; any other script
//! type is rejected rather than accepted. Error strings are Elements' `ScriptErrorString`s.

use elements::bitcoin::hashes::Hash as _;
use elements::hashes::{hash160, sha256};
use elements::opcodes::{all, OP_TRUE};
use elements::schnorr::SchnorrSig;
use elements::script::Instruction;
use elements::secp256k1_zkp::XOnlyPublicKey;
use elements::secp256k1_zkp::{ecdsa::Signature, All, Message, PublicKey, Secp256k1};
use elements::sighash::Prevouts;
use elements::sighash::SighashCache;
use elements::{BlockHash, EcdsaSighashType, Script, Transaction, TxOut};

const EVAL_FALSE: &str =
    "Script evaluated without error but finished with a false/empty top stack element";
const WITNESS_MISMATCH: &str = "Witness program hash mismatch";
const WITNESS_MALLEATED: &str = "Witness requires empty scriptSig";
const WITNESS_MALLEATED_P2SH: &str = "Witness requires only-redeemscript scriptSig";
const WITNESS_UNEXPECTED: &str = "Witness provided for non-witness script";
const WITNESS_PROGRAM_WRONG_LENGTH: &str = "Witness program has incorrect length";
const SIG_DER: &str = "Non-canonical DER signature";
const SIG_HASHTYPE: &str = "Signature hash type missing or not understood";
const SIG_HIGH_S: &str = "Non-canonical signature: S value is unnecessarily high";
const PUBKEYTYPE: &str = "Public key is neither compressed or uncompressed";
const WITNESS_PUBKEYTYPE: &str = "Using non-compressed keys in segwit";
const SIG_PUSHONLY: &str = "Only push operators allowed in signatures";
const NULLDUMMY: &str = "Dummy CHECKMULTISIG argument must be zero";
const SCHNORR_SIG: &str = "Invalid Schnorr signature";
const UNKNOWN_TEMPLATE: &str = "Script type not supported by this node (only p2pkh, p2wpkh and p2sh, p2wsh, p2sh-p2wsh of single-key or multisig scripts)";

type Cache<'a> = SighashCache<&'a Transaction>;

/// How the sighash is computed for a script.
#[derive(Clone, Copy)]
enum SigVersion {
    Base,
    WitnessV0,
}

/// Verifies that input `index` of `tx` satisfies `spent.script_pubkey`.
/// What taproot key-path signatures commit to besides the transaction.
pub(super) struct TaprootContext<'a> {
    /// Every output the transaction spends (`None` when unknown: only `ANYONECANPAY`
    /// signatures can then be checked).
    pub all_spent: Option<&'a [TxOut]>,
    /// The chain's genesis hash (part of Elements' taproot sighash).
    pub genesis: BlockHash,
}

pub(super) fn verify_input_script(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
    taproot: &TaprootContext<'_>,
    cache: &mut Cache<'_>,
) -> Result<(), &'static str> {
    let input = &tx.input[index];
    let spk = &spent.script_pubkey;
    let witness: Vec<Vec<u8>> = input.witness.script_witness.to_vec();
    let script_sig = &input.script_sig;

    if spk.as_bytes() == [OP_TRUE.into_u8()] {
        // Anyone-can-spend (genesis free coins): empty scriptSig and witness.
        if !witness.is_empty() {
            return Err(WITNESS_UNEXPECTED);
        }
        return if script_sig.is_empty() {
            Ok(())
        } else {
            Err(SIG_PUSHONLY)
        };
    }
    if spk.is_p2pkh() {
        if !witness.is_empty() {
            return Err(WITNESS_UNEXPECTED);
        }
        let pushes = push_items(script_sig)?;
        let [sig, pk] = pushes.as_slice() else {
            return Err(EVAL_FALSE);
        };
        if hash160::Hash::hash(pk).as_byte_array()[..] != spk.as_bytes()[3..23] {
            return Err("Script failed an OP_EQUALVERIFY operation");
        }
        let pk = PublicKey::from_slice(pk).map_err(|_| PUBKEYTYPE)?;
        return check_sig(
            secp,
            tx,
            index,
            spent,
            cache,
            sig,
            &pk,
            spk,
            SigVersion::Base,
        )
        .and_then(ok_or_eval_false);
    }
    if spk.is_v0_p2wpkh() || spk.is_v0_p2wsh() {
        if !script_sig.is_empty() {
            return Err(WITNESS_MALLEATED);
        }
        return verify_witness_program(secp, tx, index, spent, cache, spk, &witness);
    }
    if spk.is_p2sh() {
        let pushes = push_items(script_sig)?;
        let Some((redeem, stack)) = pushes.split_last() else {
            return Err(EVAL_FALSE);
        };
        if hash160::Hash::hash(redeem).as_byte_array()[..] != spk.as_bytes()[2..22] {
            return Err(EVAL_FALSE);
        }
        let redeem = Script::from(redeem.clone());
        if redeem.is_v0_p2wpkh() || redeem.is_v0_p2wsh() {
            if !stack.is_empty() {
                return Err(WITNESS_MALLEATED_P2SH);
            }
            return verify_witness_program(secp, tx, index, spent, cache, &redeem, &witness);
        }
        if !witness.is_empty() {
            return Err(WITNESS_UNEXPECTED);
        }
        // Legacy P2SH: single-key or multisig redeem script, legacy sighash.
        return verify_template(
            secp,
            tx,
            index,
            spent,
            cache,
            &redeem,
            stack,
            SigVersion::Base,
        );
    }
    if spk.is_v1_p2tr() {
        if !script_sig.is_empty() {
            return Err(WITNESS_MALLEATED);
        }
        return verify_taproot_key_spend(secp, index, spent, taproot, cache, &witness);
    }
    if spk.is_witness_program() && spk.as_bytes()[0] == 0 {
        return Err(WITNESS_PROGRAM_WRONG_LENGTH);
    }
    Err(UNKNOWN_TEMPLATE)
}

fn ok_or_eval_false(valid: bool) -> Result<(), &'static str> {
    if valid {
        Ok(())
    } else {
        Err(EVAL_FALSE)
    }
}

/// The data pushes of a push-only script.
fn push_items(script: &Script) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut items = Vec::new();
    for ins in script.instructions() {
        match ins.map_err(|_| SIG_PUSHONLY)? {
            Instruction::PushBytes(bytes) => items.push(bytes.to_vec()),
            Instruction::Op(op) if op == all::OP_PUSHBYTES_0 => items.push(Vec::new()),
            Instruction::Op(_) => return Err(SIG_PUSHONLY),
        }
    }
    Ok(items)
}

/// Segwit v0 program (`program_script` is `OP_0 <20|32 bytes>`).
fn verify_witness_program(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
    cache: &mut Cache<'_>,
    program_script: &Script,
    witness: &[Vec<u8>],
) -> Result<(), &'static str> {
    let program = &program_script.as_bytes()[2..];
    if program.len() == 20 {
        let [sig, pk] = witness else {
            return Err("Witness program mismatch");
        };
        if hash160::Hash::hash(pk).as_byte_array()[..] != program[..] {
            return Err(EVAL_FALSE);
        }
        if pk.len() != 33 {
            return Err(WITNESS_PUBKEYTYPE);
        }
        let pk = PublicKey::from_slice(pk).map_err(|_| PUBKEYTYPE)?;
        let script_code = Script::new_p2pkh(&elements::PubkeyHash::from_byte_array(
            program.try_into().expect("20 bytes"),
        ));
        return check_sig(
            secp,
            tx,
            index,
            spent,
            cache,
            sig,
            &pk,
            &script_code,
            SigVersion::WitnessV0,
        )
        .and_then(ok_or_eval_false);
    }
    let Some((witness_script, stack)) = witness.split_last() else {
        return Err("Witness program was passed an empty witness");
    };
    if sha256::Hash::hash(witness_script).as_byte_array()[..] != program[..] {
        return Err(WITNESS_MISMATCH);
    }
    let witness_script = Script::from(witness_script.clone());
    verify_template(
        secp,
        tx,
        index,
        spent,
        cache,
        &witness_script,
        stack,
        SigVersion::WitnessV0,
    )
}

/// Runs a single-key or multisig script (`script`) against its satisfaction (`stack`),
/// with the sighash of `version`. Segwit scripts require compressed keys.
#[allow(clippy::too_many_arguments)]
fn verify_template(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
    cache: &mut Cache<'_>,
    script: &Script,
    stack: &[Vec<u8>],
    version: SigVersion,
) -> Result<(), &'static str> {
    let key = |bytes: &[u8]| -> Result<PublicKey, &'static str> {
        if matches!(version, SigVersion::WitnessV0) && bytes.len() != 33 {
            return Err(WITNESS_PUBKEYTYPE);
        }
        PublicKey::from_slice(bytes).map_err(|_| PUBKEYTYPE)
    };
    match parse_template(script) {
        Some(Template::Single(pk)) => {
            let [sig] = stack else { return Err(EVAL_FALSE) };
            let pk = key(&pk)?;
            check_sig(secp, tx, index, spent, cache, sig, &pk, script, version)
                .and_then(ok_or_eval_false)
        }
        Some(Template::Multi { required, keys }) => {
            if stack.len() != required + 1 {
                return Err("Operation not valid with the current stack size");
            }
            if !stack[0].is_empty() {
                return Err(NULLDUMMY);
            }
            let mut key_iter = keys.iter();
            for sig in &stack[1..] {
                let mut matched = false;
                for pk in key_iter.by_ref() {
                    let pk = key(pk)?;
                    if check_sig(secp, tx, index, spent, cache, sig, &pk, script, version)? {
                        matched = true;
                        break;
                    }
                }
                if !matched {
                    return Err(EVAL_FALSE);
                }
            }
            Ok(())
        }
        None => Err(UNKNOWN_TEMPLATE),
    }
}

enum Template {
    Single(Vec<u8>),
    Multi { required: usize, keys: Vec<Vec<u8>> },
}

/// Recognises `<pk> OP_CHECKSIG` and `OP_m <pk>… OP_n OP_CHECKMULTISIG`.
fn parse_template(script: &Script) -> Option<Template> {
    let ins: Vec<Instruction<'_>> = script
        .instructions_minimal()
        .collect::<Result<_, _>>()
        .ok()?;
    match ins.as_slice() {
        [Instruction::PushBytes(pk), Instruction::Op(op)] if *op == all::OP_CHECKSIG => {
            Some(Template::Single(pk.to_vec()))
        }
        [Instruction::Op(m), middle @ .., Instruction::Op(n), Instruction::Op(check)]
            if *check == all::OP_CHECKMULTISIG =>
        {
            let small = |op: &elements::opcodes::All| -> Option<usize> {
                let b = op.into_u8();
                (0x51..=0x60).contains(&b).then(|| (b - 0x50) as usize)
            };
            let (m, n) = (small(m)?, small(n)?);
            let keys: Vec<Vec<u8>> = middle
                .iter()
                .map(|i| match i {
                    Instruction::PushBytes(pk) => Some(pk.to_vec()),
                    Instruction::Op(_) => None,
                })
                .collect::<Option<_>>()?;
            (keys.len() == n && m <= n).then_some(Template::Multi { required: m, keys })
        }
        _ => None,
    }
}

/// `CHECKSIG` on one signature: `Ok(false)` for a well-formed signature that does not verify
/// (or an empty one), `Err` for encoding errors.
#[allow(clippy::too_many_arguments)]
fn check_sig(
    secp: &Secp256k1<All>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
    cache: &mut Cache<'_>,
    sig: &[u8],
    pk: &PublicKey,
    script_code: &Script,
    version: SigVersion,
) -> Result<bool, &'static str> {
    let Some((&hash_type, der)) = sig.split_last() else {
        return Ok(false);
    };
    let hash_type =
        EcdsaSighashType::from_standard(u32::from(hash_type)).map_err(|_| SIG_HASHTYPE)?;
    let mut signature = Signature::from_der(der).map_err(|_| SIG_DER)?;
    let normalized = {
        let mut s = signature;
        s.normalize_s();
        s
    };
    if normalized != signature {
        return Err(SIG_HIGH_S);
    }
    signature.normalize_s();
    let sighash = match version {
        SigVersion::Base => cache.legacy_sighash(index, script_code, hash_type),
        SigVersion::WitnessV0 => cache.segwitv0_sighash(index, script_code, spent.value, hash_type),
    };
    let _ = tx;
    let msg = Message::from_digest(sighash.to_byte_array());
    Ok(secp.verify_ecdsa(&msg, &signature, pk).is_ok())
}

/// Taproot key-path spend: one BIP340 signature by the output key over Elements' taproot
/// sighash. Script-path spends and annexes are not supported and are rejected.
fn verify_taproot_key_spend(
    secp: &Secp256k1<All>,
    index: usize,
    spent: &TxOut,
    taproot: &TaprootContext<'_>,
    cache: &mut Cache<'_>,
    witness: &[Vec<u8>],
) -> Result<(), &'static str> {
    let [sig] = witness else {
        return Err(UNKNOWN_TEMPLATE);
    };
    let sig = SchnorrSig::from_slice(sig).map_err(|_| SCHNORR_SIG)?;
    let key = XOnlyPublicKey::from_slice(&spent.script_pubkey.as_bytes()[2..34])
        .map_err(|_| PUBKEYTYPE)?;
    let sighash = match taproot.all_spent {
        Some(all) => cache.taproot_key_spend_signature_hash(
            index,
            &Prevouts::All(all),
            sig.hash_ty,
            taproot.genesis,
        ),
        None => cache.taproot_key_spend_signature_hash(
            index,
            &Prevouts::One(index, spent),
            sig.hash_ty,
            taproot.genesis,
        ),
    }
    .map_err(|_| SIG_HASHTYPE)?;
    let msg = Message::from_digest(sighash.to_byte_array());
    secp.verify_schnorr(&sig.sig, &msg, &key)
        .map_err(|_| SCHNORR_SIG)
}
