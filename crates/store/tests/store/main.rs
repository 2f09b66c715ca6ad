//! Store contract tests: every test runs on SQLite and on PostgreSQL (`contract!`), one module
//! per area, linked into one binary.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

#[macro_use]
mod contract;
mod aggregates;
mod assignments;
mod chain;
mod chain_batches;
mod compat;
mod cosign;
mod distributions;
mod event_flows;
mod events;
mod holdings_json;
mod issuance_lease;
mod managers;
mod registered_user_history;
mod registered_users;
mod registry;
mod reissue_burn;
mod report_pages;
mod reports;
