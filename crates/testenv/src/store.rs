//! The rows store and API tests start from, written once: an asset as `POST /api/assets/issue`
//! stores it and its issuance transaction, an issued asset, a registered wallet, a registered
//! user, and the synthetic chain index's txids, blocks and outputs. Tests change the few fields they are
//! about with struct update syntax (`NewAsset { amount: 5, ..new_asset(issuer, "u") }`).

use amphora_store::{
    BlockUpdate, IndexedBlock, IndexedTx, IssuanceTx, NewAsset, NewAssetOutput, OutputOwner, Store,
    UNKNOWN_BLINDER,
};

/// Password hash of the issuers the fixtures create (never checked by a store test).
pub const ISSUER_PASSWORD_HASH: &str = "h";
/// Block time of height 0 of the synthetic index; each block is one minute later.
pub const GENESIS_TIME: i64 = 1_700_000_000;

/// A transfer-restricted, confidential, reissuable asset `uuid` of `issuer_id`: 1,000 base
/// units, precision 0, ticker `EXA`, one reissuance token.
pub fn new_asset(issuer_id: i64, uuid: &str) -> NewAsset {
    NewAsset {
        uuid: uuid.to_string(),
        issuer_id,
        name: "Example".into(),
        amount: 1_000,
        destination_address: "el1dest".into(),
        domain: "example.com".into(),
        ticker: "EXA".into(),
        pubkey: "02ab".into(),
        precision: 0,
        is_confidential: true,
        is_reissuable: true,
        reissuance_amount: 1,
        reissuance_address: "el1token".into(),
        transfer_restricted: true,
        issuer_authorization_endpoint: None,
        contract_json: "{}".into(),
        contract_hash: "00".repeat(32),
    }
}

/// The same asset without a reissuance token.
pub fn non_reissuable(asset: NewAsset) -> NewAsset {
    NewAsset {
        is_reissuable: false,
        reissuance_amount: 0,
        reissuance_address: String::new(),
        ..asset
    }
}

/// The issuance row of an asset the test node issued (`issueasset`'s answer): its units at
/// output `asset_vout` and its reissuance token at `token_vout` of the issuance transaction.
pub fn node_issuance_tx(
    issued: &amphora_rpc::types::IssuedAsset,
    asset_vout: i64,
    token_vout: i64,
) -> IssuanceTx {
    IssuanceTx {
        asset_id: issued.asset.to_string(),
        reissuance_token_id: Some(issued.token.to_string()),
        tx_hex: "00".into(),
        txid: issued.txid.to_string(),
        vin: i64::from(issued.vin),
        asset_vout,
        reissuance_vout: Some(token_vout),
    }
}

/// The issuance transaction `txid` of asset id [`txid`]`(asset)`: the asset at output 0, the
/// reissuance token `bb…` at output 1.
pub fn issuance_tx(asset: u8, txid: &str) -> IssuanceTx {
    IssuanceTx {
        asset_id: self::txid(asset),
        reissuance_token_id: Some("bb".repeat(32)),
        tx_hex: "0200".into(),
        txid: txid.to_string(),
        vin: 0,
        asset_vout: 0,
        reissuance_vout: Some(1),
    }
}

/// The same issuance without a reissuance token.
pub fn without_token(tx: IssuanceTx) -> IssuanceTx {
    IssuanceTx {
        reissuance_token_id: None,
        reissuance_vout: None,
        ..tx
    }
}

/// Stores `asset`, its issuance transaction `tx` and its broadcast: the asset is issued (the
/// chain index confirms it). Panics when the store refuses.
pub async fn issued_asset(store: &Store, asset: &NewAsset, tx: &IssuanceTx) {
    store
        .create_asset(asset)
        .await
        .unwrap_or_else(|e| panic!("create_asset {}: {e}", asset.uuid));
    store
        .set_asset_issuance_tx(&asset.uuid, tx)
        .await
        .unwrap_or_else(|e| panic!("set_asset_issuance_tx {}: {e}", asset.uuid));
    store
        .set_asset_broadcast(&asset.uuid, None, None)
        .await
        .unwrap_or_else(|e| panic!("set_asset_broadcast {}: {e}", asset.uuid));
}

/// Creates the issuer `username`; its id.
pub async fn issuer(store: &Store, username: &str) -> i64 {
    store
        .create_issuer(username, ISSUER_PASSWORD_HASH)
        .await
        .unwrap_or_else(|e| panic!("create_issuer {username}: {e}"))
        .id
}

/// The wallet id [`registered_wallet`] gives the wallet of `gaid`.
pub fn wid_of(gaid: &str) -> String {
    format!("wid-{gaid}")
}

/// Registers the AMP2 wallet of `gaid` (wallet id [`wid_of`], descriptor `ct(<gaid>)`).
pub async fn registered_wallet(store: &Store, gaid: &str) {
    store
        .register_wallet(&wid_of(gaid), &format!("ct({gaid})"), gaid)
        .await
        .unwrap_or_else(|e| panic!("register_wallet {gaid}: {e}"));
}

/// Creates the registered user `name` (a person) of `issuer_id`, with the wallet `gaid` if
/// any; its id.
pub async fn registered_user(store: &Store, issuer_id: i64, name: &str, gaid: Option<&str>) -> i64 {
    store
        .create_registered_user(issuer_id, name, false, gaid, None)
        .await
        .unwrap_or_else(|e| panic!("create_registered_user {name}: {e}"))
        .id
}

/// The synthetic txid `n` (the byte repeated 32 times, in hex).
pub fn txid(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// The synthetic block hash of `height`.
pub fn block_hash(height: i64) -> String {
    format!("{:064x}", height + 7000)
}

/// The synthetic block at `height` (on the block at `height - 1`).
pub fn indexed_block(height: i64) -> IndexedBlock {
    IndexedBlock {
        height,
        block_hash: block_hash(height),
        prev_hash: block_hash(height - 1),
        block_time: GENESIS_TIME + height * 60,
    }
}

/// The synthetic block at `height` ([`indexed_block`]) indexing `txs` and `outputs`, spending
/// nothing.
pub fn block_update(height: i64, txs: Vec<IndexedTx>, outputs: Vec<NewAssetOutput>) -> BlockUpdate {
    BlockUpdate {
        block: indexed_block(height),
        txs,
        outputs,
        spends: vec![],
    }
}

/// Output `txid:vout` of asset `asset_uuid` (not its token), created at `height` and held by
/// `owner`: `amount` units, the script `0014aa`, unknown blinders.
pub fn asset_output(
    asset_uuid: &str,
    txid: &str,
    vout: i64,
    amount: i64,
    owner: OutputOwner,
    height: i64,
) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid.to_string(),
        vout,
        asset_uuid: asset_uuid.to_string(),
        is_token: false,
        amount,
        script_pubkey: "0014aa".into(),
        owner,
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height,
    }
}
