//! Registration checks against descriptors built by LWK's own AMP2 client.

use amphora_core::Network;
use amphora_cosigner::{DescriptorError, PlatformKey};
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;

const USER_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const USER_MNEMONIC_2: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
/// The server mnemonics of the ELIP-153 test vectors.
const SERVER_MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
const OTHER_SERVER_MNEMONIC: &str = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
const URL: &str = "http://127.0.0.1:1/amp2";

fn lwk_network(network: Network) -> lwk_common::Network {
    amphora_cosigner::key::lwk_network(network)
}

fn platform(network: Network) -> PlatformKey {
    PlatformKey::from_mnemonic(SERVER_MNEMONIC, network).unwrap()
}

/// The descriptor LWK's AMP2 client builds for `user_mnemonic` against `server_keyorigin_xpub`.
fn lwk_descriptor(
    server_keyorigin_xpub: &str,
    user_mnemonic: &str,
    network: Network,
    account: u32,
) -> String {
    let amp2 = Amp2::new(server_keyorigin_xpub.to_string(), URL.to_string()).unwrap();
    let signer = SwSigner::new_with_network(user_mnemonic, lwk_network(network)).unwrap();
    amp2.elip153_from_signer(&signer, account)
        .unwrap()
        .descriptor()
        .to_string()
}

fn without_checksum(descriptor: &str) -> String {
    descriptor.split('#').next().unwrap().to_string()
}

#[test]
fn lwk_elip153_descriptor_from_published_xpub_is_accepted() {
    for network in [
        Network::LiquidV1,
        Network::LiquidTestnet,
        Network::LiquidRegtest,
    ] {
        let key = platform(network);
        let desc = lwk_descriptor(&key.xpub_info().keyorigin_xpub, USER_MNEMONIC, network, 0);
        let wallet = key.check_descriptor(&desc).expect("accepted");
        assert_eq!(wallet.descriptor, desc);
        let lwk_desc: lwk_wollet::WolletDescriptor = desc.parse().unwrap();
        assert_eq!(wallet.wid, lwk_desc.dwid(lwk_network(network)).unwrap());
        assert!(wallet.gaid.as_str().starts_with("GA"));
    }
}

#[test]
fn elip153_test_vectors_give_the_published_wallet_ids() {
    // (network, user mnemonic, server mnemonic, account, dwid) from the ELIP-153 vectors.
    let vectors = [
        (
            Network::LiquidV1,
            USER_MNEMONIC,
            SERVER_MNEMONIC,
            0,
            "4b2f-fca3-1d2e-0a8b-0d58-3ef5-9375-12cd",
        ),
        (
            Network::LiquidTestnet,
            USER_MNEMONIC,
            SERVER_MNEMONIC,
            0,
            "ded1-9ff5-4291-6309-3c91-a4d8-cfe5-8f74",
        ),
        (
            Network::LiquidRegtest,
            USER_MNEMONIC,
            SERVER_MNEMONIC,
            0,
            "a73a-c707-978f-cb7c-8912-5868-34c9-ee12",
        ),
        (
            Network::LiquidV1,
            USER_MNEMONIC,
            SERVER_MNEMONIC,
            1,
            "5c5b-05fd-0fe1-58ef-b6a5-c54f-3e56-e478",
        ),
        (
            Network::LiquidV1,
            USER_MNEMONIC_2,
            SERVER_MNEMONIC,
            0,
            "0328-ea41-7816-2f18-e86d-f110-bec4-f4eb",
        ),
        (
            Network::LiquidV1,
            USER_MNEMONIC,
            OTHER_SERVER_MNEMONIC,
            0,
            "7e5d-8182-ec4f-cf90-7be8-20f5-b3d8-8694",
        ),
    ];
    for (network, user, server, account, dwid) in vectors {
        let key = PlatformKey::from_mnemonic(server, network).unwrap();
        let desc = lwk_descriptor(
            &key.master_xpub_info().keyorigin_xpub,
            user,
            network,
            account,
        );
        let wallet = key.check_descriptor(&desc).expect("accepted");
        assert_eq!(wallet.wid, dwid, "{network} account {account}");
    }
}

#[test]
fn same_descriptor_twice_gives_same_wid_and_gaid() {
    let key = platform(Network::LiquidRegtest);
    let desc = lwk_descriptor(
        &key.xpub_info().keyorigin_xpub,
        USER_MNEMONIC,
        Network::LiquidRegtest,
        0,
    );
    let a = key.check_descriptor(&desc).unwrap();
    let b = key
        .check_descriptor(&format!("  {}\n", without_checksum(&desc)))
        .unwrap();
    assert_eq!(a, b);
    let other = lwk_descriptor(
        &key.xpub_info().keyorigin_xpub,
        USER_MNEMONIC,
        Network::LiquidRegtest,
        1,
    );
    let c = key.check_descriptor(&other).unwrap();
    assert_ne!(a.wid, c.wid);
    assert_ne!(a.gaid, c.gaid);
}

#[test]
fn foreign_platform_key_is_refused() {
    let key = platform(Network::LiquidRegtest);
    let foreign =
        PlatformKey::from_mnemonic(OTHER_SERVER_MNEMONIC, Network::LiquidRegtest).unwrap();
    let desc = lwk_descriptor(
        &foreign.xpub_info().keyorigin_xpub,
        USER_MNEMONIC,
        Network::LiquidRegtest,
        0,
    );
    let err = key.check_descriptor(&desc).unwrap_err();
    assert!(
        matches!(err, DescriptorError::ForeignPlatformKey { .. }),
        "{err:?}"
    );
}

