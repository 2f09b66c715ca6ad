//! Events: every change the platform makes to an issuer's data is recorded as one event, in the
//! same database transaction as the change (an outbox). This module names the event types and
//! defines the JSON `data` object of each; the store writes and reads them, the server serves
//! them (`GET /api/events`, `GET /api/events/stream`) and delivers them to webhooks.
//!
//! The `data` object of an event is the payload struct of its type ([`EventData`] pairs each
//! type with its struct, so a type can never be written with another type's data). Amounts are
//! base units. Events that come from the chain carry the height of the block in the event's
//! `block_height`; a reorg that undoes chain events emits a [`EventType::ChainReorg`] naming
//! them (events are never deleted).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The type of an event. Its wire name (`asset.issued`, …) is [`EventType::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// The issuance transaction was accepted by the node.
    AssetIssued,
    /// The issuance transaction has 2 confirmations.
    AssetConfirmed,
    /// The issuer locked the asset.
    AssetLocked,
    /// The issuer unlocked the asset.
    AssetUnlocked,
    /// An assignment was created.
    AssignmentCreated,
    /// An assignment was deleted.
    AssignmentDeleted,
    /// A distribution was created.
    DistributionCreated,
    /// Every batch of a distribution is paid in a confirmed transaction.
    DistributionConfirmed,
    /// A distribution was cancelled.
    DistributionCancelled,
    /// A reissuance is confirmed.
    ReissuanceConfirmed,
    /// A burn is confirmed.
    BurnConfirmed,
    /// Every batch of a payout is paid in a confirmed transaction.
    PayoutConfirmed,
    /// The co-signer approved a transfer.
    TransferApproved,
    /// The co-signer refused a transfer.
    TransferRefused,
    /// A block moved holders' balances of the asset.
    OwnershipChanged,
    /// A tracked output was spent by a transaction the platform could not attribute.
    OutputLost,
    /// A reorg undid blocks the platform had indexed.
    ChainReorg,
}

impl EventType {
    /// Every event type, in documentation order.
    pub const ALL: [EventType; 17] = [
        EventType::AssetIssued,
        EventType::AssetConfirmed,
        EventType::AssetLocked,
        EventType::AssetUnlocked,
        EventType::AssignmentCreated,
        EventType::AssignmentDeleted,
        EventType::DistributionCreated,
        EventType::DistributionConfirmed,
        EventType::DistributionCancelled,
        EventType::ReissuanceConfirmed,
        EventType::BurnConfirmed,
        EventType::PayoutConfirmed,
        EventType::TransferApproved,
        EventType::TransferRefused,
        EventType::OwnershipChanged,
        EventType::OutputLost,
        EventType::ChainReorg,
    ];

    /// The wire (and stored) name, e.g. `asset.issued`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AssetIssued => "asset.issued",
            EventType::AssetConfirmed => "asset.confirmed",
            EventType::AssetLocked => "asset.locked",
            EventType::AssetUnlocked => "asset.unlocked",
            EventType::AssignmentCreated => "assignment.created",
            EventType::AssignmentDeleted => "assignment.deleted",
            EventType::DistributionCreated => "distribution.created",
            EventType::DistributionConfirmed => "distribution.confirmed",
            EventType::DistributionCancelled => "distribution.cancelled",
            EventType::ReissuanceConfirmed => "reissuance.confirmed",
            EventType::BurnConfirmed => "burn.confirmed",
            EventType::PayoutConfirmed => "payout.confirmed",
            EventType::TransferApproved => "transfer.approved",
            EventType::TransferRefused => "transfer.refused",
            EventType::OwnershipChanged => "ownership.changed",
            EventType::OutputLost => "output.lost",
            EventType::ChainReorg => "chain.reorg",
        }
    }

    /// Whether events of this type report a confirmed transaction or a block: they carry the
    /// block's height.
    pub fn is_chain(self) -> bool {
        matches!(
            self,
            EventType::AssetConfirmed
                | EventType::OwnershipChanged
                | EventType::OutputLost
                | EventType::ChainReorg
                | EventType::ReissuanceConfirmed
                | EventType::BurnConfirmed
                | EventType::DistributionConfirmed
                | EventType::PayoutConfirmed
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| UnknownEventType(value.to_string()))
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// `asset.issued`: the node accepted the issuance transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetIssued {
    /// The asset id (hex).
    pub asset_id: String,
    /// The reissuance token id (hex), when reissuable.
    pub reissuance_token_id: Option<String>,
    /// The issuance transaction.
    pub txid: String,
    /// Name.
    pub name: String,
    /// Ticker.
    pub ticker: String,
    /// Issued amount.
    pub amount: i64,
    /// Reissuance tokens issued.
    pub reissuance_amount: i64,
    /// Whether the issued amounts are blinded.
    pub is_confidential: bool,
    /// Transfer-restricted (true) or issuer-tracked.
    pub transfer_restricted: bool,
}

