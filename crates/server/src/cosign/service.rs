//! `POST /amp2/wallets/sign`: decide, sign the platform's half, record the decision.
//!
//! Fail closed: every input is checked against the chain first (see [`super::chain_inputs`]);
//! a PSET the co-signer cannot fully understand (see [`amphora_cosigner::analyze_pset`]) is
//! refused with 400; a transfer the rules or the issuer's
//! endpoint refuse is refused with 403. Every request — approved or not — is recorded in
//! `cosign_decisions` *before* the answer leaves, so a signature is never handed out unrecorded.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use amphora_core::gaid::Gaid;
use amphora_core::policy::{
    evaluate, AssetRules, Decision, ReasonCode, RecipientUser, TransferRequest,
};
use amphora_cosigner::{
    analyze_pset, decode_pset, spent_outpoints, CosignError, Destination, TransferAnalysis,
};
use amphora_store::{CosignDecisionAsset, NewCosignDecision, OutputOwner};
use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId, OutPoint, Script};

use super::chain_inputs::chain_utxos;
use super::wallets::refreshed_index;
use super::webhook::ask_issuer;
use crate::error::ApiError;
use crate::state::AppState;

/// Co-signs `pset` (base64) if the platform may, returning the PSET with the platform's
/// signatures added. Errors are [`ApiError::Amp2Refused`] (400: not understood, 403: refused by
/// the rules or the issuer) or internal failures; the decision is recorded in every case.
///
/// A PSET that does not decode is only counted (see [`crate::rate_limit`]), and a request over
/// its wallet's rate limit is refused (429) unrecorded: neither can make the table grow.
pub async fn cosign(state: &AppState, pset: &str) -> Result<String, ApiError> {
    let pset = decode_pset(pset).map_err(|e| {
        state.amp2_limiter().undecodable();
        not_understood("pset_invalid", e)
    })?;
    let mut record = NewCosignDecision::default();
    let outcome = decide_and_sign(state, pset, &mut record).await;
    if let Err(throttled @ ApiError::Amp2Throttled(_)) = outcome {
        return Err(throttled);
    }
    match &outcome {
        Ok(_) => record.approved = true,
        Err(ApiError::Amp2Refused { error, reasons, .. }) => {
            record.error = Some(error.clone());
            record.reasons = reasons.clone();
        }
        Err(ApiError::Unavailable(outage)) => {
            record.error = Some(outage.to_string());
            record.reasons = vec!["node_unavailable".to_string()];
        }
        Err(_) => {
            record.error = Some("internal error".to_string());
            record.reasons = vec!["internal_error".to_string()];
        }
    }
    amphora_core::crash::point(amphora_core::crash::COSIGN_BEFORE_RECORD);
    let id = state.store().record_cosign_decision(&record).await?;
    amphora_core::crash::point(amphora_core::crash::COSIGN_AFTER_RECORD);
    tracing::info!(
        decision = id,
        txid = record.txid.as_deref().unwrap_or("-"),
        approved = record.approved,
        reasons = ?record.reasons,
        "co-signing decision"
    );
    outcome
}

fn not_understood(code: &str, error: impl ToString) -> ApiError {
    ApiError::Amp2Refused {
        error: error.to_string(),
        reasons: vec![code.to_string()],
        refused_by_policy: false,
    }
}

fn refused(decisions: &[&Decision]) -> ApiError {
    let reasons: BTreeSet<ReasonCode> = decisions
        .iter()
        .flat_map(|d| d.reasons.iter().copied())
        .collect();
    let messages: Vec<&str> = reasons.iter().map(|r| r.message()).collect();
    ApiError::Amp2Refused {
        error: format!("the transfer is not allowed: {}", messages.join("; ")),
        reasons: reasons.iter().map(|r| r.as_str().to_string()).collect(),
        refused_by_policy: true,
    }
}

/// One managed asset of the transfer, with its request and first-stage decision.
struct AssetCheck {
    issuer_id: i64,
    endpoint: Option<String>,
    users: HashMap<Gaid, Option<RecipientUser>>,
    request: TransferRequest,
    decision: Decision,
}

