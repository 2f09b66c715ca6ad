//! Co-signing PSETs built offline: a synthetic confidential funding transaction pays two AMP2
//! wallets built by LWK's `Amp2` client, a transfer PSET spends it, the user signs with LWK's
//! software signer, and the platform analyses, judges and co-signs it.

use amphora_core::policy::{ReasonCode, RecipientUser};
use amphora_cosigner::{decode_pset, CosignError, Destination};
use elements::pset;
use elements::{BlockHash, Script, TxOut};
use lwk_common::Signer;
use lwk_wollet::Chain;

use crate::fixture::{
    address, alice_pays_bob, analyze, decide, fixture, issuer_tracked, transfer, Out,
};

#[test]
fn transfer_between_registered_wallets_is_analysed_and_cosigned() {
    let f = fixture();
    let mut pset = alice_pays_bob(&f);
    assert_eq!(f.alice.signer.sign(&mut pset).unwrap(), 2);
    // Round trip through the wire format, as the HTTP endpoint does.
    let pset = decode_pset(&pset.to_string()).unwrap();

    let analysis = analyze(&pset, &f).unwrap();
    let alice = f.index.get(&analysis.sender.wid).unwrap();
    assert_eq!(alice.descriptor, f.alice.descriptor.to_string());
    assert_eq!(analysis.inputs.len(), 2);
    assert_eq!(
        (analysis.inputs[0].asset, analysis.inputs[0].amount),
        (f.asset, 1000)
    );
    assert_eq!(
        (analysis.inputs[1].asset, analysis.inputs[1].amount),
        (f.lbtc, 10_000)
    );
    let summary: Vec<_> = analysis
        .outputs
        .iter()
        .map(|o| (o.asset, o.amount, o.destination.clone()))
        .collect();
    let bob = f
        .index
        .get(
            &f.bob
                .descriptor
                .dwid(lwk_common::Network::default_regtest())
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        summary,
        vec![
            (
                f.asset,
                300,
                Destination::Wallet(amphora_cosigner::WalletRef {
                    wid: bob.wid.clone(),
                    gaid: bob.gaid.clone()
                })
            ),
            (f.asset, 700, Destination::Change),
            (f.lbtc, 9_000, Destination::Change),
            (f.lbtc, 1_000, Destination::Fee),
        ]
    );
    assert_eq!(analysis.assets(), [f.asset, f.lbtc].into_iter().collect());

    let decision = decide(&analysis, &f, issuer_tracked(f.asset), None, None);
    assert!(decision.may_cosign(), "{decision:?}");

    let before = pset.clone();
    let mut signed = pset.clone();
    let added = f
        .platform
        .sign_platform_half(&mut signed, &analysis, &decision)
        .unwrap();
    assert_eq!(added, 2);
    // Exactly what LWK's Amp2::cosign checks on the response.
    let verified =
        lwk_common::verify_added_sigs(&before, &signed, f.platform.fingerprint(), &f.secp).unwrap();
    assert_eq!(verified, 2);

    // With both halves the 2-of-2 finalises (miniscript's interpreter checks the signatures);
    // with the user's half alone it does not.
    let genesis = BlockHash::from_byte_array([0u8; 32]);
    let mut only_user = before;
    assert!(elements_miniscript::psbt::finalize(&mut only_user, &f.secp, genesis).is_err());
    elements_miniscript::psbt::finalize(&mut signed, &f.secp, genesis).unwrap();
}

#[test]
fn restricted_asset_needs_a_qualified_registered_user() {
    let f = fixture();
    let pset = alice_pays_bob(&f);
    let analysis = analyze(&pset, &f).unwrap();
    let mut rules = issuer_tracked(f.asset);
    rules.transfer_restricted = true;
    rules.required_categories = [4].into();

    let no_user = decide(&analysis, &f, rules.clone(), None, None);
    assert_eq!(no_user.reasons, [ReasonCode::RecipientNotRegisteredUser]);
    let wrong_category = RecipientUser {
        id: 1,
        categories: [3].into(),
    };
    let d = decide(&analysis, &f, rules.clone(), None, Some(wrong_category));
    assert_eq!(d.reasons, [ReasonCode::RecipientMissingCategory]);
    let mut signed = pset.clone();
    let err = f
        .platform
        .sign_platform_half(&mut signed, &analysis, &d)
        .unwrap_err();
    assert!(matches!(err, CosignError::NotApproved(_)), "{err:?}");
    assert_eq!(err.code(), "not_approved");
    assert_eq!(signed, pset, "nothing is signed when refused");

    let qualified = RecipientUser {
        id: 1,
        categories: [3, 4].into(),
    };
    assert!(decide(&analysis, &f, rules, None, Some(qualified)).may_cosign());
}

