//! The fast opening against `TxOut::unblind`, over outputs blinded as Elements blinds them and
//! over range proofs of other shapes (exponents, minimum values, sizes, odd mantissas).

use amphora_ct::{open_fast, unblind, RangeProofHeader};
use elements::confidential::{self, Asset, AssetBlindingFactor, Value, ValueBlindingFactor};
use elements::secp256k1_zkp::{self, All, Secp256k1, SecretKey};
use elements::{
    AssetId, RangeProofMessage, Script, SurjectionInput, TxOut, TxOutSecrets, TxOutWitness,
};
use proptest::prelude::*;

fn script(byte: u8) -> Script {
    Script::from([vec![0x00, 0x14], vec![byte; 20]].concat())
}

fn asset(byte: u8) -> AssetId {
    AssetId::from_byte_array([byte; 32])
}

/// An output to `receiver` blinded as a wallet's `sendmany` blinds it (52-bit proof).
fn elements_output(secp: &Secp256k1<All>, receiver: SecretKey, secrets: TxOutSecrets) -> TxOut {
    let mut rng = rand::thread_rng();
    let input = TxOutSecrets::new(
        secrets.asset,
        AssetBlindingFactor::new(&mut rng),
        secrets.value,
        ValueBlindingFactor::new(&mut rng),
    );
    let ephemeral = SecretKey::new(&mut rng);
    TxOut::with_txout_secrets(
        &mut rng,
        secp,
        script(7),
        receiver.public_key(secp),
        ephemeral,
        secrets,
        &[SurjectionInput::from_txout_secrets(input)],
    )
    .expect("blinds")
}

/// An output to `receiver` whose range proof has the given shape; `None` when
/// `secp256k1_rangeproof_sign` refuses the shape for the value.
fn shaped_output(
    secp: &Secp256k1<All>,
    receiver: SecretKey,
    secrets: TxOutSecrets,
    min_value: u64,
    exp: i32,
    min_bits: u8,
) -> Option<TxOut> {
    let mut rng = rand::thread_rng();
    let (nonce, shared_secret) =
        confidential::Nonce::new_confidential(&mut rng, secp, &receiver.public_key(secp));
    let message = RangeProofMessage::new(secrets.asset, secrets.asset_bf);
    let generator = message.commitment(secp);
    let value = Value::new_confidential(secp, secrets.value, generator, secrets.value_bf);
    let spk = script(9);
    let proof = secp256k1_zkp::RangeProof::new(
        secp,
        min_value,
        value.commitment()?,
        secrets.value,
        secrets.value_bf.into_inner(),
        &message.to_byte_array(),
        spk.as_bytes(),
        shared_secret,
        exp,
        min_bits,
        generator,
    )
    .ok()?;
    Some(TxOut {
        asset: Asset::Confidential(generator),
        value,
        nonce,
        script_pubkey: spk,
        witness: TxOutWitness {
            rangeproof: confidential::RangeProof::from_slice(&proof.serialize()).ok()?,
            ..TxOutWitness::default()
        },
    })
}

fn secrets(asset_byte: u8, value: u64) -> TxOutSecrets {
    let mut rng = rand::thread_rng();
    TxOutSecrets::new(
        asset(asset_byte),
        AssetBlindingFactor::new(&mut rng),
        value,
        ValueBlindingFactor::new(&mut rng),
    )
}

#[test]
fn outputs_blinded_as_elements_blinds_them_open_the_fast_way_to_their_secrets() {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    for (n, value) in [
        1u64,
        2,
        3,
        4,
        5,
        1_000,
        21_000_000 * 100_000_000,
        u64::MAX >> 12,
    ]
    .into_iter()
    .chain((0..40).map(|n| 1 + n * 7_919_113))
    .enumerate()
    {
        let receiver = SecretKey::new(&mut rng);
        let sent = secrets((n % 5) as u8, value);
        let out = elements_output(&secp, receiver, sent);
        let fast = open_fast(&secp, &out, receiver).expect("the fast path opens it");
        assert_eq!(fast, sent, "value {value}");
        assert_eq!(fast, out.unblind(&secp, receiver).expect("unblinds"));
        assert_eq!(unblind(&secp, &out, receiver).expect("opens"), sent);
    }
}

