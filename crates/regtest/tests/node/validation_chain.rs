//! Chain-level rules: double spends, coinbase maturity, burns, relative lock times, and
//! persistence of the chain and the mempool across restarts.

use crate::chain_common::*;

#[test]
fn double_spends_are_rejected_in_mempool_and_after_confirmation() {
    let mut f = Fixture::new();
    let (sk, pk) = key(4);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 10_000_000);
    let build = |f: &Fixture, amount: u64| {
        let mut t = tx(
            vec![input(prevout)],
            vec![
                explicit(f.policy, amount, p2wpkh(&pk)),
                TxOut::new_fee(10_000_000 - amount, f.policy),
            ],
        );
        sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
        t
    };
    let first = build(&f, 9_000_000);
    f.chain
        .submit_transaction(first.clone())
        .expect("first spend");
    let second = build(&f, 8_000_000);
    expect_reject(f.chain.test_accept(&second), -26, "txn-mempool-conflict");
    f.chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    expect_reject(
        f.chain.test_accept(&second),
        -25,
        "bad-txns-inputs-missingorspent",
    );
    let again = f
        .chain
        .submit_transaction(first)
        .expect_err("already confirmed");
    assert_eq!(
        (again.code, again.message.as_str()),
        (-27, "Transaction already in block chain")
    );
}

#[test]
fn immature_coinbase_and_op_return_outputs_cannot_be_spent() {
    let mut f = Fixture::new();
    let (sk, pk) = key(5);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 10_000_000);
    let mut burn = tx(
        vec![input(prevout)],
        vec![
            explicit(
                f.policy,
                1_000,
                Builder::new().push_opcode(OP_RETURN).into_script(),
            ),
            explicit(f.policy, 10_000_000 - 1_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut burn, 0, &sk, &spent);
    let burn_txid = f.chain.submit_transaction(burn).expect("burn accepted");
    let block = f.chain.mine_block(p2wpkh(&pk)).expect("mined");
    // The burn output never became spendable.
    let spend_burn = tx(
        vec![input(OutPoint::new(burn_txid, 0))],
        vec![TxOut::new_fee(1_000, f.policy)],
    );
    expect_reject(
        f.chain.test_accept(&spend_burn),
        -25,
        "bad-txns-inputs-missingorspent",
    );
    // The coinbase that collected the burn's fee is immature.
    let coinbase = f.chain.block(&block).expect("block").txdata[0].clone();
    let coinbase_out = coinbase.output[0].clone();
    let mut spend_cb = tx(
        vec![input(OutPoint::new(coinbase.txid(), 0))],
        vec![TxOut::new_fee(FEE, f.policy)],
    );
    sign_p2wpkh(&f.secp, &mut spend_cb, 0, &sk, &coinbase_out);
    expect_reject(
        f.chain.test_accept(&spend_cb),
        -26,
        "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1",
    );
}

#[test]
fn relative_lock_times_are_enforced() {
    let mut f = Fixture::new();
    let (sk, pk) = key(17);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 8_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 8_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    // Spendable 3 blocks after the coin's block (height 1): not before height 4.
    t.input[0].sequence = Sequence::from_consensus(3);
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    expect_reject(f.chain.test_accept(&t), -26, "non-BIP68-final");
    f.chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    expect_reject(f.chain.test_accept(&t), -26, "non-BIP68-final");
    f.chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    f.chain.test_accept(&t).expect("final at the lock height");
}

#[test]
fn chain_and_mempool_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sk, pk) = key(12);
    let (tip, pending) = {
        let mut f = Fixture::new();
        f.chain = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("chain");
        let (prevout, spent) = f.fund(p2wpkh(&pk), 3_000_000);
        let mut t = tx(
            vec![input(prevout)],
            vec![
                explicit(f.policy, 3_000_000 - FEE, p2wpkh(&pk)),
                TxOut::new_fee(FEE, f.policy),
            ],
        );
        sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
        let pending = f.chain.submit_transaction(t).expect("accepted");
        // No explicit flush: dropping the chain writes the mempool.
        (f.chain.tip(), pending)
    };
    let reopened = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("reopen");
    assert_eq!(reopened.tip(), tip);
    assert!(reopened
        .tx(&pending)
        .expect("still pending")
        .block
        .is_none());
    // Each chain has its own subdirectory; the same chain name with another genesis (other
    // free coins) is refused rather than mixed.
    assert!(Chain::open(Some(dir.path()), ChainParams::elementsregtest()).is_ok());
    let other_genesis = ChainParams::new(amphora_regtest::chain::ChainName::LiquidRegtest, 5);
    assert!(Chain::open(Some(dir.path()), other_genesis).is_err());
}

#[test]
fn a_torn_block_write_is_dropped_on_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tip = {
        let mut chain = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("chain");
        chain.mine_block(Script::new_op_return(&[])).expect("mined");
        chain.tip()
    };
    let blocks = dir.path().join("liquidregtest").join("blocks.dat");
    let mut bytes = std::fs::read(&blocks).expect("blocks file");
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&blocks, bytes).expect("write");
    let mut chain = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("reopen");
    assert_eq!(chain.tip(), tip);
    chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined on top");
    drop(chain);
    let chain = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("reopen again");
    assert_eq!(chain.height(), 2);
}