async fn decide_and_sign(
    state: &AppState,
    mut pset: PartiallySignedTransaction,
    record: &mut NewCosignDecision,
) -> Result<String, ApiError> {
    let outpoints = spent_outpoints(&pset).map_err(|e| not_understood(e.code(), e))?;
    let index = refreshed_index(state).await?;
    let chain = chain_utxos(state.node(), &outpoints).await?;
    let (pset_back, analysis) = {
        let index = index.clone();
        tokio::task::spawn_blocking(move || {
            let guard = index
                .read()
                .map_err(|_| ApiError::Internal("wallet index lock poisoned".into()))?;
            let analysis = analyze_pset(&pset, &guard, &chain);
            Ok::<_, ApiError>((pset, analysis))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("PSET analysis task failed: {e}")))??
    };
    pset = pset_back;
    let analysis = analysis.map_err(|e| not_understood(e.code(), e))?;
    state.amp2_limiter().check_wallet(&analysis.sender.wid)?;
    record.txid = Some(analysis.txid.to_string());
    record.sender_wid = Some(analysis.sender.wid.clone());
    record.sender_gaid = Some(analysis.sender.gaid.to_string());
    let mut recipients = BTreeSet::new();
    for output in &analysis.outputs {
        if let Destination::Wallet(w) = &output.destination {
            recipients.insert(w.gaid.to_string());
        }
    }
    record.recipient_gaids = recipients.into_iter().collect();

    let mut checks = Vec::new();
    for asset in analysis.assets() {
        if let Some(check) = check_asset(state, &analysis, asset, record).await? {
            checks.push(check);
        }
    }
    let first_stage: Vec<&Decision> = checks.iter().map(|c| &c.decision).collect();
    if first_stage.iter().any(|d| !d.approved) {
        return Err(refused(&first_stage));
    }

    let mut finals = Vec::with_capacity(checks.len());
    for check in checks {
        let decision = match (
            &check.endpoint,
            check.decision.issuer_authorization_required,
        ) {
            (Some(endpoint), true) => {
                let users = check.users.clone();
                let body = state
                    .key()
                    .issuer_authorization_body(
                        analysis.txid,
                        &check.request,
                        &check.decision,
                        |g| users.get(g).cloned().flatten().map(|u| u.id),
                    )
                    .map_err(|e| {
                        ApiError::Internal(format!("cannot sign the webhook body: {e}"))
                    })?;
                let answer = ask_issuer(state.cosign(), endpoint, body).await;
                tracing::info!(issuer = check.issuer_id, ?answer, "issuer authorization");
                check.decision.with_issuer_authorization(answer)
            }
            _ => check.decision,
        };
        finals.push(decision);
    }
    if finals.iter().any(|d| !d.may_cosign()) {
        return Err(refused(&finals.iter().collect::<Vec<_>>()));
    }
    let combined = Decision {
        approved: true,
        reasons: Vec::new(),
        outputs: finals.into_iter().flat_map(|d| d.outputs).collect(),
        issuer_authorization_required: false,
    };

    let key_state = state.clone();
    let signed = tokio::task::spawn_blocking(move || {
        key_state
            .key()
            .sign_platform_half(&mut pset, &analysis, &combined)
            .map(|_| pset)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("signing task failed: {e}")))?
    .map_err(|e| match e {
        CosignError::Key(inner) => ApiError::Internal(inner.to_string()),
        other => not_understood(other.code(), other),
    })?;
    Ok(signed.to_string())
}

