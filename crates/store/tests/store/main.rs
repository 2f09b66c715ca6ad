//! Store contract tests: every test runs on SQLite and on PostgreSQL (`contract!`), one module
//! per area, linked into one binary.

#[macro_use]
mod contract;
mod assignments;
mod distributions;
mod chain;
mod cosign;
mod registry;
mod reports;
mod reissue_burn;