#[test]
fn unknown_recipient_is_understood_via_pset_proofs_and_refused_unless_treasury() {
    let f = fixture();
    // Carol is not registered: her address is an unknown script to the platform.
    let carol = address(&f.carol, Chain::External, 0);
    let change = address(&f.alice, Chain::Internal, 0);
    let pset = transfer(
        &f,
        &[(&f.alice, Chain::External, 0, f.asset, 500)],
        &[
            Out::To(&carol, f.asset, 200),
            Out::To(&change, f.asset, 300),
        ],
    );
    let analysis = analyze(&pset, &f).unwrap();
    assert_eq!(analysis.outputs[0].destination, Destination::External);
    assert_eq!(analysis.outputs[0].amount, 200);

    let d = decide(&analysis, &f, issuer_tracked(f.asset), None, None);
    assert_eq!(d.reasons, [ReasonCode::RecipientUnknown]);
    let treasury = carol.script_pubkey();
    assert!(decide(
        &analysis,
        &f,
        issuer_tracked(f.asset),
        Some(&treasury),
        None
    )
    .may_cosign());

    // Without the PSET's blinding proofs the platform cannot read the output: fail closed.
    let mut stripped = pset.clone();
    stripped.outputs_mut()[0].blind_value_proof = None;
    let err = analyze(&stripped, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::CannotUnblindOutput { vout: 0 }),
        "{err:?}"
    );
    // A proof for another amount does not count either.
    let mut lying = pset;
    lying.outputs_mut()[0].amount = Some(201);
    let err = analyze(&lying, &f).unwrap_err();
    assert!(matches!(err, CosignError::CannotUnblindOutput { vout: 0 }));
}

#[test]
fn burning_the_asset_is_recognised_and_refused() {
    let f = fixture();
    let change = address(&f.alice, Chain::Internal, 0);
    let pset = transfer(
        &f,
        &[(&f.alice, Chain::External, 0, f.asset, 500)],
        &[Out::Burn(f.asset, 100), Out::To(&change, f.asset, 400)],
    );
    let analysis = analyze(&pset, &f).unwrap();
    assert_eq!(analysis.outputs[0].destination, Destination::Burn);
    assert_eq!(analysis.outputs[0].amount, 100);
    let d = decide(&analysis, &f, issuer_tracked(f.asset), None, None);
    assert_eq!(d.reasons, [ReasonCode::BurnNotAllowed]);
}

#[test]
fn inputs_of_unregistered_or_several_wallets_are_refused() {
    let f = fixture();
    let change = address(&f.carol, Chain::Internal, 0);
    let pset = transfer(
        &f,
        &[(&f.carol, Chain::External, 0, f.asset, 500)],
        &[Out::To(&change, f.asset, 500)],
    );
    let err = analyze(&pset, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputNotRegistered { vin: 0 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "input_not_registered");

    let to = address(&f.alice, Chain::External, 2);
    let pset = transfer(
        &f,
        &[
            (&f.alice, Chain::External, 0, f.asset, 500),
            (&f.bob, Chain::External, 0, f.asset, 500),
        ],
        &[Out::To(&to, f.asset, 1000)],
    );
    let err = analyze(&pset, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::MultipleSendingWallets { vin: 1 }),
        "{err:?}"
    );
}

#[test]
fn inputs_unblind_with_the_view_key_when_the_pset_has_no_input_proofs() {
    let f = fixture();
    let pset = alice_pays_bob(&f);
    let mut no_proofs = pset.clone();
    for input in no_proofs.inputs_mut() {
        input.blind_asset_proof = None;
        input.blind_value_proof = None;
    }
    let analysis = analyze(&no_proofs, &f).unwrap();
    assert_eq!(analysis.inputs[0].amount, 1000);
    assert_eq!(analysis.inputs[1].asset, f.lbtc);

    // Neither proofs nor the PSET's copy of the rangeproof: the chain's output (with its own
    // rangeproof) unblinds with the view key.
    let mut nothing = no_proofs;
    nothing.inputs_mut()[0].in_utxo_rangeproof = None;
    let analysis = analyze(&nothing, &f).unwrap();
    assert_eq!(analysis.inputs[0].amount, 1000);

    // Proofs for another amount are not believed: the chain's output says 1000.
    let mut lying = pset.clone();
    lying.inputs_mut()[0].amount = Some(999);
    lying.inputs_mut()[0].in_utxo_rangeproof = None;
    let analysis = analyze(&lying, &f).unwrap();
    assert_eq!(analysis.inputs[0].amount, 1000);

    // An output the chain does not have cannot be read at all.
    let mut foreign = pset;
    foreign.inputs_mut()[0].witness_utxo = Some(TxOut::new_fee(1000, f.asset));
    let err = analyze(&foreign, &f).unwrap_err();
    assert!(
        matches!(err, CosignError::InputUtxoMismatch { vin: 0 }),
        "{err:?}"
    );
}

