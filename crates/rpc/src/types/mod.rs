//! Typed results of the Elements RPC methods the platform uses.
//!
//! Every struct tolerates fields it does not name (Elements adds fields between versions) and
//! reads amounts exactly as [`Amount`]. Field names follow Elements' JSON.

mod chain;
mod transaction;
mod wallet;

pub use chain::*;
pub use transaction::*;
pub use wallet::*;

use std::collections::BTreeMap;

use crate::Amount;

/// Amounts keyed by asset label (`bitcoin`) or asset id hex, as in `getbalance`, `fee`, ...
pub type AssetAmounts = BTreeMap<String, Amount>;