/// `asset.confirmed`: the issuance transaction has 2 confirmations (the event's `block_height`
/// is the block that gave it the second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetConfirmed {
    /// The asset id (hex).
    pub asset_id: String,
    /// The issuance transaction.
    pub txid: String,
    /// Height of the block that included it.
    pub issuance_height: i64,
}

/// `asset.locked` / `asset.unlocked`: the asset's lock changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssetLock {
    /// The asset id (hex), once issued.
    pub asset_id: Option<String>,
    /// The lock as it is now.
    pub is_locked: bool,
}

/// `assignment.created` / `assignment.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentChange {
    /// The assignment id.
    pub assignment_id: i64,
    /// The registered user it assigns to.
    pub registered_user_id: i64,
    /// Assigned amount.
    pub amount: i64,
    /// Whether it may be distributed.
    pub ready_for_distribution: bool,
    /// Vesting time (unix seconds), if any.
    pub vesting_timestamp: Option<i64>,
}

/// `distribution.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DistributionCreated {
    /// The distribution's UUID.
    pub distribution_uuid: String,
    /// Batches (transactions) it is paid in.
    pub batches: i64,
    /// The assignments it distributes.
    pub assignment_ids: Vec<i64>,
    /// Total amount.
    pub amount: i64,
}

/// `distribution.confirmed` / `payout.confirmed`: every batch is paid in a confirmed
/// transaction (the event's `block_height` is the last one's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentConfirmed {
    /// The distribution's or payout's UUID.
    pub uuid: String,
    /// The transactions paying it, one per batch, in batch order.
    pub txids: Vec<String>,
    /// `confirm` (the confirm call recorded the last batch) or `follower` (the chain follower
    /// recognised it without a confirm call).
    pub recorded_by: String,
}

/// `distribution.cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DistributionCancelled {
    /// The distribution's UUID.
    pub distribution_uuid: String,
}

/// `reissuance.confirmed` / `burn.confirmed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupplyChangeConfirmed {
    /// The reissue or burn request's id.
    pub request_id: i64,
    /// The transaction.
    pub txid: String,
    /// Units reissued or burnt.
    pub amount: i64,
    /// `confirm` or `follower` (completed without a confirm call).
    pub completed_by: String,
}

/// `transfer.approved` / `transfer.refused`: a co-signing decision about the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransferDecision {
    /// The decision's id.
    pub decision_id: i64,
    /// Whether the platform co-signed.
    pub approved: bool,
    /// The transaction, when the PSET could be read.
    pub txid: Option<String>,
    /// The sending wallet's GAID, when known.
    pub sender_gaid: Option<String>,
    /// GAIDs of the registered wallets it pays (change excluded).
    pub recipient_gaids: Vec<String>,
    /// Units of the asset it pays to others than the sender.
    pub amount: i64,
    /// Reason codes (`asset_locked`, `recipient_unknown`, …), empty when approved.
    pub reasons: Vec<String>,
}

/// One holder whose balance of the asset moved in a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HolderChange {
    /// `treasury`, `wallet` or `burn`.
    pub owner: String,
    /// The wallet's GAID (`null` for the treasury and burns).
    pub gaid: Option<String>,
    /// Change of the balance in this block (negative when it fell).
    pub delta: i64,
    /// Balance after the block, as the index knows it.
    pub balance: i64,
}

/// `ownership.changed`: holders whose balance of the asset (not its token) moved in the
/// event's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnershipChanged {
    /// The block's hash.
    pub block_hash: String,
    /// The holders, treasury first, then by GAID.
    pub holders: Vec<HolderChange>,
}

/// `output.lost`: a tracked output was spent by a transaction the platform could not
/// attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputLost {
    /// The lost output's transaction.
    pub txid: String,
    /// Its index.
    pub vout: i64,
    /// True for the reissuance token.
    pub is_token: bool,
    /// Its amount.
    pub amount: i64,
    /// Who held it: `treasury` or `wallet`.
    pub owner: String,
    /// The wallet's GAID, when a wallet held it.
    pub gaid: Option<String>,
    /// The spending transaction.
    pub spent_txid: String,
}

/// `chain.reorg`: blocks above the event's `block_height` were undone for the asset. The chain
/// events they carried are listed; they no longer hold, and the blocks that replace them emit
/// new events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainReorg {
    /// The previous tip's height.
    pub undone_from_height: i64,
    /// The ids of the events the undone blocks emitted for the asset (`ownership.changed`,
    /// `output.lost`, `asset.confirmed`), oldest first.
    pub undone_event_ids: Vec<i64>,
}