/// The policy request and first-stage decision for `asset`, if it is a managed asset (or its
/// reissuance token); `None` for anything else (L-BTC paying fees, unmanaged assets).
async fn check_asset(
    state: &AppState,
    analysis: &TransferAnalysis,
    asset: AssetId,
    record: &mut NewCosignDecision,
) -> Result<Option<AssetCheck>, ApiError> {
    let store = state.store();
    // Deleted assets included: deleting an asset never frees its transfers from its rules.
    let Some(cosign_asset) = store.cosign_asset_by_id(&asset.to_string()).await? else {
        return Ok(None);
    };
    let managed = cosign_asset.asset;
    let (issuer_id, uuid) = (managed.issuance.issuer_id, managed.issuance.uuid.clone());

    let mut addresses = cosign_asset.treasury_addresses;
    addresses.push(managed.issuance.destination_address.clone());
    addresses.push(managed.issuance.reissuance_address.clone());
    let treasury: BTreeSet<Script> = addresses
        .iter()
        .filter_map(|a| Address::from_str(a).ok())
        .map(|a| a.script_pubkey())
        .collect();

    let mut gaids: BTreeSet<Gaid> = BTreeSet::new();
    gaids.insert(analysis.sender.gaid.clone());
    for output in analysis.outputs.iter().filter(|o| o.asset == asset) {
        if let Destination::Wallet(w) = &output.destination {
            gaids.insert(w.gaid.clone());
        }
    }
    let mut users = HashMap::new();
    for gaid in gaids {
        let user = store
            .registered_user_by_gaid(issuer_id, gaid.as_str())
            .await?
            .map(|u| RecipientUser {
                id: u.id,
                categories: u.categories.into_iter().collect(),
            });
        users.insert(gaid, user);
    }

    let blacklisted =
        check_indexed_inputs(state, analysis, asset, &uuid, cosign_asset.is_token).await?;

    let endpoint = managed
        .issuance
        .issuer_authorization_endpoint
        .clone()
        .filter(|e| !e.trim().is_empty());
    let rules = AssetRules {
        asset_id: asset.to_string(),
        is_locked: managed.is_locked,
        is_authorized: managed.is_authorized,
        transfer_restricted: managed.issuance.transfer_restricted,
        required_categories: managed.requirements.iter().copied().collect(),
        blacklisted_outpoints: blacklisted,
        has_issuer_authorization_endpoint: endpoint.is_some(),
    };
    let request = analysis.transfer_request(
        asset,
        rules,
        |script| treasury.contains(script),
        |gaid| users.get(gaid).cloned().flatten(),
    );
    let decision = evaluate(&request);

    // Checked: the analysis balanced the asset, but a sum never wraps or panics.
    let moved = analysis
        .outputs
        .iter()
        .filter(|o| o.asset == asset)
        .filter(|o| !matches!(o.destination, Destination::Change | Destination::Fee))
        .try_fold(0u64, |sum, o| sum.checked_add(o.amount))
        .and_then(|sum| i64::try_from(sum).ok())
        .ok_or_else(|| not_understood("pset_invalid", "the amounts overflow"))?;
    record.assets.push(CosignDecisionAsset {
        asset_uuid: uuid,
        issuer_id,
        asset_id: asset.to_string(),
        amount: moved,
    });
    Ok(Some(AssetCheck {
        issuer_id,
        endpoint,
        users,
        request,
        decision,
    }))
}

/// The inputs of `asset` against the chain index (see [`super::chain_inputs`]): where the index
/// holds an input, it must be unspent there (`input_spent`) and held by the sender with the
/// asset and amount the node's output opens to (`input_utxo_mismatch`). Returns the inputs the
/// issuer blacklisted.
async fn check_indexed_inputs(
    state: &AppState,
    analysis: &TransferAnalysis,
    asset: AssetId,
    uuid: &str,
    is_token: bool,
) -> Result<BTreeSet<OutPoint>, ApiError> {
    let mut blacklisted = BTreeSet::new();
    for input in analysis.inputs.iter().filter(|i| i.asset == asset) {
        let outpoint = input.outpoint;
        let Some(indexed) = state
            .store()
            .asset_output(&outpoint.txid.to_string(), i64::from(outpoint.vout))
            .await?
        else {
            continue;
        };
        if indexed.spent.is_some() {
            let e = CosignError::InputSpent { vin: input.vin };
            return Err(not_understood(e.code(), e));
        }
        let held_by_sender = matches!(
            &indexed.output.owner,
            OutputOwner::Wallet { wid, .. } if *wid == analysis.sender.wid
        );
        let same = indexed.output.asset_uuid == uuid
            && indexed.output.is_token == is_token
            && u64::try_from(indexed.output.amount).ok() == Some(input.amount);
        if !held_by_sender || !same {
            let e = CosignError::InputUtxoMismatch { vin: input.vin };
            return Err(not_understood(e.code(), e));
        }
        if indexed.is_blacklisted {
            blacklisted.insert(outpoint);
        }
    }
    Ok(blacklisted)
}
