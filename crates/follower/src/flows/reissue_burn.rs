//! Reissuances and burns through the API: a confirmed transaction that carries out an
//! outstanding `reissue-request` or `burn-request` completes it, even if the confirm call never
//! comes, and the treasury outputs it spends (the reissuance token, the burnt units) are regular
//! spends, not lost.
//!
//! * Reissuance of an asset: an input reissuing it. It is recognised when the asset already has
//!   a reissuance completed by this transaction and input (the confirm call came first, or an
//!   earlier pass over the block), or when an outstanding reissue request matches: of exactly
//!   the explicit amount, or, for a blinded amount the follower cannot read, the oldest one.
//!   That request is then completed (`completed_by = follower`).
//! * Burn of an asset: explicit `OP_RETURN` outputs of the asset. Recognised when the asset
//!   already has a burn completed by this transaction, or an outstanding burn request of
//!   exactly the burnt amount exists (then completed). The burnt outputs are recorded (owner
//!   `burn`).
//!
//! The new units, the token change and the burn's change go to the issuer's confidential
//! addresses, which the follower cannot unblind: they are recorded when the confirm call posts
//! them (`details`, `change_data`). A reissuance or burn nobody requested is left to the default
//! rule (its tracked inputs are lost), as AMP treats moves made outside the platform.

use amphora_store::{
    BurnCompletion, CompletedBy, NewAssetOutput, OutputOwner, ReissuanceCompletion, Store, TxKind,
    UNKNOWN_BLINDER,
};

use super::{BoxFuture, FlowError, FlowInput, FlowRecognizer, Recognized};

/// Recognises reissuance and burn transactions (see the module documentation).
#[derive(Debug, Default)]
pub struct ReissueBurnFlow;

impl FlowRecognizer for ReissueBurnFlow {
    fn name(&self) -> &'static str {
        "reissue-burn"
    }

    fn recognize<'a>(
        &'a self,
        input: FlowInput<'a>,
    ) -> BoxFuture<'a, Result<Option<Recognized>, FlowError>> {
        Box::pin(recognize(input))
    }
}

fn recognized(kind: TxKind, outputs: Vec<NewAssetOutput>) -> Option<Recognized> {
    Some(Recognized { kind, outputs })
}

async fn recognize(input: FlowInput<'_>) -> Result<Option<Recognized>, FlowError> {
    if let Some(found) = reissuance(&input).await? {
        return Ok(Some(found));
    }
    burn(&input).await
}

async fn reissuance(input: &FlowInput<'_>) -> Result<Option<Recognized>, FlowError> {
    let store: &Store = input.store;
    let uuid = input.asset.tracked.uuid.as_str();
    let reissuing = input.tx.input.iter().enumerate().find(|(_, txin)| {
        txin.has_issuance()
            && !txin.asset_issuance.asset_blinding_nonce.is_null()
            && txin.issuance_ids().0 == input.asset.asset_id
    });
    let Some((vin, txin)) = reissuing else {
        return Ok(None);
    };
    let vin = vin as i64;
    if store
        .reissuance_of_tx(uuid, input.txid, vin)
        .await?
        .is_some()
    {
        return Ok(recognized(TxKind::Reissuance, Vec::new()));
    }
    let amount = txin
        .asset_issuance
        .amount
        .explicit()
        .and_then(|a| i64::try_from(a).ok());
    let Some(request) = store.pending_reissuance(uuid, amount).await? else {
        return Ok(None);
    };
    let completion = ReissuanceCompletion {
        txid: input.txid.to_owned(),
        vin,
        vout: None,
        destination_address: None,
        block_hash: String::new(),
        height: input.height,
        completed_by: CompletedBy::Follower,
    };
    store
        .complete_reissuance(request.id, &completion, &[])
        .await?;
    tracing::info!(
        asset = uuid,
        txid = input.txid,
        "reissuance completed without a confirm call"
    );
    Ok(recognized(TxKind::Reissuance, Vec::new()))
}

async fn burn(input: &FlowInput<'_>) -> Result<Option<Recognized>, FlowError> {
    let store: &Store = input.store;
    let uuid = input.asset.tracked.uuid.as_str();
    let mut outputs = Vec::new();
    let mut burnt = 0i64;
    for (vout, txout) in input.tx.output.iter().enumerate() {
        if !txout.script_pubkey.is_op_return()
            || txout.asset.explicit() != Some(input.asset.asset_id)
        {
            continue;
        }
        let Some(amount) = txout.value.explicit().and_then(|v| i64::try_from(v).ok()) else {
            continue;
        };
        burnt += amount;
        outputs.push(NewAssetOutput {
            txid: input.txid.to_owned(),
            vout: vout as i64,
            asset_uuid: uuid.to_owned(),
            is_token: false,
            amount,
            script_pubkey: txout
                .script_pubkey
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            owner: OutputOwner::Burn,
            asset_blinder: UNKNOWN_BLINDER.to_owned(),
            amount_blinder: UNKNOWN_BLINDER.to_owned(),
            height: input.height,
        });
    }
    if burnt == 0 {
        return Ok(None);
    }
    if store.burn_of_tx(uuid, input.txid).await?.is_some() {
        return Ok(recognized(TxKind::Burn, outputs));
    }
    let Some(request) = store.pending_burn(uuid, Some(burnt)).await? else {
        return Ok(None);
    };
    let completion = BurnCompletion {
        txid: input.txid.to_owned(),
        block_hash: String::new(),
        height: input.height,
        completed_by: CompletedBy::Follower,
    };
    store.complete_burn(request.id, &completion, &[]).await?;
    tracing::info!(
        asset = uuid,
        txid = input.txid,
        "burn completed without a confirm call"
    );
    Ok(recognized(TxKind::Burn, outputs))
}
