//! JSON-RPC over HTTP, answering like Elements Core 23.3.3.

pub mod block_json;
pub mod descriptor;
pub mod error;
pub mod json;
pub mod mempool_methods;
pub mod node_methods;
pub mod params;
pub mod script_json;
pub mod server;
pub mod wait_methods;

pub use error::RpcError;
