//! Funding errors with the codes Elements Core 23.3.3 gives them: `fundrawtransaction`
//! reports a shortfall as a generic wallet error (-4), the send calls as -6.

use amphora_regtest::chain::{Chain, ChainParams};
use amphora_regtest::wallet::{dispatch, WalletManager};
use serde_json::json;

#[test]
fn fundrawtransaction_without_funds_is_a_wallet_error() {
    let mut chain = Chain::open(None, ChainParams::liquidregtest()).unwrap();
    let mut wallets = WalletManager::open(None, &chain).unwrap();
    dispatch(
        &mut wallets,
        &mut chain,
        None,
        "createwallet",
        &[json!("empty")],
    )
    .unwrap()
    .unwrap();
    let to = dispatch(
        &mut wallets,
        &mut chain,
        Some("empty"),
        "getnewaddress",
        &[],
    )
    .unwrap()
    .unwrap();
    let raw = dispatch(
        &mut wallets,
        &mut chain,
        Some("empty"),
        "createrawtransaction",
        &[json!([]), json!([{ to.as_str().unwrap(): 1 }])],
    )
    .unwrap()
    .unwrap();
    let err = dispatch(
        &mut wallets,
        &mut chain,
        Some("empty"),
        "fundrawtransaction",
        &[raw],
    )
    .unwrap()
    .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-4, "Insufficient funds"));

    let err = dispatch(
        &mut wallets,
        &mut chain,
        Some("empty"),
        "sendtoaddress",
        &[to, json!(1)],
    )
    .unwrap()
    .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-6, "Insufficient funds"));
}
