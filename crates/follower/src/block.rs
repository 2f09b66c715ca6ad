//! Turning one block into a [`BlockUpdate`].
//!
//! For every transaction of the block, in order:
//!
//! 1. **Spends.** Inputs spending tracked outputs (indexed, unspent outputs of a managed asset
//!    or its token, including outputs created earlier in the same block) are spends.
//! 2. **Identified outputs.**
//!    - the issuance transaction of a managed asset (`assets.txid`) pays the issued amount at
//!      `asset_vout` and the reissuance tokens at `reissuance_vout` to the treasury (amounts
//!      from the asset row, which is what the node was asked to issue);
//!    - an input reissuing a managed asset (an issuance with a non-zero blinding nonce whose
//!      entropy gives the asset id) makes the transaction a reissuance; its explicit outputs of
//!      the asset or token not otherwise owned go to the treasury (confidential ones are
//!      recorded by the reissue-confirm call, which knows their amounts);
//!    - outputs to a script of a registered wallet are unblinded with the wallet's view key and,
//!      when they carry a managed asset or token, owned by the wallet (wid, GAID) with their
//!      amount and blinders;
//!    - confidential outputs of a transaction that spends, issues or reissues a managed asset,
//!      which the asset's treasury view key (`amphora_core::treasury_key`, once the confirm
//!      client posted it) opens to the asset or its token: the treasury's (its change, the
//!      reissued units), with their amount and blinders;
//!    - explicit outputs of a managed asset or token: provably unspendable (`OP_RETURN`) ones
//!      are burns; those to a treasury address of the asset (its destination, reissuance and
//!      treasury addresses) are the treasury's.
//! 3. **Payouts**: a transaction paying registered wallets may complete payout batches, in
//!    any asset ([`crate::flows::payout::complete_payouts`]).
//! 4. **Kind**, per managed asset touched: the [`crate::flows`] recognizers are asked first.
//!    Without recognition: an issuance or reissuance keeps that kind; a transaction that spends
//!    tracked outputs is a **transfer** when, for the asset and for its token separately, the
//!    identified outputs account for at least everything its tracked inputs spent (co-signed
//!    wallet-to-wallet moves land here), and a **burn** when it also burns units; otherwise
//!    the platform lost track of units: the kind is **unknown** and every tracked input of the
//!    asset it spent is marked lost (`is_lost`: no longer counted for anyone). A transaction
//!    that spends nothing tracked but pays identified outputs (units arriving from outside)
//!    is a transfer.

use std::collections::{BTreeMap, HashMap};

use amphora_store::{
    AssetOutput, BlockUpdate, IndexedBlock, IndexedTx, NewAssetOutput, OutputOwner, OutputSpend,
    Store, TxKind, UNKNOWN_BLINDER,
};
use elements::{Block, OutPoint, Transaction, TxOut, TxOutSecrets};
use rayon::prelude::*;

use crate::context::Context;
use crate::error::FollowerError;
use crate::flows::{FlowInput, FlowRecognizer};

/// Reads `block` (at `height`) into the rows the store applies with
/// [`Store::apply_block`]. `ctx` must know the assets and wallets of every transaction up to
/// this block.
pub async fn index_block(
    store: &Store,
    ctx: &mut Context,
    recognizers: &[Box<dyn FlowRecognizer>],
    block: &Block,
    height: i64,
) -> Result<BlockUpdate, FollowerError> {
    let mut update = BlockUpdate {
        block: IndexedBlock {
            height,
            block_hash: block.block_hash().to_string(),
            prev_hash: block.header.prev_blockhash.to_string(),
            block_time: i64::from(block.header.time),
        },
        txs: Vec::new(),
        outputs: Vec::new(),
        spends: Vec::new(),
    };
    let mut tracked = tracked_prevouts(store, block).await?;
    let mut opened = unblind_wallet_outputs(ctx, block);
    for (position, tx) in block.txdata.iter().enumerate() {
        index_tx(
            store,
            ctx,
            recognizers,
            tx,
            height,
            position as i64,
            &mut tracked,
            &mut opened,
            &mut update,
        )
        .await?;
    }
    Ok(update)
}

/// What [`unblind_wallet_outputs`] opened: by (transaction position, vout), the secrets of an
/// output paying a registered wallet, `None` when that wallet's view key does not open it.
type Opened = HashMap<(usize, usize), Option<TxOutSecrets>>;

