//! The cap table: an asset's ownerships as CSV rows (`…/ownerships[/{height}]?format=csv`).

use amphora_core::payout::percent_of;
use amphora_store::Holding;

/// The cap table's columns.
pub(super) const HEADER: [&str; 5] = ["registered_user_id", "name", "GAID", "amount", "percent"];

/// The cap table rows of `holdings` (one per holder, largest first): the registered user's id
/// and name, the GAID, the amount and its share of the total in percent (four decimals). The
/// treasury is its own row (name `ISSUER`, no GAID); a wallet of no registered user has only
/// its GAID.
pub(super) fn rows(holdings: Vec<Holding>) -> Vec<Vec<String>> {
    let total: u64 = holdings.iter().map(|h| h.amount.max(0) as u64).sum();
    holdings
        .into_iter()
        .map(|holding| {
            let (id, name) = match (holding.is_treasury, holding.registered_user) {
                (true, _) => (String::new(), amphora_store::TREASURY_OWNER.to_string()),
                (false, Some((id, name))) => (id.to_string(), name),
                (false, None) => (String::new(), String::new()),
            };
            vec![
                id,
                name,
                holding.gaid.unwrap_or_default(),
                holding.amount.to_string(),
                percent_of(holding.amount.max(0) as u64, total),
            ]
        })
        .collect()
}
