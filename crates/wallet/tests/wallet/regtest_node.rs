//! Against the node of the run over JSON-RPC (the embedded regtest node, `amphora-regtest`, or a
//! real `elementsd` with `ELEMENTSD_EXE`):
//! the node's wallet issues an asset and pays an AMP2 wallet; the chain walk and LWK's scan find
//! the (node-blinded) outputs; an LWK-built transfer signed by the user and co-signed by the
//! platform's co-signer library is accepted by the node (2-of-2 witness, CT proofs), mined, and
//! found by the recipient's wallet.

use crate::common::{platform, ALICE, BOB};
use amphora_core::policy::{self, AssetRules};
use amphora_cosigner::{analyze_pset, WalletIndex};
use amphora_rpc::{Amount, ElementsRpc};
use amphora_testenv::TestNode;
use amphora_wallet::chain_index::ChainIndex;
use amphora_wallet::sync::{node_chain, walk};
use amphora_wallet::Wallet;
use elements::encode::serialize_hex;
use lwk_common::Signer;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::{Wollet, WolletBuilder};

struct Investor {
    signer: SwSigner,
    wollet: Wollet,
    index: ChainIndex,
}

impl Investor {
    fn new(network: lwk_common::Network, mnemonic: &str) -> Investor {
        let platform = platform();
        let amp2 = Amp2::new(
            platform.xpub_info().keyorigin_xpub,
            "http://127.0.0.1:1/amp2".into(),
        )
        .unwrap();
        let signer = SwSigner::new_with_network(mnemonic, network).unwrap();
        let descriptor = amp2.elip153_from_signer(&signer, 0).unwrap().descriptor();
        Investor {
            signer,
            wollet: WolletBuilder::new(network, descriptor.clone())
                .build()
                .unwrap(),
            index: ChainIndex::new(descriptor, 0).unwrap(),
        }
    }

    async fn sync(&mut self, node: &ElementsRpc) {
        walk(node, &mut self.index, |_| Ok(())).await.unwrap();
        if let Some(update) = amphora_wallet::backend::scan(&self.index, &self.wollet).unwrap() {
            self.wollet.apply_update(update).unwrap();
        }
    }

    fn balance(&self, asset: &elements::AssetId) -> u64 {
        self.wollet
            .balance()
            .unwrap()
            .get(asset)
            .copied()
            .unwrap_or(0)
    }
}

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).unwrap()
}

#[tokio::test]
async fn transfer_cosigned_by_the_platform_is_accepted_by_the_node() {
    let node = TestNode::start().await;
    let rpc = node.rpc().clone();
    let chain = node_chain(&rpc).await.unwrap();
    let network = chain.lwk_network();
    let lbtc = chain.policy_asset;

    // A new wallet starts its first sync at the node's height.
    let dir = tempfile::tempdir().unwrap();
    let (_, created) = Wallet::create(dir.path(), rpc.clone()).await.unwrap();
    assert_eq!(created.birth_height, Some(0));

    let treasury = node.claim_free_coins("treasury").await;
    let issued = treasury
        .issue_asset(amount("0.00001000"), amount("0.00000001"), true)
        .await
        .unwrap();
    let share = issued.asset;
    node.mine(1).await;

    let mut alice = Investor::new(network, ALICE);
    let mut bob = Investor::new(network, BOB);
    let alice_addr = alice.wollet.address(None).unwrap().address().to_string();
    treasury
        .send_to_address(&alice_addr, amount("0.00000600"), Some(&share))
        .await
        .unwrap();
    treasury
        .send_to_address(&alice_addr, amount("0.001"), None)
        .await
        .unwrap();

    // Unconfirmed first, then confirmed.
    alice.sync(&rpc).await;
    assert_eq!(alice.balance(&share), 600);
    assert_eq!(alice.balance(&lbtc), 100_000);
    node.mine(1).await;
    alice.sync(&rpc).await;
    assert!(alice
        .wollet
        .transactions()
        .unwrap()
        .iter()
        .all(|t| t.height == Some(2)));

    // Alice pays Bob 250: built by LWK, signed by Alice, co-signed by the platform.
    let bob_addr = bob.wollet.address(None).unwrap().address().clone();
    let mut pset = alice
        .wollet
        .tx_builder()
        .add_recipient(&bob_addr, 250, share)
        .unwrap()
        .disable_ct_discount()
        .finish()
        .unwrap();
    assert!(alice.signer.sign(&mut pset).unwrap() > 0);
    let platform = platform();
    let mut wallets = WalletIndex::new(&platform, 20);
    for w in [&alice.wollet, &bob.wollet] {
        wallets
            .insert(&platform, &w.wollet_descriptor().to_string())
            .unwrap();
    }
    let analysis = analyze_pset(
        &pset,
        &wallets,
        &crate::common::wollet_chain(&alice.wollet, &pset),
    )
    .unwrap();
    let rules = AssetRules {
        asset_id: share.to_string(),
        is_locked: false,
        is_authorized: true,
        transfer_restricted: false,
        required_categories: Default::default(),
        blacklisted_outpoints: Default::default(),
        has_issuer_authorization_endpoint: false,
    };
    let decision = policy::evaluate(&analysis.transfer_request(share, rules, |_| false, |_| None));
    platform
        .sign_platform_half(&mut pset, &analysis, &decision)
        .unwrap();
    let tx = alice.wollet.finalize(&mut pset).unwrap();
    let txid = rpc.send_raw_transaction(&serialize_hex(&tx)).await.unwrap();
    assert_eq!(txid, tx.txid());

    alice.sync(&rpc).await;
    bob.sync(&rpc).await;
    assert_eq!(alice.balance(&share), 350);
    assert_eq!(bob.balance(&share), 250);
    node.mine(1).await;
    bob.sync(&rpc).await;
    let received = bob.wollet.transaction(&txid).unwrap().unwrap();
    assert_eq!(
        (received.height, received.type_.as_str()),
        (Some(3), "incoming")
    );
    node.stop().await;
}
