//! Input scripts and signatures: accepted when really signed, rejected with Elements'
//! script errors when tampered, half-signed, or of a type the node does not run.

use crate::chain_common::*;

#[test]
fn signed_p2wpkh_spend_is_accepted_and_mined() {
    let mut f = Fixture::new();
    let (sk, pk) = key(1);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 100_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 100_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    let txid = f.chain.submit_transaction(t).expect("accepted");
    assert!(f.chain.tx(&txid).expect("in mempool").block.is_none());
    let hash = f.chain.mine_block(p2wpkh(&pk)).expect("mined");
    let found = f
        .chain
        .tx(&txid)
        .expect("confirmed")
        .block
        .expect("in block");
    assert_eq!(found.hash, hash);
    // The coinbase collected the fee for the miner.
    let coinbase = &f.chain.block(&hash).expect("block").txdata[0];
    assert_eq!(coinbase.output[0].value, Value::Explicit(FEE));
}

#[test]
fn tampered_signature_is_rejected() {
    let mut f = Fixture::new();
    let (sk, pk) = key(2);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 50_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 50_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    let mut items = t.input[0].witness.script_witness.to_vec();
    let last = items[0].len() - 3;
    items[0][last] ^= 0x01;
    t.input[0].witness.script_witness = elements::Witness::from_slice(&items);
    expect_reject(
        f.chain.test_accept(&t),
        -26,
        "mandatory-script-verify-flag-failed",
    );
    // Signing with another key fails the same way.
    let (other, _) = key(3);
    sign_p2wpkh(&f.secp, &mut t, 0, &other, &spent);
    expect_reject(
        f.chain.test_accept(&t),
        -26,
        "mandatory-script-verify-flag-failed",
    );
}