#[test]
fn missing_witness_utxo_and_garbage_are_refused() {
    let f = fixture();
    let mut pset = alice_pays_bob(&f);
    pset.inputs_mut()[1].witness_utxo = None;
    let err = analyze(&pset, &f).unwrap_err();
    assert!(matches!(err, CosignError::MissingWitnessUtxo { vin: 1 }));
    let err = decode_pset("not a pset").unwrap_err();
    assert!(matches!(err, CosignError::InvalidPset(_)));
    assert_eq!(err.code(), "pset_invalid");
}

#[test]
fn signing_another_pset_than_the_analysed_one_is_refused() {
    let f = fixture();
    let analysed = alice_pays_bob(&f);
    let analysis = analyze(&analysed, &f).unwrap();
    let decision = decide(&analysis, &f, issuer_tracked(f.asset), None, None);
    let mut other = alice_pays_bob(&f);
    let err = f
        .platform
        .sign_platform_half(&mut other, &analysis, &decision)
        .unwrap_err();
    assert!(matches!(err, CosignError::PsetChanged), "{err:?}");

    let mut anyone_can_pay = analysed;
    anyone_can_pay.inputs_mut()[0].sighash_type = Some(pset::PsbtSighashType::from_u32(0x81));
    let err = f
        .platform
        .sign_platform_half(&mut anyone_can_pay, &analysis, &decision)
        .unwrap_err();
    assert!(
        matches!(err, CosignError::UnsupportedSighash { vin: 0 }),
        "{err:?}"
    );
}

#[test]
fn addresses_beyond_the_lookahead_need_hints_or_mark_used() {
    let mut f = fixture();
    // Alice spends a coin at index 40 (hints resolve it) and pays Bob's index 30.
    let bob_far = address(&f.bob, Chain::External, 30);
    let pset = transfer(
        &f,
        &[(&f.alice, Chain::External, 40, f.asset, 100)],
        &[Out::To(&bob_far, f.asset, 100)],
    );
    let analysis = analyze(&pset, &f).unwrap();
    assert_eq!(analysis.inputs[0].derivation_index, 40);
    assert_eq!(analysis.outputs[0].destination, Destination::External);

    let bob_wid = f
        .bob
        .descriptor
        .dwid(lwk_common::Network::default_regtest())
        .unwrap();
    assert!(f.index.mark_used(&bob_wid, Chain::External, 28));
    let analysis = analyze(&pset, &f).unwrap();
    assert!(
        matches!(analysis.outputs[0].destination, Destination::Wallet(ref w) if w.wid == bob_wid)
    );

    // Without hints the far input is unknown.
    let mut no_hints = pset;
    no_hints.inputs_mut()[0].bip32_derivation.clear();
    let err = analyze(&no_hints, &f).unwrap_err();
    assert!(matches!(err, CosignError::InputNotRegistered { vin: 0 }));
}

#[test]
fn unbalanced_values_are_refused() {
    // A fee output the PSET claims in the clear but which does not match the inputs.
    let f = fixture();
    let change = address(&f.alice, Chain::Internal, 0);
    let pset = transfer(
        &f,
        &[
            (&f.alice, Chain::External, 0, f.asset, 500),
            (&f.alice, Chain::External, 1, f.lbtc, 500),
        ],
        &[Out::To(&change, f.asset, 500), Out::Fee(f.lbtc, 500)],
    );
    assert!(analyze(&pset, &f).is_ok());
    let mut tampered = pset;
    let mut extra = pset::Output::new_explicit(Script::new(), 1, f.asset, None);
    extra.blinder_index = None;
    tampered.add_output(extra);
    let err = analyze(&tampered, &f).unwrap_err();
    assert!(matches!(err, CosignError::Unbalanced { .. }), "{err:?}");
}
