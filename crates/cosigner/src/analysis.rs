//! Understanding a PSET before co-signing it: who sends, which assets, to whom, how much.
//!
//! [`analyze_pset`] fails closed: every input must spend an existing, unspent output as the chain
//! has it (see [`crate::chain_view`]: its `witness_utxo` must equal the chain's output in script,
//! asset and value commitment, and the asset and amount are read from the chain's output), of one
//! registered wallet, and unblind with its view key, every output's asset and amount must be established (explicit,
//! proven by the PSET's own blind value/asset proofs, or unblinded with a registered wallet's view
//! key), and per asset the inputs must equal the outputs. Issuances and peg-ins are refused.

use std::collections::{BTreeMap, BTreeSet};

use amphora_core::gaid::Gaid;
use amphora_core::policy::{
    AssetRules, Recipient, RecipientUser, TransferInput, TransferOutput, TransferRequest,
};
use elements::bitcoin::bip32::{ChildNumber, DerivationPath};
use elements::confidential::{Asset, RangeProof, SurjectionProof, Value};
use elements::pset::PartiallySignedTransaction;
use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{AssetId, OutPoint, Script, TxOut, Txid};
use lwk_wollet::Chain;

use crate::chain_view::{ChainUtxo, ChainUtxos};
use crate::error::CosignError;
use crate::wallet_index::{ScriptSlot, WalletIndex};

/// A registered wallet, as seen in an analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRef {
    /// The wallet id (ELIP-152 dwid).
    pub wid: String,
    /// The wallet's GAID.
    pub gaid: Gaid,
}

/// What the platform needs to sign one input.
#[derive(Debug, Clone)]
pub(crate) struct InputSigning {
    /// Full path of the platform key for this input, from the master.
    pub(crate) key_path: DerivationPath,
    /// The 2-of-2 witness script.
    pub(crate) witness_script: Script,
    /// The spent output's value (commitment), committed to by the signature hash.
    pub(crate) value: Value,
}

/// An unblinded input.
#[derive(Debug, Clone)]
pub struct AnalyzedInput {
    /// Input index.
    pub vin: usize,
    /// The output it spends.
    pub outpoint: OutPoint,
    /// The asset it carries.
    pub asset: AssetId,
    /// The amount, in base units.
    pub amount: u64,
    /// The wallet that owns it.
    pub wallet: WalletRef,
    /// Receive or change branch of the wallet.
    pub chain: Chain,
    /// Derivation index in that branch.
    pub derivation_index: u32,
    pub(crate) signing: InputSigning,
}

/// Where an output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Back to the sending wallet.
    Change,
    /// Another registered wallet.
    Wallet(WalletRef),
    /// The transaction fee.
    Fee,
    /// An unspendable (`OP_RETURN`) output.
    Burn,
    /// A script not belonging to any registered wallet (maybe a treasury address).
    External,
}

/// An output with its asset and amount established.
#[derive(Debug, Clone)]
pub struct AnalyzedOutput {
    /// Output index.
    pub vout: usize,
    /// The asset.
    pub asset: AssetId,
    /// The amount, in base units.
    pub amount: u64,
    /// The output script.
    pub script_pubkey: Script,
    /// Where it goes.
    pub destination: Destination,
}

/// A PSET, fully understood.
#[derive(Debug, Clone)]
pub struct TransferAnalysis {
    /// Id of the unsigned transaction (changes if any input or output changes).
    pub txid: Txid,
    /// The wallet every input belongs to.
    pub sender: WalletRef,
    /// Inputs, in order.
    pub inputs: Vec<AnalyzedInput>,
    /// Outputs, in order.
    pub outputs: Vec<AnalyzedOutput>,
}

impl TransferAnalysis {
    /// The assets the transfer spends (the policy is asked once per managed asset).
    pub fn assets(&self) -> BTreeSet<AssetId> {
        self.inputs.iter().map(|i| i.asset).collect()
    }

    /// The policy request for `asset`: its inputs and outputs, with recipients classified.
    /// `is_treasury` tells whether an external script is one of the asset's treasury addresses;
    /// `user_of` gives the registered user linked to a GAID, if any.
    pub fn transfer_request(
        &self,
        asset: AssetId,
        rules: AssetRules,
        is_treasury: impl Fn(&Script) -> bool,
        user_of: impl Fn(&Gaid) -> Option<RecipientUser>,
    ) -> TransferRequest {
        let inputs = self
            .inputs
            .iter()
            .filter(|i| i.asset == asset)
            .map(|i| TransferInput {
                outpoint: i.outpoint,
                amount: i.amount,
                gaid: i.wallet.gaid.clone(),
            })
            .collect();
        let outputs = self
            .outputs
            .iter()
            .filter(|o| o.asset == asset)
            .map(|o| TransferOutput {
                vout: o.vout as u32,
                amount: o.amount,
                recipient: match &o.destination {
                    Destination::Change => Recipient::Change,
                    Destination::Wallet(w) => Recipient::RegisteredWallet {
                        gaid: w.gaid.clone(),
                        user: user_of(&w.gaid),
                    },
                    Destination::Fee => Recipient::Fee,
                    Destination::Burn => Recipient::Burn,
                    Destination::External if is_treasury(&o.script_pubkey) => Recipient::Treasury,
                    Destination::External => Recipient::Unknown,
                },
            })
            .collect();
        TransferRequest {
            asset: rules,
            inputs,
            outputs,
        }
    }
}