/// Unblinds every output of `block` paying a registered wallet, spread over the machine's cores,
/// before the block is read in order: each is a range proof's rewind, most of the cost of a
/// block of confidential payments (a distribution transaction pays 60). An output whose script
/// becomes known only while the block is read (a wallet's look-ahead grows) is unblinded then.
fn unblind_wallet_outputs(ctx: &Context, block: &Block) -> Opened {
    let wanted: Vec<((usize, usize), &TxOut)> = block
        .txdata
        .iter()
        .enumerate()
        .flat_map(|(position, tx)| {
            tx.output
                .iter()
                .enumerate()
                .filter(|(_, txout)| ctx.wallets.receives_on(&txout.script_pubkey))
                .map(move |(vout, txout)| ((position, vout), txout))
        })
        .collect();
    wanted
        .into_par_iter()
        .map(|(at, txout)| (at, ctx.wallets.unblind(txout)))
        .collect()
}

/// Whether [`index_block`] may read the store for `block` (so the blocks before it must be
/// applied first): any transaction besides the coinbase, or a coinbase output the platform
/// could own (a registered wallet's script, an explicit managed asset or token), or a
/// coinbase that is a managed asset's issuance transaction. A block of a coinbase alone paying
/// elsewhere is read from `ctx` and the block only.
pub fn reads_store(ctx: &Context, block: &Block) -> bool {
    block.txdata.iter().any(|tx| {
        !tx.is_coinbase()
            || ctx.by_issuance(&tx.txid()).is_some()
            || tx.output.iter().any(|txout| {
                ctx.wallets.receives_on(&txout.script_pubkey)
                    || txout
                        .asset
                        .explicit()
                        .is_some_and(|asset| ctx.by_id(&asset).is_some())
            })
    })
}

/// The tracked, unspent outputs the block's inputs may spend, by outpoint.
async fn tracked_prevouts(
    store: &Store,
    block: &Block,
) -> Result<HashMap<OutPoint, AssetOutput>, FollowerError> {
    let mut txids: Vec<String> = block
        .txdata
        .iter()
        .flat_map(|tx| tx.input.iter())
        .filter(|input| !input.is_coinbase() && !input.is_pegin)
        .map(|input| input.previous_output.txid.to_string())
        .collect();
    if txids.is_empty() {
        return Ok(HashMap::new());
    }
    txids.sort();
    txids.dedup();
    let mut found = HashMap::new();
    for output in store.unspent_outputs_of(&txids).await? {
        if let (Ok(txid), Ok(vout)) = (
            output.output.txid.parse(),
            u32::try_from(output.output.vout),
        ) {
            found.insert(OutPoint::new(txid, vout), output);
        }
    }
    Ok(found)
}

/// What one transaction does to one managed asset.
#[derive(Default)]
struct Touch {
    spent: Vec<(i64, AssetOutput)>,
    identified: Vec<NewAssetOutput>,
    issuance: bool,
    reissuance: bool,
}

