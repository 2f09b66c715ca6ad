//! PSETs that lie about the outputs they spend. Elements' segwit v0 signature hash commits to the
//! spent output's value but not to its asset, so every claim of a `witness_utxo` must be checked
//! against the chain ([`ChainUtxos`]): asset swaps between equal-valued explicit outputs,
//! inflated amounts, unknown and spent outpoints are refused, and random mutations of valid
//! PSETs are only ever signed when the rules approve the transfer as the chain has it.

use std::collections::BTreeMap;

use amphora_core::policy::{self, AssetRules};
use amphora_cosigner::{ChainUtxo, ChainUtxos, CosignError, TransferAnalysis};
use elements::confidential::{Asset, Value};
use elements::pset::{self, PartiallySignedTransaction};
use elements::{AssetId, OutPoint, Script, TxOut, TxOutWitness};
use lwk_wollet::Chain;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::fixture::{
    address, alice_pays_bob, analyze, fixture, funding_tx, hints, issuer_tracked, Fixture, User,
};

/// An explicit output of `value` of `asset` to `script`.
fn explicit_out(script: Script, asset: AssetId, value: u64) -> TxOut {
    TxOut {
        asset: Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: elements::confidential::Nonce::Null,
        script_pubkey: script,
        witness: TxOutWitness::default(),
    }
}

/// Puts explicit coins `(chain, index, asset, value)` of `owner` on the fixture's chain (one
/// funding transaction) and returns their outpoints and outputs.
fn explicit_coins(
    f: &Fixture,
    owner: &User,
    coins: &[(Chain, u32, AssetId, u64)],
) -> Vec<(OutPoint, TxOut)> {
    let outputs: Vec<TxOut> = coins
        .iter()
        .map(|(chain, index, asset, value)| {
            explicit_out(
                address(owner, *chain, *index).script_pubkey(),
                *asset,
                *value,
            )
        })
        .collect();
    let mut funding = funding_tx(outputs);
    // A distinct funding transaction per call.
    funding.lock_time =
        elements::LockTime::from_height(rand::random::<u32>() % 400_000_000).unwrap();
    funding
        .output
        .iter()
        .enumerate()
        .map(|(vout, txout)| {
            let outpoint = OutPoint::new(funding.txid(), vout as u32);
            f.chain
                .borrow_mut()
                .insert(outpoint, ChainUtxo::Unspent(Box::new(txout.clone())));
            (outpoint, txout.clone())
        })
        .collect()
}

/// An all-explicit PSET of `owner` spending `inputs` (outpoint, the claimed `witness_utxo`,
/// chain, index) and paying `outputs`.
fn explicit_pset(
    f: &Fixture,
    owner: &User,
    inputs: &[(OutPoint, TxOut, Chain, u32)],
    outputs: &[(Script, AssetId, u64)],
) -> PartiallySignedTransaction {
    let mut pset = PartiallySignedTransaction::new_v2();
    for (outpoint, claimed, chain, index) in inputs {
        let mut input = pset::Input::from_prevout(*outpoint);
        input.witness_utxo = Some(claimed.clone());
        input.bip32_derivation = hints(&f.secp, owner, *chain, *index);
        pset.add_input(input);
    }
    for (script, asset, value) in outputs {
        pset.add_output(pset::Output::new_explicit(
            script.clone(),
            *value,
            *asset,
            None,
        ));
    }
    pset
}

/// The issuer's rules for the fixture's asset with `blacklisted` outpoints.
fn blacklisting(f: &Fixture, blacklisted: &[OutPoint]) -> AssetRules {
    let mut rules = issuer_tracked(f.asset);
    rules.blacklisted_outpoints = blacklisted.iter().copied().collect();
    rules
}

fn request_for(f: &Fixture, analysis: &TransferAnalysis, rules: AssetRules) -> policy::Decision {
    policy::evaluate(&analysis.transfer_request(f.asset, rules, |_| false, |_| None))
}

