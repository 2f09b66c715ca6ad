//! amphora-core: domain types and rules of the platform, without I/O (apart from the crash
//! points of [`crash`], which only the crash tests arm).

pub mod account;
pub mod asset;
pub mod assignment;
pub mod category;
pub mod chain;
pub mod crash;
pub mod endpoint;
pub mod event;
pub mod gaid;
pub mod network;
pub mod payout;
pub mod policy;
pub mod registered_user;
pub mod treasury_key;
pub mod validation;
pub mod webhook;

pub use network::Network;
pub use validation::FieldError;
