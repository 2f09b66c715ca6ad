//! Co-signing decisions: one row per `POST /amp2/wallets/sign` request, approved or refused,
//! with the managed assets it was about. Read back per asset (activities) or per transaction.
//! Each asset of a decision gets a `transfer.approved` or `transfer.refused` event of its
//! issuer, in the decision's transaction.

use amphora_core::event::{EventData, TransferDecision};
use chrono::{DateTime, Utc};

use crate::events::{insert_event, NewEvent};
use crate::report_pages::page_offset;
use crate::{with_pool, DecisionOrder, Result, Store, StoreError, Window};

/// A managed asset a co-signing decision was about.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CosignDecisionAsset {
    /// The asset's uuid.
    pub asset_uuid: String,
    /// The issuer of the asset.
    pub issuer_id: i64,
    /// The asset id (hex).
    pub asset_id: String,
    /// Base units the transaction pays to others than the sender (change excluded).
    pub amount: i64,
}

/// A decision to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCosignDecision {
    /// Id of the unsigned transaction; `None` when the PSET could not be understood.
    pub txid: Option<String>,
    /// Whether the platform co-signed.
    pub approved: bool,
    /// Reason codes of a refusal (`amphora_core::policy::ReasonCode`, or the co-signer's own
    /// codes for PSETs it cannot understand).
    pub reasons: Vec<String>,
    /// The error returned to the client.
    pub error: Option<String>,
    /// The sending wallet's id, when known.
    pub sender_wid: Option<String>,
    /// The sending wallet's GAID, when known.
    pub sender_gaid: Option<String>,
    /// GAIDs of the registered wallets the transaction pays (change excluded).
    pub recipient_gaids: Vec<String>,
    /// The managed assets it moves.
    pub assets: Vec<CosignDecisionAsset>,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignDecision {
    /// Row id (increasing).
    pub id: i64,
    /// When it was decided.
    pub decided_at: DateTime<Utc>,
    /// The rest, as recorded.
    pub decision: NewCosignDecision,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    decided_at: DateTime<Utc>,
    txid: Option<String>,
    approved: bool,
    reasons: String,
    error: Option<String>,
    sender_wid: Option<String>,
    sender_gaid: Option<String>,
    recipient_gaids: String,
}

const DECISION_COLUMNS: &str = "d.id, d.decided_at, d.txid, d.approved, d.reasons, d.error, \
                                d.sender_wid, d.sender_gaid, d.recipient_gaids";

fn json_list(text: &str, column: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Database(sqlx::Error::Decode(
            format!("cosign_decisions.{column} is not a JSON string array: {e}").into(),
        ))
    })
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serialises")
}

