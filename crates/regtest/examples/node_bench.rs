//! Benchmark of the embedded node: mempool validation throughput (explicit and confidential
//! p2wpkh spends), the time to mine a block of 1,000 transactions, and resident memory after
//! 10,000 blocks.
//!
//! Run: `cargo run -p amphora-regtest --example node_bench` (optionally `-- <transactions> <blocks>`).

use std::time::Instant;

use amphora_regtest::chain::{Chain, ChainParams};
use elements::bitcoin::PublicKey as BtcPublicKey;
use elements::confidential::{AssetBlindingFactor, Nonce, Value, ValueBlindingFactor};
use elements::opcodes::OP_TRUE;
use elements::secp256k1_zkp::{All, Message, PublicKey, Secp256k1, SecretKey};
use elements::sighash::SighashCache;
use elements::{
    confidential, Address, AssetId, AssetIssuance, EcdsaSighashType, LockTime, OutPoint, Script,
    Sequence, Transaction, TxIn, TxInWitness, TxOut, TxOutSecrets, TxOutWitness,
};
use rand::SeedableRng;

const FEE: u64 = 1_000;
const COIN_VALUE: u64 = 1_000_000;

fn explicit(asset: AssetId, value: u64, script: Script) -> TxOut {
    TxOut {
        asset: confidential::Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: Nonce::Null,
        script_pubkey: script,
        witness: TxOutWitness::default(),
    }
}

fn input(prevout: OutPoint) -> TxIn {
    TxIn {
        previous_output: prevout,
        is_pegin: false,
        script_sig: Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: AssetIssuance::default(),
        witness: TxInWitness::default(),
    }
}