#[test]
fn two_of_two_multisig_needs_both_signatures() {
    let mut f = Fixture::new();
    let (ska, pka) = key(6);
    let (skb, pkb) = key(7);
    let ws = multisig_script(&pka, &pkb);
    let spk = Script::new_v0_wsh(&elements::WScriptHash::from_byte_array(
        sha256::Hash::hash(ws.as_bytes()).to_byte_array(),
    ));
    let (prevout, spent) = f.fund(spk, 20_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 20_000_000 - FEE, p2wpkh(&pka)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    let sig_a = multisig_sig(&f.secp, &t, 0, &ska, &ws, &spent);
    let sig_b = multisig_sig(&f.secp, &t, 0, &skb, &ws, &spent);
    let ws_bytes = ws.to_bytes();
    // Unsigned and half-signed spends are rejected.
    for stack in [
        vec![vec![], vec![], vec![], ws_bytes.clone()],
        vec![vec![], sig_a.clone(), ws_bytes.clone()],
        vec![vec![], sig_b.clone(), sig_a.clone(), ws_bytes.clone()],
    ] {
        t.input[0].witness.script_witness = elements::Witness::from_slice(&stack);
        expect_reject(
            f.chain.test_accept(&t),
            -26,
            "mandatory-script-verify-flag-failed",
        );
    }
    t.input[0].witness.script_witness =
        elements::Witness::from_slice(&[vec![], sig_a, sig_b, ws_bytes]);
    f.chain
        .submit_transaction(t)
        .expect("fully signed 2-of-2 accepted");
}

#[test]
fn unknown_script_types_are_rejected_not_accepted() {
    let mut f = Fixture::new();
    // A bare OP_2 output: anyone could satisfy it with no data, but the node does not run
    // arbitrary scripts and must refuse rather than accept.
    let (prevout, _) = f.fund(
        Builder::new().push_opcode(OP_PUSHNUM_2).into_script(),
        5_000_000,
    );
    let t = tx(
        vec![input(prevout)],
        vec![TxOut::new_fee(5_000_000, f.policy)],
    );
    expect_reject(
        f.chain.test_accept(&t),
        -26,
        "mandatory-script-verify-flag-failed (Script type not supported",
    );
}

#[test]
fn legacy_p2sh_multisig_and_p2sh_p2wpkh_spends_verify() {
    let mut f = Fixture::new();
    let (ska, pka) = key(14);
    let (skb, pkb) = key(15);
    let redeem = multisig_script(&pka, &pkb);
    let p2sh = Script::new_p2sh(&elements::ScriptHash::from_byte_array(
        elements::hashes::hash160::Hash::hash(redeem.as_bytes()).to_byte_array(),
    ));
    let (prevout, spent) = f.fund(p2sh, 6_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 6_000_000 - FEE, p2wpkh(&pka)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    let legacy_sig = |t: &Transaction, sk: &SecretKey| {
        let hash = SighashCache::new(t).legacy_sighash(0, &redeem, EcdsaSighashType::All);
        let mut der = f
            .secp
            .sign_ecdsa(&Message::from_digest(hash.to_byte_array()), sk)
            .serialize_der()
            .to_vec();
        der.push(EcdsaSighashType::All as u8);
        der
    };
    let (sig_a, sig_b) = (legacy_sig(&t, &ska), legacy_sig(&t, &skb));
    t.input[0].script_sig = Builder::new()
        .push_opcode(elements::opcodes::all::OP_PUSHBYTES_0)
        .push_slice(&sig_a)
        .push_slice(redeem.as_bytes())
        .into_script();
    expect_reject(
        f.chain.test_accept(&t),
        -26,
        "mandatory-script-verify-flag-failed",
    );
    t.input[0].script_sig = Builder::new()
        .push_opcode(elements::opcodes::all::OP_PUSHBYTES_0)
        .push_slice(&sig_a)
        .push_slice(&sig_b)
        .push_slice(redeem.as_bytes())
        .into_script();
    f.chain.submit_transaction(t).expect("2-of-2 p2sh accepted");

    // p2sh-p2wpkh (Elements' "p2sh-segwit" addresses).
    let (skc, pkc) = key(16);
    let wpkh = p2wpkh(&pkc);
    let nested = Script::new_p2sh(&elements::ScriptHash::from_byte_array(
        elements::hashes::hash160::Hash::hash(wpkh.as_bytes()).to_byte_array(),
    ));
    let (prevout, spent_nested) = f.fund(nested, 7_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 7_000_000 - FEE, p2wpkh(&pkc)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    t.input[0].script_sig = Builder::new().push_slice(wpkh.as_bytes()).into_script();
    sign_p2wpkh(&f.secp, &mut t, 0, &skc, &spent_nested);
    f.chain.submit_transaction(t).expect("p2sh-p2wpkh accepted");
    let _ = spent;
}

#[test]
fn taproot_key_path_spends_verify_and_bad_signatures_fail() {
    let mut f = Fixture::new();
    let (sk, _) = key(18);
    let keypair = elements::secp256k1_zkp::Keypair::from_secret_key(&f.secp, &sk);
    let (internal, _) = keypair.x_only_public_key();
    let spk = Address::p2tr(
        &f.secp,
        internal,
        None,
        None,
        &elements::AddressParams::ELEMENTS,
    )
    .script_pubkey();
    let (prevout, spent) = f.fund(spk, 9_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 9_000_000 - FEE, p2wpkh(&key(19).1)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    use elements::schnorr::TapTweak as _;
    let tweaked = keypair.tap_tweak(&f.secp, None).to_inner();
    let sighash = SighashCache::new(&t)
        .taproot_key_spend_signature_hash(
            0,
            &elements::sighash::Prevouts::All(&[spent]),
            elements::SchnorrSighashType::Default,
            f.chain.params().genesis_hash(),
        )
        .expect("sighash");
    let sig = f
        .secp
        .sign_schnorr_no_aux_rand(&Message::from_digest(sighash.to_byte_array()), &tweaked);
    let mut bad = sig.as_ref().to_vec();
    bad[5] ^= 1;
    t.input[0].witness.script_witness = elements::Witness::from_slice(&[bad]);
    expect_reject(
        f.chain.test_accept(&t),
        -26,
        "mandatory-script-verify-flag-failed (Invalid Schnorr signature)",
    );
    t.input[0].witness.script_witness = elements::Witness::from_slice(&[sig.as_ref().to_vec()]);
    f.chain
        .submit_transaction(t)
        .expect("taproot key spend accepted");
}