#[allow(clippy::too_many_arguments)]
async fn index_tx(
    store: &Store,
    ctx: &mut Context,
    recognizers: &[Box<dyn FlowRecognizer>],
    tx: &Transaction,
    height: i64,
    position: i64,
    tracked: &mut HashMap<OutPoint, AssetOutput>,
    opened: &mut Opened,
    update: &mut BlockUpdate,
) -> Result<(), FollowerError> {
    let txid = tx.txid();
    let txid_hex = txid.to_string();
    let mut touched: BTreeMap<usize, Touch> = BTreeMap::new();

    for (vin, input) in tx.input.iter().enumerate() {
        if let Some(spent) = tracked.remove(&input.previous_output) {
            if let Some(pos) = ctx.asset_by_uuid(&spent.output.asset_uuid) {
                touched
                    .entry(pos)
                    .or_default()
                    .spent
                    .push((vin as i64, spent));
            } else {
                // the asset was deleted since: the spend is still recorded, never lost
                update.spends.push(OutputSpend {
                    txid: spent.output.txid,
                    vout: spent.output.vout,
                    spent_txid: txid_hex.clone(),
                    spent_vin: vin as i64,
                    lost: false,
                });
            }
        }
        if input.has_issuance() && !input.asset_issuance.asset_blinding_nonce.is_null() {
            let (reissued, _) = input.issuance_ids();
            if let Some((pos, false)) = ctx.by_id(&reissued) {
                touched.entry(pos).or_default().reissuance = true;
            }
        }
    }
    if let Some(pos) = ctx.by_issuance(&txid) {
        let touch = touched.entry(pos).or_default();
        touch.issuance = true;
        let asset = &ctx.asset(pos).tracked;
        let mut issued = vec![(asset.asset_vout, false, asset.amount)];
        if let Some(vout) = asset.reissuance_vout {
            if asset.reissuance_amount > 0 {
                issued.push((vout, true, asset.reissuance_amount));
            }
        }
        for (vout, is_token, amount) in issued {
            let Some(txout) = usize::try_from(vout).ok().and_then(|v| tx.output.get(v)) else {
                continue;
            };
            touch.identified.push(new_output(
                &txid_hex,
                vout,
                &asset.uuid,
                is_token,
                amount,
                txout,
                OutputOwner::Treasury,
                None,
                height,
            ));
        }
    }
    // the managed assets the transaction spends, issues or reissues: its confidential outputs
    // not otherwise owned may be their treasury's (change, reissued units)
    let treasury_candidates: Vec<usize> = touched.keys().copied().collect();
    for (vout, txout) in tx.output.iter().enumerate() {
        let vout = vout as i64;
        if txout.is_fee() {
            continue;
        }
        if touched
            .values()
            .any(|t| t.identified.iter().any(|o| o.vout == vout))
        {
            continue;
        }
        let unblinded = usize::try_from(position)
            .ok()
            .and_then(|p| opened.remove(&(p, vout as usize)));
        if let Some((pos, output)) = identify_output(ctx, &txid_hex, vout, txout, unblinded, height)
        {
            touched.entry(pos).or_default().identified.push(output);
        } else if let Some((pos, output)) =
            treasury_output(ctx, &treasury_candidates, &txid_hex, vout, txout, height)
        {
            touched.entry(pos).or_default().identified.push(output);
        } else if let (Some(asset), Some(amount)) = (txout.asset.explicit(), txout.value.explicit())
        {
            // explicit outputs of a reissuance not otherwise owned: the treasury's
            if let Some((pos, is_token)) = ctx.by_id(&asset) {
                if let Some(touch) = touched.get_mut(&pos).filter(|t| t.reissuance) {
                    touch.identified.push(new_output(
                        &txid_hex,
                        vout,
                        &ctx.asset(pos).tracked.uuid,
                        is_token,
                        amount as i64,
                        txout,
                        OutputOwner::Treasury,
                        None,
                        height,
                    ));
                }
            }
        }
    }

    crate::flows::payout::complete_payouts(store, ctx, tx, &txid_hex, height)
        .await
        .map_err(|e| FollowerError::Flow {
            name: "payout",
            message: e.0,
        })?;
    for (pos, touch) in touched {
        let asset = ctx.asset(pos);
        let spent: Vec<AssetOutput> = touch.spent.iter().map(|(_, o)| o.clone()).collect();
        let default_kind = default_kind(&touch);
        let mut kind = default_kind;
        let mut outputs = touch.identified.clone();
        for recognizer in recognizers {
            let input = FlowInput {
                store,
                asset,
                tx,
                txid: &txid_hex,
                height,
                spent: &spent,
                identified: &touch.identified,
                default_kind,
            };
            let answer = recognizer
                .recognize(input)
                .await
                .map_err(|e| FollowerError::Flow {
                    name: recognizer.name(),
                    message: e.0,
                })?;
            if let Some(recognized) = answer {
                kind = recognized.kind;
                for extra in recognized.outputs {
                    if !outputs.iter().any(|o| o.vout == extra.vout) {
                        outputs.push(extra);
                    }
                }
                break;
            }
        }
        let lost = kind == TxKind::Unknown;
        for (vin, output) in touch.spent {
            update.spends.push(OutputSpend {
                txid: output.output.txid,
                vout: output.output.vout,
                spent_txid: txid_hex.clone(),
                spent_vin: vin,
                lost,
            });
        }
        for output in outputs {
            // later transactions of the block may spend it
            if let Ok(vout) = u32::try_from(output.vout) {
                tracked.insert(
                    OutPoint::new(txid, vout),
                    AssetOutput {
                        output: output.clone(),
                        spent: None,
                        is_lost: false,
                        is_blacklisted: false,
                    },
                );
            }
            update.outputs.push(output);
        }
        update.txs.push(IndexedTx {
            asset_uuid: asset.tracked.uuid.clone(),
            txid: txid_hex.clone(),
            position,
            kind,
        });
    }
    Ok(())
}