impl Store {
    /// Records a decision and its assets in one transaction; returns its id.
    pub async fn record_cosign_decision(&self, decision: &NewCosignDecision) -> Result<i64> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cosign_decisions (decided_at, txid, approved, reasons, error, \
                 sender_wid, sender_gaid, recipient_gaids) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(Utc::now())
            .bind(&decision.txid)
            .bind(decision.approved)
            .bind(to_json(&decision.reasons))
            .bind(&decision.error)
            .bind(&decision.sender_wid)
            .bind(&decision.sender_gaid)
            .bind(to_json(&decision.recipient_gaids))
            .fetch_one(&mut *tx)
            .await?;
            for asset in &decision.assets {
                sqlx::query(
                    "INSERT INTO cosign_decision_assets \
                     (decision_id, asset_uuid, issuer_id, asset_id, amount) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&asset.asset_uuid)
                .bind(asset.issuer_id)
                .bind(&asset.asset_id)
                .bind(asset.amount)
                .execute(&mut *tx)
                .await?;
            }
            for asset in &decision.assets {
                let data = EventData::Transfer(TransferDecision {
                    decision_id: id,
                    approved: decision.approved,
                    txid: decision.txid.clone(),
                    sender_gaid: decision.sender_gaid.clone(),
                    recipient_gaids: decision.recipient_gaids.clone(),
                    amount: asset.amount,
                    reasons: decision.reasons.clone(),
                });
                let event = NewEvent::new(asset.issuer_id, Some(&asset.asset_uuid), data);
                insert_event!(self, tx, &event);
            }
            tx.commit().await?;
            if !decision.assets.is_empty() {
                self.events_written();
            }
            Ok(id)
        })
    }

    /// The decisions about asset `asset_uuid` of issuer `issuer_id`, oldest first.
    pub async fn cosign_decisions_for_asset(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
    ) -> Result<Vec<CosignDecision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM cosign_decisions d \
             JOIN cosign_decision_assets a ON a.decision_id = d.id \
             WHERE a.issuer_id = $1 AND a.asset_uuid = $2 ORDER BY d.id"
        );
        let rows: Vec<DecisionRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        self.complete_decisions(rows).await
    }

    /// One page of the decisions about asset `asset_uuid` of issuer `issuer_id`, ordered by
    /// `order` (ties, and [`DecisionOrder::Id`], in decision order).
    pub async fn cosign_decision_page(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        order: DecisionOrder,
        window: Window,
    ) -> Result<Vec<CosignDecision>> {
        let from = "FROM cosign_decisions d JOIN cosign_decision_assets a ON a.decision_id = d.id \
                    WHERE a.issuer_id = $1 AND a.asset_uuid = $2";
        let keys = match order {
            DecisionOrder::Id => vec![],
            DecisionOrder::Amount => vec!["a.amount".to_string()],
            DecisionOrder::Approved => vec!["d.approved".to_string()],
        };
        let order_by = Store::order_by(&keys, &["d.id".to_string()], &window);
        let count = format!("SELECT COUNT(*) {from}");
        let page = format!("SELECT {DECISION_COLUMNS} {from} {order_by} LIMIT $3 OFFSET $4");
        let rows: Vec<DecisionRow> = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let offset = page_offset!(
                tx,
                window,
                sqlx::query_as(&count).bind(issuer_id).bind(asset_uuid)
            );
            let rows = sqlx::query_as(&page)
                .bind(issuer_id)
                .bind(asset_uuid)
                .bind(window.count)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows
        });
        self.complete_decisions(rows).await
    }

    /// The decisions about transaction `txid` (one per co-signing request), oldest first.
    pub async fn cosign_decisions_for_txid(&self, txid: &str) -> Result<Vec<CosignDecision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM cosign_decisions d WHERE d.txid = $1 ORDER BY d.id"
        );
        let rows: Vec<DecisionRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(txid)
            .fetch_all(pool)
            .await?);
        self.complete_decisions(rows).await
    }

    /// The most recent decisions, newest first (operators' view).
    pub async fn recent_cosign_decisions(&self, limit: i64) -> Result<Vec<CosignDecision>> {
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM cosign_decisions d ORDER BY d.id DESC LIMIT $1"
        );
        let rows: Vec<DecisionRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        self.complete_decisions(rows).await
    }

    async fn complete_decisions(&self, rows: Vec<DecisionRow>) -> Result<Vec<CosignDecision>> {
        let mut decisions = Vec::with_capacity(rows.len());
        for row in rows {
            let assets: Vec<CosignDecisionAsset> = with_pool!(self, |pool| sqlx::query_as(
                "SELECT asset_uuid, issuer_id, asset_id, amount FROM cosign_decision_assets \
                 WHERE decision_id = $1 ORDER BY asset_uuid"
            )
            .bind(row.id)
            .fetch_all(pool)
            .await?);
            decisions.push(CosignDecision {
                id: row.id,
                decided_at: row.decided_at,
                decision: NewCosignDecision {
                    txid: row.txid,
                    approved: row.approved,
                    reasons: json_list(&row.reasons, "reasons")?,
                    error: row.error,
                    sender_wid: row.sender_wid,
                    sender_gaid: row.sender_gaid,
                    recipient_gaids: json_list(&row.recipient_gaids, "recipient_gaids")?,
                    assets,
                },
            });
        }
        Ok(decisions)
    }
}