#[test]
fn an_elements_proofs_header_reads_as_52_bits_from_1() {
    let secp = Secp256k1::new();
    let receiver = SecretKey::new(&mut rand::thread_rng());
    let out = elements_output(&secp, receiver, secrets(4, 10));
    let header = RangeProofHeader::parse(&out.witness.rangeproof.to_vec()).expect("a header");
    assert_eq!(
        header,
        RangeProofHeader {
            len: 10,
            exp: 0,
            mantissa: 52,
            scale: 1,
            min_value: 1,
            max_value: 1 << 52,
        }
    );
    assert_eq!(
        RangeProofHeader::parse(&[0x40; 64]),
        None,
        "shorter than 65 bytes"
    );
    assert_eq!(
        RangeProofHeader::parse(&[0x80; 65]),
        None,
        "the reserved bit"
    );
    assert_eq!(
        RangeProofHeader::parse(&[0x53; 65]),
        None,
        "an exponent of 19"
    );
}

#[test]
fn another_key_opens_nothing_either_way() {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let receiver = SecretKey::new(&mut rng);
    let out = elements_output(&secp, receiver, secrets(1, 5_000));
    let other = SecretKey::new(&mut rng);
    assert_eq!(open_fast(&secp, &out, other), None);
    assert!(unblind(&secp, &out, other).is_err());
    assert!(out.unblind(&secp, other).is_err());
}

#[test]
fn explicit_outputs_are_not_opened() {
    let secp = Secp256k1::new();
    let out = TxOut {
        asset: Asset::Explicit(asset(3)),
        value: Value::Explicit(1_000),
        nonce: confidential::Nonce::Null,
        script_pubkey: script(1),
        witness: TxOutWitness::default(),
    };
    let key = SecretKey::new(&mut rand::thread_rng());
    assert_eq!(open_fast(&secp, &out, key), None);
    assert_eq!(
        format!("{:?}", unblind(&secp, &out, key).unwrap_err()),
        format!("{:?}", out.unblind(&secp, key).unwrap_err())
    );
}

#[test]
fn a_tampered_proof_never_opens_to_other_secrets() {
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let receiver = SecretKey::new(&mut rng);
    let sent = secrets(2, 123_456);
    let out = elements_output(&secp, receiver, sent);
    let bytes = out.witness.rangeproof.to_vec();
    let mut opened = 0;
    for at in (0..bytes.len()).step_by(37) {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x5a;
        let Ok(proof) = confidential::RangeProof::from_slice(&tampered) else {
            continue;
        };
        let mut changed = out.clone();
        changed.witness.rangeproof = proof;
        // Whatever the fast path answers opens the output's commitments: its true secrets.
        if let Some(found) = open_fast(&secp, &changed, receiver) {
            assert_eq!(found, sent, "byte {at}");
            opened += 1;
        }
        match unblind(&secp, &changed, receiver) {
            Ok(found) => assert_eq!(found, sent, "byte {at}"),
            Err(_) => assert!(changed.unblind(&secp, receiver).is_err()),
        }
    }
    // Bytes the rewind does not read (the forged keys' s of the middle rings) change nothing.
    assert!(opened > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Over proofs of every shape `secp256k1_rangeproof_sign` makes, the fast path answers
    /// `TxOut::unblind`'s secrets whenever the proof has a range (a proof of an exact value
    /// has no ring to read the value from: the slow path opens it).
    #[test]
    fn proofs_of_any_shape_open_to_what_unblind_answers(
        value in 0u64..(1 << 62),
        min_value_part in 0u64..4,
        exp in -1i32..4,
        min_bits in 0u8..65,
        asset_byte in any::<u8>(),
    ) {
        let secp = Secp256k1::new();
        let receiver = SecretKey::new(&mut rand::thread_rng());
        let sent = secrets(asset_byte, value);
        let min_value = value / 4 * min_value_part;
        let shaped = shaped_output(&secp, receiver, sent, min_value, exp, min_bits);
        prop_assume!(shaped.is_some());
        let out = shaped.expect("assumed");
        let has_range = out.witness.rangeproof.to_vec()[0] & 64 != 0;
        let fast = open_fast(&secp, &out, receiver);
        if has_range {
            prop_assert_eq!(fast, Some(sent));
        } else {
            prop_assert_eq!(fast, None);
        }
        // secp256k1-zkp 0.11's `RangeProof::rewind` computes `max_value + 1`, which overflows
        // (a panic in debug builds) for a proof whose range ends at u64::MAX: 64-bit proofs.
        if min_bits < 64 {
            prop_assert_eq!(out.unblind(&secp, receiver).expect("unblinds"), sent);
            prop_assert_eq!(unblind(&secp, &out, receiver).expect("opens"), sent);
        }
    }
}