/// Decodes a base64 PSET as sent to `POST /amp2/wallets/sign`.
pub fn decode_pset(base64: &str) -> Result<PartiallySignedTransaction, CosignError> {
    base64
        .trim()
        .parse()
        .map_err(|e| CosignError::InvalidPset(format!("{e}")))
}

fn wallet_ref(index: &WalletIndex, pos: usize) -> WalletRef {
    let r = &index.wallet(pos).registered;
    WalletRef {
        wid: r.wid.clone(),
        gaid: r.gaid.clone(),
    }
}

fn chain_step(chain: Chain) -> ChildNumber {
    match chain {
        Chain::External => ChildNumber::from(0),
        Chain::Internal => ChildNumber::from(1),
    }
}

/// Analyses a PSET against the registered wallets and the chain's answers for its inputs. See
/// the module documentation for what is refused.
pub fn analyze_pset(
    pset: &PartiallySignedTransaction,
    wallets: &WalletIndex,
    chain: &ChainUtxos,
) -> Result<TransferAnalysis, CosignError> {
    let secp = Secp256k1::new();
    let tx = pset
        .extract_tx()
        .map_err(|e| CosignError::InvalidPset(e.to_string()))?;
    if tx.input.is_empty() || tx.output.is_empty() {
        return Err(CosignError::InvalidPset(
            "the transaction has no inputs or no outputs".to_string(),
        ));
    }

    crate::chain_view::spent_outpoints(pset)?;
    let mut sender: Option<usize> = None;
    let mut inputs = Vec::with_capacity(pset.inputs().len());
    let mut spent = BTreeSet::new();
    for (vin, input) in pset.inputs().iter().enumerate() {
        if input.has_issuance() {
            return Err(CosignError::UnsupportedInput {
                vin,
                what: "asset issuance or reissuance",
            });
        }
        if input.is_pegin() {
            return Err(CosignError::UnsupportedInput {
                vin,
                what: "peg-in",
            });
        }
        let utxo = input
            .witness_utxo
            .as_ref()
            .ok_or(CosignError::MissingWitnessUtxo { vin })?;
        let outpoint = OutPoint::new(input.previous_txid, input.previous_output_index);
        if !spent.insert(outpoint) {
            return Err(CosignError::InvalidPset(format!(
                "input {vin} spends {outpoint} a second time"
            )));
        }
        // The chain's output, never the PSET's copy: the signature hash does not commit to the
        // spent output's asset, so a claimed asset is worth nothing until the chain confirms it.
        let onchain = match chain.get(&outpoint) {
            ChainUtxo::Unknown => return Err(CosignError::InputUnknown { vin }),
            ChainUtxo::Spent => return Err(CosignError::InputSpent { vin }),
            ChainUtxo::Unspent(txout) => txout,
        };
        if onchain.script_pubkey != utxo.script_pubkey
            || onchain.asset != utxo.asset
            || onchain.value != utxo.value
        {
            return Err(CosignError::InputUtxoMismatch { vin });
        }
        let slot = wallets
            .resolve(&utxo.script_pubkey, &input.bip32_derivation)
            .ok_or(CosignError::InputNotRegistered { vin })?;
        match sender {
            None => sender = Some(slot.wallet),
            Some(s) if s != slot.wallet => return Err(CosignError::MultipleSendingWallets { vin }),
            Some(_) => {}
        }
        let indexed = wallets.wallet(slot.wallet);
        // Unblinding uses the chain's output, with the chain's rangeproof (a PSET's
        // PSBT_ELEMENTS_IN_UTXO_RANGEPROOF is not needed, nor trusted).
        let (asset, amount) = explicit(onchain)
            .or_else(|| {
                proven(
                    &secp,
                    onchain,
                    input.asset,
                    input.amount,
                    input.blind_asset_proof.as_ref(),
                    input.blind_value_proof.as_ref(),
                )
            })
            .or_else(|| unblind_with_wallet(&secp, wallets, slot, onchain))
            .ok_or(CosignError::CannotUnblindInput { vin })?;
        let definite = indexed
            .wallet
            .descriptor
            .definite_descriptor(slot.chain, slot.index)
            .map_err(|e| CosignError::InvalidPset(e.to_string()))?;
        let witness_script = definite
            .explicit_script()
            .map_err(|e| CosignError::InvalidPset(e.to_string()))?;
        let key_path = indexed
            .wallet
            .platform_origin_path
            .child(chain_step(slot.chain))
            .child(
                ChildNumber::from_normal_idx(slot.index)
                    .map_err(|e| CosignError::InvalidPset(format!("bad derivation index: {e}")))?,
            );
        inputs.push(AnalyzedInput {
            vin,
            outpoint,
            asset,
            amount,
            wallet: wallet_ref(wallets, slot.wallet),
            chain: slot.chain,
            derivation_index: slot.index,
            signing: InputSigning {
                key_path,
                witness_script,
                value: utxo.value,
            },
        });
    }
    let sender = sender.expect("at least one input");

    let mut outputs = Vec::with_capacity(tx.output.len());
    for (vout, (txout, pset_out)) in tx.output.iter().zip(pset.outputs()).enumerate() {
        let slot = wallets.resolve(&txout.script_pubkey, &pset_out.bip32_derivation);
        let destination = if txout.is_fee() {
            Destination::Fee
        } else if txout.script_pubkey.is_provably_unspendable() {
            Destination::Burn
        } else {
            match slot {
                Some(s) if s.wallet == sender => Destination::Change,
                Some(s) => Destination::Wallet(wallet_ref(wallets, s.wallet)),
                None => Destination::External,
            }
        };
        let (asset, amount) = explicit(txout)
            .or_else(|| {
                proven(
                    &secp,
                    txout,
                    pset_out.asset,
                    pset_out.amount,
                    pset_out.blind_asset_proof.as_ref(),
                    pset_out.blind_value_proof.as_ref(),
                )
            })
            .or_else(|| slot.and_then(|s| unblind_with_wallet(&secp, wallets, s, txout)))
            .ok_or(CosignError::CannotUnblindOutput { vout })?;
        outputs.push(AnalyzedOutput {
            vout,
            asset,
            amount,
            script_pubkey: txout.script_pubkey.clone(),
            destination,
        });
    }

    check_balance(&inputs, &outputs)?;
    Ok(TransferAnalysis {
        txid: tx.txid(),
        sender: wallet_ref(wallets, sender),
        inputs,
        outputs,
    })
}