/// The kind of a transaction for one asset without recognizers (see the module docs).
fn default_kind(touch: &Touch) -> TxKind {
    if touch.issuance {
        return TxKind::Issuance;
    }
    if touch.reissuance {
        return TxKind::Reissuance;
    }
    if touch.spent.is_empty() {
        return TxKind::Transfer;
    }
    for is_token in [false, true] {
        let spent: i64 = touch
            .spent
            .iter()
            .filter(|(_, o)| o.output.is_token == is_token)
            .map(|(_, o)| o.output.amount)
            .sum();
        let identified: i64 = touch
            .identified
            .iter()
            .filter(|o| o.is_token == is_token)
            .map(|o| o.amount)
            .sum();
        if identified < spent {
            return TxKind::Unknown;
        }
    }
    if touch
        .identified
        .iter()
        .any(|o| o.owner == OutputOwner::Burn)
    {
        TxKind::Burn
    } else {
        TxKind::Transfer
    }
}

/// Identifies an output: a registered wallet's (unblinded, unless `unblinded` already holds
/// what its view key opened), a burn, or the treasury's. Returns the asset index and the row.
fn identify_output(
    ctx: &mut Context,
    txid: &str,
    vout: i64,
    txout: &TxOut,
    unblinded: Option<Option<TxOutSecrets>>,
    height: i64,
) -> Option<(usize, NewAssetOutput)> {
    if let Some(owner) = ctx.wallets.owner(&txout.script_pubkey) {
        let secrets = unblinded.unwrap_or_else(|| ctx.wallets.unblind(txout))?;
        let (pos, is_token) = ctx.by_id(&secrets.asset)?;
        let output = new_output(
            txid,
            vout,
            &ctx.asset(pos).tracked.uuid,
            is_token,
            i64::try_from(secrets.value).ok()?,
            txout,
            OutputOwner::Wallet {
                wid: owner.wid,
                gaid: owner.gaid,
            },
            Some((secrets.asset_bf.to_string(), secrets.value_bf.to_string())),
            height,
        );
        return Some((pos, output));
    }
    let (asset, value) = (txout.asset.explicit()?, txout.value.explicit()?);
    let (pos, is_token) = ctx.by_id(&asset)?;
    let owner = if txout.script_pubkey.is_provably_unspendable() {
        OutputOwner::Burn
    } else if ctx.is_treasury(pos, &txout.script_pubkey) {
        OutputOwner::Treasury
    } else {
        return None;
    };
    let output = new_output(
        txid,
        vout,
        &ctx.asset(pos).tracked.uuid,
        is_token,
        i64::try_from(value).ok()?,
        txout,
        owner,
        None,
        height,
    );
    Some((pos, output))
}

/// A confidential output the treasury view key of one of `candidates` opens: the treasury's,
/// with its amount and blinders.
fn treasury_output(
    ctx: &Context,
    candidates: &[usize],
    txid: &str,
    vout: i64,
    txout: &TxOut,
    height: i64,
) -> Option<(usize, NewAssetOutput)> {
    candidates.iter().find_map(|&pos| {
        let (secrets, is_token) = ctx.treasury_unblind(pos, txout)?;
        let output = new_output(
            txid,
            vout,
            &ctx.asset(pos).tracked.uuid,
            is_token,
            i64::try_from(secrets.value).ok()?,
            txout,
            OutputOwner::Treasury,
            Some((secrets.asset_bf.to_string(), secrets.value_bf.to_string())),
            height,
        );
        Some((pos, output))
    })
}

#[allow(clippy::too_many_arguments)]
fn new_output(
    txid: &str,
    vout: i64,
    asset_uuid: &str,
    is_token: bool,
    amount: i64,
    txout: &TxOut,
    owner: OutputOwner,
    blinders: Option<(String, String)>,
    height: i64,
) -> NewAssetOutput {
    let (asset_blinder, amount_blinder) =
        blinders.unwrap_or_else(|| (UNKNOWN_BLINDER.to_string(), UNKNOWN_BLINDER.to_string()));
    NewAssetOutput {
        txid: txid.to_string(),
        vout,
        asset_uuid: asset_uuid.to_string(),
        is_token,
        amount,
        script_pubkey: hex_script(txout),
        owner,
        asset_blinder,
        amount_blinder,
        height,
    }
}

fn hex_script(txout: &TxOut) -> String {
    txout
        .script_pubkey
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
