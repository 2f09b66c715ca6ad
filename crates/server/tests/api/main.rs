//! API tests over the real router (`tower::ServiceExt::oneshot`) against a fresh SQLite
//! database per test, plus a few over real HTTP.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod access;
mod amp2;
mod amp2_limits;
mod assets;
mod assignments;
mod auth;
mod burn_requests;
mod categories;
mod chain;
mod chain_view;
mod common;
mod console;
mod console_admin;
mod contract;
mod cosign;
mod distributions;
mod events;
mod external_node;
mod follower;
mod health;
mod isolation;
mod issuance_recovery;
mod managers;
mod openapi;
mod payouts;
mod registered_users;
mod registry;
mod reissue_burn;
mod reports;
mod roles;
mod security;
mod ssrf;
mod treasury_view_key;
mod user_categories;
mod webhooks;
mod wire;