#[test]
fn a_full_mempool_is_mined_over_several_blocks_within_the_weight_limit() {
    let mut f = Fixture::new();
    let anyone = Script::from(vec![OP_TRUE.into_u8()]);
    // Twelve coins, confirmed, so that the big transactions below are not chained (each is
    // about 92,000 vbytes: two chained would pass the 101,000-vbyte package limit).
    let (prevout, coins) = f.coins.clone();
    let total = coins.value.explicit().expect("explicit");
    let split_fee = 1_000;
    let each = (total - split_fee) / 12;
    let mut outputs: Vec<TxOut> = (0..12)
        .map(|_| explicit(f.policy, each, anyone.clone()))
        .collect();
    outputs.push(TxOut::new_fee(total - each * 12, f.policy));
    let split = f
        .chain
        .submit_transaction(tx(vec![input(prevout)], outputs))
        .expect("the split is accepted");
    f.chain
        .mine_block(anyone.clone())
        .expect("the split is mined");
    // Twelve transactions of ~2,000 outputs each: ~4.4M weight in all.
    let mut txids = Vec::new();
    for vout in 0..12 {
        let mut outputs: Vec<TxOut> = (0..2_000)
            .map(|_| explicit(f.policy, 1, anyone.clone()))
            .collect();
        let fee = 20_000;
        outputs.push(explicit(f.policy, each - 2_000 - fee, anyone.clone()));
        outputs.push(TxOut::new_fee(fee, f.policy));
        let t = tx(vec![input(OutPoint::new(split, vout))], outputs);
        let txid = f.chain.submit_transaction(t).expect("accepted");
        txids.push(txid);
    }
    let first = f
        .chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    let block = f.chain.block(&first).expect("block").clone();
    assert!(block.weight() <= amphora_regtest::chain::DEFAULT_BLOCK_MAX_WEIGHT);
    let confirmed = block.txdata.len() - 1;
    assert!(
        (1..12).contains(&confirmed),
        "{confirmed} transactions in the first block"
    );
    assert_eq!(f.chain.mempool().count(), 12 - confirmed);
    f.chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    assert_eq!(f.chain.mempool().count(), 0);
    assert!(txids
        .iter()
        .all(|t| f.chain.tx(t).expect("known").block.is_some()));
}

#[test]
fn invalidated_blocks_return_their_transactions_to_the_mempool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = Fixture::new();
    f.chain = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("chain");
    let (sk, pk) = key(20);
    let (prevout, spent) = f.fund(p2wpkh(&pk), 5_000_000);
    let mut t = tx(
        vec![input(prevout)],
        vec![
            explicit(f.policy, 5_000_000 - FEE, p2wpkh(&pk)),
            TxOut::new_fee(FEE, f.policy),
        ],
    );
    sign_p2wpkh(&f.secp, &mut t, 0, &sk, &spent);
    let txid = f.chain.submit_transaction(t).expect("accepted");
    let block = f.chain.mine_block(p2wpkh(&pk)).expect("mined");
    f.chain.mine_block(p2wpkh(&pk)).expect("mined");
    assert_eq!(f.chain.height(), 3);
    let spent_outpoint = OutPoint::new(txid, 0);
    assert!(f.chain.utxo(&spent_outpoint).is_some());

    assert_eq!(f.chain.invalidate_block(&block).expect("invalidated"), 2);
    assert_eq!(f.chain.height(), 1);
    assert!(f.chain.block(&block).is_none());
    assert!(f
        .chain
        .tx(&txid)
        .expect("back in the mempool")
        .block
        .is_none());
    assert!(f.chain.utxo(&spent_outpoint).is_none());
    assert!(
        f.chain.utxo(&prevout).is_some(),
        "the spent output is unspent again"
    );

    let again = f
        .chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    assert_ne!(again, block);
    assert_eq!(
        f.chain
            .tx(&txid)
            .expect("confirmed")
            .block
            .expect("block")
            .hash,
        again
    );
    let tip = f.chain.tip();
    drop(f);
    let reopened = Chain::open(Some(dir.path()), ChainParams::liquidregtest()).expect("reopen");
    assert_eq!(reopened.tip(), tip);
    let genesis = reopened.params().genesis_hash();
    let mut reopened = reopened;
    assert!(reopened.invalidate_block(&genesis).is_err());
}

#[test]
fn a_chain_past_25_unconfirmed_transactions_is_refused_until_a_block_confirms_it() {
    let mut f = Fixture::new();
    let anyone = Script::from(vec![OP_TRUE.into_u8()]);
    let (mut prevout, coins) = f.coins.clone();
    let mut value = coins.value.explicit().expect("explicit");
    let fee = 1_000;
    let next = |prevout: OutPoint, value: &mut u64| {
        *value -= fee;
        tx(
            vec![input(prevout)],
            vec![
                explicit(f.policy, *value, anyone.clone()),
                TxOut::new_fee(fee, f.policy),
            ],
        )
    };
    for _ in 0..25 {
        let t = next(prevout, &mut value);
        prevout = OutPoint::new(f.chain.submit_transaction(t).expect("within the limit"), 0);
    }
    let last = next(prevout, &mut value);
    let refused = f.chain.submit_transaction(last.clone()).unwrap_err();
    assert_eq!(refused.code, -26);
    assert_eq!(
        refused.message,
        "too-long-mempool-chain, too many unconfirmed ancestors [limit: 25]"
    );
    f.chain
        .mine_block(Script::new_op_return(&[]))
        .expect("mined");
    f.chain
        .submit_transaction(last)
        .expect("its ancestors are confirmed");
}