/// Two equal-valued explicit coins of Alice: 100 of the (blacklisted) asset and 100 L-BTC.
/// The PSET swaps their claimed assets, so the platform would see the blacklisted coin as
/// L-BTC and a clean coin of the asset, and sign (the signature hash does not commit to the
/// asset, so the signature would be valid on chain).
#[test]
fn swapped_assets_of_equal_valued_explicit_inputs_are_refused() {
    let f = fixture();
    let coins = explicit_coins(
        &f,
        &f.alice,
        &[
            (Chain::External, 0, f.asset, 100),
            (Chain::External, 1, f.lbtc, 100),
        ],
    );
    let (blacklisted, clean) = (coins[0].0, coins[1].0);
    let bob = address(&f.bob, Chain::External, 0).script_pubkey();
    let change = address(&f.alice, Chain::Internal, 0).script_pubkey();
    let outputs = [
        (bob, f.asset, 100),
        (change, f.lbtc, 90),
        (Script::new(), f.lbtc, 10),
    ];
    let mut as_lbtc = coins[0].1.clone();
    as_lbtc.asset = Asset::Explicit(f.lbtc);
    let mut as_asset = coins[1].1.clone();
    as_asset.asset = Asset::Explicit(f.asset);
    let lying = explicit_pset(
        &f,
        &f.alice,
        &[
            (blacklisted, as_lbtc.clone(), Chain::External, 0),
            (clean, as_asset.clone(), Chain::External, 1),
        ],
        &outputs,
    );
    let err = analyze(&lying, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputUtxoMismatch { vin: 0 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "input_utxo_mismatch");

    // Had the chain said what the PSET claims, the rules would have approved: the attack.
    let mut believed = f.chain.borrow().clone();
    believed.insert(blacklisted, ChainUtxo::Unspent(Box::new(as_lbtc)));
    believed.insert(clean, ChainUtxo::Unspent(Box::new(as_asset)));
    let fooled = amphora_cosigner::analyze_pset(&lying, &f.index, &believed).unwrap();
    assert!(request_for(&f, &fooled, blacklisting(&f, &[blacklisted])).may_cosign());

    // The honest PSET moving the blacklisted coin is understood and refused by the rules.
    let honest = explicit_pset(
        &f,
        &f.alice,
        &[
            (blacklisted, coins[0].1.clone(), Chain::External, 0),
            (clean, coins[1].1.clone(), Chain::External, 1),
        ],
        &outputs,
    );
    let analysis = analyze(&honest, &f).unwrap();
    let decision = request_for(&f, &analysis, blacklisting(&f, &[blacklisted]));
    assert_eq!(
        decision.reasons,
        [amphora_core::policy::ReasonCode::InputBlacklisted]
    );
}

#[test]
fn inflated_unknown_and_spent_inputs_are_refused() {
    let f = fixture();
    let coins = explicit_coins(&f, &f.alice, &[(Chain::External, 0, f.asset, 100)]);
    let (outpoint, real) = coins[0].clone();
    let bob = address(&f.bob, Chain::External, 0).script_pubkey();
    let pays = |amount| [(bob.clone(), f.asset, amount)];

    // Inflated: the PSET claims 1000 of an output of 100.
    let mut inflated = real.clone();
    inflated.value = Value::Explicit(1000);
    let pset = explicit_pset(
        &f,
        &f.alice,
        &[(outpoint, inflated, Chain::External, 0)],
        &pays(1000),
    );
    let err = analyze(&pset, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputUtxoMismatch { vin: 0 }),
        "{err:?}"
    );

    // Another script than the chain's (Alice's other address).
    let mut moved = real.clone();
    moved.script_pubkey = address(&f.alice, Chain::External, 1).script_pubkey();
    let pset = explicit_pset(
        &f,
        &f.alice,
        &[(outpoint, moved, Chain::External, 1)],
        &pays(100),
    );
    let err = analyze(&pset, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputUtxoMismatch { vin: 0 }),
        "{err:?}"
    );

    // An outpoint the chain does not have: an invented coin of the asset.
    let invented = OutPoint::new(outpoint.txid, 7);
    let pset = explicit_pset(
        &f,
        &f.alice,
        &[(invented, real.clone(), Chain::External, 0)],
        &pays(100),
    );
    let err = analyze(&pset, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputUnknown { vin: 0 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "input_unknown");

    // The honest PSET is understood until the coin is spent.
    let honest = explicit_pset(
        &f,
        &f.alice,
        &[(outpoint, real.clone(), Chain::External, 0)],
        &pays(100),
    );
    assert!(analyze(&honest, &f).is_ok());
    f.chain.borrow_mut().insert(outpoint, ChainUtxo::Spent);
    let err = analyze(&honest, &f).unwrap_err();
    assert!(matches!(err, CosignError::InputSpent { vin: 0 }), "{err:?}");
    assert_eq!(err.code(), "input_spent");

    // The same coin twice.
    let coins = explicit_coins(&f, &f.alice, &[(Chain::External, 0, f.asset, 100)]);
    let (outpoint, real) = coins[0].clone();
    let twice = explicit_pset(
        &f,
        &f.alice,
        &[
            (outpoint, real.clone(), Chain::External, 0),
            (outpoint, real, Chain::External, 0),
        ],
        &pays(200),
    );
    let err = analyze(&twice, &f).unwrap_err();
    assert!(matches!(err, CosignError::InvalidPset(_)), "{err:?}");
}

