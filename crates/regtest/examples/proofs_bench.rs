//! What one confidential output costs, proof by proof: blinding it (`TxOut::with_txout_secrets`:
//! its 52-bit range proof and its surjection proof, as a wallet's `sendmany` makes them),
//! verifying its range proof and its surjection proof (mempool acceptance), unblinding it with
//! the receiver's key (`TxOut::unblind`, the range proof's rewind: what a chain follower does),
//! the same with `amphora_ct::open_fast` (the few challenges the rewind needs, then the two
//! commitments checked), and checking it opens to known secrets (two commitments, what a
//! verifier given the blinders does). A distribution transaction of 60 recipients pays each of
//! these 60 times.
//!
//! Run: `cargo run --release -p amphora-regtest --example proofs_bench [-- <outputs>]`.

use std::time::{Duration, Instant};

use elements::confidential::{Asset, AssetBlindingFactor, Value, ValueBlindingFactor};
use elements::secp256k1_zkp::{Secp256k1, SecretKey};
use elements::{AssetId, Script, SurjectionInput, TxOut, TxOutSecrets};

fn per_op(total: Duration, count: usize) -> String {
    format!("{:.2} ms", total.as_secs_f64() * 1_000.0 / count as f64)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("outputs: a number"))
        .unwrap_or(200);
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let asset = AssetId::default();
    let input = TxOutSecrets::new(
        asset,
        AssetBlindingFactor::new(&mut rng),
        1_000_000,
        ValueBlindingFactor::new(&mut rng),
    );
    let domain = [SurjectionInput::from_txout_secrets(input)];
    let script = Script::from(
        vec![0x00, 0x14]
            .into_iter()
            .chain([9; 20])
            .collect::<Vec<u8>>(),
    );
    let receivers: Vec<SecretKey> = (0..count).map(|_| SecretKey::new(&mut rng)).collect();

    let started = Instant::now();
    let blinded: Vec<(TxOut, TxOutSecrets)> = receivers
        .iter()
        .map(|key| {
            let secrets = TxOutSecrets::new(
                asset,
                AssetBlindingFactor::new(&mut rng),
                1_000,
                ValueBlindingFactor::new(&mut rng),
            );
            let ephemeral = SecretKey::new(&mut rng);
            let out = TxOut::with_txout_secrets(
                &mut rng,
                &secp,
                script.clone(),
                key.public_key(&secp),
                ephemeral,
                secrets,
                &domain,
            )
            .expect("blinds");
            (out, secrets)
        })
        .collect();
    let blind = started.elapsed();

    let started = Instant::now();
    for (out, _) in &blinded {
        let (Value::Confidential(commitment), Asset::Confidential(generator)) =
            (out.value, out.asset)
        else {
            panic!("blinded");
        };
        let proof = out.witness.rangeproof.as_ref().expect("range proof");
        proof
            .verify(&secp, commitment, out.script_pubkey.as_bytes(), generator)
            .expect("range proof verifies");
    }
    let range_verify = started.elapsed();

    let Asset::Confidential(input_generator) =
        Asset::new_confidential(&secp, asset, input.asset_bf)
    else {
        panic!("blinded");
    };
    let started = Instant::now();
    for (out, _) in &blinded {
        let Asset::Confidential(generator) = out.asset else {
            panic!("blinded");
        };
        let proof = out.witness.surjection_proof.as_ref().expect("proof");
        assert!(proof.verify(&secp, generator, &[input_generator]));
    }
    let surjection_verify = started.elapsed();

    let started = Instant::now();
    for ((out, secrets), key) in blinded.iter().zip(&receivers) {
        let opened = out.unblind(&secp, *key).expect("unblinds");
        assert_eq!(opened.value, secrets.value);
    }
    let rewind = started.elapsed();

    let started = Instant::now();
    for ((out, secrets), key) in blinded.iter().zip(&receivers) {
        let opened = amphora_ct::open_fast(&secp, out, *key).expect("opens the fast way");
        assert_eq!(opened, *secrets);
    }
    let fast = started.elapsed();

    let started = Instant::now();
    for (out, secrets) in &blinded {
        let asset = Asset::new_confidential(&secp, secrets.asset, secrets.asset_bf);
        let Asset::Confidential(generator) = asset else {
            panic!("blinded");
        };
        assert_eq!(out.asset, asset);
        assert_eq!(
            out.value,
            Value::new_confidential(&secp, secrets.value, generator, secrets.value_bf)
        );
    }
    let opens = started.elapsed();

    println!("{count} confidential outputs, one thread, per output:");
    println!(
        "  blind (range proof + surjection proof): {}",
        per_op(blind, count)
    );
    println!(
        "  verify its range proof:                 {}",
        per_op(range_verify, count)
    );
    println!(
        "  verify its surjection proof:            {}",
        per_op(surjection_verify, count)
    );
    println!(
        "  unblind with the receiver's key:        {}",
        per_op(rewind, count)
    );
    println!(
        "  unblind it the fast way (amphora-ct):   {}",
        per_op(fast, count)
    );
    println!(
        "  check it opens to known secrets:        {}",
        per_op(opens, count)
    );
}