fn explicit(txout: &TxOut) -> Option<(AssetId, u64)> {
    match (txout.asset, txout.value) {
        (Asset::Explicit(asset), Value::Explicit(amount)) => Some((asset, amount)),
        _ => None,
    }
}

/// The explicit asset and amount the PSET states for an input or output, if its blind
/// asset/value proofs show that the commitments of `txout` open to them.
fn proven(
    secp: &Secp256k1<All>,
    txout: &TxOut,
    asset: Option<AssetId>,
    amount: Option<u64>,
    asset_proof: Option<&SurjectionProof>,
    value_proof: Option<&RangeProof>,
) -> Option<(AssetId, u64)> {
    let (Asset::Confidential(asset_comm), Value::Confidential(value_comm)) =
        (txout.asset, txout.value)
    else {
        return None;
    };
    let (asset, amount) = (asset?, amount?);
    let asset_ok = asset_proof?.blind_asset_proof_verify(secp, asset, asset_comm);
    let value_ok = value_proof?.blind_value_proof_verify(secp, amount, asset_comm, value_comm);
    (asset_ok && value_ok).then_some((asset, amount))
}

fn unblind_with_wallet(
    secp: &Secp256k1<All>,
    wallets: &WalletIndex,
    slot: ScriptSlot,
    txout: &TxOut,
) -> Option<(AssetId, u64)> {
    if let Some(found) = explicit(txout) {
        return Some(found);
    }
    let ct = wallets
        .wallet(slot.wallet)
        .wallet
        .descriptor
        .ct_descriptor()
        .ok()?;
    let key = lwk_common::derive_blinding_key(ct, &txout.script_pubkey)?;
    let secrets = amphora_ct::unblind(secp, txout, key).ok()?;
    Some((secrets.asset, secrets.value))
}

/// Per asset, the inputs must equal the outputs. Sums are checked (an overflow refuses the PSET,
/// it never wraps or panics).
fn check_balance(inputs: &[AnalyzedInput], outputs: &[AnalyzedOutput]) -> Result<(), CosignError> {
    let overflow = || CosignError::InvalidPset("the amounts overflow".to_string());
    let mut balance: BTreeMap<AssetId, i128> = BTreeMap::new();
    for i in inputs {
        let entry = balance.entry(i.asset).or_default();
        *entry = entry
            .checked_add(i128::from(i.amount))
            .ok_or_else(overflow)?;
    }
    for o in outputs {
        let entry = balance.entry(o.asset).or_default();
        *entry = entry
            .checked_sub(i128::from(o.amount))
            .ok_or_else(overflow)?;
    }
    match balance.into_iter().find(|(_, v)| *v != 0) {
        Some((asset, _)) => Err(CosignError::Unbalanced {
            asset: asset.to_string(),
        }),
        None => Ok(()),
    }
}