fn sign(secp: &Secp256k1<All>, tx: &mut Transaction, sk: &SecretKey, spent: &TxOut) {
    let pk = PublicKey::from_secret_key(secp, sk);
    let code = Script::new_p2pkh(&BtcPublicKey::new(pk).pubkey_hash());
    let hash =
        SighashCache::new(&*tx).segwitv0_sighash(0, &code, spent.value, EcdsaSighashType::All);
    let mut der = secp
        .sign_ecdsa(&Message::from_digest(hash.to_byte_array()), sk)
        .serialize_der()
        .to_vec();
    der.push(EcdsaSighashType::All as u8);
    tx.input[0].witness.script_witness =
        elements::Witness::from_slice(&[der, pk.serialize().to_vec()]);
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let blocks: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);

    let secp = Secp256k1::new();
    let mut chain = Chain::open(None, ChainParams::liquidregtest()).expect("chain");
    let policy = chain.params().policy_asset();
    let sk = SecretKey::from_slice(&[42; 32]).expect("key");
    let pk = PublicKey::from_secret_key(&secp, &sk);
    let (_, blinding_pk) = {
        let b = SecretKey::from_slice(&[43; 32]).expect("key");
        (b, PublicKey::from_secret_key(&secp, &b))
    };
    let spk = Address::p2wpkh(
        &BtcPublicKey::new(pk),
        None,
        &elements::AddressParams::ELEMENTS,
    )
    .script_pubkey();

    // Fan the genesis coins out to 2n p2wpkh coins, 500 per transaction.
    let genesis_tx = chain.params().genesis().txdata[1].clone();
    let mut change = (
        OutPoint::new(genesis_tx.txid(), 0),
        genesis_tx.output[0].clone(),
    );
    let mut coins: Vec<(OutPoint, TxOut)> = Vec::with_capacity(2 * n);
    while coins.len() < 2 * n {
        let count = (2 * n - coins.len()).min(500);
        let total = change.1.value.explicit().expect("explicit");
        let mut outputs: Vec<TxOut> = (0..count)
            .map(|_| explicit(policy, COIN_VALUE, spk.clone()))
            .collect();
        outputs.push(explicit(
            policy,
            total - COIN_VALUE * count as u64 - 100_000,
            Script::from(vec![OP_TRUE.into_u8()]),
        ));
        outputs.push(TxOut::new_fee(100_000, policy));
        let fan = Transaction {
            version: 2,
            lock_time: LockTime::ZERO,
            input: vec![input(change.0)],
            output: outputs,
        };
        let txid = chain
            .submit_transaction(fan.clone())
            .expect("fan-out accepted");
        for vout in 0..count {
            coins.push((OutPoint::new(txid, vout as u32), fan.output[vout].clone()));
        }
        change = (OutPoint::new(txid, count as u32), fan.output[count].clone());
    }
    chain.mine_block(spk.clone()).expect("mined");

    let build = |vout: usize, blinded: bool, rng: &mut rand::rngs::StdRng| {
        let (prevout, spent) = coins[vout].clone();
        let mut tx = Transaction {
            version: 2,
            lock_time: LockTime::ZERO,
            input: vec![input(prevout)],
            output: vec![],
        };
        if blinded {
            let half = (COIN_VALUE - FEE) / 2;
            for value in [half, COIN_VALUE - FEE - half] {
                let mut out = explicit(policy, value, spk.clone());
                out.nonce = Nonce::Confidential(blinding_pk);
                tx.output.push(out);
            }
            tx.output.push(TxOut::new_fee(FEE, policy));
            let secrets = TxOutSecrets::new(
                policy,
                AssetBlindingFactor::zero(),
                COIN_VALUE,
                ValueBlindingFactor::zero(),
            );
            tx.blind(rng, &secp, &[secrets], false).expect("blind");
        } else {
            tx.output
                .push(explicit(policy, COIN_VALUE - FEE, spk.clone()));
            tx.output.push(TxOut::new_fee(FEE, policy));
        }
        sign(&secp, &mut tx, &sk, &spent);
        tx
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let explicit_txs: Vec<Transaction> = (0..n).map(|i| build(i, false, &mut rng)).collect();
    let blinded_txs: Vec<Transaction> = (n..2 * n).map(|i| build(i, true, &mut rng)).collect();

    let started = Instant::now();
    for tx in &explicit_txs {
        chain.test_accept(tx).expect("valid");
    }
    let explicit_rate = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for tx in &blinded_txs {
        chain.test_accept(tx).expect("valid");
    }
    let blinded_rate = n as f64 / started.elapsed().as_secs_f64();

    for tx in explicit_txs {
        chain.submit_transaction(tx).expect("accepted");
    }
    let started = Instant::now();
    let hash = chain.mine_block(spk.clone()).expect("mined");
    let mine_explicit = started.elapsed();
    let ntx = chain.block(&hash).expect("block").txdata.len();

    for tx in blinded_txs {
        chain.submit_transaction(tx).expect("accepted");
    }
    // Confidential transactions weigh ~10k each: they fill several blocks.
    let mut blinded_blocks = Vec::new();
    while chain.mempool().next().is_some() {
        let started = Instant::now();
        let hash = chain.mine_block(spk.clone()).expect("mined");
        let count = chain.block(&hash).expect("block").txdata.len() - 1;
        blinded_blocks.push((count, started.elapsed()));
    }

    let before = rss_kib();
    let started = Instant::now();
    for _ in 0..blocks {
        chain.mine_block(spk.clone()).expect("mined");
    }
    let mining = started.elapsed();
    let after = rss_kib();

    println!(
        "transactions validated per second (explicit p2wpkh, 1 in / 2 out): {explicit_rate:.0}"
    );
    println!(
        "transactions validated per second (confidential p2wpkh, 1 in / 3 out): {blinded_rate:.0}"
    );
    println!(
        "mine a block of {} transactions (explicit): {:.1} ms",
        ntx - 1,
        mine_explicit.as_secs_f64() * 1e3
    );
    for (count, elapsed) in &blinded_blocks {
        println!(
            "mine a full block of {count} confidential transactions: {:.1} ms",
            elapsed.as_secs_f64() * 1e3
        );
    }
    println!(
        "mine {blocks} empty blocks: {:.2} s ({:.2} ms/block); height now {}",
        mining.as_secs_f64(),
        mining.as_secs_f64() * 1e3 / f64::from(blocks),
        chain.height()
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "resident memory: {:.1} MiB before, {:.1} MiB after {blocks} blocks",
            b as f64 / 1024.0,
            a as f64 / 1024.0
        );
    }
}