/// One change an attacker makes to a valid PSET (or the chain changes under it).
#[derive(Debug, Clone)]
enum Mutation {
    /// The claimed `witness_utxo` asset becomes explicit `asset` (0: the asset, 1: L-BTC, else
    /// a foreign asset).
    UtxoAsset(usize, u8),
    /// The claimed `witness_utxo` value becomes explicit `value`.
    UtxoValue(usize, u64),
    /// The claimed `witness_utxo` script becomes Bob's.
    UtxoScript(usize),
    /// Two inputs swap their claimed `witness_utxo`.
    SwapUtxos(usize, usize),
    /// The input's explicit asset/amount claims.
    Claim(usize, u8, u64),
    /// The input's blind proofs and rangeproof copy are dropped.
    DropProofs(usize),
    /// The `witness_utxo` is dropped.
    DropUtxo(usize),
    /// The chain says the input is spent.
    ChainSpent(usize),
    /// The chain does not know the input.
    ChainUnknown(usize),
    /// An output's explicit amount (or amount claim) becomes `value`.
    OutputValue(usize, u64),
    /// An output's explicit asset (or asset claim) changes.
    OutputAsset(usize, u8),
    /// Input 0 is added again.
    DuplicateInput,
}

fn asset_of(f: &Fixture, pick: u8) -> AssetId {
    match pick % 3 {
        0 => f.asset,
        1 => f.lbtc,
        _ => AssetId::from_byte_array([9u8; 32]),
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let vin = 0usize..3;
    let value = prop_oneof![
        Just(0u64),
        Just(1),
        Just(100),
        Just(1000),
        Just(u64::MAX),
        any::<u64>()
    ];
    prop_oneof![
        (vin.clone(), any::<u8>()).prop_map(|(i, a)| Mutation::UtxoAsset(i, a)),
        (vin.clone(), value.clone()).prop_map(|(i, v)| Mutation::UtxoValue(i, v)),
        vin.clone().prop_map(Mutation::UtxoScript),
        (vin.clone(), vin.clone()).prop_map(|(i, j)| Mutation::SwapUtxos(i, j)),
        (vin.clone(), any::<u8>(), value.clone()).prop_map(|(i, a, v)| Mutation::Claim(i, a, v)),
        vin.clone().prop_map(Mutation::DropProofs),
        vin.clone().prop_map(Mutation::DropUtxo),
        vin.clone().prop_map(Mutation::ChainSpent),
        vin.clone().prop_map(Mutation::ChainUnknown),
        (0usize..5, value).prop_map(|(i, v)| Mutation::OutputValue(i, v)),
        (0usize..5, any::<u8>()).prop_map(|(i, a)| Mutation::OutputAsset(i, a)),
        Just(Mutation::DuplicateInput),
    ]
}

fn apply(f: &Fixture, pset: &mut PartiallySignedTransaction, chain: &mut ChainUtxos, m: &Mutation) {
    let inputs = pset.inputs().len();
    let outputs = pset.outputs().len();
    match *m {
        Mutation::UtxoAsset(i, a) if i < inputs => {
            if let Some(u) = pset.inputs_mut()[i].witness_utxo.as_mut() {
                u.asset = Asset::Explicit(asset_of(f, a));
            }
        }
        Mutation::UtxoValue(i, v) if i < inputs => {
            if let Some(u) = pset.inputs_mut()[i].witness_utxo.as_mut() {
                u.value = Value::Explicit(v);
            }
        }
        Mutation::UtxoScript(i) if i < inputs => {
            if let Some(u) = pset.inputs_mut()[i].witness_utxo.as_mut() {
                u.script_pubkey = address(&f.bob, Chain::External, 0).script_pubkey();
            }
        }
        Mutation::SwapUtxos(i, j) if i < inputs && j < inputs => {
            let a = pset.inputs()[i].witness_utxo.clone();
            let b = pset.inputs()[j].witness_utxo.clone();
            pset.inputs_mut()[i].witness_utxo = b;
            pset.inputs_mut()[j].witness_utxo = a;
        }
        Mutation::Claim(i, a, v) if i < inputs => {
            pset.inputs_mut()[i].asset = Some(asset_of(f, a));
            pset.inputs_mut()[i].amount = Some(v);
        }
        Mutation::DropProofs(i) if i < inputs => {
            let input = &mut pset.inputs_mut()[i];
            input.blind_asset_proof = None;
            input.blind_value_proof = None;
            input.in_utxo_rangeproof = None;
        }
        Mutation::DropUtxo(i) if i < inputs => pset.inputs_mut()[i].witness_utxo = None,
        Mutation::ChainSpent(i) if i < inputs => {
            let input = &pset.inputs()[i];
            chain.insert(
                OutPoint::new(input.previous_txid, input.previous_output_index),
                ChainUtxo::Spent,
            );
        }
        Mutation::ChainUnknown(i) if i < inputs => {
            let input = &pset.inputs()[i];
            chain.insert(
                OutPoint::new(input.previous_txid, input.previous_output_index),
                ChainUtxo::Unknown,
            );
        }
        Mutation::OutputValue(i, v) if i < outputs => {
            let output = &mut pset.outputs_mut()[i];
            output.amount = Some(v);
            if output.amount_comm.is_none() {
                output.blind_value_proof = None;
            }
        }
        Mutation::OutputAsset(i, a) if i < outputs => {
            pset.outputs_mut()[i].asset = Some(asset_of(f, a));
        }
        Mutation::DuplicateInput => {
            let again = pset.inputs()[0].clone();
            pset.add_input(again);
        }
        _ => {}
    }
}

/// What an output of the chain really holds: explicit, or unblinded with Alice's view key
/// (every coin of the properties is Alice's).
fn truth(f: &Fixture, txout: &TxOut) -> (AssetId, u64) {
    if let (Asset::Explicit(a), Value::Explicit(v)) = (txout.asset, txout.value) {
        return (a, v);
    }
    let ct = f.alice.descriptor.ct_descriptor().unwrap();
    let key = lwk_common::derive_blinding_key(ct, &txout.script_pubkey).unwrap();
    let secrets = txout.unblind(&f.secp, key).unwrap();
    (secrets.asset, secrets.value)
}

/// Random mutations of valid PSETs (a blinded one from LWK-shaped inputs, and an explicit one
/// of two equal-valued coins) never panic, and a signature is only returned when the analysis
/// is what the chain holds and the rules — here: the asset's first coin is blacklisted — approve
/// the transfer of the chain's coins.
#[test]
fn mutated_psets_are_signed_only_when_the_rules_approve_the_chain_truth() {
    let f = fixture();
    let blinded = alice_pays_bob(&f);
    let coins = explicit_coins(
        &f,
        &f.alice,
        &[
            (Chain::External, 0, f.asset, 100),
            (Chain::External, 1, f.lbtc, 100),
        ],
    );
    let explicit = explicit_pset(
        &f,
        &f.alice,
        &[
            (coins[0].0, coins[0].1.clone(), Chain::External, 0),
            (coins[1].0, coins[1].1.clone(), Chain::External, 1),
        ],
        &[
            (
                address(&f.bob, Chain::External, 0).script_pubkey(),
                f.asset,
                100,
            ),
            (
                address(&f.alice, Chain::Internal, 0).script_pubkey(),
                f.lbtc,
                90,
            ),
            (Script::new(), f.lbtc, 10),
        ],
    );
    let bases = [blinded, explicit];
    let chain = f.chain.borrow().clone();
    let blacklist_of = |pset: &PartiallySignedTransaction| -> Vec<OutPoint> {
        let input = &pset.inputs()[0];
        vec![OutPoint::new(
            input.previous_txid,
            input.previous_output_index,
        )]
    };
    // The unmutated PSETs move a blacklisted coin: refused by the rules.
    for base in &bases {
        let analysis = analyze(base, &f).unwrap();
        assert!(!request_for(&f, &analysis, blacklisting(&f, &blacklist_of(base))).may_cosign());
    }

    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0usize..2,
        prop::collection::vec(mutation(), 1..4),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(base, mutations, blacklist)| {
            let mut pset = bases[base].clone();
            let mut chain = chain.clone();
            let blacklisted = if blacklist {
                blacklist_of(&pset)
            } else {
                Vec::new()
            };
            for m in &mutations {
                apply(&f, &mut pset, &mut chain, m);
            }
            // Through the wire format, as the endpoint receives it (also must not panic).
            let Ok(pset) = amphora_cosigner::decode_pset(&pset.to_string()) else {
                return Ok(());
            };
            let Ok(analysis) = amphora_cosigner::analyze_pset(&pset, &f.index, &chain) else {
                return Ok(());
            };
            // Understood: every input is the chain's coin, with the chain's asset and amount.
            let mut sums: BTreeMap<AssetId, u128> = BTreeMap::new();
            for input in &analysis.inputs {
                let ChainUtxo::Unspent(onchain) = chain.get(&input.outpoint) else {
                    panic!(
                        "input {} analysed without an unspent chain output",
                        input.vin
                    );
                };
                let claimed = pset.inputs()[input.vin].witness_utxo.as_ref().unwrap();
                prop_assert_eq!(
                    (&claimed.script_pubkey, claimed.asset, claimed.value),
                    (&onchain.script_pubkey, onchain.asset, onchain.value)
                );
                let (asset, amount) = truth(&f, onchain);
                prop_assert_eq!((input.asset, input.amount), (asset, amount));
                *sums.entry(asset).or_default() += u128::from(amount);
            }
            let mut out_sums: BTreeMap<AssetId, u128> = BTreeMap::new();
            for output in &analysis.outputs {
                *out_sums.entry(output.asset).or_default() += u128::from(output.amount);
            }
            prop_assert_eq!(&sums, &out_sums);

            let decision = request_for(&f, &analysis, blacklisting(&f, &blacklisted));
            let mut signed = pset.clone();
            let result = f
                .platform
                .sign_platform_half(&mut signed, &analysis, &decision);
            if result.is_ok() {
                prop_assert!(decision.may_cosign());
                let moves_blacklisted = analysis
                    .inputs
                    .iter()
                    .any(|i| i.asset == f.asset && blacklisted.contains(&i.outpoint));
                prop_assert!(!moves_blacklisted, "a blacklisted coin was signed away");
            } else {
                prop_assert_eq!(&signed, &pset, "nothing is signed when refused");
            }
            Ok(())
        })
        .unwrap();
}
