//! The wallet's sync and transfer path on blocks built offline: AMP2 wallets built by LWK's `Amp2`
//! client are funded by a confidential transaction in a block, the blocks are walked into a
//! `ChainIndex`, LWK's scan turns the index into wallet updates, LWK builds a transfer, the user
//! signs, the platform's co-signer library (amphora-cosigner) analyses, judges and co-signs it,
//! LWK finalises it, and the mined transfer moves the balances. Reorgs and the gap limit too.

use crate::common::*;
use amphora_core::gaid::Gaid;
use amphora_core::policy::{self, AssetRules};
use amphora_cosigner::{analyze_pset, WalletIndex};
use amphora_rpc::{Auth, ElementsRpc};
use amphora_wallet::chain_index::{ChainIndex, LOOKAHEAD};
use amphora_wallet::Wallet;
use elements::BlockHash;
use lwk_common::Signer;

#[test]
fn wallet_descriptor_is_lwks_elip153_and_ids_match_the_platform() {
    let platform = platform();
    let alice = user(&platform, ALICE);
    let dir = tempfile::tempdir().unwrap();
    let node = ElementsRpc::new("http://127.0.0.1:1", Auth::None).unwrap();
    let (wallet, _) = Wallet::create_from_mnemonic(dir.path(), ALICE, Some(0), node).unwrap();
    let ours = wallet
        .descriptor_for(
            &platform.xpub_info().keyorigin_xpub,
            "http://127.0.0.1:1",
            network(),
        )
        .unwrap();
    assert_eq!(ours.to_string(), alice.descriptor.to_string());
    // The platform accepts it and derives the same wallet id and GAID the wallet checks.
    let registered = platform.check_descriptor(&ours.to_string()).unwrap();
    assert_eq!(registered.descriptor, ours.to_string());
    assert_eq!(registered.wid, ours.dwid(network()).unwrap());
    assert_eq!(registered.gaid, Gaid::from_descriptor(&ours.to_string()));
}

#[test]
fn funds_are_found_spent_with_the_platform_and_received() {
    let platform = platform();
    let (alice, bob) = (user(&platform, ALICE), user(&platform, BOB));
    let (mut alice_w, mut bob_w) = (wollet(&alice), wollet(&bob));
    let mut alice_ix = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let mut bob_ix = ChainIndex::new(bob.descriptor.clone(), 0).unwrap();

    let alice_addr = alice.descriptor.address(0, PARAMS).unwrap();
    let mut chain = Chain::new();
    chain.mine(vec![funding(
        &[(&alice_addr, share(), 1000), (&alice_addr, lbtc(), 100_000)],
        1,
    )]);
    chain.walk(&mut alice_ix);
    sync(&alice_ix, &mut alice_w);
    assert_eq!(balance(&alice_w, share()), 1000);
    assert_eq!(balance(&alice_w, lbtc()), 100_000);
    assert_eq!(alice_w.tip().height(), 1);
    // The used address moved the next unused one.
    assert_eq!(alice_w.address(None).unwrap().index(), 1);

    // Alice pays Bob 300: LWK builds, Alice signs, the platform co-signs.
    let bob_addr = bob.descriptor.address(0, PARAMS).unwrap();
    let mut pset = alice_w
        .tx_builder()
        .add_recipient(&bob_addr, 300, share())
        .unwrap()
        .finish()
        .unwrap();
    assert!(alice.signer.sign(&mut pset).unwrap() > 0);
    assert!(
        alice_w.finalize(&mut pset.clone()).is_err(),
        "one signature of two cannot spend"
    );
    let mut wallets = WalletIndex::new(&platform, 20);
    for u in [&alice, &bob] {
        wallets
            .insert(&platform, &u.descriptor.to_string())
            .unwrap();
    }
    let analysis = analyze_pset(&pset, &wallets, &wollet_chain(&alice_w, &pset)).unwrap();
    let rules = AssetRules {
        asset_id: share().to_string(),
        is_locked: false,
        is_authorized: true,
        transfer_restricted: false,
        required_categories: Default::default(),
        blacklisted_outpoints: Default::default(),
        has_issuer_authorization_endpoint: false,
    };
    let decision =
        policy::evaluate(&analysis.transfer_request(share(), rules, |_| false, |_| None));
    assert!(decision.may_cosign(), "{:?}", decision.reasons);
    let before = pset.clone();
    platform
        .sign_platform_half(&mut pset, &analysis, &decision)
        .unwrap();
    let added =
        lwk_common::verify_added_sigs(&before, &pset, platform.fingerprint(), &lwk_wollet::EC)
            .unwrap();
    assert!(added > 0);
    let tx = alice_w.finalize(&mut pset).unwrap();

    // Broadcast: unconfirmed for both wallets once in the mempool.
    alice_ix.add_unconfirmed(&tx).unwrap();
    sync(&alice_ix, &mut alice_w);
    assert_eq!(balance(&alice_w, share()), 700);
    assert_eq!(
        alice_w.transaction(&tx.txid()).unwrap().unwrap().height,
        None
    );
    chain.walk(&mut bob_ix);
    bob_ix.replace_mempool(std::slice::from_ref(&tx)).unwrap();
    sync(&bob_ix, &mut bob_w);
    assert_eq!(balance(&bob_w, share()), 300);

    // Mined: confirmed at height 2, the mempool copy replaced.
    let h = chain.mine(vec![tx.clone()]);
    chain.walk(&mut alice_ix);
    alice_ix.replace_mempool(&[]).unwrap();
    sync(&alice_ix, &mut alice_w);
    let wtx = alice_w.transaction(&tx.txid()).unwrap().unwrap();
    assert_eq!(wtx.height, Some(h));
    assert_eq!(wtx.type_, "outgoing");
    assert_eq!(balance(&alice_w, share()), 700);
    assert!(balance(&alice_w, lbtc()) < 100_000);

    // Reorg: the block holding the transfer is replaced by an empty one and the transfer is not
    // in the mempool any more: Alice has her 1000 back.
    chain.reorg(h, vec![]);
    assert!(alice_ix.disconnect_from(h));
    chain.walk(&mut alice_ix);
    alice_ix.replace_mempool(&[]).unwrap();
    sync(&alice_ix, &mut alice_w);
    assert_eq!(balance(&alice_w, share()), 1000);
    let txids: Vec<_> = alice_w
        .transactions()
        .unwrap()
        .iter()
        .map(|t| t.txid)
        .collect();
    assert!(
        !txids.contains(&tx.txid()),
        "the reorged-out transfer is gone"
    );
    assert_eq!(txids.len(), 1);
}