/// The `data` object of an event, one variant per type (a few types share a struct).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// `asset.issued`.
    AssetIssued(AssetIssued),
    /// `asset.confirmed`.
    AssetConfirmed(AssetConfirmed),
    /// `asset.locked` (`is_locked` true) or `asset.unlocked`.
    AssetLock(AssetLock),
    /// `assignment.created`.
    AssignmentCreated(AssignmentChange),
    /// `assignment.deleted`.
    AssignmentDeleted(AssignmentChange),
    /// `distribution.created`.
    DistributionCreated(DistributionCreated),
    /// `distribution.confirmed`.
    DistributionConfirmed(PaymentConfirmed),
    /// `distribution.cancelled`.
    DistributionCancelled(DistributionCancelled),
    /// `reissuance.confirmed`.
    ReissuanceConfirmed(SupplyChangeConfirmed),
    /// `burn.confirmed`.
    BurnConfirmed(SupplyChangeConfirmed),
    /// `payout.confirmed`.
    PayoutConfirmed(PaymentConfirmed),
    /// `transfer.approved` or `transfer.refused`.
    Transfer(TransferDecision),
    /// `ownership.changed`.
    OwnershipChanged(OwnershipChanged),
    /// `output.lost`.
    OutputLost(OutputLost),
    /// `chain.reorg`.
    ChainReorg(ChainReorg),
}

impl EventData {
    /// The type of an event with this data.
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::AssetIssued(_) => EventType::AssetIssued,
            EventData::AssetConfirmed(_) => EventType::AssetConfirmed,
            EventData::AssetLock(d) if d.is_locked => EventType::AssetLocked,
            EventData::AssetLock(_) => EventType::AssetUnlocked,
            EventData::AssignmentCreated(_) => EventType::AssignmentCreated,
            EventData::AssignmentDeleted(_) => EventType::AssignmentDeleted,
            EventData::DistributionCreated(_) => EventType::DistributionCreated,
            EventData::DistributionConfirmed(_) => EventType::DistributionConfirmed,
            EventData::DistributionCancelled(_) => EventType::DistributionCancelled,
            EventData::ReissuanceConfirmed(_) => EventType::ReissuanceConfirmed,
            EventData::BurnConfirmed(_) => EventType::BurnConfirmed,
            EventData::PayoutConfirmed(_) => EventType::PayoutConfirmed,
            EventData::Transfer(d) if d.approved => EventType::TransferApproved,
            EventData::Transfer(_) => EventType::TransferRefused,
            EventData::OwnershipChanged(_) => EventType::OwnershipChanged,
            EventData::OutputLost(_) => EventType::OutputLost,
            EventData::ChainReorg(_) => EventType::ChainReorg,
        }
    }

    /// The `data` object as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        // Every payload is a struct of strings, integers, booleans and lists of them: it
        // always serializes.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Reads the `data` object of an event of type `event_type`.
    pub fn from_json(
        event_type: EventType,
        data: serde_json::Value,
    ) -> Result<EventData, serde_json::Error> {
        use serde_json::from_value as from;
        Ok(match event_type {
            EventType::AssetIssued => EventData::AssetIssued(from(data)?),
            EventType::AssetConfirmed => EventData::AssetConfirmed(from(data)?),
            EventType::AssetLocked | EventType::AssetUnlocked => EventData::AssetLock(from(data)?),
            EventType::AssignmentCreated => EventData::AssignmentCreated(from(data)?),
            EventType::AssignmentDeleted => EventData::AssignmentDeleted(from(data)?),
            EventType::DistributionCreated => EventData::DistributionCreated(from(data)?),
            EventType::DistributionConfirmed => EventData::DistributionConfirmed(from(data)?),
            EventType::DistributionCancelled => EventData::DistributionCancelled(from(data)?),
            EventType::ReissuanceConfirmed => EventData::ReissuanceConfirmed(from(data)?),
            EventType::BurnConfirmed => EventData::BurnConfirmed(from(data)?),
            EventType::PayoutConfirmed => EventData::PayoutConfirmed(from(data)?),
            EventType::TransferApproved | EventType::TransferRefused => {
                EventData::Transfer(from(data)?)
            }
            EventType::OwnershipChanged => EventData::OwnershipChanged(from(data)?),
            EventType::OutputLost => EventData::OutputLost(from(data)?),
            EventType::ChainReorg => EventData::ChainReorg(from(data)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), t);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len(), "names are unique");
        assert!("asset.Issued".parse::<EventType>().is_err());
        assert!("".parse::<EventType>().is_err());
        assert!(serde_json::from_str::<EventType>("\"asset\"").is_err());
    }

    #[test]
    fn data_decides_the_type_and_reads_back() {
        let lock = EventData::AssetLock(AssetLock {
            asset_id: None,
            is_locked: false,
        });
        assert_eq!(lock.event_type(), EventType::AssetUnlocked);
        let refused = EventData::Transfer(TransferDecision {
            decision_id: 3,
            approved: false,
            txid: Some("ab".into()),
            sender_gaid: None,
            recipient_gaids: vec![],
            amount: 5,
            reasons: vec!["asset_locked".into()],
        });
        assert_eq!(refused.event_type(), EventType::TransferRefused);
        let json = refused.to_json();
        assert_eq!(json["reasons"][0], "asset_locked");
        let back = EventData::from_json(EventType::TransferRefused, json).unwrap();
        assert_eq!(back, refused);
        // Another type's data does not read as this type's.
        assert!(EventData::from_json(EventType::ChainReorg, lock.to_json()).is_err());
    }
}