#[test]
fn forged_key_origin_with_our_fingerprint_is_refused() {
    let key = platform(Network::LiquidRegtest);
    let foreign =
        PlatformKey::from_mnemonic(OTHER_SERVER_MNEMONIC, Network::LiquidRegtest).unwrap();
    // Someone else's xpub, labelled with this platform's fingerprint.
    let forged = foreign.xpub_info().keyorigin_xpub.replace(
        &foreign.fingerprint().to_string(),
        &key.fingerprint().to_string(),
    );
    let desc = lwk_descriptor(&forged, USER_MNEMONIC, Network::LiquidRegtest, 0);
    let err = key.check_descriptor(&desc).unwrap_err();
    assert!(
        matches!(err, DescriptorError::ForeignPlatformKey { .. }),
        "{err:?}"
    );
}

#[test]
fn platform_key_at_another_path_is_refused() {
    // The ELIP-153 "non-master server xpub" vector uses m/1h, which is not a key we publish.
    let key = platform(Network::LiquidV1);
    let path: elements::bitcoin::bip32::DerivationPath = "m/1h".parse().unwrap();
    let xpub = key.derive_xpub(&path).unwrap();
    let server = format!("[{}/1h]{}", key.fingerprint(), xpub);
    let desc = lwk_descriptor(&server, USER_MNEMONIC, Network::LiquidV1, 0);
    let err = key.check_descriptor(&desc).unwrap_err();
    assert!(
        matches!(err, DescriptorError::WrongServerPath { .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_shapes_are_refused_with_specific_errors() {
    let key = platform(Network::LiquidRegtest);
    let good = without_checksum(&lwk_descriptor(
        &key.xpub_info().keyorigin_xpub,
        USER_MNEMONIC,
        Network::LiquidRegtest,
        0,
    ));
    // ct(<view>,elwsh(multi(2,<platform>,<user>)))
    let view = &good[3..good.find(',').unwrap()];
    let keys = &good[good.find("multi(2,").unwrap() + 8..good.len() - 3];
    let (platform_key, user_key) = keys.split_once(",[").unwrap();
    let user_key = format!("[{user_key}");

    type Expectation = fn(&DescriptorError) -> bool;
    let cases: Vec<(String, Expectation)> = vec![
        (
            good.replace("multi(2,", "multi(1,"),
            |e| matches!(e, DescriptorError::NotTwoOfTwo { threshold: 1, keys: 2 }),
        ),
        (
            format!("ct({view},elwsh(multi(2,{platform_key},{user_key},{user_key})))")
                .replace("/<0;1>/*)))", "/<2;3>/*)))"),
            |e| matches!(e, DescriptorError::NotTwoOfTwo { threshold: 2, keys: 3 }),
        ),
        (
            format!("ct({view},elwsh(multi(2,{user_key},{platform_key})))"),
            |e| matches!(e, DescriptorError::ServerKeyNotFirst),
        ),
        (
            format!("elwsh(multi(2,{platform_key},{user_key}))"),
            |e| matches!(e, DescriptorError::NotConfidential),
        ),
        (
            format!("ct({view},elsh(wsh(multi(2,{platform_key},{user_key}))))"),
            |e| matches!(e, DescriptorError::NotElwsh(_)),
        ),
        (
            format!("ct({view},elwsh(sortedmulti(2,{platform_key},{user_key})))"),
            |e| matches!(e, DescriptorError::NotMulti),
        ),
        (
            good.replace("/<0;1>/*", "/0/*"),
            |e| matches!(e, DescriptorError::MissingMultipath { role: "platform" }),
        ),
        (
            // A public blinding key: nobody but the user could unblind.
            format!("ct(0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798,elwsh(multi(2,{platform_key},{user_key})))"),
            |e| matches!(e, DescriptorError::BlindingKeyNotPrivate),
        ),
        (
            good.replace("1095585842'", "84'"),
            |e| matches!(e, DescriptorError::WrongUserPath { coin: 1, .. }),
        ),
        ("garbage".to_string(), |e| {
            matches!(e, DescriptorError::Unparseable(_))
        }),
        (String::new(), |e| matches!(e, DescriptorError::Unparseable(_))),
        (format!("{good}#qqqqqqqq"), |e| {
            matches!(e, DescriptorError::Unparseable(_))
        }),
    ];
    for (desc, expected) in cases {
        let err = match key.check_descriptor(&desc) {
            Ok(wallet) => panic!("accepted {desc}: {wallet:?}"),
            Err(err) => err,
        };
        assert!(expected(&err), "{desc}\n -> {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn descriptor_for_another_network_is_refused() {
    // Same mnemonics, but the wallet was built for testnet while the platform runs on Liquid.
    let mainnet = platform(Network::LiquidV1);
    let testnet = platform(Network::LiquidTestnet);
    let desc = lwk_descriptor(
        &testnet.xpub_info().keyorigin_xpub,
        USER_MNEMONIC,
        Network::LiquidTestnet,
        0,
    );
    let err = mainnet.check_descriptor(&desc).unwrap_err();
    assert!(matches!(err, DescriptorError::WrongNetwork(_)), "{err:?}");
}