#[test]
fn index_survives_its_file_and_rejects_another_wallets() {
    let platform = platform();
    let (alice, bob) = (user(&platform, ALICE), user(&platform, BOB));
    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let mut chain = Chain::new();
    let a0 = alice.descriptor.address(0, PARAMS).unwrap();
    let funding_tx = funding(&[(&a0, share(), 5)], 2);
    chain.mine(vec![funding_tx.clone()]);
    chain.walk(&mut index);
    let file = index.to_file();
    let text = serde_json::to_string(&file).unwrap();
    let back: amphora_wallet::chain_index::IndexFile = serde_json::from_str(&text).unwrap();
    let restored = ChainIndex::from_file(alice.descriptor.clone(), back.clone()).unwrap();
    assert_eq!(restored.to_file(), file);
    assert_eq!(restored.next_height(), 2);
    let txids = |ix: &ChainIndex| {
        let mut v: Vec<_> = ix
            .histories()
            .into_iter()
            .flat_map(|(script, h)| {
                h.into_iter()
                    .map(move |e| (script.clone(), e.txid, e.height))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(txids(&restored), txids(&index));
    assert_eq!(txids(&index).len(), 1);
    assert!(restored.transaction(&funding_tx.txid()).is_some());
    let err = ChainIndex::from_file(bob.descriptor.clone(), back).unwrap_err();
    assert!(err.contains("another wallet"), "{err}");
}

#[test]
fn blocks_must_connect_and_reorgs_below_the_window_need_a_reset() {
    let platform = platform();
    let alice = user(&platform, ALICE);
    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let mut chain = Chain::new();
    for _ in 0..3 {
        chain.mine(vec![]);
    }
    chain.walk(&mut index);
    assert_eq!(index.next_height(), 4);
    let other = Chain::new().block(BlockHash::from_byte_array([9; 32]), 4, vec![]);
    assert!(index.connect_block(4, &other).is_err());
    assert!(index.connect_block(7, &chain.blocks[3]).is_err());
    assert_eq!(index.recent_hash(3), Some(chain.blocks[3].block_hash()));
    // Within the window: undo from height 2, keeping 0 and 1.
    assert!(index.disconnect_from(2));
    assert_eq!(index.next_height(), 2);
    assert_eq!(index.tip().unwrap().height, 1);
    // Nothing below the start can be undone without a reset.
    let mut late = ChainIndex::new(alice.descriptor.clone(), 5).unwrap();
    assert!(!late.disconnect_from(3));
    assert_eq!(late.reset().unwrap().next_height(), 5);
}

#[test]
fn addresses_past_the_lookahead_are_found_once_the_gap_closes() {
    let platform = platform();
    let alice = user(&platform, ALICE);
    let mut index = ChainIndex::new(alice.descriptor.clone(), 0).unwrap();
    let mut w = wollet(&alice);
    let far = alice.descriptor.address(LOOKAHEAD + 50, PARAMS).unwrap();
    let near = alice.descriptor.address(90, PARAMS).unwrap();
    let mut chain = Chain::new();
    // Beyond the gap limit: not watched yet.
    chain.mine(vec![funding(&[(&far, share(), 1)], 3)]);
    chain.walk(&mut index);
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 0);
    // Index 90 is used: scripts up to 190 are watched, so a later payment to 150 is found, and
    // LWK's gap-limit scan reaches it.
    chain.mine(vec![funding(&[(&near, share(), 2)], 4)]);
    chain.mine(vec![funding(&[(&far, share(), 4)], 5)]);
    chain.walk(&mut index);
    sync(&index, &mut w);
    assert_eq!(balance(&w, share()), 6);
    // An address asked for far ahead gets watched; asking again changes nothing.
    assert!(index.watch_up_to(lwk_wollet::Chain::External, 400).unwrap());
    assert!(!index.watch_up_to(lwk_wollet::Chain::External, 400).unwrap());
    assert_eq!(w.address(None).unwrap().index(), LOOKAHEAD + 51);
}
