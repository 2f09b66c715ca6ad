//! The chain of the API tests that go through a node: the test node of the run
//! (`amphora_testenv::TestNode`: the embedded regtest node, or Elements Core 23 when
//! `ELEMENTSD_EXE` names an `elementsd`) with the `platform` wallet that pays the issuance
//! fees and an `issuer` (treasury) wallet. Blocks are mined only when a test asks.

use amphora_rpc::{AddressType, Amount, ElementsRpc};
use amphora_server::config::Secret;
use amphora_testenv::TestNode;

/// A running test node with its `platform` and `issuer` wallets; stopped when dropped.
pub struct Chain {
    pub node: TestNode,
    /// Node-level client (what the app under test is given).
    pub rpc: ElementsRpc,
    /// The issuer's treasury wallet.
    pub issuer: ElementsRpc,
}

impl Chain {
    /// A node whose `platform` wallet holds the genesis free coins, and an empty `issuer`
    /// wallet.
    pub async fn start() -> Chain {
        Chain::open(true).await
    }

    /// A node whose `platform` wallet holds nothing (the free coins stay unclaimed).
    pub async fn unfunded() -> Chain {
        Chain::open(false).await
    }

    async fn open(fund_platform: bool) -> Chain {
        let node = TestNode::start().await;
        if fund_platform {
            node.claim_free_coins("platform").await;
        } else {
            node.create_wallet("platform").await;
        }
        let issuer = node.create_wallet("issuer").await;
        Chain {
            rpc: node.rpc().clone(),
            issuer,
            node,
        }
    }

    /// Sends `lbtc` L-BTC from `platform` to the issuer's wallet (for its fees) and mines it.
    pub async fn fund_issuer(&self, lbtc: i64) {
        let address = self.issuer.get_new_address(None).await.unwrap();
        self.rpc
            .wallet("platform")
            .send_to_address(&address, Amount::from_units(lbtc * 100_000_000), None)
            .await
            .unwrap();
        self.mine(1).await;
    }

    /// Mines `blocks` blocks.
    pub async fn mine(&self, blocks: u64) {
        self.node.mine(blocks).await;
    }

    /// The chain height.
    pub async fn height(&self) -> u64 {
        self.node.height().await
    }

    /// A fresh confidential address of the issuer's wallet.
    pub async fn issuer_address(&self) -> String {
        self.issuer
            .get_new_address(Some(AddressType::Blech32))
            .await
            .unwrap()
    }

    /// The transaction `txid` (from the node's transaction index).
    pub async fn tx(&self, txid: &str) -> elements::Transaction {
        self.rpc
            .get_raw_transaction(&txid.parse().unwrap())
            .await
            .unwrap()
    }
}

/// A test node provisioned as `amphora serve` provisions its embedded one (`platform` with
/// the free coins, `treasury` funded), and the node settings of a platform that uses it
/// through `elements_url`.
pub async fn platform_node() -> (TestNode, amphora_server::NodeConfig) {
    let node = TestNode::start().await;
    node.provision_platform_wallets().await;
    let config = amphora_server::NodeConfig {
        elements_url: Some(Secret::new(node.url_with_credentials(""))),
        ..Default::default()
    };
    (node, config)
}
