//! The offline co-signing fixture: a platform key, AMP2 wallets of Alice, Bob (registered) and
//! Carol (not) built by LWK's `Amp2` client, a synthetic confidential funding transaction per
//! transfer, and blinded transfer PSETs spending it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use amphora_core::policy::{self, AssetRules, RecipientUser};
use amphora_core::Network;
use amphora_cosigner::{
    analyze_pset, ChainUtxo, ChainUtxos, CosignError, PlatformKey, TransferAnalysis, WalletIndex,
};
use elements::bitcoin::bip32::KeySource;
use elements::confidential::{
    AssetBlindingFactor, RangeProof, SurjectionProof, ValueBlindingFactor,
};
use elements::pset::{self, PartiallySignedTransaction};
use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{
    Address, AddressParams, AssetId, LockTime, OutPoint, Script, Sequence, Transaction, TxIn,
    TxOut, TxOutSecrets,
};
use elements_miniscript::ForEachKey;
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use lwk_wollet::{Chain, WolletDescriptor};

const PLATFORM_MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
const ALICE: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const CAROL: &str = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
pub(crate) const PARAMS: &AddressParams = &AddressParams::ELEMENTS;

pub(crate) struct User {
    pub(crate) signer: SwSigner,
    pub(crate) descriptor: WolletDescriptor,
}

pub(crate) struct Fixture {
    pub(crate) secp: Secp256k1<All>,
    pub(crate) platform: PlatformKey,
    pub(crate) index: WalletIndex,
    pub(crate) alice: User,
    pub(crate) bob: User,
    pub(crate) carol: User,
    pub(crate) asset: AssetId,
    pub(crate) lbtc: AssetId,
    /// The chain: every funding output `transfer` created, unspent.
    pub(crate) chain: RefCell<ChainUtxos>,
}

/// Analyses `pset` against the fixture's wallets and chain.
pub(crate) fn analyze(
    pset: &PartiallySignedTransaction,
    f: &Fixture,
) -> Result<TransferAnalysis, CosignError> {
    analyze_pset(pset, &f.index, &f.chain.borrow())
}

pub(crate) fn user(amp2: &Amp2, mnemonic: &str) -> User {
    let signer =
        SwSigner::new_with_network(mnemonic, lwk_common::Network::default_regtest()).unwrap();
    let descriptor = amp2.elip153_from_signer(&signer, 0).unwrap().descriptor();
    User { signer, descriptor }
}

pub(crate) fn fixture() -> Fixture {
    let platform = PlatformKey::from_mnemonic(PLATFORM_MNEMONIC, Network::LiquidRegtest).unwrap();
    let amp2 = Amp2::new(
        platform.xpub_info().keyorigin_xpub,
        "http://127.0.0.1:1/amp2".into(),
    )
    .unwrap();
    let (alice, bob, carol) = (user(&amp2, ALICE), user(&amp2, BOB), user(&amp2, CAROL));
    let mut index = WalletIndex::new(&platform, 5);
    // Carol's wallet is deliberately not registered.
    for u in [&alice, &bob] {
        index.insert(&platform, &u.descriptor.to_string()).unwrap();
    }
    Fixture {
        secp: Secp256k1::new(),
        platform,
        index,
        alice,
        bob,
        carol,
        asset: AssetId::from_byte_array([7u8; 32]),
        lbtc: AssetId::from_byte_array([5u8; 32]),
        chain: RefCell::new(ChainUtxos::new()),
    }
}

pub(crate) fn address(user: &User, chain: Chain, index: u32) -> Address {
    match chain {
        Chain::External => user.descriptor.address(index, PARAMS).unwrap(),
        Chain::Internal => user.descriptor.change(index, PARAMS).unwrap(),
    }
}

/// The BIP32 hints LWK puts on inputs of this wallet at (chain, index).
pub(crate) fn hints(
    secp: &Secp256k1<All>,
    user: &User,
    chain: Chain,
    index: u32,
) -> BTreeMap<elements::bitcoin::PublicKey, KeySource> {
    let definite = user.descriptor.definite_descriptor(chain, index).unwrap();
    let mut map = BTreeMap::new();
    definite.for_each_key(|k| {
        let pk = k.derive_public_key(secp).unwrap();
        map.insert(
            pk,
            (k.master_fingerprint(), k.full_derivation_path().unwrap()),
        );
        true
    });
    map
}

/// A confidential output of `value` of `asset` to `address`, and its secrets.
fn funding_output(
    f: &Fixture,
    address: &Address,
    asset: AssetId,
    value: u64,
) -> (TxOut, TxOutSecrets) {
    let mut rng = rand::thread_rng();
    let (txout, abf, vbf, _) = TxOut::new_not_last_confidential(
        &mut rng,
        &f.secp,
        value,
        address,
        asset,
        // The funding transaction spends an explicit coin of the same asset.
        &[TxOutSecrets::new(
            asset,
            AssetBlindingFactor::zero(),
            value,
            ValueBlindingFactor::zero(),
        )],
    )
    .unwrap();
    (txout, TxOutSecrets::new(asset, abf, value, vbf))
}

pub(crate) fn funding_tx(outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(
                "0101010101010101010101010101010101010101010101010101010101010101"
                    .parse()
                    .unwrap(),
                0,
            ),
            is_pegin: false,
            script_sig: Script::new(),
            sequence: Sequence::MAX,
            asset_issuance: Default::default(),
            witness: Default::default(),
        }],
        output: outputs,
    }
}

/// One planned output of the transfer.
pub(crate) enum Out<'a> {
    To(&'a Address, AssetId, u64),
    Burn(AssetId, u64),
    Fee(AssetId, u64),
}

/// A blinded transfer PSET spending `(owner, chain, index, asset, value)` coins.
pub(crate) fn transfer(
    f: &Fixture,
    coins: &[(&User, Chain, u32, AssetId, u64)],
    outs: &[Out],
) -> PartiallySignedTransaction {
    let mut fund_outs = Vec::new();
    let mut secrets = HashMap::new();
    for (i, (owner, chain, index, asset, value)) in coins.iter().enumerate() {
        let (txout, sec) = funding_output(f, &address(owner, *chain, *index), *asset, *value);
        fund_outs.push(txout);
        secrets.insert(i, sec);
    }
    let funding = funding_tx(fund_outs);
    for (vout, txout) in funding.output.iter().enumerate() {
        f.chain.borrow_mut().insert(
            OutPoint::new(funding.txid(), vout as u32),
            ChainUtxo::Unspent(Box::new(txout.clone())),
        );
    }
    let mut pset = PartiallySignedTransaction::new_v2();
    for (i, (owner, chain, index, _, _)) in coins.iter().enumerate() {
        let mut input = pset::Input::from_prevout(OutPoint::new(funding.txid(), i as u32));
        // Like LWK's TxBuilder: explicit asset/amount with blind proofs, the UTXO without its
        // rangeproof, and the rangeproof in its own field.
        let mut utxo = funding.output[i].clone();
        let sec = &secrets[&i];
        let (asset_comm, value_comm) = (
            utxo.asset.commitment().unwrap(),
            utxo.value.commitment().unwrap(),
        );
        let mut rng = rand::thread_rng();
        input.asset = Some(sec.asset);
        input.amount = Some(sec.value);
        input.blind_asset_proof = Some(
            SurjectionProof::blind_asset_proof(&mut rng, &f.secp, sec.asset, sec.asset_bf).unwrap(),
        );
        input.blind_value_proof = Some(
            RangeProof::blind_value_proof(
                &mut rng,
                &f.secp,
                sec.value,
                value_comm,
                asset_comm,
                sec.value_bf,
            )
            .unwrap(),
        );
        input.in_utxo_rangeproof = Some(std::mem::replace(
            &mut utxo.witness.rangeproof,
            RangeProof::EMPTY,
        ));
        input.witness_utxo = Some(utxo);
        input.bip32_derivation = hints(&f.secp, owner, *chain, *index);
        input.witness_script = Some(
            owner
                .descriptor
                .definite_descriptor(*chain, *index)
                .unwrap()
                .explicit_script()
                .unwrap(),
        );
        pset.add_input(input);
    }
    for out in outs {
        let mut output = match out {
            Out::To(addr, asset, value) => pset::Output::new_explicit(
                addr.script_pubkey(),
                *value,
                *asset,
                addr.blinding_pubkey.map(elements::bitcoin::PublicKey::new),
            ),
            Out::Burn(asset, value) => {
                pset::Output::new_explicit(Script::new_op_return(b"burn"), *value, *asset, None)
            }
            Out::Fee(asset, value) => {
                pset::Output::new_explicit(Script::new(), *value, *asset, None)
            }
        };
        if output.blinding_key.is_some() {
            output.blinder_index = Some(0);
        }
        pset.add_output(output);
    }
    pset.blind_last(&mut rand::thread_rng(), &f.secp, &secrets)
        .unwrap();
    pset
}

pub(crate) fn issuer_tracked(asset: AssetId) -> AssetRules {
    AssetRules {
        asset_id: asset.to_string(),
        is_locked: false,
        is_authorized: true,
        transfer_restricted: false,
        required_categories: Default::default(),
        blacklisted_outpoints: Default::default(),
        has_issuer_authorization_endpoint: false,
    }
}

pub(crate) fn decide(
    analysis: &TransferAnalysis,
    f: &Fixture,
    rules: AssetRules,
    treasury: Option<&Script>,
    user: Option<RecipientUser>,
) -> policy::Decision {
    let request =
        analysis.transfer_request(f.asset, rules, |s| Some(s) == treasury, |_| user.clone());
    policy::evaluate(&request)
}

/// Alice pays Bob 300 of the asset, keeps 700 and 9000 L-BTC as change, pays 1000 L-BTC fee.
pub(crate) fn alice_pays_bob(f: &Fixture) -> PartiallySignedTransaction {
    let bob = address(&f.bob, Chain::External, 0);
    let change = address(&f.alice, Chain::Internal, 0);
    transfer(
        f,
        &[
            (&f.alice, Chain::External, 0, f.asset, 1000),
            (&f.alice, Chain::External, 1, f.lbtc, 10_000),
        ],
        &[
            Out::To(&bob, f.asset, 300),
            Out::To(&change, f.asset, 700),
            Out::To(&change, f.lbtc, 9_000),
            Out::Fee(f.lbtc, 1_000),
        ],
    )
}
